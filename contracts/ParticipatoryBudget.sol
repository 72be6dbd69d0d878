// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ICitizenRegistry} from "./interfaces/ICitizenRegistry.sol";
import {IParticipatoryBudget} from "./interfaces/IParticipatoryBudget.sol";
import {BudgetRoundStatus} from "./interfaces/types/BudgetTypes.sol";
import {IPublicTreasury} from "./interfaces/IPublicTreasury.sol";
import {ApprovalBitmap} from "./libraries/ApprovalBitmap.sol";
import {CurrencyTransfer} from "./libraries/CurrencyTransfer.sol";
import {TreasuryVestingMath} from "./libraries/TreasuryVestingMath.sol";

/// @title ParticipatoryBudget
/// @author CivicDAO
/// @notice Residents decide public money: the DAO reserves a budget from the treasury, residents submit projects
/// and approve the ones they want (one ballot per membership, signable in a wallet and relayed in batches), the
/// Method of Equal Shares computed off-chain from the chain's ballots picks the winners, the outcome is posted and
/// can be challenged (the DAO then decides), and only after the challenge window are the winners paid.
/// @dev Funding path: the DAO proposal that opens a round first has the treasury `transfer` the budget here (the
/// treasury charges it against its epoch cap), then calls `openRound`, which reserves it; money leaves only by a
/// winner's `claimPayout` after finalization, or back to the treasury (unspent budget, cancelled rounds). Storage
/// per ballot: one slot per (round, membership) for the bitmap, a second only when a ballot is changed; the
/// ballots themselves are read by the tally from `BallotCast` events, chained in `ballotLog`.
contract ParticipatoryBudget is IParticipatoryBudget, AccessControl, ReentrancyGuard, EIP712 {
    using SafeERC20 for IERC20;
    using ApprovalBitmap for uint256;

    // ───────────────────────────────────────── storage ─────────────────────────────────────────

    /// @notice The role that opens, resolves and cancels rounds: the DAO's Timelock.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice The EIP-712 type of a relayed ballot.
    bytes32 public constant BALLOT_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("ApprovalBallot(uint256 roundId,uint256 approvals,uint256 nonce)");
    /// @notice The most projects a round may have (one bit each in a ballot).
    uint256 public constant MAX_PROJECTS = 256;
    /// @notice The longest challenge window.
    uint64 public constant MAX_CHALLENGE_PERIOD = 90 days;
    /// @notice The largest budget (project costs are stored as uint96).
    uint256 public constant MAX_BUDGET = type(uint96).max;
    /// @notice The tag the unspent budget carries back to the treasury (a donation note).
    bytes32 public constant RETURN_NOTE = "participatory budget";

    ICitizenRegistry private immutable _registry;
    IPublicTreasury private immutable _treasury;

    Round[] private _rounds;
    mapping(uint256 roundId => Project[]) private _projects;
    /// @dev The current ballot of each membership; 0 = none (a ballot approves at least one project).
    mapping(uint256 roundId => mapping(uint256 membership => uint256 approvals)) private _ballots;
    /// @dev How many times a membership changed its ballot; its next nonce is this + 1 once it has a ballot.
    mapping(uint256 roundId => mapping(uint256 membership => uint256 changes)) private _changes;
    mapping(address token => uint256) private _reserved;

    // ───────────────────────────────────────── constructor ─────────────────────────────────────────

    /// @notice Deploys the participatory budget.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE (the Timelock).
    /// @param registry_ The citizen registry whose live memberships submit and vote.
    /// @param treasury_ The treasury funding rounds and receiving what they do not spend.
    constructor(
        address admin,
        address registry_,
        address treasury_
    ) EIP712("CivicDAO ParticipatoryBudget", "1") {
        if (admin == address(0) || registry_ == address(0) || treasury_ == address(0)) revert BudgetZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        _registry = ICitizenRegistry(registry_);
        _treasury = IPublicTreasury(treasury_);
    }

    /// @notice ETH sent here (the treasury's reservation transfer) waits unreserved until a round reserves it.
    receive() external payable {
        emit FundsReceived(msg.sender, msg.value);
    }

    // ───────────────────────────────────────── DAO ─────────────────────────────────────────

    /// @inheritdoc IParticipatoryBudget
    function openRound(
        address token,
        uint256 budget,
        uint64 submissionPeriod,
        uint64 votingPeriod,
        uint64 challengePeriod,
        uint64 payoutDuration,
        uint16 minApprovals,
        uint16 maxApprovals
    ) external onlyRole(GOVERNOR_ROLE) returns (uint256 roundId) {
        if (budget == 0 || budget > MAX_BUDGET) revert BudgetInvalidBudget(budget);
        if (
            submissionPeriod == 0 || votingPeriod == 0 || challengePeriod == 0 || challengePeriod > MAX_CHALLENGE_PERIOD
        ) {
            revert BudgetInvalidWindow(submissionPeriod, votingPeriod, challengePeriod);
        }
        if (minApprovals == 0 || minApprovals > maxApprovals || maxApprovals > MAX_PROJECTS) {
            revert BudgetInvalidBallotBounds(minApprovals, maxApprovals);
        }
        uint256 available = _balance(token) - _reserved[token];
        if (budget > available) revert BudgetReservationShort(token, budget, available);
        _reserved[token] += budget;

        uint64 start = uint64(block.timestamp);
        roundId = _rounds.length;
        Round storage r = _rounds.push();
        r.token = token;
        r.budget = uint128(budget);
        r.submissionStart = start;
        r.votingStart = start + submissionPeriod;
        r.votingEnd = start + submissionPeriod + votingPeriod;
        r.challengePeriod = challengePeriod;
        r.payoutDuration = payoutDuration;
        r.minApprovals = minApprovals;
        r.maxApprovals = maxApprovals;
        r.status = BudgetRoundStatus.Open;
        emit RoundOpened(
            roundId,
            token,
            budget,
            start,
            r.votingStart,
            r.votingEnd,
            challengePeriod,
            payoutDuration,
            minApprovals,
            maxApprovals
        );
    }

    /// @inheritdoc IParticipatoryBudget
    function resolveDispute(
        uint256 roundId,
        uint256 winners,
        bytes32 ballotDigest,
        bytes32 ruleId
    ) external onlyRole(GOVERNOR_ROLE) {
        Round storage r = _round(roundId);
        _requireStatus(roundId, r, BudgetRoundStatus.Disputed);
        uint256 cost = _outcomeCost(roundId, r, winners);
        _setOutcome(r, winners, cost, ballotDigest, ruleId);
        r.status = BudgetRoundStatus.Resolved;
        emit DisputeResolved(roundId, winners, cost, ballotDigest, ruleId);
    }

    /// @inheritdoc IParticipatoryBudget
    function cancelRound(uint256 roundId) external onlyRole(GOVERNOR_ROLE) nonReentrant {
        Round storage r = _round(roundId);
        BudgetRoundStatus status = r.status;
        if (status == BudgetRoundStatus.Finalized || status == BudgetRoundStatus.Cancelled) {
            revert BudgetWrongStatus(roundId, status);
        }
        r.status = BudgetRoundStatus.Cancelled;
        uint256 returned = r.budget;
        _reserved[r.token] -= returned;
        emit RoundCancelled(roundId, returned);
        _returnToTreasury(r.token, returned);
    }

    // ───────────────────────────────────────── residents ─────────────────────────────────────────

    /// @inheritdoc IParticipatoryBudget
    function submitProject(
        uint256 roundId,
        address recipient,
        uint256 cost,
        string calldata metadataURI
    ) external returns (uint256 projectIndex) {
        Round storage r = _round(roundId);
        if (
            r.status != BudgetRoundStatus.Open || block.timestamp < r.submissionStart
                || block.timestamp >= r.votingStart
        ) {
            revert BudgetSubmissionClosed(roundId, r.submissionStart, r.votingStart);
        }
        _membership(msg.sender); // reverts BudgetNotMember for a non-citizen
        if (recipient == address(0)) revert BudgetZeroAddress();
        if (cost == 0 || cost > r.budget) revert BudgetProjectOverBudget(roundId, cost, r.budget);
        projectIndex = r.projectCount;
        if (projectIndex == MAX_PROJECTS) revert BudgetTooManyProjects(roundId);
        r.projectCount = uint16(projectIndex + 1);
        _projects[roundId].push(Project(recipient, uint96(cost), 0));
        emit ProjectSubmitted(roundId, projectIndex, msg.sender, recipient, cost, metadataURI);
    }

    /// @inheritdoc IParticipatoryBudget
    function castBallot(uint256 roundId, uint256 approvals) external {
        Round storage r = _round(roundId);
        _requireVoting(roundId, r);
        uint256 membership = _membership(msg.sender);
        uint256 nonce = _nextNonce(roundId, membership);
        (uint256 added, bytes32 log) = _cast(roundId, r, msg.sender, membership, approvals, nonce, r.ballotLog);
        r.voterCount += added;
        r.ballotLog = log;
    }

    /// @inheritdoc IParticipatoryBudget
    function castBallotsBySig(uint256 roundId, SignedBallot[] calldata ballots) external {
        uint256 n = ballots.length;
        if (n == 0) revert BudgetEmptyBatch();
        Round storage r = _round(roundId);
        _requireVoting(roundId, r);
        // slither-disable-next-line uninitialized-local — a counter that starts at zero, as Solidity initialises it
        uint256 voters;
        bytes32 log = r.ballotLog;
        for (uint256 i; i < n; ++i) {
            SignedBallot calldata b = ballots[i];
            bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(BALLOT_TYPEHASH, roundId, b.approvals, b.nonce)));
            // slither-disable-next-line unused-return — the third value only details `err`, which is checked
            (address voter, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, b.r, b.vs);
            if (err != ECDSA.RecoverError.NoError) revert BudgetInvalidSignature(i);
            uint256 added;
            (added, log) = _cast(roundId, r, voter, _membership(voter), b.approvals, b.nonce, log);
            voters += added;
        }
        r.voterCount += voters;
        r.ballotLog = log;
    }

    // ───────────────────────────────────────── outcome and money ─────────────────────────────────────

    /// @inheritdoc IParticipatoryBudget
    function postOutcome(uint256 roundId, uint256 winners, bytes32 ballotDigest, bytes32 ruleId) external {
        Round storage r = _round(roundId);
        _requireStatus(roundId, r, BudgetRoundStatus.Open);
        if (block.timestamp < r.votingEnd) revert BudgetVotingNotEnded(roundId, r.votingEnd);
        uint256 cost = _outcomeCost(roundId, r, winners);
        _setOutcome(r, winners, cost, ballotDigest, ruleId);
        r.postedAt = uint64(block.timestamp);
        r.status = BudgetRoundStatus.Posted;
        emit OutcomePosted(roundId, msg.sender, winners, cost, ballotDigest, ruleId);
    }

    /// @inheritdoc IParticipatoryBudget
    function challengeOutcome(uint256 roundId, uint256 winners, bytes32 ballotDigest, bytes32 ruleId) external {
        Round storage r = _round(roundId);
        _requireStatus(roundId, r, BudgetRoundStatus.Posted);
        uint64 closesAt = r.postedAt + r.challengePeriod;
        if (block.timestamp >= closesAt) revert BudgetChallengeClosed(roundId, closesAt);
        if (winners == r.winners && ballotDigest == r.ballotDigest && ruleId == r.ruleId) {
            revert BudgetChallengeSameOutcome(roundId);
        }
        uint256 cost = _outcomeCost(roundId, r, winners);
        r.status = BudgetRoundStatus.Disputed;
        emit OutcomeChallenged(roundId, msg.sender, winners, cost, ballotDigest, ruleId);
    }

    /// @inheritdoc IParticipatoryBudget
    function finalizeRound(uint256 roundId) external nonReentrant {
        Round storage r = _round(roundId);
        BudgetRoundStatus status = r.status;
        if (status == BudgetRoundStatus.Posted) {
            uint64 closesAt = r.postedAt + r.challengePeriod;
            if (block.timestamp < closesAt) revert BudgetChallengeWindowOpen(roundId, closesAt);
        } else if (status != BudgetRoundStatus.Resolved) {
            revert BudgetWrongStatus(roundId, status);
        }
        r.status = BudgetRoundStatus.Finalized;
        r.finalizedAt = uint64(block.timestamp);
        uint256 returned = r.budget - r.spent;
        _reserved[r.token] -= returned;
        emit RoundFinalized(roundId, r.winners, r.spent, returned);
        _returnToTreasury(r.token, returned);
    }

    /// @inheritdoc IParticipatoryBudget
    function claimPayout(uint256 roundId, uint256 projectIndex) external nonReentrant returns (uint256 amount) {
        Round storage r = _round(roundId);
        Project storage p = _winner(roundId, r, projectIndex);
        if (msg.sender != p.recipient) revert BudgetNotRecipient(roundId, projectIndex, msg.sender);
        amount = _vested(r, p) - p.claimed;
        // slither-disable-next-line incorrect-equality — refuses an empty claim; no balance is compared
        if (amount == 0) revert BudgetNothingToClaim(roundId, projectIndex);
        p.claimed += amount;
        address token = r.token;
        _reserved[token] -= amount;
        emit PayoutClaimed(roundId, projectIndex, msg.sender, amount);
        CurrencyTransfer.send(token, msg.sender, amount);
    }

    // ───────────────────────────────────────── views ─────────────────────────────────────────

    /// @inheritdoc IParticipatoryBudget
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IParticipatoryBudget
    function treasury() external view returns (address) {
        return address(_treasury);
    }

    /// @inheritdoc IParticipatoryBudget
    function reserved(address token) external view returns (uint256) {
        return _reserved[token];
    }

    /// @inheritdoc IParticipatoryBudget
    function roundCount() external view returns (uint256) {
        return _rounds.length;
    }

    /// @inheritdoc IParticipatoryBudget
    function getRound(uint256 roundId) external view returns (Round memory) {
        return _round(roundId);
    }

    /// @inheritdoc IParticipatoryBudget
    function getProject(uint256 roundId, uint256 projectIndex) external view returns (Project memory) {
        _round(roundId);
        if (projectIndex >= _projects[roundId].length) {
            revert BudgetUnknownProject(roundId, projectIndex, _projects[roundId].length);
        }
        return _projects[roundId][projectIndex];
    }

    /// @inheritdoc IParticipatoryBudget
    function ballotOf(
        uint256 roundId,
        uint256 membership
    ) external view returns (uint256 approvals, uint256 nextNonce) {
        _round(roundId);
        return (_ballots[roundId][membership], _nextNonce(roundId, membership));
    }

    /// @inheritdoc IParticipatoryBudget
    function claimable(uint256 roundId, uint256 projectIndex) external view returns (uint256) {
        Round storage r = _round(roundId);
        if (r.status != BudgetRoundStatus.Finalized) return 0;
        if (projectIndex >= r.projectCount || (r.winners >> projectIndex) & 1 == 0) return 0;
        Project storage p = _projects[roundId][projectIndex];
        return _vested(r, p) - p.claimed;
    }

    // ───────────────────────────────────────── internal ─────────────────────────────────────────

    /// @dev Records one ballot after checking its shape and nonce; returns 1 if the membership had no ballot
    /// yet, and the extended ballot log. The caller checked the voting window.
    function _cast(
        uint256 roundId,
        Round storage r,
        address voter,
        uint256 membership,
        uint256 approvals,
        uint256 nonce,
        bytes32 log
    ) internal returns (uint256 added, bytes32 newLog) {
        _checkBallot(roundId, r, approvals);
        uint256 previous = _ballots[roundId][membership];
        if (previous == 0) {
            if (nonce != 0) revert BudgetBallotReplayed(roundId, membership, 0, nonce);
            added = 1;
        } else {
            uint256 expected = _changes[roundId][membership] + 1;
            if (nonce != expected) revert BudgetBallotReplayed(roundId, membership, expected, nonce);
            _changes[roundId][membership] = expected;
        }
        _ballots[roundId][membership] = approvals;
        newLog = keccak256(abi.encode(log, membership, approvals));
        emit BallotCast(roundId, membership, voter, approvals);
    }

    /// @dev Refuses a ballot naming unknown projects, or approving too few or too many.
    function _checkBallot(uint256 roundId, Round storage r, uint256 approvals) internal view {
        uint256 projects = r.projectCount;
        if (!approvals.within(projects)) revert BudgetUnknownProject(roundId, approvals, projects);
        uint256 length = approvals.count();
        if (length < r.minApprovals) revert BudgetBallotTooShort(roundId, length, r.minApprovals);
        if (length > r.maxApprovals) revert BudgetBallotTooLong(roundId, length, r.maxApprovals);
    }

    /// @dev The nonce the next ballot of `membership` must carry: how many ballots it cast in the round.
    function _nextNonce(uint256 roundId, uint256 membership) internal view returns (uint256) {
        return _ballots[roundId][membership] == 0 ? 0 : _changes[roundId][membership] + 1;
    }

    /// @dev The live membership of `account`, or a revert naming it.
    function _membership(address account) internal view returns (uint256 membership) {
        membership = _registry.membershipOf(account);
        if (membership == 0) revert BudgetNotMember(account);
    }

    /// @dev Refuses unless the round is open and inside its voting window.
    function _requireVoting(uint256 roundId, Round storage r) internal view {
        if (r.status != BudgetRoundStatus.Open || block.timestamp < r.votingStart || block.timestamp >= r.votingEnd) {
            revert BudgetVotingClosed(roundId, r.votingStart, r.votingEnd);
        }
    }

    /// @dev Refuses unless the round is in `expected` status.
    function _requireStatus(uint256 roundId, Round storage r, BudgetRoundStatus expected) internal view {
        if (r.status != expected) revert BudgetWrongStatus(roundId, r.status);
    }

    /// @dev The total cost of an outcome's winners, refusing unknown projects and outcomes over the budget.
    function _outcomeCost(uint256 roundId, Round storage r, uint256 winners) internal view returns (uint256 cost) {
        uint256 projects = r.projectCount;
        if (!winners.within(projects)) revert BudgetUnknownProject(roundId, winners, projects);
        Project[] storage all = _projects[roundId];
        for (uint256 i; i < projects; ++i) {
            if ((winners >> i) & 1 == 1) cost += all[i].cost;
        }
        if (cost > r.budget) revert BudgetOutcomeOverBudget(roundId, cost, r.budget);
    }

    /// @dev Stores an outcome.
    function _setOutcome(
        Round storage r,
        uint256 winners,
        uint256 cost,
        bytes32 ballotDigest,
        bytes32 ruleId
    ) internal {
        r.winners = winners;
        r.spent = uint128(cost);
        r.ballotDigest = ballotDigest;
        r.ruleId = ruleId;
    }

    /// @dev A winning project of a finalized round.
    function _winner(uint256 roundId, Round storage r, uint256 projectIndex) internal view returns (Project storage) {
        if (r.status != BudgetRoundStatus.Finalized) revert BudgetWrongStatus(roundId, r.status);
        if (projectIndex >= r.projectCount || (r.winners >> projectIndex) & 1 == 0) {
            revert BudgetNotWinner(roundId, projectIndex);
        }
        return _projects[roundId][projectIndex];
    }

    /// @dev How much of a winner's cost has streamed since finalization (all of it when there is no stream).
    function _vested(Round storage r, Project storage p) internal view returns (uint256) {
        if (r.payoutDuration == 0) return p.cost;
        return TreasuryVestingMath.linearVested(p.cost, r.finalizedAt, 0, r.payoutDuration, block.timestamp);
    }

    /// @dev A round by id, or a revert naming it.
    function _round(uint256 roundId) internal view returns (Round storage) {
        if (roundId >= _rounds.length) revert BudgetRoundNotFound(roundId);
        return _rounds[roundId];
    }

    /// @dev This contract's balance of `token`.
    function _balance(address token) internal view returns (uint256) {
        return CurrencyTransfer.balanceOfSelf(token);
    }

    /// @dev Sends `amount` back to the treasury as a donation tagged RETURN_NOTE (nothing when zero).
    function _returnToTreasury(address token, uint256 amount) internal {
        // slither-disable-next-line incorrect-equality — skips an empty transfer; no balance is compared
        if (amount == 0) return;
        if (token == address(0)) {
            _treasury.donate{value: amount}(RETURN_NOTE);
        } else {
            IERC20(token).forceApprove(address(_treasury), amount);
            _treasury.donateToken(token, amount, RETURN_NOTE);
        }
    }
}
