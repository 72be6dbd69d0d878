// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPublicTreasuryEvents
/// @notice The events of the CivicDAO public treasury: inflows, spending, epoch caps, grants and quadratic-funding
/// rounds.
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`. `token == address(0)` means native ETH.
interface IPublicTreasuryEvents {
    /// @dev Emitted when an exchange fee arrives.
    /// @param payer Who paid it (the exchange).
    /// @param token The token.
    /// @param category The listing kind the fee came from (0..4).
    /// @param amount The amount.
    event FeeReceived(address indexed payer, address indexed token, uint8 indexed category, uint256 amount);

    /// @dev Emitted when a donation arrives (including plain ETH sends).
    /// @param donor The donor.
    /// @param token The token.
    /// @param amount The amount.
    /// @param note A short non-personal tag.
    event DonationReceived(address indexed donor, address indexed token, uint256 amount, bytes32 note);

    /// @dev Emitted when the governor sends tokens directly.
    /// @param token The token.
    /// @param to The receiver.
    /// @param amount The amount.
    /// @param memo A short non-personal reference.
    event Transferred(address indexed token, address indexed to, uint256 amount, bytes32 memo);

    /// @dev Emitted whenever spending is charged against a token's epoch cap.
    /// @param token The token.
    /// @param epoch The epoch charged.
    /// @param amount The amount charged.
    /// @param spentInEpoch The epoch's total spent after the charge.
    event EpochAllowanceUsed(address indexed token, uint256 indexed epoch, uint256 amount, uint256 spentInEpoch);

    /// @dev Emitted when a token's epoch cap is set.
    /// @param token The token.
    /// @param oldCap The previous cap.
    /// @param newCap The new cap.
    /// @param effectiveFromEpoch The epoch the new cap applies from.
    event EpochCapSet(address indexed token, uint256 oldCap, uint256 newCap, uint256 effectiveFromEpoch);

    /// @dev Emitted when an epoch length change is scheduled.
    /// @param oldLength The previous length, in seconds.
    /// @param newLength The new length, in seconds.
    /// @param anchor When the new length starts: the end of the epoch in which it was set.
    /// @param epochAtAnchor The number of the epoch starting at `anchor`.
    event EpochLengthSet(uint256 oldLength, uint256 newLength, uint256 anchor, uint256 epochAtAnchor);

    /// @dev Emitted when the citizen registry used for matching changes.
    /// @param oldRegistry The previous registry.
    /// @param newRegistry The new registry.
    event RegistrySet(address indexed oldRegistry, address indexed newRegistry);

    /// @dev Emitted when a linear vesting grant is created.
    /// @param grantId The new grant.
    /// @param token The token.
    /// @param recipient Who may claim.
    /// @param amount The total granted.
    /// @param start The vesting start.
    /// @param cliff Seconds after `start` before anything vests.
    /// @param duration Seconds after `start` when everything has vested.
    event StreamGrantCreated(
        uint256 indexed grantId,
        address indexed token,
        address indexed recipient,
        uint256 amount,
        uint64 start,
        uint64 cliff,
        uint64 duration
    );

    /// @dev Emitted when a milestone grant is created.
    /// @param grantId The new grant.
    /// @param token The token.
    /// @param recipient Who may claim released tranches.
    /// @param amount The total of the tranches.
    /// @param trancheCount The number of tranches.
    event MilestoneGrantCreated(
        uint256 indexed grantId,
        address indexed token,
        address indexed recipient,
        uint256 amount,
        uint256 trancheCount
    );

    /// @dev Emitted when a milestone tranche is released to a grant's claimable amount.
    /// @param grantId The grant.
    /// @param index The tranche index.
    /// @param amount The tranche's amount.
    /// @param releaser The steward or governor who released it.
    event TrancheReleased(uint256 indexed grantId, uint256 indexed index, uint256 amount, address indexed releaser);

    /// @dev Emitted when a grant recipient claims.
    /// @param grantId The grant.
    /// @param recipient The key that claimed and was paid.
    /// @param amount The amount paid.
    event GrantClaimed(uint256 indexed grantId, address indexed recipient, uint256 amount);

    /// @dev Emitted when a grant is cancelled.
    /// @param grantId The grant.
    /// @param returned The amount that went back to the free balance.
    /// @param remainingEntitlement What the recipient may still claim.
    event GrantCancelled(uint256 indexed grantId, uint256 returned, uint256 remainingEntitlement);

    /// @dev Emitted when a quadratic-funding round opens.
    /// @param roundId The new round.
    /// @param token The round's token.
    /// @param matchingPool The matching pool.
    /// @param projectCount The number of projects.
    /// @param start When contributions open.
    /// @param end When contributions close (exclusive).
    event RoundOpened(
        uint256 indexed roundId,
        address indexed token,
        uint256 matchingPool,
        uint256 projectCount,
        uint64 start,
        uint64 end
    );

    /// @dev Emitted for every contribution.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param contributor The contributor's key.
    /// @param amount The amount.
    /// @param matched Whether it counts for matching (a citizen's contribution).
    /// @param membership The membership it was counted under (0 when not matched).
    event Contributed(
        uint256 indexed roundId,
        uint256 indexed projectIndex,
        address indexed contributor,
        uint256 amount,
        bool matched,
        uint256 membership
    );

    /// @dev Emitted when a round is finalized.
    /// @param roundId The round.
    /// @param totalMatching The matching paid out over all projects.
    /// @param leftover The part of the pool that returned to the free balance.
    event RoundFinalized(uint256 indexed roundId, uint256 totalMatching, uint256 leftover);

    /// @dev Emitted when a project's recipient claims its contributions and matching.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param recipient The key that claimed and was paid.
    /// @param contributions The contributions paid.
    /// @param matching The matching paid.
    event RoundClaimed(
        uint256 indexed roundId,
        uint256 indexed projectIndex,
        address indexed recipient,
        uint256 contributions,
        uint256 matching
    );

    /// @dev Emitted when the DAO cancels the payout of a project whose recipient's membership was revoked.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param contributions The contributions, which became a donation to the commons.
    /// @param matching The matching, which returned to the free balance.
    event ProjectPayoutCancelled(
        uint256 indexed roundId,
        uint256 indexed projectIndex,
        uint256 contributions,
        uint256 matching
    );
}
