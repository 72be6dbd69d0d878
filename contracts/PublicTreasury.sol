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
    /// @dev Contributions to one round are kept below this so matching maths cannot overflow.
    uint256 private constant _MAX_ROUND_CONTRIBUTIONS = type(uint128).max;

    address private _registry;
    /// @dev The epoch clock: epochs of `length` seconds, epoch `epochAtAnchor` starting at `anchor`.
    EpochClock private _clock;
    /// @dev A length change scheduled for the end of the epoch in which it was set (length 0 = none).
    EpochClock private _nextClock;

    mapping(address token => TokenStats) private _stats;
    mapping(address token => CapConfig) private _caps;
    mapping(address token => mapping(uint256 epoch => uint256)) private _epochSpent;

    Grant[] private _grants;
    mapping(uint256 grantId => uint256[]) private _tranches;

    Round[] private _rounds;
    // slither-disable-next-line uninitialized-state — filled by `list.push()` in openRound
    mapping(uint256 roundId => Project[]) private _projects;
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
        _stats[token].totalOut += amount;
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
        if (duration == 0 || cliff > duration) revert TreasuryInvalidSchedule(start, cliff, duration);
        grantId = _newGrant(token, recipient, amount, GrantKind.Stream);
        Grant storage g = _grants[grantId];
        g.start = start;
        g.cliff = cliff;
        g.duration = duration;
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
        grantId = _newGrant(token, recipient, total, GrantKind.Milestone);
        _tranches[grantId] = tranches;
        emit MilestoneGrantCreated(grantId, token, recipient, total, count);
    }

    /// @inheritdoc IPublicTreasury
    function releaseTranche(uint256 grantId, uint256 index) external {
        if (!hasRole(STEWARD_ROLE, msg.sender) && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert TreasuryNotReleaser(msg.sender);
        }
        Grant storage g = _grant(grantId);
        if (g.kind != GrantKind.Milestone) revert TreasuryNotMilestoneGrant(grantId);
        if (g.cancelled) revert TreasuryGrantAlreadyCancelled(grantId);
        uint256[] storage tranches = _tranches[grantId];
        if (index >= tranches.length) revert TreasuryTrancheOutOfRange(grantId, index);
        uint256 bit = 1 << index;
        if (g.releasedMask & bit != 0) revert TreasuryTrancheAlreadyReleased(grantId, index);
        uint256 amount = tranches[index];
        g.releasedMask |= bit;
        g.released += amount;
        emit TrancheReleased(grantId, index, amount, msg.sender);
    }

    /// @inheritdoc IPublicTreasury
    function cancelGrant(uint256 grantId) external onlyRole(GOVERNOR_ROLE) {
        Grant storage g = _grant(grantId);
        bool revoked = g.membership != 0 && MembershipLookup.holderOf(g.registry, g.membership) == address(0);
        // a revoked recipient can claim nothing more: all that is unclaimed returns, even after a cancellation
        if (g.cancelled && !(revoked && g.amount > g.claimed)) revert TreasuryGrantAlreadyCancelled(grantId);
        uint256 entitled = revoked ? g.claimed : _vested(g);
        uint256 returned = g.amount - entitled;
        g.amount = entitled;
        g.cancelled = true;
        _stats[g.token].committed -= returned;
        emit GrantCancelled(grantId, returned, entitled);
    }

    /// @inheritdoc IPublicTreasury
    function claim(uint256 grantId) external nonReentrant returns (uint256 amount) {
        Grant storage g = _grant(grantId);
        if (msg.sender != _claimant(g.recipient, g.registry, g.membership, true)) {
            revert TreasuryNotGrantRecipient(grantId, msg.sender);
        }
        amount = _vested(g) - g.claimed;
        // slither-disable-next-line incorrect-equality — refuses an empty claim; no balance compared
        if (amount == 0) revert TreasuryNothingToClaim(grantId);
        g.claimed += amount;
        address token = g.token;
        TokenStats storage s = _stats[token];
        s.committed -= amount;
        s.totalOut += amount;
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
        if (end <= start || end <= block.timestamp) revert TreasuryInvalidRoundWindow(start, end);
        _commit(token, matchingPool);
        roundId = _rounds.length;
        Round storage r = _rounds.push();
        r.token = token;
        r.start = start;
        r.end = end;
        r.matchingPool = matchingPool;
        r.projectCount = count;
        r.registry = _registry;
        Project[] storage list = _projects[roundId];
        for (uint256 i; i < count; ++i) {
            address recipient = projects[i];
            if (recipient == address(0)) revert TreasuryZeroAddress();
            Project storage p = list.push();
            p.recipient = recipient;
            p.membership = _recipientMembership(recipient);
        }
        emit RoundOpened(roundId, token, matchingPool, count, start, end);
    }

    /// @inheritdoc IPublicTreasury
    function contribute(uint256 roundId, uint256 projectIndex, uint256 amount) external payable nonReentrant {
        Round storage r = _round(roundId);
        if (block.timestamp < r.start || block.timestamp >= r.end) {
            revert TreasuryRoundNotActive(roundId, r.start, r.end);
        }
        Project storage p = _project(roundId, projectIndex);
        if (amount == 0) revert TreasuryZeroAmount();
        uint256 total = r.totalContributions + amount;
        if (total > _MAX_ROUND_CONTRIBUTIONS) revert TreasuryContributionTooLarge(roundId, total);
        r.totalContributions = total;
        p.contributions += amount;
        address token = r.token;
        _stats[token].committed += amount;
        uint256 membership = _membershipOf(msg.sender);
        bool matched = membership != 0;
        if (matched) _recordMatchedContribution(roundId, projectIndex, p, membership, amount);
        emit Contributed(roundId, projectIndex, msg.sender, amount, matched, membership);
        CurrencyTransfer.collect(token, amount);
    }

    /// @inheritdoc IPublicTreasury
    function finalizeRound(uint256 roundId) external {
        Round storage r = _round(roundId);
        if (r.finalized) revert TreasuryRoundAlreadyFinalized(roundId);
        if (block.timestamp < r.end) revert TreasuryRoundNotEnded(roundId, r.end);
        Project[] storage list = _projects[roundId];
        uint256 count = list.length;
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
        _stats[r.token].committed -= leftover;
        emit RoundFinalized(roundId, paid, leftover);
    }

    /// @inheritdoc IPublicTreasury
    function claimRound(uint256 roundId, uint256 projectIndex) external nonReentrant returns (uint256 amount) {
        Round storage r = _round(roundId);
        if (!r.finalized) revert TreasuryRoundNotFinalized(roundId);
        Project storage p = _project(roundId, projectIndex);
        if (msg.sender != _claimant(p.recipient, r.registry, p.membership, true)) {
            revert TreasuryNotProjectRecipient(roundId, projectIndex, msg.sender);
        }
        if (p.claimed) revert TreasuryProjectAlreadyClaimed(roundId, projectIndex);
        p.claimed = true;
        uint256 matching = p.matching;
        amount = p.contributions + matching;
        address token = r.token;
        TokenStats storage s = _stats[token];
        s.committed -= amount;
        s.totalOut += matching;
        emit RoundClaimed(roundId, projectIndex, msg.sender, p.contributions, matching);
        if (amount != 0) CurrencyTransfer.send(token, msg.sender, amount);
    }

    /// @inheritdoc IPublicTreasury
    function cancelProjectPayout(uint256 roundId, uint256 projectIndex) external onlyRole(GOVERNOR_ROLE) {
        Round storage r = _round(roundId);
        if (!r.finalized) revert TreasuryRoundNotFinalized(roundId);
        Project storage p = _project(roundId, projectIndex);
        if (p.claimed) revert TreasuryProjectAlreadyClaimed(roundId, projectIndex);
        if (p.membership == 0 || MembershipLookup.holderOf(r.registry, p.membership) != address(0)) {
            revert TreasuryRecipientNotRevoked(roundId, projectIndex);
        }
        p.claimed = true;
        uint256 contributions = p.contributions;
        uint256 matching = p.matching;
        TokenStats storage s = _stats[r.token];
        s.committed -= contributions + matching;
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
        return _stats[token];
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
        return _grants.length;
    }

    /// @inheritdoc IPublicTreasury
    function getGrant(uint256 grantId) external view returns (Grant memory) {
        return _grant(grantId);
    }

    /// @inheritdoc IPublicTreasury
    function grantTranches(uint256 grantId) external view returns (uint256[] memory) {
        _grant(grantId);
        return _tranches[grantId];
    }

    /// @inheritdoc IPublicTreasury
    function vestedAmount(uint256 grantId) external view returns (uint256) {
        return _vested(_grant(grantId));
    }

    /// @inheritdoc IPublicTreasury
    function claimableAmount(uint256 grantId) external view returns (uint256) {
        Grant storage g = _grant(grantId);
        if (_claimant(g.recipient, g.registry, g.membership, false) == address(0)) return 0;
        return _vested(g) - g.claimed;
    }

    /// @inheritdoc IPublicTreasury
    function grantClaimant(uint256 grantId) external view returns (address) {
        Grant storage g = _grant(grantId);
        return _claimant(g.recipient, g.registry, g.membership, false);
    }

    /// @inheritdoc IPublicTreasury
    function roundCount() external view returns (uint256) {
        return _rounds.length;
    }

    /// @inheritdoc IPublicTreasury
    function getRound(uint256 roundId) external view returns (Round memory) {
        return _round(roundId);
    }

    /// @inheritdoc IPublicTreasury
    function getProject(uint256 roundId, uint256 projectIndex) external view returns (Project memory) {
        _round(roundId);
        return _project(roundId, projectIndex);
    }

    /// @inheritdoc IPublicTreasury
    function projectClaimant(uint256 roundId, uint256 projectIndex) external view returns (address) {
        Round storage r = _round(roundId);
        Project storage p = _project(roundId, projectIndex);
        return _claimant(p.recipient, r.registry, p.membership, false);
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
        _round(roundId);
        Project storage p = _project(roundId, projectIndex);
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
        _stats[token].committed += amount;
    }

    /// @dev Validates, charges and commits a new grant; returns its id.
    function _newGrant(
        address token,
        address recipient,
        uint256 amount,
        GrantKind kind
    ) internal returns (uint256 grantId) {
        if (recipient == address(0)) revert TreasuryZeroAddress();
        if (amount == 0) revert TreasuryZeroAmount();
        _commit(token, amount);
        grantId = _grants.length;
        Grant storage g = _grants.push();
        g.token = token;
        g.recipient = recipient;
        g.kind = kind;
        g.amount = amount;
        g.start = uint64(block.timestamp);
        uint64 membership = _recipientMembership(recipient);
        if (membership != 0) {
            g.registry = _registry;
            g.membership = membership;
        }
    }

    /// @dev Adds a citizen's contribution to the project's quadratic sums in O(1), under the contributor's
    /// membership id: √ of the membership's new total replaces √ of its old one, whichever key paid.
    function _recordMatchedContribution(
        uint256 roundId,
        uint256 projectIndex,
        Project storage p,
        uint256 membership,
        uint256 amount
    ) internal {
        mapping(uint256 => uint256) storage totals = _matchedContributions[roundId][projectIndex][_registry];
        uint256 before = totals[membership];
        uint256 updated = before + amount;
        totals[membership] = updated;
        p.citizenContributions += amount;
        p.sumSqrt = p.sumSqrt + QuadraticFundingMath.scaledSqrt(updated) - QuadraticFundingMath.scaledSqrt(before);
    }

    /// @dev Counts an inflow in the token's totals and category.
    function _recordInflow(address token, uint256 amount, uint8 category) internal {
        if (amount == 0) revert TreasuryZeroAmount();
        TokenStats storage s = _stats[token];
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

    /// @dev Who may claim for `recipient`: the address itself when `membership` is 0 (not a citizen), else whoever
    /// holds the membership in `registry` now; for a revoked membership address(0), or a revert when `strict`.
    function _claimant(
        address recipient,
        address registry_,
        uint256 membership,
        bool strict
    ) internal view returns (address holder) {
        if (membership == 0) return recipient;
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
    function _grant(uint256 grantId) internal view returns (Grant storage) {
        if (grantId >= _grants.length) revert TreasuryGrantNotFound(grantId);
        return _grants[grantId];
    }

    /// @dev What a grant has vested (stream) or released (milestone); frozen at cancellation (`amount` is then what
    /// stays owed: no tranche is released after a cancellation).
    function _vested(Grant storage g) internal view returns (uint256) {
        if (g.cancelled) return g.amount;
        if (g.kind == GrantKind.Milestone) return g.released;
        return TreasuryVestingMath.linearVested(g.amount, g.start, g.cliff, g.duration, block.timestamp);
    }

    /// @dev A round by id, reverting if it does not exist.
    function _round(uint256 roundId) internal view returns (Round storage) {
        if (roundId >= _rounds.length) revert TreasuryRoundNotFound(roundId);
        return _rounds[roundId];
    }

    /// @dev A project by index (the round must exist), reverting if out of range.
    function _project(uint256 roundId, uint256 projectIndex) internal view returns (Project storage) {
        Project[] storage list = _projects[roundId];
        if (projectIndex >= list.length) revert TreasuryProjectOutOfRange(roundId, projectIndex);
        return list[projectIndex];
    }
}
