// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ExchangeLimits
/// @notice The hard limits of the commons exchange, in one place for the exchange, its settings and its lens.
library ExchangeLimits {
    /// @notice Basis-point denominator.
    uint256 internal constant BPS = 10_000;
    /// @notice Hard cap on any fee: 10 %.
    uint256 internal constant MAX_FEE_BPS = 1_000;
    /// @notice Hard cap on a listing's max units per booking (bounds calendar work per booking).
    uint256 internal constant MAX_UNITS_PER_BOOKING = 1_024;
    /// @notice Hard cap on the claim, dispute and delivery windows.
    uint256 internal constant MAX_WINDOW = 90 days;
    /// @notice Floor of the dispute window, so renters can always answer a claim.
    uint256 internal constant MIN_DISPUTE_WINDOW = 1 hours;
}
