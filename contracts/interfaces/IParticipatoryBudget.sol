// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IParticipatoryBudgetErrors} from "./errors/IParticipatoryBudgetErrors.sol";
import {IParticipatoryBudgetEvents} from "./events/IParticipatoryBudgetEvents.sol";
import {BudgetRoundStatus} from "./types/BudgetTypes.sol";

/// @title IParticipatoryBudget
/// @author CivicDAO
/// @notice Participatory budgeting rounds: the DAO reserves a budget from the treasury, residents submit projects
/// (cost, recipient, metadata URI), every live membership casts one approval ballot (a bitmap over up to 256
/// projects), the outcome computed off-chain by the Method of Equal Shares from the chain's ballots is posted
/// with the ballot-set digest and the rule, anyone may challenge it during a window (the DAO then decides), and
/// after the window the winners are paid from the reservation by pull, at once or streamed.
/// @dev Ballots count by membership (`ICitizenRegistry.membershipOf`), not by address, so a key rotation neither
/// loses nor doubles a ballot. A membership's ballot can be changed until voting closes; every ballot carries the
/// membership's ballot nonce (the number of ballots it already cast in the round), so a relayed signature can
/// never be replayed over a later ballot. `token == address(0)` means ETH. Errors are in IParticipatoryBudgetErrors,
/// events in IParticipatoryBudgetEvents, and the round status they carry at file level in types/BudgetTypes.sol.
interface IParticipatoryBudget is IParticipatoryBudgetErrors, IParticipatoryBudgetEvents {
    // ───────────────────────────────────────── types ─────────────────────────────────────────

    /// @notice A round: its money, its windows and ballot-length rules, and its outcome.
    /// @dev Windows: submission [submissionStart, votingStart), voting [votingStart, votingEnd), outcome posting
    /// from votingEnd, challenges during [postedAt, postedAt + challengePeriod). `winners` is a bitmap of project
    /// indexes; `spent` their total cost. `ballotLog` chains every ballot cast, in order
    /// (keccak256(abi.encode(previous, membership, approvals))), so a reader can prove it saw every ballot event.
    struct Round {
        address token;
        uint64 submissionStart;
        uint16 projectCount;
        uint16 minApprovals;
        uint128 budget;
        uint64 votingStart;
        uint64 votingEnd;
        uint128 spent;
        uint64 challengePeriod;
        uint64 payoutDuration;
        uint64 postedAt;
        uint64 finalizedAt;
        uint16 maxApprovals;
        BudgetRoundStatus status;
        uint256 winners;
        bytes32 ballotDigest;
        bytes32 ruleId;
        uint256 voterCount;
        bytes32 ballotLog;
    }

    /// @notice A submitted project: who is paid, how much, and how much of it was claimed.
    struct Project {
        address recipient;
        uint96 cost;
        uint256 claimed;
    }

    /// @notice One relayed ballot: the approvals bitmap, the membership's ballot nonce, and a compact (EIP-2098)
    /// signature `r`, `vs` of the EIP-712 `ApprovalBallot(uint256 roundId,uint256 approvals,uint256 nonce)`.
    struct SignedBallot {
        uint256 approvals;
        uint256 nonce;
        bytes32 r;
        bytes32 vs;
    }

    // ───────────────────────────────────────── DAO ─────────────────────────────────────────

    /// @notice Opens a round whose budget this contract already holds unreserved (the same proposal first has
    /// the treasury transfer it here, which the treasury charges against its epoch cap). Windows start now.
    /// @param token The round's token (address(0) for ETH).
    /// @param budget The budget reserved for the winners.
    /// @param submissionPeriod Seconds during which residents submit projects.
    /// @param votingPeriod Seconds of voting after submission.
    /// @param challengePeriod Seconds after an outcome is posted during which anyone may challenge it.
    /// @param payoutDuration Seconds over which each winner's payout streams (0 = claimable at once).
    /// @param minApprovals The fewest projects a ballot approves (>= 1).
    /// @param maxApprovals The most projects a ballot approves (<= 256).
    /// @return roundId The new round's id.
    function openRound(
        address token,
        uint256 budget,
        uint64 submissionPeriod,
        uint64 votingPeriod,
        uint64 challengePeriod,
        uint64 payoutDuration,
        uint16 minApprovals,
        uint16 maxApprovals
    ) external returns (uint256 roundId);

    /// @notice Settles a challenged round: the DAO's vote picks the outcome.
    /// @param roundId The round.
    /// @param winners The winning projects' bitmap.
    /// @param ballotDigest The digest of the ballot set the outcome was computed from.
    /// @param ruleId The rule that computed it.
    function resolveDispute(uint256 roundId, uint256 winners, bytes32 ballotDigest, bytes32 ruleId) external;

    /// @notice Cancels a round that was not finalized; its whole budget returns to the treasury.
    /// @param roundId The round.
    function cancelRound(uint256 roundId) external;

    // ───────────────────────────────────────── residents ─────────────────────────────────────────

    /// @notice Submits a project during the submission window (live members only).
    /// @param roundId The round.
    /// @param recipient Who is paid if the project wins.
    /// @param cost The project's cost (0 < cost <= budget).
    /// @param metadataURI Where the project's non-personal description lives (or its title).
    /// @return projectIndex The project's index in the round (its bit in ballots).
    function submitProject(
        uint256 roundId,
        address recipient,
        uint256 cost,
        string calldata metadataURI
    ) external returns (uint256 projectIndex);

    /// @notice Casts (or changes) the caller's membership's approval ballot during the voting window.
    /// @param roundId The round.
    /// @param approvals Bit i set = project i approved.
    function castBallot(uint256 roundId, uint256 approvals) external;

    /// @notice Casts ballots signed by residents (EIP-712), relayed in one transaction by anyone.
    /// @dev The whole batch reverts on the first bad ballot, with that ballot's named error.
    /// @param roundId The round.
    /// @param ballots The signed ballots.
    function castBallotsBySig(uint256 roundId, SignedBallot[] calldata ballots) external;

    // ───────────────────────────────────────── outcome and money ─────────────────────────────────────

    /// @notice Posts the round's outcome after voting closed (anyone); the challenge window starts.
    /// @param roundId The round.
    /// @param winners The winning projects' bitmap (their total cost must fit the budget).
    /// @param ballotDigest The digest of the ballot set the outcome was computed from.
    /// @param ruleId The rule (e.g. keccak256("equalshares/add1")).
    function postOutcome(uint256 roundId, uint256 winners, bytes32 ballotDigest, bytes32 ruleId) external;

    /// @notice Posts a differing outcome during the challenge window (anyone); the round goes to the DAO.
    /// @param roundId The round.
    /// @param winners The challenger's winners bitmap.
    /// @param ballotDigest The challenger's ballot digest.
    /// @param ruleId The challenger's rule.
    function challengeOutcome(uint256 roundId, uint256 winners, bytes32 ballotDigest, bytes32 ruleId) external;

    /// @notice After an unchallenged window (or the DAO's resolution), turns the winners into payouts and returns
    /// the rest of the budget to the treasury (anyone).
    /// @param roundId The round.
    function finalizeRound(uint256 roundId) external;

    /// @notice A winning project's recipient pulls what its payout has streamed so far.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return amount The amount paid.
    function claimPayout(uint256 roundId, uint256 projectIndex) external returns (uint256 amount);

    // ───────────────────────────────────────── views ─────────────────────────────────────────

    /// @notice The citizen registry whose memberships vote.
    /// @return The registry.
    function registry() external view returns (address);

    /// @notice The treasury that funds rounds and receives what they do not spend.
    /// @return The treasury.
    function treasury() external view returns (address);

    /// @notice How much of `token` is held for open rounds and unclaimed payouts.
    /// @param token The token (address(0) for ETH).
    /// @return The reserved amount.
    function reserved(address token) external view returns (uint256);

    /// @notice The number of rounds opened.
    /// @return The count (ids are 0..count-1).
    function roundCount() external view returns (uint256);

    /// @notice A round.
    /// @param roundId The round.
    /// @return The round.
    function getRound(uint256 roundId) external view returns (Round memory);

    /// @notice A project of a round.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return The project.
    function getProject(uint256 roundId, uint256 projectIndex) external view returns (Project memory);

    /// @notice A membership's ballot in a round, and the nonce its next ballot must carry.
    /// @param roundId The round.
    /// @param membership The membership id.
    /// @return approvals The current ballot (0 = none).
    /// @return nextNonce The nonce of the next ballot.
    function ballotOf(
        uint256 roundId,
        uint256 membership
    ) external view returns (uint256 approvals, uint256 nextNonce);

    /// @notice How much a winning project's recipient can claim now.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return The claimable amount.
    function claimable(uint256 roundId, uint256 projectIndex) external view returns (uint256);
}
