// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The enums of the CivicDAO commons exchange that its errors and events carry, at file level so that
// ICommonsExchangeErrors, ICommonsExchangeEvents, IExchangeSettingsEvents and ICommonsExchange share them.

/// @notice What is shared. The value is also the fee category sent to the fee sink.
enum Kind {
    ROOM_HOUSE,
    SPACE,
    TOOL,
    SKILL,
    NATURE
}

/// @notice What one unit of a listing is: an hour or a day of a calendar, or one item out of a stock.
enum Unit {
    HOUR,
    DAY,
    ITEM
}

/// @notice Life of a booking's price: escrowed (ACTIVE), refunded/split (CANCELLED) or paid out (SETTLED).
/// An ITEM purchase whose buyer claimed non-delivery is CLAIMED (the seller must answer) and, when the seller
/// contests, DISPUTED (resolvers decide); the price stays in escrow until the claim ends.
enum BookingStatus {
    NONE,
    ACTIVE,
    CANCELLED,
    SETTLED,
    CLAIMED,
    DISPUTED
}

/// @notice Life of a booking's deposit: HELD in escrow, CLAIMED by the lister, DISPUTED by the renter,
/// RELEASED (paid out to renter and/or lister; also the state of bookings without a deposit), or REFUNDABLE:
/// returned whole to the renter by `settle` and kept in the booking until the renter pulls it with
/// `withdrawDeposit` (then RELEASED).
enum DepositStatus {
    HELD,
    CLAIMED,
    DISPUTED,
    RELEASED,
    REFUNDABLE
}
