// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BudgetRoundStatus} from "../types/BudgetTypes.sol";

/// @title IParticipatoryBudgetErrors
/// @notice The custom errors of CivicDAO participatory budgeting.
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`. Value moving in and out reverts with the errors of
/// `CurrencyTransfer` (ICurrencyTransferErrors).
interface IParticipatoryBudgetErrors {
    /// @dev Indicates an address that must be set and is the zero address.
    error BudgetZeroAddress();

    /// @dev Indicates a round budget that is zero or above 2^96 - 1.
    /// @param budget The budget given.
    error BudgetInvalidBudget(uint256 budget);

    /// @dev Indicates that the contract's unreserved balance of `token` cannot cover a new round's budget.
    /// @param token The round's token.
    /// @param budget The budget asked for.
    /// @param available The unreserved balance.
    error BudgetReservationShort(address token, uint256 budget, uint256 available);

    /// @dev Indicates a window length that is zero (or a challenge period out of range).
    /// @param submissionPeriod The submission period given, in seconds.
    /// @param votingPeriod The voting period given, in seconds.
    /// @param challengePeriod The challenge period given, in seconds.
    error BudgetInvalidWindow(uint64 submissionPeriod, uint64 votingPeriod, uint64 challengePeriod);

    /// @dev Indicates ballot-length bounds that are not 1 <= min <= max <= 256.
    /// @param minApprovals The minimum given.
    /// @param maxApprovals The maximum given.
    error BudgetInvalidBallotBounds(uint16 minApprovals, uint16 maxApprovals);

    /// @dev Indicates a round id that does not exist.
    /// @param roundId The round id.
    error BudgetRoundNotFound(uint256 roundId);

    /// @dev Indicates a submission outside the round's submission window.
    /// @param roundId The round.
    /// @param start The window's start.
    /// @param end The window's end (exclusive).
    error BudgetSubmissionClosed(uint256 roundId, uint64 start, uint64 end);

    /// @dev Indicates a round that already has the maximum of 256 projects.
    /// @param roundId The round.
    error BudgetTooManyProjects(uint256 roundId);

    /// @dev Indicates a project cost that is zero or above the round's budget.
    /// @param roundId The round.
    /// @param cost The cost given.
    /// @param budget The round's budget.
    error BudgetProjectOverBudget(uint256 roundId, uint256 cost, uint256 budget);

    /// @dev Indicates a submission or vote by someone who holds no live membership.
    /// @param account The caller (or the signer of a relayed ballot).
    error BudgetNotMember(address account);

    /// @dev Indicates a ballot cast outside the round's voting window.
    /// @param roundId The round.
    /// @param start The window's start.
    /// @param end The window's end (exclusive).
    error BudgetVotingClosed(uint256 roundId, uint64 start, uint64 end);

    /// @dev Indicates a ballot (or outcome) naming a project index the round does not have, or a read of such a
    /// project.
    /// @param roundId The round.
    /// @param bitmap The ballot's or outcome's bitmap (the project index, for `getProject`).
    /// @param projectCount The round's number of projects.
    error BudgetUnknownProject(uint256 roundId, uint256 bitmap, uint256 projectCount);

    /// @dev Indicates a ballot approving fewer projects than the round's minimum.
    /// @param roundId The round.
    /// @param length The number of projects approved.
    /// @param minApprovals The round's minimum.
    error BudgetBallotTooShort(uint256 roundId, uint256 length, uint256 minApprovals);

    /// @dev Indicates a ballot approving more projects than the round's maximum.
    /// @param roundId The round.
    /// @param length The number of projects approved.
    /// @param maxApprovals The round's maximum.
    error BudgetBallotTooLong(uint256 roundId, uint256 length, uint256 maxApprovals);

    /// @dev Indicates a ballot whose nonce is not the membership's next one: a replayed or stale signature.
    /// @param roundId The round.
    /// @param membership The voting membership.
    /// @param expected The membership's next nonce.
    /// @param given The ballot's nonce.
    error BudgetBallotReplayed(uint256 roundId, uint256 membership, uint256 expected, uint256 given);

    /// @dev Indicates a malformed relayed signature (no signer can be recovered).
    /// @param index The ballot's index in the batch.
    error BudgetInvalidSignature(uint256 index);

    /// @dev Indicates an empty batch of relayed ballots.
    error BudgetEmptyBatch();

    /// @dev Indicates an outcome posted before voting has closed.
    /// @param roundId The round.
    /// @param votingEnd When voting closes.
    error BudgetVotingNotEnded(uint256 roundId, uint64 votingEnd);

    /// @dev Indicates a round that is not in the status the action needs.
    /// @param roundId The round.
    /// @param status The round's status.
    error BudgetWrongStatus(uint256 roundId, BudgetRoundStatus status);

    /// @dev Indicates an outcome whose winners cost more than the round's budget.
    /// @param roundId The round.
    /// @param cost The winners' total cost.
    /// @param budget The round's budget.
    error BudgetOutcomeOverBudget(uint256 roundId, uint256 cost, uint256 budget);

    /// @dev Indicates a challenge after the challenge window closed.
    /// @param roundId The round.
    /// @param closedAt When the window closed.
    error BudgetChallengeClosed(uint256 roundId, uint64 closedAt);

    /// @dev Indicates a challenge that repeats the posted outcome.
    /// @param roundId The round.
    error BudgetChallengeSameOutcome(uint256 roundId);

    /// @dev Indicates finalizing before the challenge window closed.
    /// @param roundId The round.
    /// @param closesAt When the window closes.
    error BudgetChallengeWindowOpen(uint256 roundId, uint64 closesAt);

    /// @dev Indicates a project that was not among the round's winners.
    /// @param roundId The round.
    /// @param projectIndex The project.
    error BudgetNotWinner(uint256 roundId, uint256 projectIndex);

    /// @dev Indicates a claim of a winning project's payout by someone other than its recipient.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param caller The caller.
    error BudgetNotRecipient(uint256 roundId, uint256 projectIndex, address caller);

    /// @dev Indicates a payout with nothing claimable yet.
    /// @param roundId The round.
    /// @param projectIndex The project.
    error BudgetNothingToClaim(uint256 roundId, uint256 projectIndex);
}
