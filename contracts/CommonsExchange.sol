// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ICitizenRegistry} from "./interfaces/ICitizenRegistry.sol";
import {ICommonsExchange} from "./interfaces/ICommonsExchange.sol";
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
/// bitmap refuses double bookings; after the slot the price goes to the lister and the fee straight to the
/// public treasury; deposits come back unless a damage claim is raised, answered and, if disputed, resolved by
/// DAO-appointed resolvers (unresolved disputes favour the renter). ITEM purchases are escrowed the same way: the
/// buyer confirms receipt, cancels before shipping, or claims non-delivery within the delivery window; silence
/// releases the price. Claims and disputes live in the ExchangeClaims contract this exchange creates. What a
/// citizen lists and is owed belongs to their membership, so it follows a key rotation. All money owed is
/// credited and withdrawn. The DAO's settings are changed through the ExchangeSettings contract this exchange
/// creates (it checks the caller's GOVERNOR_ROLE here and writes through `configure`).
/// @dev The DAO's power is GOVERNOR_ROLE (held by the Timelock after deployment); DEFAULT_ADMIN_ROLE only
/// administers the roles. Invariant: for every token,
/// balance == totalOwed(token) (escrow of live bookings + credits + pending fees), unless someone force-sends ETH.
contract CommonsExchange is ICommonsExchange, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SlotCalendar for SlotCalendar.Calendar;

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

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Storage
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    ExchangeClaims private immutable _claims;
    ExchangeLens private immutable _lens;
    IExchangeSettings private immutable _settings;
    ICitizenRegistry private _registry;
    IFeeSink private _feeSink;
    uint256 private _claimWindow;
    uint256 private _disputeWindow;
    uint256 private _deliveryWindow;
    uint256 private _housingListingCap;
    uint256 private _listingCount;
    uint256 private _bookingCount;
    mapping(uint256 listingId => Listing) private _listings;
    mapping(uint256 bookingId => Booking) private _bookings;
    mapping(uint256 listingId => SlotCalendar.Calendar) private _calendars;
    mapping(uint256 holder => mapping(address token => uint256)) private _credits;
    mapping(address token => uint256) private _owed;
    mapping(address token => mapping(Kind => uint256)) private _pendingFees;
    mapping(Kind => uint256) private _feeBps;
    mapping(address token => bool) private _tokenAllowed;
    mapping(address token => uint256) private _housingCeiling;
    mapping(uint256 holder => uint256) private _activeHousing;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Modifiers
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    modifier onlyClaims() {
        if (msg.sender != address(_claims)) revert ExchangeOnlyClaims(msg.sender);
        _;
    }

    modifier onlySettings() {
        if (msg.sender != address(_settings)) revert ExchangeOnlySettings(msg.sender);
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
        // the settings contract checks and announces the first settings; the exchange stores them
        _settings = IExchangeSettings(
            address(new ExchangeSettings(address(registry_), address(feeSink_), claimWindow_, disputeWindow_, deliveryWindow_))
        );
        _registry = registry_;
        _feeSink = feeSink_;
        _claimWindow = claimWindow_;
        _disputeWindow = disputeWindow_;
        _deliveryWindow = deliveryWindow_;
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: listings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function createListing(ListingParams calldata params) external whenNotPaused returns (uint256 listingId) {
        address lister = _msgSender();
        uint256 membership = _membershipOf(lister);
        if (membership == 0 && !hasRole(LISTER_ROLE, lister)) revert ExchangeNotEligibleLister(lister);
        _checkToken(params.token);
        if (params.minUnits == 0 || params.minUnits > params.maxUnits || params.maxUnits > MAX_UNITS_PER_BOOKING) {
            revert ExchangeInvalidUnitRange(params.minUnits, params.maxUnits);
        }
        if (params.availableFrom >= params.availableUntil || params.availableUntil <= block.timestamp) {
            revert ExchangeInvalidWindow(params.availableFrom, params.availableUntil);
        }
        if (bytes(params.metadataURI).length == 0) revert ExchangeEmptyMetadata();
        if (params.unit == Unit.ITEM && (params.stock == 0 || params.deposit != 0 || params.kind == Kind.ROOM_HOUSE)) {
            revert ExchangeInvalidItemListing();
        }
        _checkTerms(params.kind, params.unit, params.token, params.price, params.lateRefundBps);
        if (params.kind == Kind.ROOM_HOUSE) {
            uint256 cap = _housingListingCap;
            uint256 holder = _holderKey(membership, lister);
            uint256 active = _activeHousing[holder];
            if (cap != 0 && active >= cap) revert ExchangeHousingCapReached(lister, cap);
            _activeHousing[holder] = active + 1;
        }

        listingId = ++_listingCount;
        Listing storage lst = _listings[listingId];
        lst.lister = lister;
        lst.membership = uint64(membership);
        lst.kind = params.kind;
        lst.unit = params.unit;
        lst.residentsOnly = params.residentsOnly;
        lst.lateRefundBps = params.lateRefundBps;
        lst.freeCancelHours = params.freeCancelHours;
        lst.token = params.token;
        lst.availableFrom = params.availableFrom;
        lst.minUnits = params.minUnits;
        lst.availableUntil = params.availableUntil;
        lst.maxUnits = params.maxUnits;
        if (params.unit == Unit.ITEM) lst.stock = params.stock;
        lst.price = params.price;
        lst.deposit = params.deposit;
        lst.metadataURI = params.metadataURI;
        emit ListingCreated(
            listingId, lister, params.kind, params.unit, params.token, params.price, params.deposit, params.metadataURI
        );
    }

    /// @inheritdoc ICommonsExchange
    function updateTerms(uint256 listingId, uint256 price, uint256 deposit, uint32 freeCancelHours, uint16 lateRefundBps)
        external
    {
        Listing storage lst = _openListingOfLister(listingId);
        if (lst.unit == Unit.ITEM && deposit != 0) revert ExchangeInvalidItemListing();
        _checkTerms(lst.kind, lst.unit, lst.token, price, lateRefundBps);
        lst.price = price;
        lst.deposit = deposit;
        lst.freeCancelHours = freeCancelHours;
        lst.lateRefundBps = lateRefundBps;
        emit ListingTermsUpdated(listingId, price, deposit, freeCancelHours, lateRefundBps, ++lst.termsVersion);
    }

    /// @inheritdoc ICommonsExchange
    function setStock(uint256 listingId, uint32 stock) external {
        Listing storage lst = _openListingOfLister(listingId);
        if (lst.unit != Unit.ITEM) revert ExchangeNotItemListing(listingId);
        emit ListingStockSet(listingId, lst.stock, stock);
        lst.stock = stock;
    }

    /// @inheritdoc ICommonsExchange
    function setListingPaused(uint256 listingId, bool paused_) external {
        Listing storage lst = _openListingOfLister(listingId);
        if (lst.paused == paused_) revert ExchangeListingPauseUnchanged(listingId, paused_);
        lst.paused = paused_;
        emit ListingPauseSet(listingId, paused_);
    }

    /// @inheritdoc ICommonsExchange
    /// @dev The DAO (GOVERNOR_ROLE) may also close a listing that breaks its rules.
    function closeListing(uint256 listingId) external {
        Listing storage lst = _listingOf(listingId);
        address sender = _msgSender();
        if (!_isLister(lst, sender) && !hasRole(GOVERNOR_ROLE, sender)) revert ExchangeNotLister(listingId, sender);
        if (lst.closed) revert ExchangeListingClosed(listingId);
        lst.closed = true;
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
        Listing storage lst = _listingOf(listingId);
        uint256 version = lst.termsVersion;
        if (version != expectedTermsVersion) revert ExchangeTermsChanged(listingId, expectedTermsVersion, version);
        address renter = _msgSender();
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
            end = start + _deliveryWindow;
        } else {
            if (start < block.timestamp) revert ExchangeStartInPast(start, block.timestamp);
            uint256 first;
            (first, end) = _slotRange(lst, listingId, start, units);
            SlotCalendar.Calendar storage cal = _calendars[listingId];
            (bool clash, uint256 slot) = cal.firstTaken(first, units);
            if (clash) revert ExchangeSlotTaken(listingId, slot);
            cal.take(first, units);
        }
        bookingId = _recordBooking(lst, listingId, renter, start, end, units);
        Booking storage b = _bookings[bookingId];
        if (renterMembership != 0) b.renterMembership = uint64(renterMembership);
        address token = lst.token;
        uint256 due = b.price + b.deposit;
        _owed[token] += due;
        CurrencyTransfer.collect(token, due);
    }

    /// @inheritdoc ICommonsExchange
    function cancelByRenter(uint256 bookingId) external nonReentrant {
        Booking storage b = _activeBooking(bookingId);
        _requireRenter(bookingId, b);
        Listing storage lst = _listings[b.listingId];
        uint256 price = b.price;
        uint256 refund = price;
        if (lst.unit == Unit.ITEM) {
            if (b.shippedAt != 0) revert ExchangeItemShipped(bookingId, b.shippedAt);
        } else {
            if (block.timestamp >= b.start) revert ExchangeBookingStarted(bookingId, b.start);
            if (block.timestamp >= b.freeCancelUntil) refund = (price * b.lateRefundBps) / BPS;
        }
        uint256 rest = price - refund;
        uint256 fee = (rest * b.feeBps) / BPS;
        _closeBooking(lst, b);
        _creditRenter(b, lst.token, refund + b.deposit);
        _creditLister(lst, rest - fee);
        emit BookingCancelled(bookingId, b.renter, refund, rest - fee, fee);
        _payFee(lst.token, lst.kind, fee, false);
    }

    /// @inheritdoc ICommonsExchange
    function cancelByLister(uint256 bookingId) external nonReentrant {
        Booking storage b = _activeBooking(bookingId);
        Listing storage lst = _listerListing(b);
        if (lst.unit != Unit.ITEM && block.timestamp >= b.start) revert ExchangeBookingStarted(bookingId, b.start);
        _closeBooking(lst, b);
        _creditRenter(b, lst.token, b.price + b.deposit);
        emit BookingCancelled(bookingId, lst.lister, b.price, 0, 0);
    }

    /// @inheritdoc ICommonsExchange
    function settle(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookingOf(bookingId);
        bool payPrice = b.status == BookingStatus.ACTIVE;
        if (payPrice && block.timestamp < b.end) revert ExchangeNotEnded(bookingId, b.end);
        bool releaseDeposit = b.depositStatus == DepositStatus.HELD && block.timestamp >= b.claimUntil;
        if (!payPrice && !releaseDeposit) revert ExchangeNothingToSettle(bookingId);
        Listing storage lst = _listings[b.listingId];
        if (releaseDeposit) _payDeposit(bookingId, b, lst, 0);
        if (payPrice) _settlePrice(bookingId, b, lst, b.price);
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
        Booking storage b = _bookings[bookingId];
        b.status = status;
        b.depositStatus = depositStatus;
        b.claimAmount = amount;
        b.decideBy = decideBy;
    }

    /// @inheritdoc ICommonsExchange
    function payClaim(uint256 bookingId, uint256 toLister) external nonReentrant onlyClaims {
        Booking storage b = _bookings[bookingId];
        Listing storage lst = _listings[b.listingId];
        if (b.depositStatus != DepositStatus.RELEASED) {
            _payDeposit(bookingId, b, lst, toLister);
        } else {
            // an ITEM price (a claim, or the buyer's confirmed receipt): the seller's part is settled (minus its
            // fee), the rest refunded
            _creditRenter(b, lst.token, b.price - toLister);
            _settlePrice(bookingId, b, lst, toLister);
        }
    }

    /// @inheritdoc ICommonsExchange
    function recordShipment(uint256 bookingId) external onlyClaims {
        _bookings[bookingId].shippedAt = uint64(block.timestamp);
    }

    /// @inheritdoc ICommonsExchange
    function claimContext(uint256 bookingId, address account)
        external
        view
        returns (Booking memory b, bool item, bool isLister, bool isRenter)
    {
        Booking storage stored = _bookingOf(bookingId);
        Listing storage lst = _listings[stored.listingId];
        return (stored, lst.unit == Unit.ITEM, _isLister(lst, account), _isRenter(stored, account));
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: money out
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function withdraw(address token) external nonReentrant {
        _withdraw(token, payable(_msgSender()));
    }

    /// @inheritdoc ICommonsExchange
    function withdrawTo(address token, address payable to) external nonReentrant {
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
        if (MembershipLookup.holderOf(address(_registry), membership) != address(0)) {
            revert ExchangeMembershipLive(membership);
        }
        uint256 key = MEMBER_KEY | membership;
        uint256 amount = _credits[key][token];
        if (amount == 0) revert ExchangeNoRevokedCredit(membership, token);
        _credits[key][token] = 0;
        _owed[token] -= amount;
        emit RevokedCreditReclaimed(membership, token, to, amount);
        CurrencyTransfer.send(token, to, amount);
    }

    /// @inheritdoc ICommonsExchange
    function flushFees(address token, Kind kind) external nonReentrant {
        uint256 amount = _pendingFees[token][kind];
        if (amount == 0) revert ExchangeNoPendingFees(token, kind);
        _pendingFees[token][kind] = 0;
        _payFee(token, kind, amount, true);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: DAO settings (checked by ExchangeSettings) and DAO actions
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function configure(Setting setting, uint256 key, uint256 value) external onlySettings {
        if (setting == Setting.FeeBps) _feeBps[Kind(key)] = value;
        else if (setting == Setting.FeeSink) _feeSink = IFeeSink(address(uint160(value)));
        else if (setting == Setting.Registry) _registry = ICitizenRegistry(address(uint160(value)));
        else if (setting == Setting.ClaimWindow) _claimWindow = value;
        else if (setting == Setting.DisputeWindow) _disputeWindow = value;
        else if (setting == Setting.DeliveryWindow) _deliveryWindow = value;
        else if (setting == Setting.HousingPriceCeiling) _housingCeiling[address(uint160(key))] = value;
        else if (setting == Setting.HousingListingCap) _housingListingCap = value;
        else _tokenAllowed[address(uint160(key))] = value != 0;
    }

    /// @inheritdoc ICommonsExchange
    function sweepSurplus(address token, address payable to) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        if (to == address(0)) revert ExchangeZeroAddress();
        uint256 balance = CurrencyTransfer.balanceOfSelf(token);
        uint256 owed = _owed[token];
        if (balance <= owed) revert ExchangeNoSurplus(token);
        emit SurplusSwept(token, to, balance - owed);
        CurrencyTransfer.send(token, to, balance - owed);
    }

    /// @inheritdoc ICommonsExchange
    /// @dev The DAO (GOVERNOR_ROLE) always may; a GUARDIAN_ROLE holder until the guardian expiry (kept and checked
    /// by the settings contract), like the governor's proposal guardian.
    function pause() external {
        address sender = _msgSender();
        if (!hasRole(GOVERNOR_ROLE, sender)) _settings.checkGuardian(sender);
        _pause();
    }

    /// @inheritdoc ICommonsExchange
    function unpause() external onlyRole(GOVERNOR_ROLE) {
        _unpause();
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Views
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function getListing(uint256 listingId) external view returns (Listing memory) {
        return _listingOf(listingId);
    }

    /// @inheritdoc ICommonsExchange
    function getBooking(uint256 bookingId) external view returns (Booking memory) {
        return _bookingOf(bookingId);
    }

    /// @inheritdoc ICommonsExchange
    function calendarWord(uint256 listingId, uint256 word) external view returns (uint256) {
        return _calendars[listingId].words[word];
    }

    /// @inheritdoc ICommonsExchange
    function credits(address account, address token) external view returns (uint256) {
        uint256 membership = _membershipOf(account);
        uint256 own = _credits[uint160(account)][token];
        return membership == 0 ? own : own + _credits[MEMBER_KEY | membership][token];
    }

    /// @inheritdoc ICommonsExchange
    function totalOwed(address token) external view returns (uint256) {
        return _owed[token];
    }

    /// @inheritdoc ICommonsExchange
    function pendingFees(address token, Kind kind) external view returns (uint256) {
        return _pendingFees[token][kind];
    }

    /// @inheritdoc ICommonsExchange
    function listingCount() external view returns (uint256) {
        return _listingCount;
    }

    /// @inheritdoc ICommonsExchange
    function bookingCount() external view returns (uint256) {
        return _bookingCount;
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
        return _feeBps[kind];
    }

    /// @inheritdoc ICommonsExchange
    function feeSink() external view returns (address) {
        return address(_feeSink);
    }

    /// @inheritdoc ICommonsExchange
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ICommonsExchange
    function windows() external view returns (uint256 claimWindow, uint256 disputeWindow, uint256 deliveryWindow) {
        return (_claimWindow, _disputeWindow, _deliveryWindow);
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

    /// @dev A citizen's listing stays bookable while its membership lives (whatever key holds it now); another
    /// listing while its lister holds LISTER_ROLE or is a citizen.
    function _isEligibleLister(Listing storage lst) internal view returns (bool) {
        uint256 membership = lst.membership;
        if (membership != 0) return MembershipLookup.holderOf(address(_registry), membership) != address(0);
        return hasRole(LISTER_ROLE, lst.lister) || _membershipOf(lst.lister) != 0;
    }

    /// @dev Whether `account` manages `lst`: the current holder of its membership (the lister address once the
    /// membership is revoked, to close what is left), or its lister address for a non-citizen listing.
    function _isLister(Listing storage lst, address account) internal view returns (bool) {
        uint256 membership = lst.membership;
        if (membership == 0) return account == lst.lister;
        return _membershipOf(account) == membership || (account == lst.lister && MembershipLookup.holderOf(address(_registry), membership) == address(0));
    }

    /// @dev Whether `account` is the renter of `b`: the current holder of its membership, or its renter address.
    function _isRenter(Booking storage b, address account) internal view returns (bool) {
        uint256 membership = b.renterMembership;
        return membership == 0 ? account == b.renter : _membershipOf(account) == membership;
    }

    function _requireRenter(uint256 bookingId, Booking storage b) internal view {
        if (!_isRenter(b, _msgSender())) revert ExchangeNotRenter(bookingId, _msgSender());
    }

    /// @dev The listing of `b`, when the caller manages it.
    function _listerListing(Booking storage b) internal view returns (Listing storage lst) {
        lst = _listings[b.listingId];
        if (!_isLister(lst, _msgSender())) revert ExchangeNotLister(b.listingId, _msgSender());
    }

    function _membershipOf(address account) internal view returns (uint256) {
        return _registry.membershipOf(account);
    }

    function _holderKey(uint256 membership, address account) internal pure returns (uint256) {
        return membership == 0 ? uint160(account) : MEMBER_KEY | membership;
    }

    function _checkToken(address token) internal view {
        if (token != address(0) && !_tokenAllowed[token]) revert ExchangeTokenNotAllowed(token);
    }

    /// @dev Cancellation bps and the housing per-night ceiling (HOUR price x 24, DAY price as is).
    function _checkTerms(Kind kind, Unit unit, address token, uint256 price, uint16 lateRefundBps) internal view {
        if (lateRefundBps > BPS) revert ExchangeInvalidBps(lateRefundBps, BPS);
        if (kind == Kind.ROOM_HOUSE) {
            uint256 ceiling = _housingCeiling[token];
            uint256 perNight = unit == Unit.HOUR ? price * 24 : price;
            if (ceiling != 0 && perNight > ceiling) revert ExchangeHousingPriceTooHigh(perNight, ceiling);
        }
    }

    function _checkBookable(
        Listing storage lst,
        uint256 listingId,
        address renter,
        uint256 renterMembership,
        uint256 units
    ) internal view {
        if (lst.closed) revert ExchangeListingClosed(listingId);
        if (lst.paused) revert ExchangeListingPaused(listingId);
        if (renter == lst.lister || (renterMembership != 0 && renterMembership == lst.membership)) {
            revert ExchangeSelfBooking(listingId);
        }
        if (units < lst.minUnits || units > lst.maxUnits) revert ExchangeInvalidUnits(units, lst.minUnits, lst.maxUnits);
        _checkToken(lst.token);
        if (!_isEligibleLister(lst)) revert ExchangeNotEligibleLister(lst.lister);
        if (lst.residentsOnly && renterMembership == 0) revert ExchangeNotResident(renter);
    }

    /// @dev First slot index and end time of `units` from `start`; reverts outside the window or misaligned.
    function _slotRange(Listing storage lst, uint256 listingId, uint256 start, uint256 units)
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

    function _listingOf(uint256 listingId) internal view returns (Listing storage lst) {
        lst = _listings[listingId];
        if (lst.lister == address(0)) revert ExchangeUnknownListing(listingId);
    }

    function _openListingOfLister(uint256 listingId) internal view returns (Listing storage lst) {
        lst = _listingOf(listingId);
        if (!_isLister(lst, _msgSender())) revert ExchangeNotLister(listingId, _msgSender());
        if (lst.closed) revert ExchangeListingClosed(listingId);
    }

    function _bookingOf(uint256 bookingId) internal view returns (Booking storage b) {
        b = _bookings[bookingId];
        if (b.status == BookingStatus.NONE) revert ExchangeUnknownBooking(bookingId);
    }

    function _activeBooking(uint256 bookingId) internal view returns (Booking storage b) {
        b = _bookingOf(bookingId);
        if (b.status != BookingStatus.ACTIVE) revert ExchangeWrongBookingStatus(bookingId, b.status);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Internal: effects and money
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @dev Stores a booking with the listing's current terms snapshotted, and emits Booked.
    function _recordBooking(
        Listing storage lst,
        uint256 listingId,
        address renter,
        uint256 start,
        uint256 end,
        uint256 units
    ) internal returns (uint256 bookingId) {
        bookingId = ++_bookingCount;
        Booking storage b = _bookings[bookingId];
        uint256 notice = uint256(lst.freeCancelHours) * 1 hours;
        b.renter = renter;
        b.start = uint64(start);
        b.units = uint32(units);
        b.listingId = uint64(listingId);
        b.end = uint64(end);
        b.feeBps = uint16(_feeBps[lst.kind]);
        b.lateRefundBps = lst.lateRefundBps;
        b.status = BookingStatus.ACTIVE;
        b.freeCancelUntil = uint64(start > notice ? start - notice : 0);
        b.price = lst.price * units;
        uint256 deposit = lst.deposit;
        if (deposit == 0) {
            b.depositStatus = DepositStatus.RELEASED;
            b.claimUntil = uint64(end);
        } else {
            b.depositStatus = DepositStatus.HELD;
            b.claimUntil = uint64(end + _claimWindow);
            b.deposit = deposit;
        }
        emit Booked(
            bookingId, listingId, renter, start, end, units, b.price, deposit, (b.price * b.feeBps) / BPS
        );
    }

    /// @dev Marks a booking cancelled, refunds nothing itself, frees its slots (or restores its stock) and
    /// releases the deposit status (the caller credits the deposit back).
    function _closeBooking(Listing storage lst, Booking storage b) internal {
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
    /// price - fee, fee to the sink.
    function _settlePrice(uint256 bookingId, Booking storage b, Listing storage lst, uint256 price) internal {
        uint256 fee = (price * b.feeBps) / BPS;
        b.status = BookingStatus.SETTLED;
        _creditLister(lst, price - fee);
        emit BookingSettled(bookingId, price - fee, fee);
        _payFee(lst.token, lst.kind, fee, false);
    }

    /// @dev Pays the deposit out: `toLister` to the lister, the rest to the renter.
    function _payDeposit(uint256 bookingId, Booking storage b, Listing storage lst, uint256 toLister) internal {
        uint256 toRenter = b.deposit - toLister;
        b.depositStatus = DepositStatus.RELEASED;
        _creditRenter(b, lst.token, toRenter);
        _creditLister(lst, toLister);
        emit DepositReleased(bookingId, toRenter, toLister);
    }

    function _creditLister(Listing storage lst, uint256 amount) internal {
        _credit(lst.membership, lst.lister, lst.token, amount);
    }

    function _creditRenter(Booking storage b, address token, uint256 amount) internal {
        _credit(b.renterMembership, b.renter, token, amount);
    }

    /// @dev Credits a citizen's membership (whoever holds it at withdrawal), or else the address.
    function _credit(uint256 membership, address account, address token, uint256 amount) internal {
        if (amount == 0) return;
        _credits[_holderKey(membership, account)][token] += amount;
        if (membership == 0) emit Credited(account, token, amount);
        else emit MembershipCredited(membership, token, amount);
    }

    /// @dev Pays out the caller's address credit plus the credit of the membership it holds now.
    function _withdraw(address token, address payable to) internal {
        address account = _msgSender();
        uint256 membership = _membershipOf(account);
        uint256 amount = _credits[uint160(account)][token];
        _credits[uint160(account)][token] = 0;
        if (membership != 0) {
            mapping(address token => uint256) storage held = _credits[MEMBER_KEY | membership];
            amount += held[token];
            held[token] = 0;
        }
        if (amount == 0) revert ExchangeNothingToWithdraw(account, token);
        _owed[token] -= amount;
        emit Withdrawn(account, token, to, amount);
        CurrencyTransfer.send(token, to, amount);
    }

    /// @dev Delivers a fee to the sink. For ERC-20 the sink pulls with transferFrom (approved for exactly `amount`,
    /// reset to 0 after); what it pulls is measured by the balance change. Settlement never depends on the sink:
    /// when it refuses, or pulls less than `amount`, the part not delivered is kept as pending (FeeDeferred) for
    /// `flushFees`. With `strict` (the flush) a refusal bubbles up and a short pull reverts, so a flush delivers
    /// everything or nothing. A pull above `amount` (only a token ignoring its allowance) always reverts.
    function _payFee(address token, Kind kind, uint256 amount, bool strict) internal {
        if (amount == 0) return;
        IFeeSink sink = _feeSink;
        bool isEth = token == address(0);
        uint256 before = 0;
        if (!isEth) {
            IERC20(token).forceApprove(address(sink), amount);
            before = IERC20(token).balanceOf(address(this));
        }
        _owed[token] -= amount;
        uint256 unpaid = amount;
        // slither-disable-next-line arbitrary-send-eth,reentrancy-balance,reentrancy-eth — DAO-set sink; callers are nonReentrant
        try sink.depositFee{value: isEth ? amount : 0}(token, amount, uint8(kind)) {
            unpaid = 0;
            if (!isEth) {
                uint256 remaining = IERC20(token).balanceOf(address(this));
                uint256 pulled = before > remaining ? before - remaining : 0;
                if (pulled > amount || (strict && pulled != amount)) {
                    revert ExchangeFeeSinkMismatch(token, amount, pulled);
                }
                unpaid = amount - pulled;
            }
        } catch (bytes memory reason) {
            // slither-disable-next-line unused-return — with success = false it always reverts with the reason
            if (strict) Address.verifyCallResult(false, reason);
        }
        if (!isEth) IERC20(token).forceApprove(address(sink), 0);
        if (unpaid != amount) emit FeePaid(token, kind, amount - unpaid);
        if (unpaid != 0) {
            _owed[token] += unpaid;
            _pendingFees[token][kind] += unpaid;
            emit FeeDeferred(token, kind, unpaid);
        }
    }
}
