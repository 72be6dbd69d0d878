// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICitizenRegistry} from "./interfaces/ICitizenRegistry.sol";
import {IFeeSink} from "./interfaces/IFeeSink.sol";
import {IPublicTreasury} from "./interfaces/IPublicTreasury.sol";
import {CurrencyTransfer} from "./libraries/CurrencyTransfer.sol";
import {MembershipLookup} from "./libraries/MembershipLookup.sol";
import {QuadraticFundingMath} from "./libraries/QuadraticFundingMath.sol";
import {TreasuryVestingMath} from "./libraries/TreasuryVestingMath.sol";

/// @title PublicTreasury
/// @author CivicDAO
/// @notice The surplus of the commons returns to the public, and only the citizens' vote spends it.
/// Receives exchange fees (tagged by listing kind) and donations in ETH or ERC-20; the DAO's Timelock
/// (GOVERNOR_ROLE) spends through direct transfers, vesting streams, milestone grants and quadratic-funding
/// rounds where only registered citizens' contributions are matched, each citizen once per project: matched
/// totals are kept per membership id (which a key rotation keeps), not per address. Money owed to a citizen follows
/// the membership too: a grant or project whose recipient is a citizen records the membership id, and only its
/// current holder (ERC-721 `ownerOf` in the registry of the time) claims; organisations stay keyed by address.
/// @dev Accounting: per token, `committed` is what is owed to grants and QF rounds (unclaimed grant amounts,
/// matching pools, contributions held for projects); free balance = balance − committed, and nothing may be
/// spent beyond it. Every spending decision (transfer, grant, matching pool) counts in full against the
/// token's cap of the epoch it is made in. Caps: never set = 0 = nothing may be spent; type(uint256).max =
/// uncapped; lowering applies at once, raising from the next epoch. Cancelled grants and unused pools return
/// to the free balance but not to the epoch allowance. Money reaches users by pull (`claim`, `claimRound`);
/// `transfer` pushes because the DAO itself chooses the receiver in a proposal.
contract PublicTreasury is IPublicTreasury, AccessControl, ReentrancyGuard {
    /// @notice A token's cap with an optional raise waiting for a later epoch.
    struct CapConfig {
        uint256 cap;
        uint256 pendingCap;
        uint256 pendingFromEpoch;
    }

    /// @notice A token's counters as stored (the `TokenStats` view is assembled from it).
    /// @dev `committed` and `totalOut` share a slot: a grant claim and a QF payout write both, so the first claim
    /// in a token writes no fresh slot (see `claim` for the measured gas). Both are
    /// bounded by balances the treasury held, so 128 bits suffice; a write beyond them reverts (SafeCast).
    struct StoredStats {
        uint128 committed;
        uint128 totalOut;
        uint256 totalIn;
        uint256[6] inflowByCategory;
    }

    /// @notice A grant as stored (the `Grant` view is assembled from it), packed so that a claim reads three slots
    /// and writes none fresh: slot 0 = token, start, cliff, flags; slot 1 = the registry, duration and membership
    /// a citizen recipient is resolved with; slot 2 = amount and claimed (the first claim writes a warm non-zero
    /// slot instead of a fresh one); slot 3 = the recipient (read only for a non-citizen) and the released-tranche
    /// mask; slot 4 = released (milestone grants only).
    /// @dev Timestamps and durations are uint40 (until the year 36,812; larger schedules revert with
    /// `TreasuryInvalidSchedule`), membership ids uint56, amounts uint128.
    struct StoredGrant {
        address token;
        uint40 start;
        uint40 cliff;
        uint8 flags;
        address registry;
        uint40 duration;
        uint56 membership;
        uint128 amount;
        uint128 claimed;
        address recipient;
        uint32 releasedMask;
        uint256 released;
    }

    /// @notice A quadratic-funding round as stored: slot 0 holds all that a contribution reads (token, window,
    /// project count, finalized), so a contribution reads one round slot.
    /// @dev The round's total contributions are not stored: the `Round` view sums its projects (≤ MAX_PROJECTS).
    struct StoredRound {
        address token;
        uint40 start;
        uint40 end;
        uint8 projectCount;
        bool finalized;
        address registry;
        uint256 matchingPool;
        uint256 totalMatching;
    }

    /// @notice A project as stored: slot 0 holds the two sums a citizen's contribution updates (Σc_i and Σ√c_i),
    /// so a matched contribution writes one project slot; non-citizens' contributions are summed apart.
    /// @dev `listed` is set when the round opens so that slot 0 is never zero: the project's first citizen
    /// contribution rewrites it (~5,000 gas) instead of filling a fresh slot (~22,100), the DAO paying that slot
    /// once in `openRound`. Each side is kept ≤ 2^96 − 1 (`TreasuryContributionTooLarge`), so
    /// Σ√(c_i·1e18) ≤ 1e9·Σc_i < 2^126 fits its 128 bits and (Σ√)² stays inside uint256.
    struct StoredProject {
        uint96 citizenContributions;
        uint128 sumSqrt;
        bool listed;
        bool claimed;
        address recipient;
        uint64 membership;
        uint256 otherContributions;
        uint256 matching;
    }

    // ───────────────────────────────────────── storage ─────────────────────────────────────────

    /// @notice The role that spends and configures: the DAO's Timelock.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice The role the DAO appoints to release milestone tranches.
    bytes32 public constant STEWARD_ROLE = keccak256("STEWARD_ROLE");
    /// @notice The inflow category of donations (exchange fee categories are 0..4).
    uint8 public constant DONATION = 5;
    /// @notice The most projects a quadratic-funding round may have (bounds finalization).
    uint256 public constant MAX_PROJECTS = 50;
    /// @notice The most tranches a milestone grant may have.
    uint256 public constant MAX_TRANCHES = 32;
    /// @notice The shortest allowed epoch.
    uint64 public constant MIN_EPOCH_LENGTH = 1 days;
    /// @notice The longest allowed epoch.
    uint64 public constant MAX_EPOCH_LENGTH = 365 days;
    /// @notice The cap value meaning "uncapped".
    uint256 public constant UNCAPPED = type(uint256).max;
    /// @dev A project's citizen contributions, and apart its other contributions, are kept at or below this so
    /// that Σ√(c_i·1e18) fits 128 bits and the matching maths cannot overflow.
    uint256 private constant _MAX_PROJECT_CONTRIBUTIONS = type(uint96).max;
    /// @dev StoredGrant.flags: the grant exists / is a milestone grant / was cancelled.
    uint8 private constant _EXISTS = 1;
    uint8 private constant _MILESTONE = 2;
    uint8 private constant _CANCELLED = 4;

    address private _registry;
    /// @dev The epoch clock: epochs of `length` seconds, epoch `epochAtAnchor` starting at `anchor`.
    EpochClock private _clock;
    /// @dev A length change scheduled for the end of the epoch in which it was set (length 0 = none).
    EpochClock private _nextClock;

    mapping(address token => StoredStats) private _stats;
    mapping(address token => CapConfig) private _caps;
    mapping(address token => mapping(uint256 epoch => uint256)) private _epochSpent;

    uint256 private _grantCount;
    mapping(uint256 grantId => StoredGrant) private _grants;
    mapping(uint256 grantId => uint256[]) private _tranches;

    uint256 private _roundCount;
    mapping(uint256 roundId => StoredRound) private _rounds;
    /// @dev A round's projects, at most MAX_PROJECTS, four slots each (one keccak finds them all).
    mapping(uint256 roundId => StoredProject[MAX_PROJECTS]) private _projects;
    /// @dev Matched totals c_i per round, project, citizen registry and membership id: one resident is one entry
    /// whichever key they contribute from, and ids of different registries are never merged.
    mapping(uint256 roundId => mapping(uint256 projectIndex => mapping(address registry => mapping(
        uint256 membership => uint256
    )))) private _matchedContributions;

    // ───────────────────────────────────────── constructor ─────────────────────────────────────────

    /// @notice Deploys the treasury.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE (the Timelock, or a deployer who hands over).
    /// @param registry_ The citizen registry deciding which contributions are matched.
    /// @param initialEpochLength The epoch length in seconds; epoch 0 starts now.
    constructor(address admin, address registry_, uint64 initialEpochLength) {
        if (admin == address(0)) revert TreasuryZeroAddress();
        _checkEpochLength(initialEpochLength);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        _setRegistry(registry_);
        _clock = EpochClock(initialEpochLength, uint64(block.timestamp), 0);
        emit EpochLengthSet(0, initialEpochLength, block.timestamp, 0);
    }

    // ───────────────────────────────────────── inflows ─────────────────────────────────────────

    /// @notice Plain ETH sent to the treasury counts as a donation with an empty note.
    receive() external payable {
        _recordDonation(address(0), msg.value, bytes32(0));
    }

    /// @inheritdoc IFeeSink
    function depositFee(address token, uint256 amount, uint8 category) external payable nonReentrant {
        if (category > DONATION - 1) revert TreasuryInvalidCategory(category);
        _recordInflow(token, amount, category);
        emit FeeReceived(msg.sender, token, category, amount);
        CurrencyTransfer.collect(token, amount);
    }

    /// @inheritdoc IPublicTreasury
    function donate(bytes32 note) external payable nonReentrant {
        _recordDonation(address(0), msg.value, note);
        CurrencyTransfer.collect(address(0), msg.value);
    }

    /// @inheritdoc IPublicTreasury
    function donateToken(address token, uint256 amount, bytes32 note) external nonReentrant {
        if (token == address(0)) revert TreasuryZeroAddress();
        _recordDonation(token, amount, note);
        CurrencyTransfer.collect(token, amount);
    }

    // ───────────────────────────────────────── spending ─────────────────────────────────────────

    /// @inheritdoc IPublicTreasury
    function transfer(
        address token,
        address to,
        uint256 amount,
        bytes32 memo
    ) external onlyRole(GOVERNOR_ROLE) nonReentrant {
        if (to == address(0)) revert TreasuryZeroAddress();
        if (amount == 0) revert TreasuryZeroAmount();
        _spend(token, amount);
        StoredStats storage s = _stats[token];
        s.totalOut = SafeCast.toUint128(s.totalOut + amount);
        emit Transferred(token, to, amount, memo);
        CurrencyTransfer.send(token, to, amount);
    }

    /// @inheritdoc IPublicTreasury
    function createStreamGrant(
        address token,
        address recipient,
        uint256 amount,
        uint64 start,
        uint64 cliff,
        uint64 duration
    ) external onlyRole(GOVERNOR_ROLE) returns (uint256 grantId) {
        if (duration == 0 || cliff > duration || start > type(uint40).max || duration > type(uint40).max) {
            revert TreasuryInvalidSchedule(start, cliff, duration);
        }
        StoredGrant storage g;
        (grantId, g) = _newGrant(token, recipient, amount, uint40(start), 0);
        g.cliff = uint40(cliff);
        g.duration = uint40(duration);
        emit StreamGrantCreated(grantId, token, recipient, amount, start, cliff, duration);
    }

    /// @inheritdoc IPublicTreasury
    function createMilestoneGrant(
        address token,
        address recipient,
        uint256[] calldata tranches
    ) external onlyRole(GOVERNOR_ROLE) returns (uint256 grantId) {
        uint256 count = tranches.length;
        if (count == 0 || count > MAX_TRANCHES) revert TreasuryInvalidTrancheCount(count);
        // slither-disable-next-line uninitialized-local — a sum that starts at zero
        uint256 total;
        for (uint256 i; i < count; ++i) {
            if (tranches[i] == 0) revert TreasuryZeroAmount();
            total += tranches[i];
        }
        StoredGrant storage g;
        (grantId, g) = _newGrant(token, recipient, total, uint40(block.timestamp), _MILESTONE);
        _tranches[grantId] = tranches;
        emit MilestoneGrantCreated(grantId, token, recipient, total, count);
    }

    /// @inheritdoc IPublicTreasury
    function releaseTranche(uint256 grantId, uint256 index) external {
        if (!hasRole(STEWARD_ROLE, msg.sender) && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert TreasuryNotReleaser(msg.sender);
        }
        StoredGrant storage g = _grant(grantId);
        uint8 flags = g.flags;
        if (flags & _MILESTONE == 0) revert TreasuryNotMilestoneGrant(grantId);
        if (flags & _CANCELLED != 0) revert TreasuryGrantAlreadyCancelled(grantId);
        uint256[] storage tranches = _tranches[grantId];
        if (index >= tranches.length) revert TreasuryTrancheOutOfRange(grantId, index);
        uint32 bit = uint32(1 << index); // index < MAX_TRANCHES = 32
        if (g.releasedMask & bit != 0) revert TreasuryTrancheAlreadyReleased(grantId, index);
        uint256 amount = tranches[index];
        g.releasedMask |= bit;
        g.released += amount;
        emit TrancheReleased(grantId, index, amount, msg.sender);
    }

    /// @inheritdoc IPublicTreasury
    function cancelGrant(uint256 grantId) external onlyRole(GOVERNOR_ROLE) {
        StoredGrant storage g = _grant(grantId);
        uint8 flags = g.flags;
        uint256 membership = g.membership;
        bool revoked = membership != 0 && MembershipLookup.holderOf(g.registry, membership) == address(0);
        uint256 amount = g.amount;
        uint256 claimed = g.claimed;
        // a revoked recipient can claim nothing more: all that is unclaimed returns, even after a cancellation
        if (flags & _CANCELLED != 0 && !(revoked && amount > claimed)) revert TreasuryGrantAlreadyCancelled(grantId);
        uint256 entitled = revoked ? claimed : _vested(g, flags);
        uint256 returned = amount - entitled;
        g.amount = uint128(entitled); // entitled ≤ amount < 2^128
        g.flags = flags | _CANCELLED;
        _stats[g.token].committed -= uint128(returned);
        emit GrantCancelled(grantId, returned, entitled);
    }

    /// @inheritdoc IPublicTreasury
    /// @dev Gas (Anvil, 21,000 base included, a citizen recipient, benchmarks/gas_bench): the first claim cost
    /// 102,696 (ETH) / 111,667 (ERC-20) before the grant and the token counters were packed (two fresh slots:
    /// `claimed` and `totalOut`); now three cold grant slots are read and two non-zero slots rewritten, and the first
    /// claim costs what a later one does: 55,438 / 64,409 (Sablier's withdrawMax in the same run: 100,425).
    function claim(uint256 grantId) external nonReentrant returns (uint256 amount) {
        StoredGrant storage g = _grant(grantId);
        uint8 flags = g.flags;
        uint256 membership = g.membership;
        if (msg.sender != _claimant(g, membership, true)) revert TreasuryNotGrantRecipient(grantId, msg.sender);
        uint256 claimed = g.claimed;
        amount = _vested(g, flags) - claimed;
        // slither-disable-next-line incorrect-equality — refuses an empty claim; no balance compared
        if (amount == 0) revert TreasuryNothingToClaim(grantId);
        g.claimed = uint128(claimed + amount); // ≤ g.amount < 2^128
        address token = g.token;
        _payOut(_stats[token], amount, amount);
        emit GrantClaimed(grantId, msg.sender, amount);
        CurrencyTransfer.send(token, msg.sender, amount);
    }

    // ───────────────────────────────────────── quadratic funding ─────────────────────────────────

    /// @inheritdoc IPublicTreasury
    function openRound(
        address token,
        uint256 matchingPool,
        address[] calldata projects,
        uint64 start,
        uint64 end
    ) external onlyRole(GOVERNOR_ROLE) returns (uint256 roundId) {
        uint256 count = projects.length;
        if (count == 0 || count > MAX_PROJECTS) revert TreasuryInvalidProjectCount(count);
        if (end <= start || end <= block.timestamp || end > type(uint40).max) {
            revert TreasuryInvalidRoundWindow(start, end);
        }
        _commit(token, matchingPool);
        roundId = _roundCount;
        _roundCount = roundId + 1;
        StoredRound storage r = _rounds[roundId];
        // the window fits 40 bits (start < end ≤ 2^40 − 1) and count ≤ MAX_PROJECTS
        (r.token, r.start, r.end, r.projectCount) = (token, uint40(start), uint40(end), uint8(count));
        r.matchingPool = matchingPool;
        r.registry = _registry;
        StoredProject[MAX_PROJECTS] storage list = _projects[roundId];
        for (uint256 i; i < count; ++i) {
            address recipient = projects[i];
            if (recipient == address(0)) revert TreasuryZeroAddress();
            StoredProject storage p = list[i];
            p.listed = true;
            p.recipient = recipient;
            p.membership = _recipientMembership(recipient);
        }
        emit RoundOpened(roundId, token, matchingPool, count, start, end);
    }

    /// @inheritdoc IPublicTreasury
    /// @dev Gas (Anvil, 21,000 base included, a citizen's first contribution to a project, benchmarks/gas_bench):
    /// 93,474 (ETH) / 112,396 (ERC-20) before the round and project were packed; now one round slot, the
    /// registry, one external `membershipOf`, one project slot (Σc_i and Σ√c_i), the contributor's total (the one
    /// fresh slot) and the token's counters: 71,926 / 90,848 (the ERC-20 path adds only CurrencyTransfer.collect),
    /// also for a project's first contribution (was 161,874 / 180,796: the project's sums filled fresh slots).
    function contribute(uint256 roundId, uint256 projectIndex, uint256 amount) external payable nonReentrant {
        StoredRound storage r = _rounds[roundId];
        (address token, uint40 start, uint40 end, uint8 projectCount) = (r.token, r.start, r.end, r.projectCount);
        if (end == 0) revert TreasuryRoundNotFound(roundId);
        if (block.timestamp < start || block.timestamp >= end) revert TreasuryRoundNotActive(roundId, start, end);
        if (projectIndex >= projectCount) revert TreasuryProjectOutOfRange(roundId, projectIndex);
        if (amount == 0) revert TreasuryZeroAmount();
        StoredProject storage p = _projects[roundId][projectIndex];
        address registry_ = _registry;
        uint256 membership = ICitizenRegistry(registry_).membershipOf(msg.sender);
        bool matched = membership != 0;
        if (matched) {
            _recordMatchedContribution(roundId, projectIndex, p, registry_, membership, amount);
        } else {
            uint256 total = p.otherContributions + amount;
            if (total > _MAX_PROJECT_CONTRIBUTIONS) revert TreasuryContributionTooLarge(roundId, total);
            p.otherContributions = total;
        }
        StoredStats storage s = _stats[token];
        s.committed = SafeCast.toUint128(s.committed + amount);
        emit Contributed(roundId, projectIndex, msg.sender, amount, matched, membership);
        CurrencyTransfer.collect(token, amount);
    }

    /// @inheritdoc IPublicTreasury
    function finalizeRound(uint256 roundId) external {
        StoredRound storage r = _round(roundId);
        if (r.finalized) revert TreasuryRoundAlreadyFinalized(roundId);
        uint64 end = r.end;
        if (block.timestamp < end) revert TreasuryRoundNotEnded(roundId, end);
        StoredProject[MAX_PROJECTS] storage list = _projects[roundId];
        uint256 count = r.projectCount;
        uint256[] memory raw = new uint256[](count);
        // slither-disable-next-line uninitialized-local — a sum that starts at zero
        uint256 totalRaw;
        for (uint256 i; i < count; ++i) {
            raw[i] = QuadraticFundingMath.rawMatching(list[i].sumSqrt, list[i].citizenContributions);
            totalRaw += raw[i];
        }
        uint256 pool = r.matchingPool;
        // slither-disable-next-line uninitialized-local — a sum that starts at zero
        uint256 paid;
        for (uint256 i; i < count; ++i) {
            uint256 payout = QuadraticFundingMath.normalise(pool, raw[i], totalRaw);
            list[i].matching = payout;
            paid += payout;
        }
        uint256 leftover = pool - paid;
        r.finalized = true;
        r.totalMatching = paid;
        _stats[r.token].committed -= uint128(leftover); // leftover ≤ pool ≤ committed < 2^128
        emit RoundFinalized(roundId, paid, leftover);
    }

    /// @inheritdoc IPublicTreasury
    function claimRound(uint256 roundId, uint256 projectIndex) external nonReentrant returns (uint256 amount) {
        StoredRound storage r = _round(roundId);
        if (!r.finalized) revert TreasuryRoundNotFinalized(roundId);
        StoredProject storage p = _project(r, roundId, projectIndex);
        if (msg.sender != _projectClaimant(r, p, true)) {
            revert TreasuryNotProjectRecipient(roundId, projectIndex, msg.sender);
        }
        if (p.claimed) revert TreasuryProjectAlreadyClaimed(roundId, projectIndex);
        p.claimed = true;
        uint256 matching = p.matching;
        uint256 contributions = _contributions(p);
        amount = contributions + matching;
        address token = r.token;
        _payOut(_stats[token], amount, matching);
        emit RoundClaimed(roundId, projectIndex, msg.sender, contributions, matching);
        if (amount != 0) CurrencyTransfer.send(token, msg.sender, amount);
    }

    /// @inheritdoc IPublicTreasury
    function cancelProjectPayout(uint256 roundId, uint256 projectIndex) external onlyRole(GOVERNOR_ROLE) {
        StoredRound storage r = _round(roundId);
        if (!r.finalized) revert TreasuryRoundNotFinalized(roundId);
        StoredProject storage p = _project(r, roundId, projectIndex);
        if (p.claimed) revert TreasuryProjectAlreadyClaimed(roundId, projectIndex);
        if (p.membership == 0 || MembershipLookup.holderOf(r.registry, p.membership) != address(0)) {
            revert TreasuryRecipientNotRevoked(roundId, projectIndex);
        }
        p.claimed = true;
        uint256 contributions = _contributions(p);
        uint256 matching = p.matching;
        StoredStats storage s = _stats[r.token];
        s.committed -= uint128(contributions + matching); // both were committed, so < 2^128
        s.totalIn += contributions; // contributions held for the project were never public money until now
        s.inflowByCategory[DONATION] += contributions;
        emit ProjectPayoutCancelled(roundId, projectIndex, contributions, matching);
    }

    // ───────────────────────────────────────── settings ─────────────────────────────────────────

    /// @inheritdoc IPublicTreasury
    function setEpochCap(address token, uint256 cap) external onlyRole(GOVERNOR_ROLE) {
        uint256 epoch = _currentEpoch();
        CapConfig storage c = _caps[token];
        uint256 current = _capAt(c, epoch);
        uint256 effectiveFrom = epoch;
        if (cap > current) {
            effectiveFrom = epoch + 1;
            c.cap = current;
            c.pendingCap = cap;
            c.pendingFromEpoch = effectiveFrom;
        } else {
            c.cap = cap;
            c.pendingCap = 0;
            c.pendingFromEpoch = 0;
        }
        emit EpochCapSet(token, current, cap, effectiveFrom);
    }

    /// @inheritdoc IPublicTreasury
    function setEpochLength(uint64 length) external onlyRole(GOVERNOR_ROLE) {
        _checkEpochLength(length);
        EpochClock memory clock = _clockNow();
        _clock = clock; // a change scheduled earlier that has started becomes the clock in force
        uint256 epoch = _epochOf(clock);
        uint256 end = _epochStart(clock, epoch) + clock.length;
        _nextClock = EpochClock(length, uint64(end), uint64(epoch + 1));
        emit EpochLengthSet(clock.length, length, end, epoch + 1);
    }

    /// @inheritdoc IPublicTreasury
    function setRegistry(address newRegistry) external onlyRole(GOVERNOR_ROLE) {
        _setRegistry(newRegistry);
    }

    // ───────────────────────────────────────── views ─────────────────────────────────────────

    /// @inheritdoc IPublicTreasury
    function registry() external view returns (address) {
        return _registry;
    }

    /// @inheritdoc IPublicTreasury
    function treasuryBalance(address token) external view returns (uint256) {
        return _balance(token);
    }

    /// @inheritdoc IPublicTreasury
    function committed(address token) external view returns (uint256) {
        return _stats[token].committed;
    }

    /// @inheritdoc IPublicTreasury
    function freeBalance(address token) external view returns (uint256) {
        return _freeBalance(token);
    }

    /// @inheritdoc IPublicTreasury
    function tokenStats(address token) external view returns (TokenStats memory) {
        StoredStats storage s = _stats[token];
        return TokenStats(s.totalIn, s.totalOut, s.committed, s.inflowByCategory);
    }

    /// @inheritdoc IPublicTreasury
    function currentEpoch() external view returns (uint256) {
        return _currentEpoch();
    }

    /// @inheritdoc IPublicTreasury
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
        )
    {
        EpochClock memory clock = _clockNow();
        (length, anchor, epochAtAnchor) = (clock.length, clock.anchor, clock.epochAtAnchor);
        epoch = _epochOf(clock);
        epochStart = _epochStart(clock, epoch);
        epochEnd = epochStart + length;
    }

    /// @inheritdoc IPublicTreasury
    function pendingEpochLength() external view returns (uint256 length, uint256 startsAt, uint256 fromEpoch) {
        EpochClock memory next = _nextClock;
        if (next.length != 0 && block.timestamp < next.anchor) {
            (length, startsAt, fromEpoch) = (next.length, next.anchor, next.epochAtAnchor);
        }
    }

    /// @inheritdoc IPublicTreasury
    function epochCap(address token) external view returns (uint256 cap, uint256 pendingCap, uint256 pendingFromEpoch) {
        CapConfig storage c = _caps[token];
        uint256 epoch = _currentEpoch();
        cap = _capAt(c, epoch);
        if (c.pendingFromEpoch > epoch) {
            pendingCap = c.pendingCap;
            pendingFromEpoch = c.pendingFromEpoch;
        }
    }

    /// @inheritdoc IPublicTreasury
    function epochSpent(address token, uint256 epoch) external view returns (uint256) {
        return _epochSpent[token][epoch];
    }

    /// @inheritdoc IPublicTreasury
    function remainingEpochAllowance(address token) external view returns (uint256) {
        uint256 epoch = _currentEpoch();
        uint256 cap = _capAt(_caps[token], epoch);
        if (cap == UNCAPPED) return UNCAPPED;
        return Math.saturatingSub(cap, _epochSpent[token][epoch]);
    }

    /// @inheritdoc IPublicTreasury
    function grantCount() external view returns (uint256) {
        return _grantCount;
    }

    /// @inheritdoc IPublicTreasury
    function getGrant(uint256 grantId) external view returns (Grant memory grant) {
        StoredGrant storage g = _grant(grantId);
        uint8 flags = g.flags;
        grant.token = g.token;
        grant.start = g.start;
        grant.kind = flags & _MILESTONE != 0 ? GrantKind.Milestone : GrantKind.Stream;
        grant.cancelled = flags & _CANCELLED != 0;
        grant.recipient = g.recipient;
        grant.cliff = g.cliff;
        grant.duration = g.duration;
        grant.amount = g.amount;
        grant.claimed = g.claimed;
        grant.released = g.released;
        grant.releasedMask = g.releasedMask;
        grant.registry = g.registry;
        grant.membership = g.membership;
    }

    /// @inheritdoc IPublicTreasury
    function grantTranches(uint256 grantId) external view returns (uint256[] memory) {
        _grant(grantId);
        return _tranches[grantId];
    }

    /// @inheritdoc IPublicTreasury
    function vestedAmount(uint256 grantId) external view returns (uint256) {
        StoredGrant storage g = _grant(grantId);
        return _vested(g, g.flags);
    }

    /// @inheritdoc IPublicTreasury
    function claimableAmount(uint256 grantId) external view returns (uint256) {
        StoredGrant storage g = _grant(grantId);
        if (_claimant(g, g.membership, false) == address(0)) return 0;
        return _vested(g, g.flags) - g.claimed;
    }

    /// @inheritdoc IPublicTreasury
    function grantClaimant(uint256 grantId) external view returns (address) {
        StoredGrant storage g = _grant(grantId);
        return _claimant(g, g.membership, false);
    }

    /// @inheritdoc IPublicTreasury
    function roundCount() external view returns (uint256) {
        return _roundCount;
    }

    /// @inheritdoc IPublicTreasury
    function getRound(uint256 roundId) external view returns (Round memory round) {
        StoredRound storage r = _round(roundId);
        uint256 count = r.projectCount;
        StoredProject[MAX_PROJECTS] storage list = _projects[roundId];
        for (uint256 i; i < count; ++i) round.totalContributions += _contributions(list[i]);
        round.token = r.token;
        round.start = r.start;
        round.end = r.end;
        round.finalized = r.finalized;
        round.registry = r.registry;
        round.matchingPool = r.matchingPool;
        round.totalMatching = r.totalMatching;
        round.projectCount = count;
    }

    /// @inheritdoc IPublicTreasury
    function getProject(uint256 roundId, uint256 projectIndex) external view returns (Project memory) {
        StoredProject storage p = _project(_round(roundId), roundId, projectIndex);
        return Project(
            p.recipient,
            p.claimed,
            p.membership,
            _contributions(p),
            p.citizenContributions,
            p.sumSqrt,
            p.matching
        );
    }

    /// @inheritdoc IPublicTreasury
    function projectClaimant(uint256 roundId, uint256 projectIndex) external view returns (address) {
        StoredRound storage r = _round(roundId);
        return _projectClaimant(r, _project(r, roundId, projectIndex), false);
    }

    /// @inheritdoc IPublicTreasury
    function matchedContributionOf(
        uint256 roundId,
        uint256 projectIndex,
        address contributor
    ) external view returns (uint256) {
        uint256 membership = _membershipOf(contributor);
        if (membership == 0) return 0;
        return _matchedContributions[roundId][projectIndex][_registry][membership];
    }

    /// @inheritdoc IPublicTreasury
    function rawMatching(uint256 roundId, uint256 projectIndex) external view returns (uint256) {
        StoredProject storage p = _project(_round(roundId), roundId, projectIndex);
        return QuadraticFundingMath.rawMatching(p.sumSqrt, p.citizenContributions);
    }

    // ───────────────────────────────────────── internal ─────────────────────────────────────────

    /// @dev Charges `amount` against the epoch cap and checks it fits the free balance.
    function _spend(address token, uint256 amount) internal {
        uint256 epoch = _currentEpoch();
        uint256 spent = _epochSpent[token][epoch];
        uint256 cap = _capAt(_caps[token], epoch);
        if (cap != UNCAPPED) {
            uint256 remaining = Math.saturatingSub(cap, spent);
            if (amount > remaining) revert TreasuryEpochCapExceeded(token, epoch, amount, remaining);
        }
        uint256 available = _freeBalance(token);
        if (amount > available) revert TreasuryInsufficientFreeBalance(token, amount, available);
        spent += amount;
        _epochSpent[token][epoch] = spent;
        emit EpochAllowanceUsed(token, epoch, amount, spent);
    }

    /// @dev Charges `amount` against the epoch cap and the free balance, and commits it (a grant or a pool).
    function _commit(address token, uint256 amount) internal {
        _spend(token, amount);
        StoredStats storage s = _stats[token];
        s.committed = SafeCast.toUint128(s.committed + amount);
    }

    /// @dev Releases `amount` from the commitments, of which `publicMoney` counts as public money paid out.
    function _payOut(StoredStats storage s, uint256 amount, uint256 publicMoney) internal {
        // amount was committed, so it is below 2^128; one slot holds both counters
        (uint256 committed_, uint256 totalOut) = (s.committed, s.totalOut);
        (s.committed, s.totalOut) = (uint128(committed_ - amount), SafeCast.toUint128(totalOut + publicMoney));
    }

    /// @dev Validates, charges and commits a new grant starting at `start`; returns its id and its storage.
    function _newGrant(
        address token,
        address recipient,
        uint256 amount,
        uint40 start,
        uint8 kindFlag
    ) internal returns (uint256 grantId, StoredGrant storage g) {
        if (recipient == address(0)) revert TreasuryZeroAddress();
        if (amount == 0) revert TreasuryZeroAmount();
        _commit(token, amount); // amount ≤ committed < 2^128
        grantId = _grantCount;
        _grantCount = grantId + 1;
        g = _grants[grantId];
        (g.token, g.start, g.flags) = (token, start, _EXISTS | kindFlag);
        g.recipient = recipient;
        g.amount = uint128(amount);
        uint64 membership = _recipientMembership(recipient);
        if (membership != 0) {
            g.registry = _registry;
            g.membership = SafeCast.toUint56(membership);
        }
    }

    /// @dev Adds a citizen's contribution to the project's quadratic sums in O(1), under the contributor's
    /// membership id: √ of the membership's new total replaces √ of its old one, whichever key paid. Σc_i and Σ√
    /// are read and written as one slot.
    function _recordMatchedContribution(
        uint256 roundId,
        uint256 projectIndex,
        StoredProject storage p,
        address registry_,
        uint256 membership,
        uint256 amount
    ) internal {
        (uint256 citizenTotal, uint256 sumSqrt) = (p.citizenContributions, p.sumSqrt);
        citizenTotal += amount;
        if (citizenTotal > _MAX_PROJECT_CONTRIBUTIONS) revert TreasuryContributionTooLarge(roundId, citizenTotal);
        mapping(uint256 => uint256) storage totals = _matchedContributions[roundId][projectIndex][registry_];
        uint256 before = totals[membership];
        uint256 updated = before + amount; // ≤ citizenTotal
        totals[membership] = updated;
        sumSqrt = sumSqrt + QuadraticFundingMath.scaledSqrt(updated) - QuadraticFundingMath.scaledSqrt(before);
        // citizenTotal ≤ 2^96 − 1 and sumSqrt ≤ 1e9 · citizenTotal < 2^128
        (p.citizenContributions, p.sumSqrt) = (uint96(citizenTotal), uint128(sumSqrt));
    }

    /// @dev Counts an inflow in the token's totals and category.
    function _recordInflow(address token, uint256 amount, uint8 category) internal {
        if (amount == 0) revert TreasuryZeroAmount();
        StoredStats storage s = _stats[token];
        s.totalIn += amount;
        s.inflowByCategory[category] += amount;
    }

    /// @dev Counts a donation and emits it.
    function _recordDonation(address token, uint256 amount, bytes32 note) internal {
        _recordInflow(token, amount, DONATION);
        emit DonationReceived(msg.sender, token, amount, note);
    }

    /// @dev Sets the registry and emits the change.
    function _setRegistry(address registry_) internal {
        if (registry_ == address(0)) revert TreasuryZeroAddress();
        emit RegistrySet(_registry, registry_);
        _registry = registry_;
    }

    /// @dev The membership id `account` holds now in the current registry (0 = not a citizen).
    function _membershipOf(address account) internal view returns (uint256) {
        return ICitizenRegistry(_registry).membershipOf(account);
    }

    /// @dev The membership a recipient is recorded under: its id in the current registry when the registry's
    /// `ownerOf` confirms the recipient holds it, else 0 (an organisation, or a registry without ERC-721 `ownerOf`,
    /// whose recipients then stay keyed by address rather than becoming unclaimable).
    function _recipientMembership(address recipient) internal view returns (uint64) {
        uint256 membership = _membershipOf(recipient);
        if (membership == 0 || MembershipLookup.holderOf(_registry, membership) != recipient) return 0;
        return SafeCast.toUint64(membership);
    }

    /// @dev Who may claim grant `g`: its recipient when `membership` is 0 (not a citizen), else whoever holds the
    /// membership in the grant's registry now; for a revoked membership address(0), or a revert when `strict`.
    function _claimant(StoredGrant storage g, uint256 membership, bool strict) internal view returns (address) {
        if (membership == 0) return g.recipient;
        return _holder(g.registry, membership, strict);
    }

    /// @dev Who may claim project `p` of round `r`, as `_claimant` for grants.
    function _projectClaimant(
        StoredRound storage r,
        StoredProject storage p,
        bool strict
    ) internal view returns (address) {
        uint256 membership = p.membership;
        if (membership == 0) return p.recipient;
        return _holder(r.registry, membership, strict);
    }

    /// @dev The holder of `membership` in `registry_`; for a revoked membership address(0), or a revert when `strict`.
    function _holder(address registry_, uint256 membership, bool strict) internal view returns (address holder) {
        holder = MembershipLookup.holderOf(registry_, membership);
        if (holder == address(0) && strict) revert TreasuryRecipientRevoked(membership);
    }

    /// @dev Reverts unless MIN_EPOCH_LENGTH <= length <= MAX_EPOCH_LENGTH.
    function _checkEpochLength(uint64 length) internal pure {
        if (length < MIN_EPOCH_LENGTH || length > MAX_EPOCH_LENGTH) revert TreasuryInvalidEpochLength(length);
    }

    /// @dev The current epoch number.
    function _currentEpoch() internal view returns (uint256) {
        return _epochOf(_clockNow());
    }

    /// @dev The clock in force now: the scheduled one once its anchor has passed.
    function _clockNow() internal view returns (EpochClock memory) {
        EpochClock memory next = _nextClock;
        if (next.length != 0 && block.timestamp >= next.anchor) return next;
        return _clock;
    }

    /// @dev The epoch `block.timestamp` falls in under `clock` (never before its anchor).
    function _epochOf(EpochClock memory clock) internal view returns (uint256) {
        return clock.epochAtAnchor + (block.timestamp - clock.anchor) / clock.length;
    }

    /// @dev The start timestamp of `epoch` under `clock`.
    function _epochStart(EpochClock memory clock, uint256 epoch) internal pure returns (uint256) {
        return clock.anchor + (epoch - clock.epochAtAnchor) * clock.length;
    }

    /// @dev The cap in force for `epoch`.
    function _capAt(CapConfig storage c, uint256 epoch) internal view returns (uint256) {
        uint256 from = c.pendingFromEpoch;
        if (from != 0 && epoch >= from) return c.pendingCap;
        return c.cap;
    }

    /// @dev The treasury's balance of `token`.
    function _balance(address token) internal view returns (uint256) {
        return CurrencyTransfer.balanceOfSelf(token);
    }

    /// @dev Balance minus committed, floored at zero.
    function _freeBalance(address token) internal view returns (uint256) {
        return Math.saturatingSub(_balance(token), _stats[token].committed);
    }

    /// @dev A grant by id, reverting if it does not exist.
    function _grant(uint256 grantId) internal view returns (StoredGrant storage g) {
        g = _grants[grantId];
        if (g.flags & _EXISTS == 0) revert TreasuryGrantNotFound(grantId);
    }

    /// @dev What a grant has vested (stream) or released (milestone); frozen at cancellation (`amount` is then what
    /// stays owed: no tranche is released after a cancellation). `flags` is the grant's (already read).
    function _vested(StoredGrant storage g, uint8 flags) internal view returns (uint256) {
        if (flags & _CANCELLED != 0) return g.amount;
        if (flags & _MILESTONE != 0) return g.released;
        return TreasuryVestingMath.linearVested(g.amount, g.start, g.cliff, g.duration, block.timestamp);
    }

    /// @dev A round by id, reverting if it does not exist (an existing round's end is > 0).
    function _round(uint256 roundId) internal view returns (StoredRound storage r) {
        r = _rounds[roundId];
        if (r.end == 0) revert TreasuryRoundNotFound(roundId);
    }

    /// @dev A project of round `r` (which exists) by index, reverting if out of range.
    function _project(
        StoredRound storage r,
        uint256 roundId,
        uint256 projectIndex
    ) internal view returns (StoredProject storage) {
        if (projectIndex >= r.projectCount) revert TreasuryProjectOutOfRange(roundId, projectIndex);
        return _projects[roundId][projectIndex];
    }

    /// @dev All contributions held for a project: citizens' and others'.
    function _contributions(StoredProject storage p) internal view returns (uint256) {
        return p.citizenContributions + p.otherContributions;
    }
}
