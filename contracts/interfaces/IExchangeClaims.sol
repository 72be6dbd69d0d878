// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExchangeClaimsEvents} from "./events/ICommonsExchangeEvents.sol";

/// @title IExchangeClaims
/// @notice Claims and disputes of the CivicDAO commons exchange, split out of the exchange to keep both under EIP-170,
/// with the delivery steps of an ITEM purchase they judge (shipped, received): damage claims on a booking's deposit
/// (the lister claims, the renter accepts or disputes) and non-delivery claims on an ITEM purchase's price (the buyer
/// claims, the seller accepts or disputes). A dispute goes to the resolvers the DAO appoints on the exchange (its
/// RESOLVER_ROLE); an unresolved dispute returns the money to the party who paid it in. The exchange holds the money
/// and the booking state; this contract checks who may do what and when, and tells the exchange what to record and pay.
/// @dev Errors are the exchange's (ICommonsExchangeErrors); events are in IExchangeClaimsEvents. Parties are checked
/// through the exchange, so a citizen's rights follow their membership across key rotations.
interface IExchangeClaims is IExchangeClaimsEvents {
    /// @notice The seller marks an ITEM purchase shipped; from then on the buyer cannot cancel (the remedy for
    /// non-delivery is a claim).
    /// @param bookingId The booking.
    function markShipped(uint256 bookingId) external;

    /// @notice The buyer confirms receipt of an ITEM purchase, releasing the price to the seller.
    /// @param bookingId The booking.
    function confirmReceipt(uint256 bookingId) external;

    /// @notice The lister claims up to the deposit for damage, after the end and within the claim window.
    /// @param bookingId The booking.
    /// @param amount The amount claimed (0 < amount <= deposit).
    /// @param evidenceURI URI to non-personal evidence; emitted, not stored.
    function claimDamage(uint256 bookingId, uint256 amount, string calldata evidenceURI) external;

    /// @notice The buyer of an ITEM claims non-delivery of the whole price, before the delivery window ends
    /// (after it, silence has released the price to the seller).
    /// @param bookingId The booking.
    /// @param evidenceURI URI to non-personal evidence; emitted, not stored.
    function claimNonDelivery(uint256 bookingId, string calldata evidenceURI) external;

    /// @notice The answering party accepts the claim: damage (renter) - the claimed amount to the lister, the rest
    /// of the deposit back; non-delivery (seller) - the whole price back to the buyer.
    /// @param bookingId The booking.
    function acceptClaim(uint256 bookingId) external;

    /// @notice The answering party (renter for damage, seller for non-delivery) disputes the claim before the
    /// answer deadline; resolvers then have the dispute window.
    /// @param bookingId The booking.
    function disputeClaim(uint256 bookingId) external;

    /// @notice A resolver (the exchange's RESOLVER_ROLE, not a party) awards `toLister` (<= the amount claimed)
    /// and returns the rest to the renter.
    /// @param bookingId The booking.
    /// @param toLister The part that goes to the lister.
    function resolve(uint256 bookingId, uint256 toLister) external;

    /// @notice Anyone finalizes a claim after its deadline: an unanswered damage claim stands and an unanswered
    /// non-delivery claim refunds the buyer; an unresolved dispute returns everything to the renter/buyer.
    /// @param bookingId The booking.
    function finalizeClaim(uint256 bookingId) external;

    /// @notice The exchange whose bookings this contract judges.
    /// @return The exchange.
    function exchange() external view returns (address);
}
