// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPublicTreasuryErrors
/// @notice The custom errors of the CivicDAO public treasury.
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`. Value moving in and out reverts with the errors of
/// `CurrencyTransfer` (ICurrencyTransferErrors). `token == address(0)` means native ETH.
interface IPublicTreasuryErrors {
    /// @dev Indicates an amount that must be positive and is zero.
    error TreasuryZeroAmount();

    /// @dev Indicates an address that must be set and is the zero address.
    error TreasuryZeroAddress();

    /// @dev Indicates a fee tagged with a category other than the exchange kinds 0..4.
    /// @param category The category given.
    error TreasuryInvalidCategory(uint8 category);

    /// @dev Indicates spending or committing more than the free (uncommitted) balance.
    /// @param token The token.
    /// @param requested The amount asked for.
    /// @param available The free balance.
    error TreasuryInsufficientFreeBalance(address token, uint256 requested, uint256 available);

    /// @dev Indicates spending more than what remains of the token's cap in the current epoch.
    /// @param token The token.
    /// @param epoch The current epoch.
    /// @param requested The amount asked for.
    /// @param remaining What remains of the cap this epoch.
    error TreasuryEpochCapExceeded(address token, uint256 epoch, uint256 requested, uint256 remaining);

    /// @dev Indicates an epoch length outside [MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH].
    /// @param length The length given, in seconds.
    error TreasuryInvalidEpochLength(uint256 length);

    /// @dev Indicates an invalid stream schedule (zero duration, cliff beyond duration, or a start or duration
    /// beyond 2^40 - 1, the width the treasury stores them in).
    /// @param start The vesting start.
    /// @param cliff The cliff, in seconds after `start`.
    /// @param duration The duration, in seconds after `start`.
    error TreasuryInvalidSchedule(uint64 start, uint64 cliff, uint64 duration);

    /// @dev Indicates a milestone grant with no tranches or more than MAX_TRANCHES.
    /// @param count The number of tranches given.
    error TreasuryInvalidTrancheCount(uint256 count);

    /// @dev Indicates a grant id that does not exist.
    /// @param grantId The grant id.
    error TreasuryGrantNotFound(uint256 grantId);

    /// @dev Indicates an action on a grant that was already cancelled.
    /// @param grantId The grant.
    error TreasuryGrantAlreadyCancelled(uint256 grantId);

    /// @dev Indicates the release of a tranche of a grant that is not a milestone grant.
    /// @param grantId The grant.
    error TreasuryNotMilestoneGrant(uint256 grantId);

    /// @dev Indicates a tranche index out of range.
    /// @param grantId The grant.
    /// @param index The tranche index given.
    error TreasuryTrancheOutOfRange(uint256 grantId, uint256 index);

    /// @dev Indicates a tranche that was already released.
    /// @param grantId The grant.
    /// @param index The tranche index.
    error TreasuryTrancheAlreadyReleased(uint256 grantId, uint256 index);

    /// @dev Indicates a tranche release by someone other than a steward or the governor.
    /// @param caller The caller.
    error TreasuryNotReleaser(address caller);

    /// @dev Indicates a claim of a grant by someone other than its recipient (the current key of a citizen
    /// recipient's membership).
    /// @param grantId The grant.
    /// @param caller The caller.
    error TreasuryNotGrantRecipient(uint256 grantId, address caller);

    /// @dev Indicates a grant with nothing claimable yet.
    /// @param grantId The grant.
    error TreasuryNothingToClaim(uint256 grantId);

    /// @dev Indicates a round with no projects or more than MAX_PROJECTS.
    /// @param count The number of projects given.
    error TreasuryInvalidProjectCount(uint256 count);

    /// @dev Indicates a round window that is empty, already over, or ends beyond 2^40 - 1 (its stored width).
    /// @param start The window's start.
    /// @param end The window's end.
    error TreasuryInvalidRoundWindow(uint64 start, uint64 end);

    /// @dev Indicates a round id that does not exist.
    /// @param roundId The round id.
    error TreasuryRoundNotFound(uint256 roundId);

    /// @dev Indicates a contribution outside the round's [start, end) window.
    /// @param roundId The round.
    /// @param start The window's start.
    /// @param end The window's end (exclusive).
    error TreasuryRoundNotActive(uint256 roundId, uint64 start, uint64 end);

    /// @dev Indicates finalizing a round before its end.
    /// @param roundId The round.
    /// @param end The round's end.
    error TreasuryRoundNotEnded(uint256 roundId, uint64 end);

    /// @dev Indicates finalizing a round twice.
    /// @param roundId The round.
    error TreasuryRoundAlreadyFinalized(uint256 roundId);

    /// @dev Indicates a claim from a round that is not finalized yet.
    /// @param roundId The round.
    error TreasuryRoundNotFinalized(uint256 roundId);

    /// @dev Indicates a project index out of range.
    /// @param roundId The round.
    /// @param projectIndex The project index given.
    error TreasuryProjectOutOfRange(uint256 roundId, uint256 projectIndex);

    /// @dev Indicates a claim of a project's payout by someone other than its recipient.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param caller The caller.
    error TreasuryNotProjectRecipient(uint256 roundId, uint256 projectIndex, address caller);

    /// @dev Indicates a project payout that was already claimed.
    /// @param roundId The round.
    /// @param projectIndex The project.
    error TreasuryProjectAlreadyClaimed(uint256 roundId, uint256 projectIndex);

    /// @dev Indicates a contribution that would take a project's citizen contributions, or apart its other
    /// contributions, beyond 2^96 - 1 (keeps Σ√c_i in 128 bits and the matching maths in range).
    /// @param roundId The round.
    /// @param total The project's total (of that side) the contribution would reach.
    error TreasuryContributionTooLarge(uint256 roundId, uint256 total);

    /// @dev Indicates a claim for a citizen recipient whose membership was revoked (nobody holds it now).
    /// @param membership The revoked membership.
    error TreasuryRecipientRevoked(uint256 membership);

    /// @dev Indicates the cancellation of a project's payout whose recipient is not a revoked membership.
    /// @param roundId The round.
    /// @param projectIndex The project.
    error TreasuryRecipientNotRevoked(uint256 roundId, uint256 projectIndex);
}
