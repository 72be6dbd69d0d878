// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICommonsExchangeErrors} from "./errors/ICommonsExchangeErrors.sol";
import {ICommonsExchangeEvents} from "./events/ICommonsExchangeEvents.sol";
import {IMembershipHook} from "./IMembershipHook.sol";
import {BookingStatus, DepositStatus, Kind, Unit} from "./types/ExchangeTypes.sol";

/// @title ICommonsExchange
/// @notice Types and functions of the CivicDAO commons exchange: residents share idle rooms,
/// spaces, tools, skills and green space; bookings escrow price and deposit; an on-chain calendar refuses
/// overlaps; fees are kept per token and kind until anyone flushes them to the public treasury (the fee sink).
/// @dev Nothing personal is stored: listings carry a metadata URI to non-personal data, claims an evidence URI
/// that is only emitted. Amounts are in the listing's token (address(0) = ETH). Its errors are in
/// ICommonsExchangeErrors, its events in ICommonsExchangeEvents, and the enums they carry (Kind, Unit,
/// BookingStatus, DepositStatus) at file level in types/ExchangeTypes.sol.
interface ICommonsExchange is ICommonsExchangeErrors, ICommonsExchangeEvents, IMembershipHook {
    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Types
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice A DAO setting that ExchangeSettings checks and the exchange stores (see `configure`).
    enum Setting {
        FeeBps,
        FeeSink,
        Registry,
        ClaimWindow,
        DisputeWindow,
        DeliveryWindow,
        HousingPriceCeiling,
        HousingListingCap,
        TokenAllowed
    }

    /// @notice Parameters of a new listing.
    /// @dev `stock` only for ITEM listings (must be > 0 there, 0 otherwise is ignored). ITEM listings take no
    /// deposit and cannot be ROOM_HOUSE. `freeCancelHours`: renters cancelling more than this many hours before
    /// the start get a full refund; later, `lateRefundBps` of the price.
    struct ListingParams {
        Kind kind;
        Unit unit;
        bool residentsOnly;
        uint16 lateRefundBps;
        uint32 freeCancelHours;
        uint32 minUnits;
        uint32 maxUnits;
        uint32 stock;
        uint64 availableFrom;
        address token;
        uint64 availableUntil;
        uint256 price;
        uint256 deposit;
        string metadataURI;
    }

    /// @notice A listing as stored. `price` is per unit; `deposit` per booking. `termsVersion` starts at 0 and
    /// grows by one with every change of price, deposit or cancellation policy; `book` takes the version the
    /// renter saw and refuses the booking when the terms changed since (a lister cannot front-run a renter).
    /// `membership` is the lister's citizen membership id when a citizen listed it (0 for a non-citizen
    /// LISTER_ROLE account): such a listing, and what it earns, belongs to the membership, so after a key
    /// rotation the resident's new key manages it and withdraws, and the old key can do neither. `lister` stays
    /// the key that created it.
    struct Listing {
        address lister;
        Kind kind;
        Unit unit;
        bool residentsOnly;
        bool paused;
        bool closed;
        uint16 lateRefundBps;
        uint32 freeCancelHours;
        address token;
        uint64 availableFrom;
        uint32 minUnits;
        uint64 availableUntil;
        uint32 maxUnits;
        uint32 stock;
        uint32 termsVersion;
        uint64 membership;
        uint256 price;
        uint256 deposit;
        string metadataURI;
    }

    /// @notice A booking with its terms snapshotted at booking time.
    /// @dev For ITEM purchases `start` is the purchase time and `end` the end of the delivery window;
    /// `shippedAt` is when the seller marked it shipped (0 = not yet; until then the buyer may cancel).
    /// `decideBy` is the answering party's deadline (CLAIMED) or the resolvers' deadline (DISPUTED), for a damage
    /// claim on the deposit and a non-delivery claim on an ITEM price alike. `renterMembership` is the renter's
    /// membership id when a citizen booked (0 otherwise): refunds and the renter's rights follow it.
    struct Booking {
        address renter;
        uint64 start;
        uint32 units;
        uint64 listingId;
        uint64 end;
        uint64 claimUntil;
        uint16 feeBps;
        uint16 lateRefundBps;
        BookingStatus status;
        DepositStatus depositStatus;
        uint64 freeCancelUntil;
        uint64 decideBy;
        uint64 shippedAt;
        uint64 renterMembership;
        uint256 price;
        uint256 deposit;
        uint256 claimAmount;
    }

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Listings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Creates a listing. Caller must be a citizen or hold LISTER_ROLE; not while the exchange is paused.
    /// @param params The listing's parameters.
    /// @return listingId The new listing's id (ids start at 1).
    function createListing(ListingParams calldata params) external returns (uint256 listingId);

    /// @notice Changes price, deposit and cancellation policy for future bookings; existing bookings keep theirs.
    /// Bumps the listing's `termsVersion`, so bookings sent against the old terms are refused.
    /// @param listingId The listing.
    /// @param price New price per unit.
    /// @param deposit New refundable deposit per booking (0 for ITEM listings).
    /// @param freeCancelHours New full-refund notice in hours.
    /// @param lateRefundBps New share of the price refunded on late cancellation, in basis points.
    function updateTerms(uint256 listingId, uint256 price, uint256 deposit, uint32 freeCancelHours, uint16 lateRefundBps)
        external;

    /// @notice Sets the remaining stock of an ITEM listing.
    /// @param listingId The listing.
    /// @param stock The new stock.
    function setStock(uint256 listingId, uint32 stock) external;

    /// @notice Pauses or unpauses new bookings of a listing (lister only).
    /// @param listingId The listing.
    /// @param paused True to pause, false to unpause.
    function setListingPaused(uint256 listingId, bool paused) external;

    /// @notice Closes a listing for good; existing bookings stay valid.
    /// @param listingId The listing.
    function closeListing(uint256 listingId) external;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Bookings
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Books `units` of a listing from `start` (ignored for ITEM purchases) and escrows price + deposit:
    /// ETH as msg.value (exact), ERC-20 pulled from the caller after approval. Refused with ExchangeTermsChanged
    /// when the listing's terms version is not `expectedTermsVersion` (the terms the renter was quoted).
    /// @param listingId The listing.
    /// @param start Start time, aligned to the unit from the listing's `availableFrom`.
    /// @param units Number of hours/days, or items.
    /// @param expectedTermsVersion The listing's `termsVersion` the price and deposit were read from.
    /// @return bookingId The new booking's id (ids start at 1).
    function book(uint256 listingId, uint256 start, uint256 units, uint256 expectedTermsVersion)
        external
        payable
        returns (uint256 bookingId);

    /// @notice The renter cancels before the start: full refund with enough notice, else the policy share of the
    /// price (the rest to the lister minus fee); the deposit is always refunded; slots are freed. An ITEM buyer
    /// may cancel with a full refund until the seller marks the purchase shipped.
    /// @param bookingId The booking.
    function cancelByRenter(uint256 bookingId) external;

    /// @notice The lister cancels before the start (ITEM: before settlement): the renter is refunded in full.
    /// @param bookingId The booking.
    function cancelByLister(uint256 bookingId) external;

    /// @notice Anyone pays out what is due: the price after the end (ITEM: after the delivery window) to the
    /// lister's credit, its fee kept for the fee sink (`flushFees`); and, once the claim window has passed
    /// without a claim, the deposit back to the renter: kept in the booking (REFUNDABLE) for `withdrawDeposit`.
    /// @param bookingId The booking.
    function settle(uint256 bookingId) external;

    /// @notice The renter (the current holder of the renter's membership, or the renter address) pulls the
    /// deposit `settle` returned, to the caller.
    /// @param bookingId The booking.
    function withdrawDeposit(uint256 bookingId) external;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Hooks of the claims contract (claims and disputes live in IExchangeClaims)
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Records a claim's state on a booking (claims contract only).
    /// @param bookingId The booking.
    /// @param status The booking's new status (ACTIVE for deposit claims; CLAIMED/DISPUTED for ITEM claims).
    /// @param depositStatus The deposit's new status.
    /// @param amount The amount claimed.
    /// @param decideBy The answer or resolution deadline.
    function recordClaim(
        uint256 bookingId,
        BookingStatus status,
        DepositStatus depositStatus,
        uint256 amount,
        uint64 decideBy
    ) external;

    /// @notice Ends a claim (claims contract only): `toLister` of the deposit (deposit claims) or of the price
    /// (ITEM claims, the seller's part minus the fee) goes to the lister, the rest back to the renter. An ITEM
    /// buyer's confirmed receipt pays the whole price this way.
    /// @param bookingId The booking.
    /// @param toLister The lister's part.
    function payClaim(uint256 bookingId, uint256 toLister) external;

    /// @notice Records that the seller shipped an ITEM purchase now (claims contract only).
    /// @param bookingId The booking.
    function recordShipment(uint256 bookingId) external;

    /// @notice A booking with what the claims contract needs to know about `account`.
    /// @param bookingId The booking.
    /// @param account The caller to check.
    /// @return b The booking.
    /// @return item Whether the listing is an ITEM listing.
    /// @return isLister Whether `account` is (the current key of) the lister.
    /// @return isRenter Whether `account` is (the current key of) the renter.
    function claimContext(uint256 bookingId, address account)
        external
        view
        returns (Booking memory b, bool item, bool isLister, bool isRenter);

    /// @notice The claims-and-disputes contract the exchange created and trusts.
    /// @return The claims contract.
    function claims() external view returns (address);

    /// @notice The read-only helper (availability, first clash, quotes) the exchange created.
    /// @return The lens contract.
    function lens() external view returns (address);

    /// @notice The contract through which the DAO changes the exchange's settings (created by the exchange).
    /// @return The settings contract.
    function settings() external view returns (address);

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Money out
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Withdraws the caller's whole credit in `token` (address(0) = ETH) to the caller. A citizen's credit
    /// follows the membership: a rotation moves it to the new key at once (the registry calls
    /// `onMembershipMoved`), so a rotated-away key has nothing left to withdraw.
    /// @param token The token.
    function withdraw(address token) external;

    /// @notice Withdraws the caller's whole credit in `token` to `to` (for accounts that cannot receive ETH).
    /// @param token The token.
    /// @param to The recipient.
    function withdrawTo(address token, address payable to) external;

    /// @notice Delivers the fees kept for `kind` in `token` to the fee sink (anyone may call): every action keeps
    /// its fee in the exchange, so that settling never pays the sink's call; this sends them on in one payment.
    /// @param token The token.
    /// @param kind The fee category.
    function flushFees(address token, Kind kind) external;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // DAO settings and actions (GOVERNOR_ROLE = Timelock; the setters live in ExchangeSettings)
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice Stores a setting the settings contract checked (settings contract only). FeeBps passes every kind's
    /// fee as one word (16 bits per kind, bits 16 * kind; `key` the kind that changed). `key` is the token
    /// (HousingPriceCeiling, TokenAllowed; as uint160), else unused; an address setting passes the address as
    /// `value`, TokenAllowed passes 1 or 0.
    /// @param setting Which setting.
    /// @param key The kind or token the setting is per, if any.
    /// @param value The new value.
    function configure(Setting setting, uint256 key, uint256 value) external;

    /// @notice Pays what is owed to a revoked citizen membership (no key can withdraw it any more) to `to`, as the
    /// DAO decides: the former resident's new address, or the treasury. Only the DAO (GOVERNOR_ROLE).
    /// @param membership The revoked membership.
    /// @param token The token (address(0) = ETH).
    /// @param to The recipient.
    function reclaimRevokedCredit(uint256 membership, address token, address payable to) external;

    /// @notice Sends `token` held above `totalOwed(token)` (tokens sent by mistake) to `to`. Never touches escrow,
    /// credits or pending fees. Not for ETH: no running ETH total is kept (see `totalOwed`), so ETH forced in by
    /// SELFDESTRUCT cannot be told apart and stays (ExchangeNoSurplus).
    /// @param token The token (address(0) = ETH).
    /// @param to The recipient (e.g. the treasury).
    function sweepSurplus(address token, address payable to) external;

    /// @notice Stops new listings and bookings (DAO, or GUARDIAN_ROLE until the guardian expiry); refunds,
    /// settlement, claims and withdrawals continue.
    function pause() external;

    /// @notice Resumes new listings and bookings (DAO only).
    function unpause() external;

    // ─────────────────────────────────────────────────────────────────────────────────────────────
    // Views
    // ─────────────────────────────────────────────────────────────────────────────────────────────

    /// @notice A listing's storage words, for ExchangeLens.getListing (which decodes them into a Listing; moved there
    /// to keep the exchange under EIP-170). Layout, low bits first: word 0 = lister (160), membership (40), kind
    /// (8), unit (8), flags (8: 1 residentsOnly, 2 paused, 4 closed), lateRefundBps (16), maxUnits (16); word 1 =
    /// token (160), availableFrom (40), availableUntil (40), minUnits (16); word 2 = price (96), deposit (96),
    /// freeCancelHours (32), termsVersion (32); word 3 = stock (32). Reverts ExchangeUnknownListing.
    /// @param listingId The listing.
    /// @return words The four words.
    /// @return uri The metadata URI.
    function listingWords(uint256 listingId) external view returns (uint256[4] memory words, string memory uri);

    /// @notice A booking.
    /// @param bookingId The booking.
    /// @return The stored booking.
    function getBooking(uint256 bookingId) external view returns (Booking memory);

    /// @notice One 256-slot word of a calendar listing's bitmap (bit i = slot word * 256 + i taken).
    /// @param listingId The listing.
    /// @param word The word index.
    /// @return The bits.
    function calendarWord(uint256 listingId, uint256 word) external view returns (uint256);

    /// @notice Withdrawable credit of `account` in `token` (a citizen's includes what its membership earned
    /// under earlier keys: rotations move it).
    /// @param account The account.
    /// @param token The token.
    /// @return The credit.
    function credits(address account, address token) external view returns (uint256);

    /// @notice Everything the exchange owes in `token` (escrow + credits + pending fees); its balance must equal it.
    /// For a token this is a running total. For ETH (address(0)) it is the exchange's balance: ETH arrives only
    /// through bookings, and a running total would cost every ETH withdrawal a cold slot (2,100-5,000 gas); the
    /// test suite checks the sum of escrow, credits and pending fees against the balance instead.
    /// @param token The token.
    /// @return The amount owed.
    function totalOwed(address token) external view returns (uint256);

    /// @notice Fees kept for the fee sink, waiting for `flushFees`.
    /// @param token The token.
    /// @param kind The fee category.
    /// @return The pending amount.
    function pendingFees(address token, Kind kind) external view returns (uint256);

    /// @notice Number of listings created.
    /// @return The count (also the highest id).
    function listingCount() external view returns (uint256);

    /// @notice Number of bookings made.
    /// @return The count (also the highest id).
    function bookingCount() external view returns (uint256);

    /// @notice Active (not closed) housing listings of `lister`.
    /// @param lister The lister.
    /// @return The count.
    function activeHousingListings(address lister) external view returns (uint256);

    /// @notice The fee for `kind` in basis points.
    /// @param kind The kind.
    /// @return The fee.
    function feeBps(Kind kind) external view returns (uint256);

    /// @notice The fee sink.
    /// @return The sink address.
    function feeSink() external view returns (address);

    /// @notice The citizen registry.
    /// @return The registry address.
    function registry() external view returns (address);

    /// @notice The damage-claim, dispute and delivery windows in seconds.
    /// @return claimWindow Seconds after the end during which a lister may claim.
    /// @return disputeWindow Seconds to answer a claim, and to resolve a dispute.
    /// @return deliveryWindow Seconds after an ITEM purchase before auto-release.
    function windows() external view returns (uint256 claimWindow, uint256 disputeWindow, uint256 deliveryWindow);

    /// @notice The per-night housing price ceiling in `token` (0 = none).
    /// @param token The token.
    /// @return The ceiling.
    function housingPriceCeiling(address token) external view returns (uint256);

    /// @notice The cap on active housing listings per lister (0 = none).
    /// @return The cap.
    function housingListingCap() external view returns (uint256);

    /// @notice Whether `token` may be used by new listings (address(0) = ETH, always true).
    /// @param token The token.
    /// @return Whether new listings and bookings may use it.
    function isTokenAllowed(address token) external view returns (bool);
}
