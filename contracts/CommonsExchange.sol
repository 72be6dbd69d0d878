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
import {IFeeSink} from "./interfaces/IFeeSink.sol";
import {SlotCalendar} from "./libraries/SlotCalendar.sol";

/// @title CommonsExchange
/// @notice Peer-to-peer exchange of the city's idle commons. Residents (or accounts the DAO grants LISTER_ROLE)
/// list rooms, spaces, tools, skills and green space; renters book and escrow price + deposit; an on-chain slot
/// bitmap refuses double bookings; after the slot the price goes to the lister and the fee straight to the
/// public treasury; deposits come back unless a damage claim is raised, answered and, if disputed, resolved by
/// DAO-appointed resolvers (unresolved disputes favour the renter). All money owed is credited and withdrawn.
/// @dev Admin (DEFAULT_ADMIN_ROLE) is the DAO's Timelock after deployment. Invariant: for every token,
/// balance == totalOwed(token) (escrow of live bookings + credits + pending fees), unless someone force-sends ETH.
contract CommonsExchange is ICommonsExchange, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SlotCalendar for SlotCalendar.Calendar;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Constants
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Role the DAO grants to non-citizen listers (e.g. the city's own facilities).
    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");
    /// @notice Role the DAO grants to dispute resolvers.
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");
    /// @notice Role that may pause new listings and bookings (only the DAO unpauses).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Hard cap on any fee: 10 %.
    uint256 public constant MAX_FEE_BPS = 1_000;
    /// @notice Basis-point denominator.
    uint256 public constant BPS = 10_000;
    /// @notice Hard cap on a listing's max units per booking (bounds calendar work per booking).
    uint256 public constant MAX_UNITS_PER_BOOKING = 1_024;
    /// @notice Hard cap on the claim, dispute and delivery windows.
    uint256 public constant MAX_WINDOW = 90 days;
    /// @notice Floor of the dispute window, so renters can always answer a claim.
    uint256 public constant MIN_DISPUTE_WINDOW = 1 hours;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Storage
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    ICitizenRegistry private _registry;
    IFeeSink private _feeSink;
    uint256 private _claimWindow;
    uint256 private _disputeWindow;
    uint256 private _deliveryWindow;
    uint256 private _housingListingCap;
    uint256 private _listingCount;
    uint256 private _bookingCount;
    uint256 private _guardianExpiry;
    mapping(uint256 listingId => Listing) private _listings;
    mapping(uint256 bookingId => Booking) private _bookings;
    mapping(uint256 listingId => SlotCalendar.Calendar) private _calendars;
    mapping(address account => mapping(address token => uint256)) private _credits;
    mapping(address token => uint256) private _owed;
    mapping(address token => mapping(Kind => uint256)) private _pendingFees;
    mapping(Kind => uint256) private _feeBps;
    mapping(address token => bool) private _tokenAllowed;
    mapping(address token => uint256) private _housingCeiling;
    mapping(address lister => uint256) private _activeHousing;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Constructor
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Deploys the exchange. `admin` (the deployer temporarily, then the Timelock) holds
    /// DEFAULT_ADMIN_ROLE. Fees start at 0 for every kind; only ETH is allowed until the DAO allows tokens.
    /// @param admin Initial DEFAULT_ADMIN_ROLE holder.
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
        _setRegistry(address(registry_));
        _setFeeSink(address(feeSink_));
        _setClaimWindow(claimWindow_);
        _setDisputeWindow(disputeWindow_);
        _setDeliveryWindow(deliveryWindow_);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: listings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function createListing(ListingParams calldata params) external whenNotPaused returns (uint256 listingId) {
        address lister = _msgSender();
        if (!_isEligibleLister(lister)) revert ExchangeNotEligibleLister(lister);
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
            uint256 active = _activeHousing[lister];
            if (cap != 0 && active >= cap) revert ExchangeHousingCapReached(lister, cap);
            _activeHousing[lister] = active + 1;
        }

        listingId = ++_listingCount;
        Listing storage lst = _listings[listingId];
        lst.lister = lister;
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
    /// @dev The DAO (DEFAULT_ADMIN_ROLE) may also close a listing that breaks its rules.
    function closeListing(uint256 listingId) external {
        Listing storage lst = _listingOf(listingId);
        address sender = _msgSender();
        if (sender != lst.lister && !hasRole(DEFAULT_ADMIN_ROLE, sender)) revert ExchangeNotLister(listingId, sender);
        if (lst.closed) revert ExchangeListingClosed(listingId);
        lst.closed = true;
        if (lst.kind == Kind.ROOM_HOUSE) --_activeHousing[lst.lister];
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
        _checkBookable(lst, listingId, renter, units);
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
        _collect(lst.token, renter, b.price + b.deposit);
    }

    /// @inheritdoc ICommonsExchange
    function cancelByRenter(uint256 bookingId) external nonReentrant {
        Booking storage b = _activeBooking(bookingId);
        if (_msgSender() != b.renter) revert ExchangeNotRenter(bookingId, _msgSender());
        if (block.timestamp >= b.start) revert ExchangeBookingStarted(bookingId, b.start);
        Listing storage lst = _listings[b.listingId];
        uint256 price = b.price;
        uint256 refund = block.timestamp < b.freeCancelUntil ? price : (price * b.lateRefundBps) / BPS;
        uint256 rest = price - refund;
        uint256 fee = (rest * b.feeBps) / BPS;
        _closeBooking(lst, b);
        _credit(b.renter, lst.token, refund + b.deposit);
        _credit(lst.lister, lst.token, rest - fee);
        emit BookingCancelled(bookingId, b.renter, refund, rest - fee, fee);
        _payFee(lst.token, lst.kind, fee, false);
    }

    /// @inheritdoc ICommonsExchange
    function cancelByLister(uint256 bookingId) external nonReentrant {
        Booking storage b = _activeBooking(bookingId);
        Listing storage lst = _listings[b.listingId];
        if (_msgSender() != lst.lister) revert ExchangeNotLister(b.listingId, _msgSender());
        if (lst.unit != Unit.ITEM && block.timestamp >= b.start) revert ExchangeBookingStarted(bookingId, b.start);
        _closeBooking(lst, b);
        _credit(b.renter, lst.token, b.price + b.deposit);
        emit BookingCancelled(bookingId, lst.lister, b.price, 0, 0);
    }

    /// @inheritdoc ICommonsExchange
    function confirmReceipt(uint256 bookingId) external nonReentrant {
        Booking storage b = _activeBooking(bookingId);
        if (_msgSender() != b.renter) revert ExchangeNotRenter(bookingId, _msgSender());
        Listing storage lst = _listings[b.listingId];
        if (lst.unit != Unit.ITEM) revert ExchangeNotItem(bookingId);
        emit ReceiptConfirmed(bookingId);
        _settlePrice(bookingId, b, lst);
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
        if (payPrice) _settlePrice(bookingId, b, lst);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: claims and disputes
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function claimDamage(uint256 bookingId, uint256 amount, string calldata evidenceURI) external nonReentrant {
        Booking storage b = _bookingOf(bookingId);
        if (_msgSender() != _listings[b.listingId].lister) revert ExchangeNotLister(b.listingId, _msgSender());
        _requireDeposit(bookingId, b, DepositStatus.HELD);
        if (block.timestamp < b.end) revert ExchangeNotEnded(bookingId, b.end);
        if (block.timestamp >= b.claimUntil) revert ExchangeClaimWindowClosed(bookingId, b.claimUntil);
        if (amount == 0 || amount > b.deposit) revert ExchangeInvalidClaimAmount(amount, b.deposit);
        uint64 respondBy = uint64(block.timestamp + _disputeWindow);
        b.depositStatus = DepositStatus.CLAIMED;
        b.claimAmount = amount;
        b.decideBy = respondBy;
        emit DamageClaimed(bookingId, amount, evidenceURI, respondBy);
    }

    /// @inheritdoc ICommonsExchange
    function acceptClaim(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookingOf(bookingId);
        if (_msgSender() != b.renter) revert ExchangeNotRenter(bookingId, _msgSender());
        _requireDeposit(bookingId, b, DepositStatus.CLAIMED);
        emit ClaimAccepted(bookingId);
        _payDeposit(bookingId, b, _listings[b.listingId], b.claimAmount);
    }

    /// @inheritdoc ICommonsExchange
    function disputeClaim(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookingOf(bookingId);
        if (_msgSender() != b.renter) revert ExchangeNotRenter(bookingId, _msgSender());
        _requireDeposit(bookingId, b, DepositStatus.CLAIMED);
        if (block.timestamp >= b.decideBy) revert ExchangeDeadlinePassed(bookingId, b.decideBy);
        uint64 resolveBy = uint64(block.timestamp + _disputeWindow);
        b.depositStatus = DepositStatus.DISPUTED;
        b.decideBy = resolveBy;
        emit ClaimDisputed(bookingId, resolveBy);
    }

    /// @inheritdoc ICommonsExchange
    function resolve(uint256 bookingId, uint256 toLister) external nonReentrant onlyRole(RESOLVER_ROLE) {
        Booking storage b = _bookingOf(bookingId);
        Listing storage lst = _listings[b.listingId];
        address resolver = _msgSender();
        if (resolver == b.renter || resolver == lst.lister) revert ExchangeResolverIsParty(bookingId, resolver);
        _requireDeposit(bookingId, b, DepositStatus.DISPUTED);
        if (block.timestamp >= b.decideBy) revert ExchangeDeadlinePassed(bookingId, b.decideBy);
        if (toLister > b.claimAmount) revert ExchangeResolutionTooHigh(toLister, b.claimAmount);
        emit ClaimResolved(bookingId, resolver, toLister);
        _payDeposit(bookingId, b, lst, toLister);
    }

    /// @inheritdoc ICommonsExchange
    function finaliseClaim(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookingOf(bookingId);
        DepositStatus status = b.depositStatus;
        if (status != DepositStatus.CLAIMED && status != DepositStatus.DISPUTED) {
            revert ExchangeWrongDepositStatus(bookingId, status);
        }
        if (block.timestamp < b.decideBy) revert ExchangeDeadlineNotReached(bookingId, b.decideBy);
        bool claimStood = status == DepositStatus.CLAIMED;
        emit ClaimFinalised(bookingId, claimStood);
        _payDeposit(bookingId, b, _listings[b.listingId], claimStood ? b.claimAmount : 0);
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
    function flushFees(address token, Kind kind) external nonReentrant {
        uint256 amount = _pendingFees[token][kind];
        if (amount == 0) revert ExchangeNoPendingFees(token, kind);
        _pendingFees[token][kind] = 0;
        _payFee(token, kind, amount, true);
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // External: DAO settings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @inheritdoc ICommonsExchange
    function setFeeBps(Kind kind, uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > MAX_FEE_BPS) revert ExchangeInvalidBps(bps, MAX_FEE_BPS);
        emit FeeBpsSet(kind, _feeBps[kind], bps);
        _feeBps[kind] = bps;
    }

    /// @inheritdoc ICommonsExchange
    function setFeeSink(address sink) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFeeSink(sink);
    }

    /// @inheritdoc ICommonsExchange
    function setRegistry(address newRegistry) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRegistry(newRegistry);
    }

    /// @inheritdoc ICommonsExchange
    function setClaimWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setClaimWindow(window);
    }

    /// @inheritdoc ICommonsExchange
    function setDisputeWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeWindow(window);
    }

    /// @inheritdoc ICommonsExchange
    function setDeliveryWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDeliveryWindow(window);
    }

    /// @inheritdoc ICommonsExchange
    function setHousingPriceCeiling(address token, uint256 ceiling) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit HousingPriceCeilingSet(token, _housingCeiling[token], ceiling);
        _housingCeiling[token] = ceiling;
    }

    /// @inheritdoc ICommonsExchange
    function setHousingListingCap(uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit HousingListingCapSet(_housingListingCap, cap);
        _housingListingCap = cap;
    }

    /// @inheritdoc ICommonsExchange
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert ExchangeZeroAddress();
        _tokenAllowed[token] = allowed;
        emit TokenAllowedSet(token, allowed);
    }

    /// @inheritdoc ICommonsExchange
    function sweepSurplus(address token, address payable to) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert ExchangeZeroAddress();
        uint256 balance = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        uint256 owed = _owed[token];
        if (balance <= owed) revert ExchangeNoSurplus(token);
        emit SurplusSwept(token, to, balance - owed);
        _send(token, to, balance - owed);
    }

    /// @inheritdoc ICommonsExchange
    function setGuardianExpiry(uint64 newExpiry) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit GuardianExpirySet(_guardianExpiry, newExpiry);
        _guardianExpiry = newExpiry;
    }

    /// @inheritdoc ICommonsExchange
    /// @dev The DAO (DEFAULT_ADMIN_ROLE) always may; a GUARDIAN_ROLE holder until the guardian expiry, like the
    /// governor's proposal guardian (expired strictly after the expiry; 0 = never).
    function pause() external {
        address sender = _msgSender();
        if (!hasRole(DEFAULT_ADMIN_ROLE, sender)) {
            if (!hasRole(GUARDIAN_ROLE, sender)) revert AccessControlUnauthorizedAccount(sender, GUARDIAN_ROLE);
            uint256 expiry = _guardianExpiry;
            if (expiry != 0 && block.timestamp > expiry) revert ExchangeGuardianExpired(sender, expiry);
        }
        _pause();
    }

    /// @inheritdoc ICommonsExchange
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
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
    function isAvailable(uint256 listingId, uint256 start, uint256 units) external view returns (bool) {
        Listing storage lst = _listings[listingId];
        if (lst.lister == address(0) || lst.closed || lst.paused || paused()) return false;
        if (units < lst.minUnits || units > lst.maxUnits) return false;
        if (lst.unit == Unit.ITEM) {
            return block.timestamp >= lst.availableFrom && block.timestamp < lst.availableUntil && units <= lst.stock;
        }
        uint256 len = _unitLength(lst.unit);
        if (start < block.timestamp || start < lst.availableFrom || start >= lst.availableUntil) return false;
        if ((start - lst.availableFrom) % len != 0 || start + units * len > lst.availableUntil) return false;
        // slither-disable-next-line unused-return — only whether a slot clashes matters here
        (bool clash,) = _calendars[listingId].firstTaken((start - lst.availableFrom) / len, units);
        return !clash;
    }

    /// @inheritdoc ICommonsExchange
    function firstClash(uint256 listingId, uint256 start, uint256 units)
        external
        view
        returns (bool clash, uint256 slot)
    {
        Listing storage lst = _listingOf(listingId);
        if (lst.unit == Unit.ITEM) revert ExchangeNotItemListing(listingId);
        if (units == 0 || units > MAX_UNITS_PER_BOOKING) revert ExchangeInvalidUnits(units, 1, MAX_UNITS_PER_BOOKING);
        (uint256 first,) = _slotRange(lst, listingId, start, units);
        return _calendars[listingId].firstTaken(first, units);
    }

    /// @inheritdoc ICommonsExchange
    function quote(uint256 listingId, uint256 units)
        external
        view
        returns (uint256 price, uint256 deposit, uint256 fee)
    {
        Listing storage lst = _listingOf(listingId);
        price = lst.price * units;
        deposit = lst.deposit;
        fee = (price * _feeBps[lst.kind]) / BPS;
    }

    /// @inheritdoc ICommonsExchange
    function credits(address account, address token) external view returns (uint256) {
        return _credits[account][token];
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
        return _activeHousing[lister];
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
    function guardianExpiry() external view returns (uint256) {
        return _guardianExpiry;
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
    // Internal: settings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    function _setFeeSink(address sink) internal {
        if (sink.code.length == 0) revert ExchangeZeroAddress();
        emit FeeSinkSet(address(_feeSink), sink);
        _feeSink = IFeeSink(sink);
    }

    function _setRegistry(address registry_) internal {
        if (registry_.code.length == 0) revert ExchangeZeroAddress();
        emit RegistrySet(address(_registry), registry_);
        _registry = ICitizenRegistry(registry_);
    }

    function _setClaimWindow(uint256 window) internal {
        if (window > MAX_WINDOW) revert ExchangeInvalidPeriod(window, 0, MAX_WINDOW);
        emit ClaimWindowSet(_claimWindow, window);
        _claimWindow = window;
    }

    function _setDisputeWindow(uint256 window) internal {
        if (window < MIN_DISPUTE_WINDOW || window > MAX_WINDOW) {
            revert ExchangeInvalidPeriod(window, MIN_DISPUTE_WINDOW, MAX_WINDOW);
        }
        emit DisputeWindowSet(_disputeWindow, window);
        _disputeWindow = window;
    }

    function _setDeliveryWindow(uint256 window) internal {
        if (window > MAX_WINDOW) revert ExchangeInvalidPeriod(window, 0, MAX_WINDOW);
        emit DeliveryWindowSet(_deliveryWindow, window);
        _deliveryWindow = window;
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Internal: checks
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    function _isEligibleLister(address account) internal view returns (bool) {
        return hasRole(LISTER_ROLE, account) || _registry.isCitizen(account);
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

    function _checkBookable(Listing storage lst, uint256 listingId, address renter, uint256 units) internal view {
        if (lst.closed) revert ExchangeListingClosed(listingId);
        if (lst.paused) revert ExchangeListingPaused(listingId);
        if (renter == lst.lister) revert ExchangeSelfBooking(listingId);
        if (units < lst.minUnits || units > lst.maxUnits) revert ExchangeInvalidUnits(units, lst.minUnits, lst.maxUnits);
        _checkToken(lst.token);
        if (!_isEligibleLister(lst.lister)) revert ExchangeNotEligibleLister(lst.lister);
        if (lst.residentsOnly && !_registry.isCitizen(renter)) revert ExchangeNotResident(renter);
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
        if (_msgSender() != lst.lister) revert ExchangeNotLister(listingId, _msgSender());
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

    function _requireDeposit(uint256 bookingId, Booking storage b, DepositStatus status) internal view {
        if (b.depositStatus != status) revert ExchangeWrongDepositStatus(bookingId, b.depositStatus);
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

    /// @dev Escrows `amount` from `from`: exact msg.value for ETH; for ERC-20 a pull whose balance delta must be
    /// exactly `amount` (fee-on-transfer tokens are refused).
    function _collect(address token, address from, uint256 amount) internal {
        _owed[token] += amount;
        if (token == address(0)) {
            if (msg.value != amount) revert ExchangeWrongValue(amount, msg.value);
            return;
        }
        if (msg.value != 0) revert ExchangeWrongValue(0, msg.value);
        if (amount == 0) return;
        IERC20 t = IERC20(token);
        uint256 before = t.balanceOf(address(this));
        t.safeTransferFrom(from, address(this), amount);
        uint256 received = t.balanceOf(address(this)) - before;
        if (received != amount) revert ExchangeTokenShortfall(token, amount, received);
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

    /// @dev Pays the price out: lister credited price - fee, fee to the sink.
    function _settlePrice(uint256 bookingId, Booking storage b, Listing storage lst) internal {
        uint256 price = b.price;
        uint256 fee = (price * b.feeBps) / BPS;
        b.status = BookingStatus.SETTLED;
        _credit(lst.lister, lst.token, price - fee);
        emit BookingSettled(bookingId, price - fee, fee);
        _payFee(lst.token, lst.kind, fee, false);
    }

    /// @dev Pays the deposit out: `toLister` to the lister, the rest to the renter.
    function _payDeposit(uint256 bookingId, Booking storage b, Listing storage lst, uint256 toLister) internal {
        uint256 toRenter = b.deposit - toLister;
        b.depositStatus = DepositStatus.RELEASED;
        _credit(b.renter, lst.token, toRenter);
        _credit(lst.lister, lst.token, toLister);
        emit DepositReleased(bookingId, toRenter, toLister);
    }

    function _credit(address account, address token, uint256 amount) internal {
        if (amount == 0) return;
        _credits[account][token] += amount;
        emit Credited(account, token, amount);
    }

    function _withdraw(address token, address payable to) internal {
        address account = _msgSender();
        uint256 amount = _credits[account][token];
        if (amount == 0) revert ExchangeNothingToWithdraw(account, token);
        _credits[account][token] = 0;
        _owed[token] -= amount;
        emit Withdrawn(account, token, to, amount);
        _send(token, to, amount);
    }

    function _send(address token, address payable to, uint256 amount) internal {
        if (token == address(0)) {
            Address.sendValue(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
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
