// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Kind, Unit} from "../types/ExchangeTypes.sol";

/// @title ICommonsExchangeEvents
/// @notice The events of the CivicDAO commons exchange: listings, bookings, money owed and fees.
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`: one interface per contract of the exchange system (this
/// one, IExchangeClaimsEvents, IExchangeSettingsEvents). Amounts are in the listing's token (address(0) = ETH).
interface ICommonsExchangeEvents {
    /// @dev Emitted when a listing is created.
    /// @param listingId The new listing.
    /// @param lister The key that created it.
    /// @param kind What is shared.
    /// @param unit What one unit is.
    /// @param token The payment token.
    /// @param price The price per unit.
    /// @param deposit The deposit per booking.
    /// @param metadataURI Where the listing's non-personal description lives.
    event ListingCreated(
        uint256 indexed listingId,
        address indexed lister,
        Kind indexed kind,
        Unit unit,
        address token,
        uint256 price,
        uint256 deposit,
        string metadataURI
    );

    /// @dev Emitted when a lister changes the terms that apply to future bookings.
    /// @param listingId The listing.
    /// @param price The new price per unit.
    /// @param deposit The new deposit per booking.
    /// @param freeCancelHours The new full-refund notice in hours.
    /// @param lateRefundBps The new share of the price refunded on late cancellation.
    /// @param termsVersion The new terms version.
    event ListingTermsUpdated(
        uint256 indexed listingId,
        uint256 price,
        uint256 deposit,
        uint32 freeCancelHours,
        uint16 lateRefundBps,
        uint256 termsVersion
    );

    /// @dev Emitted when a lister sets the stock of an ITEM listing.
    /// @param listingId The listing.
    /// @param oldStock The previous stock.
    /// @param newStock The new stock.
    event ListingStockSet(uint256 indexed listingId, uint256 oldStock, uint256 newStock);

    /// @dev Emitted when a lister pauses or unpauses a listing.
    /// @param listingId The listing.
    /// @param paused True when paused, false when unpaused.
    event ListingPauseSet(uint256 indexed listingId, bool paused);

    /// @dev Emitted when a lister closes a listing; existing bookings keep their terms.
    /// @param listingId The listing.
    event ListingClosed(uint256 indexed listingId);

    /// @dev Emitted when a booking (or ITEM purchase) is made and its price + deposit escrowed.
    /// @param bookingId The new booking.
    /// @param listingId The listing.
    /// @param renter The renter (buyer).
    /// @param start The booking's start (the purchase time for ITEM).
    /// @param end The booking's end (the end of the delivery window for ITEM).
    /// @param units The units booked.
    /// @param price The total price escrowed.
    /// @param deposit The deposit escrowed.
    /// @param fee The fee the price will carry.
    event Booked(
        uint256 indexed bookingId,
        uint256 indexed listingId,
        address indexed renter,
        uint256 start,
        uint256 end,
        uint256 units,
        uint256 price,
        uint256 deposit,
        uint256 fee
    );

    /// @dev Emitted when a booking is cancelled; the amounts show the split of the price.
    /// @param bookingId The booking.
    /// @param by Who cancelled: the renter's or the lister's key that sent it (the current one after a rotation).
    /// @param refundToRenter The part of the price refunded.
    /// @param toLister The lister's part.
    /// @param fee The fee on the lister's part.
    event BookingCancelled(
        uint256 indexed bookingId, address indexed by, uint256 refundToRenter, uint256 toLister, uint256 fee
    );

    /// @dev Emitted when the price of a booking is paid out.
    /// @param bookingId The booking.
    /// @param toLister The amount credited to the lister.
    /// @param fee The fee kept for the fee sink (see FeeAccrued and `flushFees`).
    event BookingSettled(uint256 indexed bookingId, uint256 toLister, uint256 fee);

    /// @dev Emitted when a booking's deposit is paid out. When `settle` returns it whole, `toRenter` stays in the
    /// booking (REFUNDABLE) until the renter pulls it (DepositWithdrawn); after a claim it is credited.
    /// @param bookingId The booking.
    /// @param toRenter The part returned to the renter.
    /// @param toLister The part credited to the lister.
    event DepositReleased(uint256 indexed bookingId, uint256 toRenter, uint256 toLister);

    /// @dev Emitted when `amount` of `token` becomes withdrawable by `account`.
    /// @param account The account.
    /// @param token The token.
    /// @param amount The amount.
    event Credited(address indexed account, address indexed token, uint256 amount);

    /// @dev Emitted when `amount` of `token` becomes withdrawable by whoever holds citizen membership `membership`.
    /// @param membership The membership.
    /// @param token The token.
    /// @param amount The amount.
    event MembershipCredited(uint256 indexed membership, address indexed token, uint256 amount);

    /// @dev Emitted when a key loses its membership and its credit moves with it (`onMembershipMoved`).
    /// @param from The key that lost the membership.
    /// @param to The key that holds it now, or address(0) when it was revoked (then the membership is credited).
    /// @param membership The membership.
    /// @param token The token.
    /// @param amount The amount moved.
    event CreditMoved(
        address indexed from, address indexed to, uint256 indexed membership, address token, uint256 amount
    );

    /// @dev Emitted when `account` withdraws `amount` of `token` to `to`.
    /// @param account The account whose credit was withdrawn.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);

    /// @dev Emitted when the DAO pays the `amount` of `token` owed to revoked membership `membership` to `to`.
    /// @param membership The revoked membership.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event RevokedCreditReclaimed(uint256 indexed membership, address indexed token, address indexed to, uint256 amount);

    /// @dev Emitted when the renter pulls a deposit that `settle` returned (REFUNDABLE -> RELEASED).
    /// @param bookingId The booking.
    /// @param to The recipient (the caller, the booking's renter).
    /// @param token The token.
    /// @param amount The deposit.
    event DepositWithdrawn(uint256 indexed bookingId, address indexed to, address indexed token, uint256 amount);

    /// @dev Emitted when a settlement, a late cancellation or a claim's end keeps `amount` of fee for the fee sink;
    /// `flushFees` (anyone) delivers what was kept.
    /// @param token The token.
    /// @param kind The fee category.
    /// @param amount The fee kept.
    event FeeAccrued(address indexed token, Kind indexed kind, uint256 amount);

    /// @dev Emitted when a fee is delivered to the fee sink.
    /// @param token The token.
    /// @param kind The fee category.
    /// @param amount The fee.
    event FeePaid(address indexed token, Kind indexed kind, uint256 amount);

    /// @dev Emitted when the fee sink refuses a fee, or pulls only part of it: `amount` (what it did not take) is
    /// kept as pending and can be flushed later.
    /// @param token The token.
    /// @param kind The fee category.
    /// @param amount The amount kept pending.
    event FeeDeferred(address indexed token, Kind indexed kind, uint256 amount);

    /// @dev Emitted when the DAO sweeps `amount` of `token` held above what the exchange owes (mistaken transfers).
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount.
    event SurplusSwept(address indexed token, address indexed to, uint256 amount);
}

/// @title IExchangeClaimsEvents
/// @notice The events of the exchange's claims-and-disputes contract (ExchangeClaims).
interface IExchangeClaimsEvents {
    /// @dev Emitted when the seller marks an ITEM purchase shipped: the buyer can no longer cancel, only claim.
    /// @param bookingId The booking.
    event ItemShipped(uint256 indexed bookingId);

    /// @dev Emitted when a buyer confirms receipt of an ITEM purchase.
    /// @param bookingId The booking.
    event ReceiptConfirmed(uint256 indexed bookingId);

    /// @dev Emitted when the lister claims `amount` of the deposit for damage.
    /// @param bookingId The booking.
    /// @param amount The amount claimed.
    /// @param evidenceURI Where the non-personal evidence lives (emitted, not stored).
    /// @param respondBy The renter's answer deadline.
    event DamageClaimed(uint256 indexed bookingId, uint256 amount, string evidenceURI, uint256 respondBy);

    /// @dev Emitted when the buyer of an ITEM claims it was not delivered.
    /// @param bookingId The booking.
    /// @param amount The amount claimed (the whole price).
    /// @param evidenceURI Where the non-personal evidence lives (emitted, not stored).
    /// @param respondBy The seller's answer deadline.
    event NonDeliveryClaimed(uint256 indexed bookingId, uint256 amount, string evidenceURI, uint256 respondBy);

    /// @dev Emitted when the answering party accepts the claim (renter: damage; seller: non-delivery).
    /// @param bookingId The booking.
    event ClaimAccepted(uint256 indexed bookingId);

    /// @dev Emitted when the answering party disputes the claim.
    /// @param bookingId The booking.
    /// @param resolveBy The resolvers' deadline.
    event ClaimDisputed(uint256 indexed bookingId, uint256 resolveBy);

    /// @dev Emitted when a resolver decides a dispute.
    /// @param bookingId The booking.
    /// @param resolver The resolver.
    /// @param toLister The part of the claimed amount that goes to the lister.
    event ClaimResolved(uint256 indexed bookingId, address indexed resolver, uint256 toLister);

    /// @dev Emitted when a claim is finalized after its deadline.
    /// @param bookingId The booking.
    /// @param claimStood True when an unanswered claim stood.
    event ClaimFinalized(uint256 indexed bookingId, bool claimStood);
}

/// @title IExchangeSettingsEvents
/// @notice The events of the exchange's settings contract (ExchangeSettings): every change the DAO makes.
interface IExchangeSettingsEvents {
    /// @dev Emitted when the DAO changes the fee for `kind`.
    /// @param kind The listing kind.
    /// @param oldBps The previous fee.
    /// @param newBps The new fee.
    event FeeBpsSet(Kind indexed kind, uint256 oldBps, uint256 newBps);

    /// @dev Emitted when the DAO changes the fee sink.
    /// @param oldSink The previous sink.
    /// @param newSink The new sink.
    event FeeSinkSet(address indexed oldSink, address indexed newSink);

    /// @dev Emitted when the DAO changes the citizen registry.
    /// @param oldRegistry The previous registry.
    /// @param newRegistry The new registry.
    event RegistrySet(address indexed oldRegistry, address indexed newRegistry);

    /// @dev Emitted when the DAO changes the damage-claim window (seconds after a booking ends).
    /// @param oldWindow The previous window.
    /// @param newWindow The new window.
    event ClaimWindowSet(uint256 oldWindow, uint256 newWindow);

    /// @dev Emitted when the DAO changes the dispute window (seconds to answer a claim, and to resolve a dispute).
    /// @param oldWindow The previous window.
    /// @param newWindow The new window.
    event DisputeWindowSet(uint256 oldWindow, uint256 newWindow);

    /// @dev Emitted when the DAO changes the delivery window of ITEM purchases.
    /// @param oldWindow The previous window.
    /// @param newWindow The new window.
    event DeliveryWindowSet(uint256 oldWindow, uint256 newWindow);

    /// @dev Emitted when the DAO changes the per-night housing price ceiling in `token` (0 = none).
    /// @param token The token.
    /// @param oldCeiling The previous ceiling.
    /// @param newCeiling The new ceiling.
    event HousingPriceCeilingSet(address indexed token, uint256 oldCeiling, uint256 newCeiling);

    /// @dev Emitted when the DAO changes the cap on active housing listings per lister (0 = none).
    /// @param oldCap The previous cap.
    /// @param newCap The new cap.
    event HousingListingCapSet(uint256 oldCap, uint256 newCap);

    /// @dev Emitted when the DAO allows or disallows an ERC-20 payment token.
    /// @param token The token.
    /// @param allowed Whether new listings and bookings may use it.
    event TokenAllowedSet(address indexed token, bool allowed);

    /// @dev Emitted when the DAO changes the time after which GUARDIAN_ROLE holders can no longer pause (0 = never).
    /// @param oldExpiry The previous expiry.
    /// @param newExpiry The new expiry.
    event GuardianExpirySet(uint256 oldExpiry, uint256 newExpiry);
}
