// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IFeeSink} from "./IFeeSink.sol";
import {IPublicTreasuryErrors} from "./errors/IPublicTreasuryErrors.sol";
import {IPublicTreasuryEvents} from "./events/IPublicTreasuryEvents.sol";

/// @title IPublicTreasury
/// @author CivicDAO
/// @notice The public-good treasury of the commons: receives exchange fees and donations, and spends only by
/// the citizens' vote (the Timelock) through capped direct transfers, vesting streams, milestone grants and
/// quadratic-funding rounds in which only verified residents' contributions are matched.
/// @dev `token == address(0)` means native ETH everywhere. Epoch caps: a token whose cap was never set cannot
/// be spent (cap 0); `type(uint256).max` means uncapped. Lowering a cap takes effect at once; raising it takes
/// effect from the next epoch, so a captured vote cannot raise the cap and drain in the same epoch. Errors are in
/// IPublicTreasuryErrors, events in IPublicTreasuryEvents.
interface IPublicTreasury is IFeeSink, IPublicTreasuryErrors, IPublicTreasuryEvents {
    // ───────────────────────────────────────── types ─────────────────────────────────────────

    /// @notice The two kinds of grant.
    enum GrantKind {
        Stream,
        Milestone
    }

    /// @notice A grant of `amount` of `token` to `recipient` (as the `getGrant` view returns it; stored packed).
    /// @dev For streams, `start` is a timestamp and `cliff`/`duration` are seconds after `start`.
    /// For milestone grants, `start` is the creation time and `cliff`/`duration` are zero.
    /// After a cancellation `amount` is reduced to what was vested (stream) or released (milestone), or to what was
    /// claimed when the cancellation followed a revocation of the recipient's membership.
    /// A citizen recipient is their membership, not their key: `membership` is the id the recipient held in
    /// `registry` when the grant was made (0 and address(0) for a non-citizen, who stays keyed by `recipient`),
    /// and only that membership's current holder (`ownerOf`) may claim, so the grant follows a key rotation.
    struct Grant {
        address token;
        uint64 start;
        GrantKind kind;
        bool cancelled;
        address recipient;
        uint64 cliff;
        uint64 duration;
        uint256 amount;
        uint256 claimed;
        uint256 released;
        uint256 releasedMask;
        address registry;
        uint64 membership;
    }

    /// @notice A quadratic-funding round (as the `getRound` view returns it; stored packed).
    /// @dev `totalContributions` is the sum of its projects' contributions. `registry` is the citizen registry when the round opened: citizen projects' memberships are held there.
    struct Round {
        address token;
        uint64 start;
        uint64 end;
        bool finalized;
        address registry;
        uint256 matchingPool;
        uint256 totalContributions;
        uint256 totalMatching;
        uint256 projectCount;
    }

    /// @notice One project of a quadratic-funding round (as the `getProject` view returns it; stored packed).
    /// @dev `sumSqrt` is Σ√(c_i·1e18) over citizen contributors (scaled for precision), where c_i is one
    /// membership's total however many keys it contributed from; `matching` is the normalised payout, set at
    /// finalization. `membership` is the id a citizen recipient held in the round's registry when the round opened
    /// (0 for an organisation, which stays keyed by `recipient`): the payout follows that membership's current key.
    struct Project {
        address recipient;
        bool claimed;
        uint64 membership;
        uint256 contributions;
        uint256 citizenContributions;
        uint256 sumSqrt;
        uint256 matching;
    }

    /// @notice Per-token counters.
    /// @dev `inflowByCategory[0..4]` are exchange fees by listing kind, `[5]` donations. `totalOut` counts public
    /// money leaving the treasury (transfers, grant claims, QF matching), not contributions passed through.
    struct TokenStats {
        uint256 totalIn;
        uint256 totalOut;
        uint256 committed;
        uint256[6] inflowByCategory;
    }

    /// @notice An epoch clock: epochs last `length` seconds, and epoch `epochAtAnchor` starts at `anchor`.
    struct EpochClock {
        uint64 length;
        uint64 anchor;
        uint64 epochAtAnchor;
    }

    // ───────────────────────────────────────── inflows ─────────────────────────────────────────

    /// @notice Donates ETH to the commons.
    /// @param note A short non-personal tag (e.g. a campaign id).
    function donate(bytes32 note) external payable;

    /// @notice Donates an ERC-20 (pulled from the caller after approval; fee-on-transfer tokens are refused).
    /// @param token The ERC-20 donated.
    /// @param amount The amount pulled.
    /// @param note A short non-personal tag.
    function donateToken(address token, uint256 amount, bytes32 note) external;

    // ───────────────────────────────────────── spending (governor) ─────────────────────────────

    /// @notice Sends `amount` of `token` from the free balance to `to`, charged against the epoch cap.
    /// @param token The token (address(0) for ETH).
    /// @param to The receiver.
    /// @param amount The amount sent.
    /// @param memo A short non-personal reference (e.g. proposal hash).
    function transfer(address token, address to, uint256 amount, bytes32 memo) external;

    /// @notice Creates a linear vesting grant that `recipient` claims over time; counts in full against this epoch.
    /// @param token The token (address(0) for ETH).
    /// @param recipient Who may claim.
    /// @param amount The total granted.
    /// @param start Vesting start timestamp.
    /// @param cliff Seconds after `start` before anything vests (<= duration).
    /// @param duration Seconds after `start` when everything has vested (> 0).
    /// @return grantId The new grant's id.
    function createStreamGrant(
        address token,
        address recipient,
        uint256 amount,
        uint64 start,
        uint64 cliff,
        uint64 duration
    ) external returns (uint256 grantId);

    /// @notice Creates a milestone grant whose tranches a steward or the governor releases.
    /// @param token The token (address(0) for ETH).
    /// @param recipient Who may claim released tranches.
    /// @param tranches The tranche amounts (1..MAX_TRANCHES, each > 0).
    /// @return grantId The new grant's id.
    function createMilestoneGrant(
        address token,
        address recipient,
        uint256[] calldata tranches
    ) external returns (uint256 grantId);

    /// @notice Releases tranche `index` of a milestone grant (steward or governor).
    /// @param grantId The grant.
    /// @param index The tranche index.
    function releaseTranche(uint256 grantId, uint256 index) external;

    /// @notice Cancels a grant: the unvested/unreleased part returns to the free balance, the rest stays claimable.
    /// @dev When the recipient's membership was revoked, nobody can claim any more: everything not yet claimed
    /// (vested or not) returns to the free balance, and this may follow an earlier cancellation that left an
    /// entitlement. The DAO may still pay the former resident by a `transfer` in the same proposal.
    /// @param grantId The grant.
    function cancelGrant(uint256 grantId) external;

    /// @notice The recipient pulls what has vested/been released and not yet claimed.
    /// @dev For a citizen recipient only the current key of the grant's membership may claim (the old key after a
    /// rotation gets `TreasuryNotGrantRecipient`), and nobody once it was revoked (`TreasuryRecipientRevoked`).
    /// @param grantId The grant.
    /// @return amount The amount paid out.
    function claim(uint256 grantId) external returns (uint256 amount);

    /// @notice Opens a quadratic-funding round; the pool counts against the epoch cap and is committed.
    /// @dev A project recipient that is a citizen is recorded by membership, so its payout follows a key rotation.
    /// @param token The round's token (address(0) for ETH).
    /// @param matchingPool The matching pool.
    /// @param projects The projects' recipient addresses (1..MAX_PROJECTS).
    /// @param start Contributions open at this timestamp.
    /// @param end Contributions close at this timestamp (exclusive).
    /// @return roundId The new round's id.
    function openRound(
        address token,
        uint256 matchingPool,
        address[] calldata projects,
        uint64 start,
        uint64 end
    ) external returns (uint256 roundId);

    /// @notice Contributes to a project during its round; only citizens' contributions are matched.
    /// @dev A citizen's contributions to a project are summed per membership (`membershipOf` in the citizen
    /// registry), not per address: after a key rotation, the new key adds to the same c_i as the old one, so a
    /// resident is matched as one person whichever key they use.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param amount The amount (equal to msg.value for ETH rounds; pulled after approval for tokens).
    function contribute(uint256 roundId, uint256 projectIndex, uint256 amount) external payable;

    /// @notice Finalizes a round after its end: normalises matching to the pool and frees the leftover. Anyone.
    /// @param roundId The round.
    function finalizeRound(uint256 roundId) external;

    /// @notice A project's recipient pulls its contributions plus matching after finalization.
    /// @dev For a citizen recipient only the current key of the project's membership may claim (the old key after a
    /// rotation gets `TreasuryNotProjectRecipient`), and nobody once it was revoked (`TreasuryRecipientRevoked`).
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return amount The amount paid out.
    function claimRound(uint256 roundId, uint256 projectIndex) external returns (uint256 amount);

    /// @notice Cancels the unclaimed payout of a finalized round's project whose recipient's membership was
    /// revoked (governor): the matching returns to the free balance, the contributions become a donation.
    /// @param roundId The round.
    /// @param projectIndex The project.
    function cancelProjectPayout(uint256 roundId, uint256 projectIndex) external;

    // ───────────────────────────────────────── settings (governor) ─────────────────────────────

    /// @notice Sets the per-epoch spending cap of `token` (0 = nothing, type(uint256).max = uncapped).
    /// @dev Lowering applies at once; raising applies from the next epoch.
    /// @param token The token (address(0) for ETH).
    /// @param cap The new cap.
    function setEpochCap(address token, uint256 cap) external;

    /// @notice Sets the epoch length from the end of the current epoch on. The current epoch ends when it was
    /// going to, so a vote cannot shorten it to bring a pending cap raise forward; a later change before then
    /// replaces this one.
    /// @param length The new length in seconds.
    function setEpochLength(uint64 length) external;

    /// @notice Sets the citizen registry used to decide which contributions are matched.
    /// @dev Matched totals are kept per (registry, membership id): ids of two registries are never mixed up.
    /// Contributions recorded under the old registry keep counting in open rounds; a resident who also holds a
    /// membership in the new one and contributes again is a second contributor there, so switch between rounds.
    /// @param newRegistry The registry.
    function setRegistry(address newRegistry) external;

    // ───────────────────────────────────────── views ─────────────────────────────────────────

    /// @notice The citizen registry used for matching.
    /// @return The registry address.
    function registry() external view returns (address);

    /// @notice The treasury's balance of `token`.
    /// @param token The token (address(0) for ETH).
    /// @return The balance.
    function treasuryBalance(address token) external view returns (uint256);

    /// @notice How much of `token` is committed to grants and QF rounds.
    /// @param token The token (address(0) for ETH).
    /// @return The committed amount.
    function committed(address token) external view returns (uint256);

    /// @notice Balance minus committed (0 if the balance somehow fell below the commitments).
    /// @param token The token (address(0) for ETH).
    /// @return The free balance.
    function freeBalance(address token) external view returns (uint256);

    /// @notice Counters of `token`: inflows (total and by category), outflows, committed.
    /// @param token The token (address(0) for ETH).
    /// @return The counters.
    function tokenStats(address token) external view returns (TokenStats memory);

    /// @notice The current epoch number.
    /// @return The epoch.
    function currentEpoch() external view returns (uint256);

    /// @notice The epoch clock in force now: length, anchor timestamp, epoch number at the anchor, and the current
    /// epoch's bounds. A scheduled length change shows in `pendingEpochLength` until it starts.
    /// @return length The epoch length in seconds.
    /// @return anchor The anchor timestamp.
    /// @return epochAtAnchor The epoch number at the anchor.
    /// @return epoch The current epoch.
    /// @return epochStart The current epoch's start timestamp.
    /// @return epochEnd The current epoch's end timestamp (exclusive).
    function epochClock()
        external
        view
        returns (
            uint256 length,
            uint256 anchor,
            uint256 epochAtAnchor,
            uint256 epoch,
            uint256 epochStart,
            uint256 epochEnd
        );

    /// @notice A scheduled epoch length change that has not started yet (all zero when there is none).
    /// @return length The new length in seconds.
    /// @return startsAt When it starts: the end of the epoch in which it was set.
    /// @return fromEpoch The number of the first epoch with the new length.
    function pendingEpochLength() external view returns (uint256 length, uint256 startsAt, uint256 fromEpoch);

    /// @notice The cap of `token` in force this epoch, and any pending raise.
    /// @param token The token (address(0) for ETH).
    /// @return cap The cap in force now.
    /// @return pendingCap The raised cap waiting for its epoch (0 if none).
    /// @return pendingFromEpoch The epoch from which `pendingCap` applies (0 if none).
    function epochCap(address token) external view returns (uint256 cap, uint256 pendingCap, uint256 pendingFromEpoch);

    /// @notice How much of `token` was charged against the cap in `epoch`.
    /// @param token The token (address(0) for ETH).
    /// @param epoch The epoch.
    /// @return The amount spent.
    function epochSpent(address token, uint256 epoch) external view returns (uint256);

    /// @notice What may still be spent of `token` this epoch (cap remainder, not limited by the free balance).
    /// @param token The token (address(0) for ETH).
    /// @return The remaining allowance (type(uint256).max when uncapped).
    function remainingEpochAllowance(address token) external view returns (uint256);

    /// @notice The number of grants created.
    /// @return The count (ids are 0..count-1).
    function grantCount() external view returns (uint256);

    /// @notice A grant's details.
    /// @param grantId The grant.
    /// @return The grant.
    function getGrant(uint256 grantId) external view returns (Grant memory);

    /// @notice A milestone grant's tranche amounts (empty for streams).
    /// @param grantId The grant.
    /// @return The tranche amounts.
    function grantTranches(uint256 grantId) external view returns (uint256[] memory);

    /// @notice How much of a grant has vested (stream) or been released (milestone) so far.
    /// @param grantId The grant.
    /// @return The vested amount.
    function vestedAmount(uint256 grantId) external view returns (uint256);

    /// @notice How much the recipient can claim now (0 once a citizen recipient's membership was revoked).
    /// @param grantId The grant.
    /// @return The claimable amount.
    function claimableAmount(uint256 grantId) external view returns (uint256);

    /// @notice Who may claim a grant now: the current key of a citizen recipient's membership, or the recipient
    /// address of a non-citizen; address(0) once the membership was revoked.
    /// @param grantId The grant.
    /// @return The claimant.
    function grantClaimant(uint256 grantId) external view returns (address);

    /// @notice The number of rounds opened.
    /// @return The count (ids are 0..count-1).
    function roundCount() external view returns (uint256);

    /// @notice A round's details.
    /// @param roundId The round.
    /// @return The round.
    function getRound(uint256 roundId) external view returns (Round memory);

    /// @notice A project's sums in a round.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return The project.
    function getProject(uint256 roundId, uint256 projectIndex) external view returns (Project memory);

    /// @notice Who may claim a project's payout now: the current key of a citizen recipient's membership, or the
    /// recipient address of an organisation; address(0) once the membership was revoked.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return The claimant.
    function projectClaimant(uint256 roundId, uint256 projectIndex) external view returns (address);

    /// @notice The matched total, to a project, of the membership `contributor` holds now.
    /// @dev Resolved through the current registry: the sum over every key that membership contributed from
    /// (after a rotation, the new key reads the old key's contributions too); 0 for an address that holds no
    /// membership now (a rotated-away or revoked key). Non-citizen contributions are never recorded here.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param contributor The address whose current membership is looked up.
    /// @return The membership's matched total c_i for the project.
    function matchedContributionOf(
        uint256 roundId,
        uint256 projectIndex,
        address contributor
    ) external view returns (uint256);

    /// @notice The project's raw (unnormalised) quadratic match (Σ√c)² − Σc right now.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @return The raw match.
    function rawMatching(uint256 roundId, uint256 projectIndex) external view returns (uint256);
}
