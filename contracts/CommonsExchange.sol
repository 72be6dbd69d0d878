// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICitizenRegistry} from "./interfaces/ICitizenRegistry.sol";
import {ICommonsExchange} from "./interfaces/ICommonsExchange.sol";
import {IMembershipHook} from "./interfaces/IMembershipHook.sol";
import {BookingStatus, DepositStatus, Kind, Unit} from "./interfaces/types/ExchangeTypes.sol";
import {IFeeSink} from "./interfaces/IFeeSink.sol";
import {CurrencyTransfer} from "./libraries/CurrencyTransfer.sol";
import {ExchangeLimits} from "./libraries/ExchangeLimits.sol";
import {MembershipLookup} from "./libraries/MembershipLookup.sol";
import {SlotCalendar} from "./libraries/SlotCalendar.sol";
import {ExchangeClaims} from "./ExchangeClaims.sol";
import {ExchangeLens} from "./ExchangeLens.sol";
import {ExchangeSettings} from "./ExchangeSettings.sol";
import {IExchangeSettings} from "./interfaces/IExchangeSettings.sol";

/// @title CommonsExchange
/// @notice Peer-to-peer exchange of the city's idle commons. Residents (or accounts the DAO grants LISTER_ROLE)
/// list rooms, spaces, tools, skills and green space; renters book and escrow price + deposit; an on-chain slot
/// bitmap refuses double bookings; after the slot the price goes to the lister's credit and the fee to the public
/// treasury (kept here per token and kind until anyone calls `flushFees`, which delivers them in one payment);
/// deposits come back unless a damage claim is raised, answered and, if disputed, resolved by DAO-appointed
/// resolvers (unresolved disputes favour the renter). ITEM purchases are escrowed the same way: the buyer confirms
/// receipt, cancels before shipping, or claims non-delivery within the delivery window; silence releases the
/// price. Claims and disputes live in the ExchangeClaims contract this exchange creates. What a citizen lists and
/// is owed belongs to their membership, so it follows a key rotation. All money owed is pulled: credits with
/// `withdraw`, a deposit that `settle` returned with `withdrawDeposit`. The DAO's settings are changed through the
/// ExchangeSettings contract this exchange creates (it checks the caller's GOVERNOR_ROLE here and writes through
/// `configure`).
/// @dev The DAO's power is GOVERNOR_ROLE (held by the Timelock after deployment); DEFAULT_ADMIN_ROLE only
/// administers the roles. Invariant: for every token,
/// balance == totalOwed(token) (escrow of live bookings + credits + pending fees), unless someone force-sends ETH.
///
/// Gas (issue 11; `python -m benchmarks.gas_bench --write-ceilings`, Anvil shanghai, 21,000 base included;
/// before -> after this layout, ETH): book 190,383 -> 134,915; settle 99,752 -> 57,866 (fresh credits 151,052
/// -> 74,966); withdraw 49,079 -> 47,356; create listing 184,416 -> 143,663; cancel 87,990 -> 79,678. What moved:
/// a listing is 3 packed slots (+ its URI; ITEM stock in a 4th), a booking 3 packed slots, now 2 (see below; a
/// claim's deadline and amount in `_claimRecords`, written only by claims), the settings a booking or settlement
/// reads are 2 slots (`_core`, `_counters`), fees accrue in a slot per (token, kind) that is never emptied (its 1-wei sentinel is
/// written by the constructor for ETH and when the DAO allows a token) and reach the treasury with `flushFees`
/// (a settlement no longer pays the sink's call, ~20,000), and a deposit returned by `settle` stays in the booking
/// for the renter to pull (`withdrawDeposit`), so a settlement writes one credit slot, not two.
/// OpenZeppelin's Pausable and ReentrancyGuard are replaced by a flag and a lock packed into `_core` (the slot
/// with the registry and windows that book and withdraw read anyway): OZ's keep each in a slot of its own, a cold
/// read (2,100) per guarded or pausable call each, while the packed lock costs 200 net (2,900 + 100 written,
/// 2,800 refunded) once `_core` is read. Same behaviour, errors and events (EnforcedPause, ExpectedPause,
/// ReentrancyGuardReentrantCall, Paused, Unpaused) and the same `paused()` view.
/// Then a booking became two slots (book 134,915 -> 109,751; ERC-20 160,832 -> 135,667): it stores the listing's
/// terms version instead of price, deposit and cancellation terms, which are read from the listing while that
/// version is current (the slot `book` and the other actions read anyway) or from `_pastTerms`, where
/// `updateTerms` keeps the terms it replaces (47,265 -> 71,583, a fresh slot; rare). Cancel 79,678 -> 80,559,
/// settle 57,866 -> 58,260, withdrawDeposit 56,282 -> 56,803, damage claim 83,150 -> 84,223, resolve 114,338 ->
/// 115,913: the same number of cold slots, a few more warm reads. `book` packs the booking's two words itself and
/// `getBooking` decodes them (smaller and cheaper than field-by-field struct code), and the lock is released in a
/// function rather than inline in every guarded function: room under EIP-170 for the terms lookup.
/// Then credits moved from membership keys to addresses (withdraw 47,380 -> 31,524; ERC-20 56,599 -> 45,961; book
/// 109,751 -> 104,865): the registry calls `onMembershipMoved` in every rotation and revocation, which moves the
/// old key's credits (ETH and each token ever allowed, at most MAX_TOKENS) and marks the key (KEY_LOST), so a
/// withdrawal reads one slot with no registry lookup; withdraw takes no lock (it empties the credit before its
/// one call), and no running ETH total is kept (`totalOwed(ETH)` is the balance). The registry lookup moved to
/// the rare credit of a marked key, and the token credit of an ERC-20 settlement reads the key's ETH word for the
/// mark (+2,265). Built at 50 optimizer runs to stay 2 KiB under EIP-170 (civicdao/build.py).
contract CommonsExchange is ICommonsExchange, AccessControl {
    using SafeERC20 for IERC20;
    using SlotCalendar for SlotCalendar.Calendar;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Errors and events of the packed pause flag and reentrancy lock (OpenZeppelin's names and signatures)
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @dev The exchange is paused (as OpenZeppelin's Pausable).
    error EnforcedPause();
    /// @dev The exchange is not paused (as OpenZeppelin's Pausable).
    error ExpectedPause();
    /// @dev A guarded function was re-entered (as OpenZeppelin's ReentrancyGuard).
    error ReentrancyGuardReentrantCall();

    /// @dev Emitted when `account` pauses the exchange.
    /// @param account Who paused it.
    event Paused(address account);
    /// @dev Emitted when `account` unpauses the exchange.
    /// @param account Who unpaused it.
    event Unpaused(address account);

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Constants
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice The DAO's role: settings, closing listings, unpausing, recovering money (the Timelock).
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice Role the DAO grants to non-citizen listers (e.g. the city's own facilities).
    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");
    /// @notice Role the DAO grants to dispute resolvers.
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");
    /// @notice Role that may pause new listings and bookings (only the DAO unpauses).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Basis-point denominator.
    uint256 public constant BPS = ExchangeLimits.BPS;
    /// @notice Hard cap on a listing's max units per booking (bounds calendar work per booking).
    uint256 public constant MAX_UNITS_PER_BOOKING = ExchangeLimits.MAX_UNITS_PER_BOOKING;
    /// @dev Credits are keyed by holder: an address as uint160, a citizen membership id with this bit set.
    uint256 private constant MEMBER_KEY = 1 << 255;
    /// @dev Set in an address's ETH credit word once the address has lost a membership (`onMembershipMoved`):
    /// money owed to a membership is then credited to whoever holds it now, not to this key. An amount never
    /// reaches this bit (prices and deposits are below 2^96).
    uint256 private constant KEY_LOST = 1 << 255;
    uint256 private constant AMOUNT_MASK = KEY_LOST - 1;
    /// @dev Most tokens the DAO may ever allow: a rotation moves the old key's credit in each (bounded work).
    uint256 private constant MAX_TOKENS = 16;
    uint8 private constant UNLOCKED = 1;
    uint8 private constant LOCKED = 2;
    uint8 private constant RESIDENTS_ONLY = 1;
    uint8 private constant LISTING_PAUSED = 2;
    uint8 private constant LISTING_CLOSED = 4;
    /// @dev A pending-fee slot holds 1 + the pending amount once initialized, so accruing is never a fresh write.
    uint256 private constant FEE_SENTINEL = 1;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Storage (packed: see the contract's @dev)
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @dev What book, settle and withdraw read in every transaction: one slot.
    struct Core {
        ICitizenRegistry registry;
        uint8 lock;
        bool paused;
        uint32 claimWindow;
        uint32 deliveryWindow;
    }

    /// @dev Counters and fees: one slot. `feeBps` holds 16 bits per Kind (bits 16 * kind).
    struct Counters {
        uint48 listingCount;
        uint48 bookingCount;
        uint80 feeBps;
        uint32 disputeWindow;
    }

    /// @dev A listing: slots 0-2 always, `stock` (slot 3) for ITEM listings only, then the URI.
    struct StoredListing {
        address lister;
        uint40 membership;
        Kind kind;
        Unit unit;
        uint8 flags;
        uint16 lateRefundBps;
        uint16 maxUnits;
        // slot 1
        address token;
        uint40 availableFrom;
        uint40 availableUntil;
        uint16 minUnits;
        // slot 2
        uint96 price;
        uint96 deposit;
        uint32 freeCancelHours;
        uint32 termsVersion;
        // slot 3
        uint32 stock;
        // slot 4
        string metadataURI;
    }

    /// @dev A booking: two slots written once by `book` (its claim is in `_claimRecords`). Its price, deposit and
    /// cancellation terms are those of the listing's `termsVersion` it was made on: the listing's own terms while
    /// that version is current, else `_pastTerms` (see `_termsOf`).
    struct StoredBooking {
        address renter;
        uint48 listingId;
        uint16 units;
        uint16 feeBps;
        BookingStatus status;
        DepositStatus depositStatus;
        // slot 1
        uint40 start;
        uint40 end;
        uint40 claimUntil;
        uint40 renterMembership;
        uint40 shippedAt;
        uint32 termsVersion;
    }

    /// @dev A listing's terms of a version `updateTerms` replaced (one slot; price per unit).
    struct PastTerms {
        uint96 price;
        uint96 deposit;
        uint32 freeCancelHours;
        uint16 lateRefundBps;
    }

    /// @dev A booking's open claim (its own slot, written only by the claims contract's hooks).
    struct ClaimRecord {
        uint40 decideBy;
        uint128 claimAmount;
    }

    ExchangeClaims private immutable _claims;
    ExchangeLens private immutable _lens;
    IExchangeSettings private immutable _settings;
    Core private _core;
    Counters private _counters;
    IFeeSink private _feeSink;
    uint256 private _housingListingCap;
    mapping(uint256 listingId => StoredListing) private _listings;
    mapping(uint256 bookingId => StoredBooking) private _bookings;
    mapping(uint256 bookingId => ClaimRecord) private _claimRecords;
    mapping(uint256 listingId => SlotCalendar.Calendar) private _calendars;
    mapping(uint256 holder => mapping(address token => uint256)) private _credits;
    mapping(address token => uint256) private _owed;
    mapping(address token => mapping(Kind => uint256)) private _pendingFees;
    mapping(address token => bool) private _tokenAllowed;
    mapping(address token => uint256) private _housingCeiling;
    mapping(uint256 holder => uint256) private _activeHousing;
    /// @dev Last, so that the slots before it keep their places (tests/forge reads the credit ledger's slot).
    mapping(uint256 listingId => mapping(uint256 version => PastTerms)) private _pastTerms;
    /// @dev Every token the DAO has ever allowed, in order (at most MAX_TOKENS), so that a rotation can move the old
    /// key's credit in each.
    mapping(uint256 index => address token) private _tokenAt;
    uint256 private _tokenCount;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Modifiers
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    modifier onlyClaims() {
        _onlyClaims();
        _;
    }

    modifier onlySettings() {
        if (msg.sender != address(_settings)) revert ExchangeOnlySettings(msg.sender);
        _;
    }

    /// @dev OpenZeppelin ReentrancyGuard's behaviour with the lock in `_core` (see the contract's @dev).
    modifier nonReentrant() {
        _lock();
        _;
        _unlock();
    }

    modifier whenNotPaused() {
        _whenNotPaused();
        _;
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Constructor
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Deploys the exchange. `admin` (the deployer temporarily, then the Timelock) holds DEFAULT_ADMIN_ROLE
    /// and GOVERNOR_ROLE. Fees start at 0 for every kind; only ETH is allowed until the DAO allows tokens.
    /// @param admin Initial DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE holder.
    /// @param registry_ The citizen registry.
    /// @param feeSink_ Where fees go (the PublicTreasury).
    /// @param claimWindow_ Seconds after a booking's end during which the lister may claim damage.
    /// @param disputeWindow_ Seconds to answer a claim, and for resolvers to decide a dispute.
    /// @param deliveryWindow_ Seconds after an ITEM purchase before the price is released automatically.
    constructor(
        address admin,
        ICitizenRegistry registry_,
        IFeeSink feeSink_,
        uint256 claimWindow_,
        uint256 disputeWindow_,
        uint256 deliveryWindow_
    ) {
        if (admin == address(0)) revert ExchangeZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        _claims = new ExchangeClaims();
        _lens = new ExchangeLens();
        // the settings contract checks (windows <= 90 days, so they fit 32 bits) and announces the first settings
        _settings = IExchangeSettings(
            address(new ExchangeSettings(address(registry_), address(feeSink_), claimWindow_, disputeWindow_, deliveryWindow_))
        );
        _core = Core({
            registry: registry_,
            lock: UNLOCKED,
            paused: false,
            claimWindow: uint32(claimWindow_),
            deliveryWindow: uint32(deliveryWindow_)
        });
        _counters.disputeWindow = uint32(disputeWindow_);
        _feeSink = feeSink_;
        _initFeeSlots(address(0));
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: listings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function createListing(ListingParams calldata params) external whenNotPaused returns (uint256 listingId) {
        address lister = msg.sender;
        uint256 membership = _membershipOf(lister);
        if (membership == 0 && !hasRole(LISTER_ROLE, lister)) revert ExchangeNotEligibleLister(lister);
        _checkToken(params.token);
        _settings.checkListing(
            params.kind,
            params.unit,
            params.minUnits,
            params.maxUnits,
            params.availableFrom,
            params.availableUntil,
            params.stock,
            bytes(params.metadataURI).length
        );
        _checkTerms(params.kind, params.unit, params.token, params.price, params.deposit, params.lateRefundBps);
        if (params.kind == Kind.ROOM_HOUSE) {
            uint256 cap = _housingListingCap;
            uint256 holder = _holderKey(membership, lister);
            uint256 active = _activeHousing[holder];
            if (cap != 0 && active >= cap) revert ExchangeHousingCapReached(lister, cap);
            _activeHousing[holder] = active + 1;
        }

        listingId = uint256(_counters.listingCount) + 1;
        _counters.listingCount = uint48(listingId);
        StoredListing storage lst = _listings[listingId];
        lst.lister = lister;
        lst.membership = SafeCast.toUint40(membership);
        lst.kind = params.kind;
        lst.unit = params.unit;
        lst.flags = params.residentsOnly ? RESIDENTS_ONLY : 0;
        lst.lateRefundBps = params.lateRefundBps;
        lst.maxUnits = uint16(params.maxUnits);
        lst.token = params.token;
        lst.availableFrom = uint40(params.availableFrom);
        lst.availableUntil = uint40(params.availableUntil);
        lst.minUnits = uint16(params.minUnits);
        lst.price = uint96(params.price);
        lst.deposit = uint96(params.deposit);
        lst.freeCancelHours = params.freeCancelHours;
        if (params.unit == Unit.ITEM) lst.stock = params.stock;
        lst.metadataURI = params.metadataURI;
        emit ListingCreated(
            listingId, lister, params.kind, params.unit, params.token, params.price, params.deposit, params.metadataURI
        );
    }

    /// @inheritdoc ICommonsExchange
    function updateTerms(uint256 listingId, uint256 price, uint256 deposit, uint32 freeCancelHours, uint16 lateRefundBps)
        external
    {
        StoredListing storage lst = _openListingOfLister(listingId);
        _checkTerms(lst.kind, lst.unit, lst.token, price, deposit, lateRefundBps);
        uint32 version = lst.termsVersion;
        // bookings made on this version keep its terms
        _pastTerms[listingId][version] = PastTerms({
            price: lst.price,
            deposit: lst.deposit,
            freeCancelHours: lst.freeCancelHours,
            lateRefundBps: lst.lateRefundBps
        });
        ++version;
        lst.price = uint96(price);
        lst.deposit = uint96(deposit);
        lst.freeCancelHours = freeCancelHours;
        lst.termsVersion = version;
        lst.lateRefundBps = lateRefundBps;
        emit ListingTermsUpdated(listingId, price, deposit, freeCancelHours, lateRefundBps, version);
    }

    /// @inheritdoc ICommonsExchange
    function setStock(uint256 listingId, uint32 stock) external {
        StoredListing storage lst = _openListingOfLister(listingId);
        if (lst.unit != Unit.ITEM) revert ExchangeNotItemListing(listingId);
        emit ListingStockSet(listingId, lst.stock, stock);
        lst.stock = stock;
    }

    /// @inheritdoc ICommonsExchange
    function setListingPaused(uint256 listingId, bool paused_) external {
        StoredListing storage lst = _openListingOfLister(listingId);
        uint8 flags = lst.flags;
        if (((flags & LISTING_PAUSED) != 0) == paused_) revert ExchangeListingPauseUnchanged(listingId, paused_);
        lst.flags = flags ^ LISTING_PAUSED; // it changes (checked above)
        emit ListingPauseSet(listingId, paused_);
    }

    /// @inheritdoc ICommonsExchange
    /// @dev The DAO (GOVERNOR_ROLE) may also close a listing that breaks its rules.
    function closeListing(uint256 listingId) external {
        StoredListing storage lst = _listingOf(listingId);
        address sender = msg.sender;
        if (!_isLister(lst, sender) && !hasRole(GOVERNOR_ROLE, sender)) revert ExchangeNotLister(listingId, sender);
        uint8 flags = lst.flags;
        if ((flags & LISTING_CLOSED) != 0) revert ExchangeListingClosed(listingId);
        lst.flags = flags | LISTING_CLOSED;
        if (lst.kind == Kind.ROOM_HOUSE) --_activeHousing[_holderKey(lst.membership, lst.lister)];
        emit ListingClosed(listingId);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: bookings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function book(uint256 listingId, uint256 start, uint256 units, uint256 expectedTermsVersion)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint256 bookingId)
    {
        StoredListing storage lst = _listingOf(listingId);
        uint256 version = lst.termsVersion;
        if (version != expectedTermsVersion) revert ExchangeTermsChanged(listingId, expectedTermsVersion, version);
        address renter = msg.sender;
        uint256 renterMembership = _membershipOf(renter);
        _checkBookable(lst, listingId, renter, renterMembership, units);
        uint256 end;
        if (lst.unit == Unit.ITEM) {
            if (block.timestamp < lst.availableFrom || block.timestamp >= lst.availableUntil) {
                revert ExchangeOutsideWindow(listingId, block.timestamp, block.timestamp);
            }
            uint256 stock = lst.stock;
            if (units > stock) revert ExchangeOutOfStock(listingId, units, stock);
            lst.stock = uint32(stock - units);
            start = block.timestamp;
            end = start + _core.deliveryWindow;
        } else {
            if (start < block.timestamp) revert ExchangeStartInPast(start, block.timestamp);
            uint256 first;
            (first, end) = _slotRange(lst, listingId, start, units);
            SlotCalendar.Calendar storage cal = _calendars[listingId];
            (bool clash, uint256 slot) = cal.firstTaken(first, units);
            if (clash) revert ExchangeSlotTaken(listingId, slot);
            cal.take(first, units);
        }
        uint256 due;
        (bookingId, due) = _recordBooking(lst, listingId, renter, renterMembership, start, end, units);
        address token = lst.token;
        _addOwed(token, due);
        CurrencyTransfer.collect(token, due);
    }

    /// @inheritdoc ICommonsExchange
    function cancelByRenter(uint256 bookingId) external nonReentrant {
        StoredBooking storage b = _activeBooking(bookingId);
        if (!_isRenter(b, msg.sender)) revert ExchangeNotRenter(bookingId, msg.sender);
        StoredListing storage lst = _listings[b.listingId];
        (uint256 price, uint256 deposit, uint256 freeCancelUntil, uint256 lateRefundBps) = _termsOf(b, lst);
        uint256 refund = price;
        if (lst.unit == Unit.ITEM) {
            if (b.shippedAt != 0) revert ExchangeItemShipped(bookingId, b.shippedAt);
        } else {
            if (block.timestamp >= b.start) revert ExchangeBookingStarted(bookingId, b.start);
            if (block.timestamp >= freeCancelUntil) refund = (price * lateRefundBps) / BPS;
        }
        uint256 rest = price - refund;
        uint256 fee = (rest * b.feeBps) / BPS;
        address token = lst.token;
        _closeBooking(lst, b);
        _creditRenter(b, token, refund + deposit);
        _creditLister(lst, token, rest - fee);
        emit BookingCancelled(bookingId, msg.sender, refund, rest - fee, fee);
        _accrueFee(token, lst.kind, fee);
    }

    /// @inheritdoc ICommonsExchange
    function cancelByLister(uint256 bookingId) external nonReentrant {
        StoredBooking storage b = _activeBooking(bookingId);
        StoredListing storage lst = _listerListing(b);
        if (lst.unit != Unit.ITEM && block.timestamp >= b.start) revert ExchangeBookingStarted(bookingId, b.start);
        (uint256 price, uint256 deposit,,) = _amountsOf(b, lst);
        _closeBooking(lst, b);
        _creditRenter(b, lst.token, price + deposit);
        emit BookingCancelled(bookingId, msg.sender, price, 0, 0);
    }

    /// @inheritdoc ICommonsExchange
    function settle(uint256 bookingId) external nonReentrant {
        StoredBooking storage b = _bookingOf(bookingId);
        bool payPrice = b.status == BookingStatus.ACTIVE;
        if (payPrice && block.timestamp < b.end) revert ExchangeNotEnded(bookingId, b.end);
        bool releaseDeposit = b.depositStatus == DepositStatus.HELD && block.timestamp >= b.claimUntil;
        if (!payPrice && !releaseDeposit) revert ExchangeNothingToSettle(bookingId);
        StoredListing storage lst = _listings[b.listingId];
        (uint256 price, uint256 deposit,,) = _amountsOf(b, lst);
        if (releaseDeposit) {
            // the whole deposit goes back: it stays in the booking for the renter to pull (withdrawDeposit)
            b.depositStatus = DepositStatus.REFUNDABLE;
            emit DepositReleased(bookingId, deposit, 0);
        }
        if (payPrice) _settlePrice(bookingId, b, lst, price);
    }

    /// @inheritdoc ICommonsExchange
    function withdrawDeposit(uint256 bookingId) external nonReentrant {
        StoredBooking storage b = _bookingOf(bookingId);
        if (b.depositStatus != DepositStatus.REFUNDABLE) revert ExchangeWrongDepositStatus(bookingId, b.depositStatus);
        b.depositStatus = DepositStatus.RELEASED;
        StoredListing storage lst = _listings[b.listingId];
        (, uint256 amount,,) = _amountsOf(b, lst);
        address token = lst.token;
        if (!_isRenter(b, msg.sender)) {
            // a revoked renter membership: anyone moves the deposit to its credit, which only the DAO pays out
            // (reclaimRevokedCredit), as a deposit settled into credits before
            uint256 membership = b.renterMembership;
            if (membership == 0 || MembershipLookup.holderOf(address(_core.registry), membership) != address(0)) {
                revert ExchangeNotRenter(bookingId, msg.sender);
            }
            _credit(membership, address(0), token, amount);
            return;
        }
        _subOwed(token, amount);
        emit DepositWithdrawn(bookingId, msg.sender, token, amount);
        CurrencyTransfer.send(token, msg.sender, amount);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: claims and disputes
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function recordClaim(
        uint256 bookingId,
        BookingStatus status,
        DepositStatus depositStatus,
        uint256 amount,
        uint64 decideBy
    ) external nonReentrant onlyClaims {
        StoredBooking storage b = _bookings[bookingId];
        b.status = status;
        b.depositStatus = depositStatus;
        // a claim never exceeds the booking's price or deposit (uint128)
        _claimRecords[bookingId] = ClaimRecord({decideBy: uint40(decideBy), claimAmount: uint128(amount)});
    }

    /// @inheritdoc ICommonsExchange
    function payClaim(uint256 bookingId, uint256 toLister) external nonReentrant onlyClaims {
        StoredBooking storage b = _bookings[bookingId];
        StoredListing storage lst = _listings[b.listingId];
        if (b.depositStatus != DepositStatus.RELEASED) {
            _payDeposit(bookingId, b, lst, toLister);
        } else {
            // an ITEM price (a claim, or the buyer's confirmed receipt): the seller's part is settled (minus its
            // fee), the rest refunded
            (uint256 price,,,) = _amountsOf(b, lst);
            _creditRenter(b, lst.token, price - toLister);
            _settlePrice(bookingId, b, lst, toLister);
        }
    }

    /// @inheritdoc ICommonsExchange
    function recordShipment(uint256 bookingId) external onlyClaims {
        _bookings[bookingId].shippedAt = uint40(block.timestamp);
    }

    /// @inheritdoc ICommonsExchange
    function claimContext(uint256 bookingId, address account)
        external
        view
        returns (Booking memory b, bool item, bool isLister, bool isRenter)
    {
        StoredBooking storage stored = _bookingOf(bookingId);
        StoredListing storage lst = _listings[stored.listingId];
        return (_bookingView(bookingId), lst.unit == Unit.ITEM, _isLister(lst, account), _isRenter(stored, account));
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: money out
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    /// @dev Without the reentrancy lock, measured: its `_core` read is 2,100 gas of the 35,000 a withdrawal may
    /// cost (issue 11). Safe without it: `_withdraw` reads and writes only the caller's credit (and, for a token,
    /// its running total) and zeroes them before its one external call, so a re-entered call finds them spent.
    function withdraw(address token) external {
        _withdraw(token, payable(msg.sender));
    }

    /// @inheritdoc ICommonsExchange
    /// @dev No reentrancy lock, as `withdraw`.
    function withdrawTo(address token, address payable to) external {
        if (to == address(0)) revert ExchangeZeroAddress();
        _withdraw(token, to);
    }

    /// @inheritdoc ICommonsExchange
    function reclaimRevokedCredit(
        uint256 membership,
        address token,
        address payable to
    ) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        if (to == address(0)) revert ExchangeZeroAddress();
        if (MembershipLookup.holderOf(address(_core.registry), membership) != address(0)) {
            revert ExchangeMembershipLive(membership);
        }
        uint256 amount = _takeCredit(MEMBER_KEY | membership, token);
        if (amount == 0) revert ExchangeNoRevokedCredit(membership, token);
        emit RevokedCreditReclaimed(membership, token, to, amount);
        CurrencyTransfer.send(token, to, amount);
    }

    /// @inheritdoc ICommonsExchange
    /// @dev Delivers everything or nothing: a sink that refuses reverts the flush (the fees stay pending); for an
    /// ERC-20 the sink pulls with transferFrom, approved for exactly the amount, and must use all of the allowance
    /// (ExchangeFeeSinkMismatch otherwise, so no allowance is ever left behind). The slot keeps its sentinel (1), so the next fee
    /// accrued is not a fresh write.
    function flushFees(address token, Kind kind) external nonReentrant {
        uint256 stored = _pendingFees[token][kind];
        if (stored <= FEE_SENTINEL) revert ExchangeNoPendingFees(token, kind);
        uint256 amount = stored - FEE_SENTINEL;
        _pendingFees[token][kind] = FEE_SENTINEL;
        _subOwed(token, amount);
        IFeeSink sink = _feeSink;
        emit FeePaid(token, kind, amount);
        if (token == address(0)) {
            // slither-disable-next-line arbitrary-send-eth — the DAO-set sink; nonReentrant, effects done
            sink.depositFee{value: amount}(token, amount, uint8(kind));
        } else {
            IERC20(token).forceApprove(address(sink), amount);
            sink.depositFee(token, amount, uint8(kind));
            // the sink pulls with transferFrom: all of the exact allowance used means all of the fee delivered
            uint256 left = IERC20(token).allowance(address(this), address(sink));
            if (left != 0) revert ExchangeFeeSinkMismatch(token, amount, amount - left);
        }
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: DAO settings (checked by ExchangeSettings) and DAO actions
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    /// @dev ExchangeSettings bounds the values: fees <= 1,000 bps (16 bits each; FeeBps passes the word of all
    /// kinds' fees, bits 16 * kind), windows <= 90 days (32 bits).
    function configure(Setting setting, uint256 key, uint256 value) external onlySettings {
        if (setting == Setting.FeeBps) {
            // ExchangeSettings passes every kind's fee, 16 bits per kind (see `_feeOf`)
            _counters.feeBps = uint80(value);
        } else if (setting == Setting.FeeSink) {
            _feeSink = IFeeSink(address(uint160(value)));
        } else if (setting == Setting.Registry) {
            _core.registry = ICitizenRegistry(address(uint160(value)));
        } else if (setting == Setting.ClaimWindow) {
            _core.claimWindow = uint32(value);
        } else if (setting == Setting.DisputeWindow) {
            _counters.disputeWindow = uint32(value);
        } else if (setting == Setting.DeliveryWindow) {
            _core.deliveryWindow = uint32(value);
        } else if (setting == Setting.HousingPriceCeiling) {
            _housingCeiling[address(uint160(key))] = value;
        } else if (setting == Setting.HousingListingCap) {
            _housingListingCap = value;
        } else {
            address token = address(uint160(key));
            _tokenAllowed[token] = value != 0;
            if (value != 0) _initFeeSlots(token);
        }
    }

    /// @inheritdoc IMembershipHook
    /// @dev Moves the old key's credit in ETH and in every token ever allowed (at most MAX_TOKENS) and marks the key
    /// (KEY_LOST), so that later money owed to the membership is credited to its holder, not to this key.
    function onMembershipMoved(address from, address to, uint256 membership) external {
        if (msg.sender != address(_core.registry)) revert ExchangeOnlyRegistry(msg.sender);
        uint256 dest = to == address(0) ? MEMBER_KEY | membership : uint160(to);
        mapping(address token => uint256) storage held = _credits[uint160(from)];
        uint256 count = _tokenCount;
        for (uint256 i = 0; i <= count; ++i) {
            // ETH first (its word may carry KEY_LOST already), then every token ever allowed
            address token = i == 0 ? address(0) : _tokenAt[i - 1];
            uint256 amount = held[token] & AMOUNT_MASK;
            if (amount != 0) {
                held[token] = 0;
                _credits[dest][token] += amount;
                emit CreditMoved(from, to, membership, token, amount);
            }
        }
        held[address(0)] = KEY_LOST;
    }

    /// @inheritdoc ICommonsExchange
    function sweepSurplus(address token, address payable to) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        if (to == address(0)) revert ExchangeZeroAddress();
        uint256 balance = CurrencyTransfer.balanceOfSelf(token);
        uint256 owed = totalOwed(token);
        if (balance <= owed) revert ExchangeNoSurplus(token);
        emit SurplusSwept(token, to, balance - owed);
        CurrencyTransfer.send(token, to, balance - owed);
    }

    /// @inheritdoc ICommonsExchange
    /// @dev The DAO (GOVERNOR_ROLE) always may; a GUARDIAN_ROLE holder until the guardian expiry (kept and checked
    /// by the settings contract), like the governor's proposal guardian.
    function pause() external {
        address sender = msg.sender;
        if (!hasRole(GOVERNOR_ROLE, sender)) _settings.checkGuardian(sender);
        _whenNotPaused();
        _core.paused = true;
        emit Paused(sender);
    }

    /// @inheritdoc ICommonsExchange
    function unpause() external onlyRole(GOVERNOR_ROLE) {
        if (!_core.paused) revert ExpectedPause();
        _core.paused = false;
        emit Unpaused(msg.sender);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Views
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Whether new listings and bookings are stopped.
    /// @return True when paused.
    function paused() external view returns (bool) {
        return _core.paused;
    }

    /// @inheritdoc ICommonsExchange
    /// @dev The words of StoredListing (slots 0-3) as stored; ExchangeLens.getListing decodes them.
    function listingWords(uint256 listingId) external view returns (uint256[4] memory words, string memory uri) {
        StoredListing storage s = _listingOf(listingId);
        assembly ("memory-safe") {
            let p := s.slot
            mstore(words, sload(p))
            mstore(add(words, 0x20), sload(add(p, 1)))
            mstore(add(words, 0x40), sload(add(p, 2)))
            mstore(add(words, 0x60), sload(add(p, 3)))
        }
        uri = s.metadataURI;
    }

    /// @inheritdoc ICommonsExchange
    function getBooking(uint256 bookingId) external view returns (Booking memory) {
        return _bookingView(bookingId);
    }

    /// @inheritdoc ICommonsExchange
    function calendarWord(uint256 listingId, uint256 word) external view returns (uint256) {
        return _calendars[listingId].words[word];
    }

    /// @inheritdoc ICommonsExchange
    function credits(address account, address token) external view returns (uint256) {
        return _credits[uint160(account)][token] & AMOUNT_MASK;
    }

    /// @inheritdoc ICommonsExchange
    function totalOwed(address token) public view returns (uint256) {
        return token == address(0) ? address(this).balance : _owed[token];
    }

    /// @inheritdoc ICommonsExchange
    function pendingFees(address token, Kind kind) external view returns (uint256) {
        uint256 stored = _pendingFees[token][kind];
        return stored > FEE_SENTINEL ? stored - FEE_SENTINEL : 0;
    }

    /// @inheritdoc ICommonsExchange
    function listingCount() external view returns (uint256) {
        return _counters.listingCount;
    }

    /// @inheritdoc ICommonsExchange
    function bookingCount() external view returns (uint256) {
        return _counters.bookingCount;
    }

    /// @inheritdoc ICommonsExchange
    function activeHousingListings(address lister) external view returns (uint256) {
        return _activeHousing[_holderKey(_membershipOf(lister), lister)];
    }

    /// @inheritdoc ICommonsExchange
    function claims() external view returns (address) {
        return address(_claims);
    }

    /// @inheritdoc ICommonsExchange
    function lens() external view returns (address) {
        return address(_lens);
    }

    /// @inheritdoc ICommonsExchange
    function settings() external view returns (address) {
        return address(_settings);
    }

    /// @inheritdoc ICommonsExchange
    function feeBps(Kind kind) external view returns (uint256) {
        return _feeOf(_counters.feeBps, kind);
    }

    /// @inheritdoc ICommonsExchange
    function feeSink() external view returns (address) {
        return address(_feeSink);
    }

    /// @inheritdoc ICommonsExchange
    function registry() external view returns (address) {
        return address(_core.registry);
    }

    /// @inheritdoc ICommonsExchange
    function windows() external view returns (uint256 claimWindow, uint256 disputeWindow, uint256 deliveryWindow) {
        return (_core.claimWindow, _counters.disputeWindow, _core.deliveryWindow);
    }

    /// @inheritdoc ICommonsExchange
    function housingPriceCeiling(address token) external view returns (uint256) {
        return _housingCeiling[token];
    }

    /// @inheritdoc ICommonsExchange
    function housingListingCap() external view returns (uint256) {
        return _housingListingCap;
    }

    /// @inheritdoc ICommonsExchange
    function isTokenAllowed(address token) external view returns (bool) {
        return token == address(0) || _tokenAllowed[token];
    }

    /// @notice ERC-165: AccessControl's interfaces plus ICommonsExchange.
    /// @param interfaceId The interface id.
    /// @return Whether supported.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICommonsExchange).interfaceId || super.supportsInterface(interfaceId);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Internal: checks
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    function _onlyClaims() private view {
        if (msg.sender != address(_claims)) revert ExchangeOnlyClaims(msg.sender);
    }

    function _lock() private {
        if (_core.lock == LOCKED) revert ReentrancyGuardReentrantCall();
        _core.lock = LOCKED;
    }

    function _unlock() private {
        _core.lock = UNLOCKED;
    }

    function _whenNotPaused() private view {
        if (_core.paused) revert EnforcedPause();
    }

    /// @dev A citizen's listing stays bookable while its membership lives (whatever key holds it now); another
    /// listing while its lister holds LISTER_ROLE or is a citizen.
    function _isEligibleLister(StoredListing storage lst) internal view returns (bool) {
        uint256 membership = lst.membership;
        if (membership != 0) return MembershipLookup.holderOf(address(_core.registry), membership) != address(0);
        return hasRole(LISTER_ROLE, lst.lister) || _membershipOf(lst.lister) != 0;
    }

    /// @dev Whether `account` manages `lst`: the current holder of its membership (the lister address once the
    /// membership is revoked, to close what is left), or its lister address for a non-citizen listing.
    function _isLister(StoredListing storage lst, address account) internal view returns (bool) {
        uint256 membership = lst.membership;
        if (membership == 0) return account == lst.lister;
        return _membershipOf(account) == membership
            || (account == lst.lister && MembershipLookup.holderOf(address(_core.registry), membership) == address(0));
    }

    /// @dev Whether `account` is the renter of `b`: the current holder of its membership, or its renter address.
    function _isRenter(StoredBooking storage b, address account) internal view returns (bool) {
        uint256 membership = b.renterMembership;
        return membership == 0 ? account == b.renter : _membershipOf(account) == membership;
    }

    /// @dev The listing of `b`, when the caller manages it.
    function _listerListing(StoredBooking storage b) internal view returns (StoredListing storage lst) {
        lst = _listings[b.listingId];
        if (!_isLister(lst, msg.sender)) revert ExchangeNotLister(b.listingId, msg.sender);
    }

    function _membershipOf(address account) internal view returns (uint256) {
        return _core.registry.membershipOf(account);
    }

    function _holderKey(uint256 membership, address account) internal pure returns (uint256) {
        return membership == 0 ? uint160(account) : MEMBER_KEY | membership;
    }

    function _feeOf(uint256 fees, Kind kind) internal pure returns (uint256) {
        return (fees >> (16 * uint256(kind))) & 0xffff;
    }

    function _checkToken(address token) internal view {
        if (token != address(0) && !_tokenAllowed[token]) revert ExchangeTokenNotAllowed(token);
    }

    /// @dev The listing terms' checks (ExchangeSettings.checkTerms), with the housing ceiling of `token`.
    function _checkTerms(Kind kind, Unit unit, address token, uint256 price, uint256 deposit, uint16 lateRefundBps)
        internal
        view
    {
        uint256 ceiling = kind == Kind.ROOM_HOUSE ? _housingCeiling[token] : 0;
        _settings.checkTerms(kind, unit, price, deposit, lateRefundBps, ceiling);
    }

    function _checkBookable(
        StoredListing storage lst,
        uint256 listingId,
        address renter,
        uint256 renterMembership,
        uint256 units
    ) internal view {
        uint8 flags = lst.flags;
        if ((flags & LISTING_CLOSED) != 0) revert ExchangeListingClosed(listingId);
        if ((flags & LISTING_PAUSED) != 0) revert ExchangeListingPaused(listingId);
        if (renter == lst.lister || (renterMembership != 0 && renterMembership == lst.membership)) {
            revert ExchangeSelfBooking(listingId);
        }
        if (units < lst.minUnits || units > lst.maxUnits) revert ExchangeInvalidUnits(units, lst.minUnits, lst.maxUnits);
        _checkToken(lst.token);
        if (!_isEligibleLister(lst)) revert ExchangeNotEligibleLister(lst.lister);
        if ((flags & RESIDENTS_ONLY) != 0 && renterMembership == 0) revert ExchangeNotResident(renter);
    }

    /// @dev First slot index and end time of `units` from `start`; reverts outside the window or misaligned.
    function _slotRange(StoredListing storage lst, uint256 listingId, uint256 start, uint256 units)
        internal
        view
        returns (uint256 first, uint256 end)
    {
        uint256 from = lst.availableFrom;
        uint256 until = lst.availableUntil;
        if (start < from || start >= until) revert ExchangeOutsideWindow(listingId, start, start);
        uint256 len = _unitLength(lst.unit);
        end = start + units * len;
        if (end > until) revert ExchangeOutsideWindow(listingId, start, end);
        if ((start - from) % len != 0) revert ExchangeStartMisaligned(listingId, start);
        first = (start - from) / len;
    }

    function _unitLength(Unit unit) internal pure returns (uint256) {
        return unit == Unit.HOUR ? 1 hours : 1 days;
    }

    function _listingOf(uint256 listingId) internal view returns (StoredListing storage lst) {
        lst = _listings[listingId];
        if (lst.lister == address(0)) revert ExchangeUnknownListing(listingId);
    }

    function _openListingOfLister(uint256 listingId) internal view returns (StoredListing storage lst) {
        lst = _listingOf(listingId);
        if (!_isLister(lst, msg.sender)) revert ExchangeNotLister(listingId, msg.sender);
        if ((lst.flags & LISTING_CLOSED) != 0) revert ExchangeListingClosed(listingId);
    }

    function _bookingOf(uint256 bookingId) internal view returns (StoredBooking storage b) {
        b = _bookings[bookingId];
        if (b.status == BookingStatus.NONE) revert ExchangeUnknownBooking(bookingId);
    }

    function _activeBooking(uint256 bookingId) internal view returns (StoredBooking storage b) {
        b = _bookingOf(bookingId);
        if (b.status != BookingStatus.ACTIVE) revert ExchangeWrongBookingStatus(bookingId, b.status);
    }

    /// @dev The stored booking as the interface's Booking.
    function _bookingView(uint256 bookingId) internal view returns (Booking memory b) {
        StoredBooking storage s = _bookingOf(bookingId);
        uint256 w0;
        uint256 w1;
        assembly ("memory-safe") {
            w0 := sload(s.slot)
            w1 := sload(add(s.slot, 1))
        }
        // the words of StoredBooking (see its layout), decoded once each
        b.renter = address(uint160(w0));
        b.listingId = uint48(w0 >> 160);
        b.units = uint16(w0 >> 208);
        b.feeBps = uint16(w0 >> 224);
        b.status = s.status;
        b.depositStatus = s.depositStatus;
        b.start = uint40(w1);
        b.end = uint40(w1 >> 40);
        b.claimUntil = uint40(w1 >> 80);
        b.renterMembership = uint40(w1 >> 120);
        b.shippedAt = uint40(w1 >> 160);
        ClaimRecord storage claim = _claimRecords[bookingId];
        b.decideBy = claim.decideBy;
        b.claimAmount = claim.claimAmount;
        uint256 freeCancelUntil;
        uint256 lateRefundBps;
        (b.price, b.deposit, freeCancelUntil, lateRefundBps) = _termsOf(s, _listings[b.listingId]);
        b.freeCancelUntil = uint64(freeCancelUntil);
        b.lateRefundBps = uint16(lateRefundBps);
    }

    /// @dev The price (the unit price times the units) and deposit `b` was booked on, and the word of its terms
    /// (price, deposit, freeCancelHours as the listing's slot 2; `past`: lateRefundBps in its top bits, see
    /// PastTerms). The listing's own terms while the booking's version is current (the callers read the listing
    /// anyway), else the copy `updateTerms` kept in `_pastTerms` (one slot).
    function _amountsOf(StoredBooking storage b, StoredListing storage lst)
        internal
        view
        returns (uint256 price, uint256 deposit, uint256 terms, bool past)
    {
        uint256 version = b.termsVersion;
        assembly ("memory-safe") {
            terms := sload(add(lst.slot, 2))
        }
        past = version != terms >> 224;
        if (past) {
            PastTerms storage t = _pastTerms[b.listingId][version];
            assembly ("memory-safe") {
                terms := sload(t.slot)
            }
        }
        price = uint256(uint96(terms)) * b.units;
        deposit = uint96(terms >> 96);
    }

    /// @dev All the terms `b` was booked on: price, deposit, the free-cancellation deadline (its start minus the
    /// notice, floored at 0, as `book` computed it before) and the late refund share.
    function _termsOf(StoredBooking storage b, StoredListing storage lst)
        internal
        view
        returns (uint256 price, uint256 deposit, uint256 freeCancelUntil, uint256 lateRefundBps)
    {
        uint256 terms;
        bool past;
        (price, deposit, terms, past) = _amountsOf(b, lst);
        lateRefundBps = past ? uint16(terms >> 224) : lst.lateRefundBps;
        uint256 notice = uint256(uint32(terms >> 192)) * 1 hours;
        uint256 start = b.start;
        freeCancelUntil = start > notice ? start - notice : 0;
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Internal: effects and money
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @dev Stores a booking on the listing's current terms version (two slots, written once each), and
    /// emits Booked. Returns the id and what the renter pays in (price + deposit).
    function _recordBooking(
        StoredListing storage lst,
        uint256 listingId,
        address renter,
        uint256 renterMembership,
        uint256 start,
        uint256 end,
        uint256 units
    ) internal returns (uint256 bookingId, uint256 due) {
        bookingId = uint256(_counters.bookingCount) + 1;
        _counters.bookingCount = uint48(bookingId);
        uint256 feeBps_ = _feeOf(_counters.feeBps, lst.kind);
        uint256 terms;
        assembly ("memory-safe") {
            terms := sload(add(lst.slot, 2))
        }
        uint256 price = uint256(uint96(terms)) * units;
        uint256 deposit = uint96(terms >> 96);
        StoredBooking storage b = _bookings[bookingId];
        // the two words of StoredBooking, packed here: the fields are bounded (listing ids by the uint48 counter,
        // units by maxUnits, fees by 1,000 bps, times by uint40 as before) and shippedAt starts at 0
        {
            uint256 word1 = uint256(uint40(start)) | (uint256(uint40(end)) << 40)
                | (uint256(uint40(deposit == 0 ? end : end + _core.claimWindow)) << 80)
                | (uint256(SafeCast.toUint40(renterMembership)) << 120) | ((terms >> 224) << 200);
            assembly ("memory-safe") {
                sstore(add(b.slot, 1), word1)
            }
        }
        {
            uint256 word0 = _bookingWord0(renter, listingId, units, feeBps_, deposit);
            assembly ("memory-safe") {
                sstore(b.slot, word0)
            }
        }
        due = price + deposit;
        emit Booked(bookingId, listingId, renter, start, end, units, price, deposit, (price * feeBps_) / BPS);
    }

    /// @dev The first word of a new StoredBooking (ACTIVE; its deposit HELD, or RELEASED when there is none).
    function _bookingWord0(address renter, uint256 listingId, uint256 units, uint256 feeBps_, uint256 deposit)
        private
        pure
        returns (uint256)
    {
        DepositStatus held = deposit == 0 ? DepositStatus.RELEASED : DepositStatus.HELD;
        return uint256(uint160(renter)) | (listingId << 160) | (units << 208) | (feeBps_ << 224)
            | (uint256(BookingStatus.ACTIVE) << 240) | (uint256(held) << 248);
    }

    /// @dev Marks a booking cancelled, refunds nothing itself, frees its slots (or restores its stock) and
    /// releases the deposit status (the caller credits the deposit back).
    function _closeBooking(StoredListing storage lst, StoredBooking storage b) internal {
        b.status = BookingStatus.CANCELLED;
        b.depositStatus = DepositStatus.RELEASED;
        if (lst.unit == Unit.ITEM) {
            lst.stock = uint32(Math.min(uint256(lst.stock) + b.units, type(uint32).max));
        } else {
            uint256 len = _unitLength(lst.unit);
            _calendars[b.listingId].free((b.start - lst.availableFrom) / len, b.units);
        }
    }

    /// @dev Pays `price` (the booking's price, or the seller's part after an ITEM claim) out: lister credited
    /// price - fee, the fee kept for the sink.
    function _settlePrice(uint256 bookingId, StoredBooking storage b, StoredListing storage lst, uint256 price)
        internal
    {
        uint256 fee = (price * b.feeBps) / BPS;
        b.status = BookingStatus.SETTLED;
        address token = lst.token;
        _creditLister(lst, token, price - fee);
        emit BookingSettled(bookingId, price - fee, fee);
        _accrueFee(token, lst.kind, fee);
    }

    /// @dev Pays the deposit out after a claim: `toLister` to the lister, the rest to the renter (credits).
    function _payDeposit(uint256 bookingId, StoredBooking storage b, StoredListing storage lst, uint256 toLister)
        internal
    {
        (, uint256 deposit,,) = _amountsOf(b, lst);
        uint256 toRenter = deposit - toLister;
        b.depositStatus = DepositStatus.RELEASED;
        address token = lst.token;
        _creditRenter(b, token, toRenter);
        _creditLister(lst, token, toLister);
        emit DepositReleased(bookingId, toRenter, toLister);
    }

    function _creditLister(StoredListing storage lst, address token, uint256 amount) internal {
        _credit(lst.membership, lst.lister, token, amount);
    }

    function _creditRenter(StoredBooking storage b, address token, uint256 amount) internal {
        _credit(b.renterMembership, b.renter, token, amount);
    }

    /// @dev Credits `account`; money owed to a membership goes to whoever holds it now when `account` has lost a
    /// membership since (KEY_LOST; a registry lookup only then), or to the membership itself once it is revoked
    /// (only the DAO pays that out, `reclaimRevokedCredit`).
    function _credit(uint256 membership, address account, address token, uint256 amount) internal {
        if (amount == 0) return;
        if (membership != 0 && (account == address(0) || _credits[uint160(account)][address(0)] & KEY_LOST != 0)) {
            account = MembershipLookup.holderOf(address(_core.registry), membership);
            if (account == address(0)) {
                _credits[MEMBER_KEY | membership][token] += amount;
                emit MembershipCredited(membership, token, amount);
                return;
            }
        }
        _credits[uint160(account)][token] += amount;
        emit Credited(account, token, amount);
    }

    /// @dev The running total owed is kept for tokens only: ETH arrives only through bookings (there is no receive
    /// function), so all the ETH the exchange holds is owed, bar ETH forced in by SELFDESTRUCT; not keeping it
    /// spares every ETH withdrawal a cold slot (issue 11).
    function _addOwed(address token, uint256 amount) private {
        if (token != address(0)) _owed[token] += amount;
    }

    function _subOwed(address token, uint256 amount) private {
        if (token != address(0)) _owed[token] -= amount;
    }

    /// @dev Keeps `amount` of fee for the sink (flushFees delivers it); the slot is never fresh (sentinel).
    function _accrueFee(address token, Kind kind, uint256 amount) internal {
        if (amount == 0) return;
        _pendingFees[token][kind] += amount;
        emit FeeAccrued(token, kind, amount);
    }

    /// @dev Writes the sentinel of every kind's pending-fee slot of `token` (ETH at deployment, a token when the
    /// DAO allows it), so that no settlement pays a fresh slot for its fee.
    function _initFeeSlots(address token) internal {
        if (token != address(0) && _pendingFees[token][Kind(0)] == 0) {
            // allowed for the first time
            uint256 count = _tokenCount;
            if (count == MAX_TOKENS) revert ExchangeTooManyTokens(MAX_TOKENS);
            _tokenAt[count] = token;
            _tokenCount = count + 1;
        }
        for (uint256 k = 0; k <= uint256(Kind.NATURE); ++k) {
            mapping(Kind => uint256) storage fees = _pendingFees[token];
            if (fees[Kind(k)] == 0) fees[Kind(k)] = FEE_SENTINEL;
        }
    }

    /// @dev Pays out the caller's credit. One slot for ETH: what a membership is owed sits with the key that holds
    /// it (the registry's hook moves it on a rotation), so no registry lookup is needed here.
    function _withdraw(address token, address payable to) internal {
        address account = msg.sender;
        uint256 amount = _takeCredit(uint160(account), token);
        if (amount == 0) revert ExchangeNothingToWithdraw(account, token);
        emit Withdrawn(account, token, to, amount);
        CurrencyTransfer.send(token, to, amount);
    }

    /// @dev Empties the credit kept under `key` in `token` (a KEY_LOST mark stays) and returns it.
    function _takeCredit(uint256 key, address token) private returns (uint256 amount) {
        mapping(address token => uint256) storage held = _credits[key];
        uint256 word = held[token];
        amount = word & AMOUNT_MASK;
        held[token] = word & KEY_LOST;
        _subOwed(token, amount);
    }
}
