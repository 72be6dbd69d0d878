// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExchangeSettingsEvents} from "./events/ICommonsExchangeEvents.sol";
import {Kind, Unit} from "./types/ExchangeTypes.sol";

/// @title IExchangeSettings
/// @notice The DAO's settings of the CivicDAO commons exchange: fees, fee sink, registry, claim windows, housing
/// limits, payment tokens and the guardian expiry. Split out of the exchange to keep it under EIP-170: this
/// contract checks the caller (GOVERNOR_ROLE on the exchange) and the value, announces the change, and the
/// exchange stores it (`ICommonsExchange.configure`), so the exchange's hot paths read their own storage.
/// @dev Errors are the exchange's (ICommonsExchangeErrors) and OpenZeppelin's AccessControlUnauthorizedAccount;
/// events are in IExchangeSettingsEvents.
interface IExchangeSettings is IExchangeSettingsEvents {
    /// @notice Sets the fee for listings of `kind` (capped by the exchange's MAX_FEE_BPS).
    /// @param kind The listing kind.
    /// @param bps Fee in basis points of the price.
    function setFeeBps(Kind kind, uint16 bps) external;

    /// @notice Sets the fee sink (a contract implementing IFeeSink).
    /// @param sink The new sink.
    function setFeeSink(address sink) external;

    /// @notice Sets the citizen registry. In the same proposal, point the new registry's membership hook at the
    /// exchange (`setMembershipHook`, so credits keep following rotations) and clear the old registry's: the
    /// exchange refuses the old registry's calls (ExchangeOnlyRegistry), which would block its rotations.
    /// @param newRegistry The new registry.
    function setRegistry(address newRegistry) external;

    /// @notice Sets the damage-claim window for future bookings.
    /// @param window Seconds after a booking's end.
    function setClaimWindow(uint256 window) external;

    /// @notice Sets the dispute window (answer and resolution deadlines of future claims).
    /// @param window Seconds.
    function setDisputeWindow(uint256 window) external;

    /// @notice Sets the delivery window of future ITEM purchases.
    /// @param window Seconds.
    function setDeliveryWindow(uint256 window) external;

    /// @notice Sets the per-night housing price ceiling in `token` (0 = none).
    /// @param token The token.
    /// @param ceiling Maximum price per night.
    function setHousingPriceCeiling(address token, uint256 ceiling) external;

    /// @notice Sets the cap on active housing listings per lister (0 = none).
    /// @param cap The cap.
    function setHousingListingCap(uint256 cap) external;

    /// @notice Allows or disallows an ERC-20 payment token for new listings and bookings (ETH is always allowed).
    /// @param token The token.
    /// @param allowed Whether new listings may use it.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Sets the time after which GUARDIAN_ROLE holders can no longer pause (0 = never); the DAO always can.
    /// @param newExpiry Unix seconds (the deployment sets the governor's guardian expiry).
    function setGuardianExpiry(uint64 newExpiry) external;

    /// @notice Reverts unless `account` may pause the exchange as a guardian: it holds the exchange's GUARDIAN_ROLE
    /// and the guardian expiry has not passed (expired strictly after the expiry; 0 = never).
    /// @param account The would-be pauser.
    function checkGuardian(address account) external view;

    /// @notice The time after which GUARDIAN_ROLE holders can no longer pause (0 = never).
    /// @return The expiry in unix seconds.
    function guardianExpiry() external view returns (uint256);

    /// @notice The exchange whose settings this contract changes.
    /// @return The exchange.
    function exchange() external view returns (address);

    /// @notice Checks a new listing's shape and terms for the exchange (moved here to keep the exchange under
    /// EIP-170); reverts with the exchange's errors (ExchangeInvalidUnitRange, ExchangeInvalidWindow,
    /// ExchangeEmptyMetadata, ExchangeInvalidItemListing and those of `checkTerms`).
    /// @param kind What is shared.
    /// @param unit What one unit is.
    /// @param minUnits Fewest units per booking.
    /// @param maxUnits Most units per booking.
    /// @param availableFrom Start of the window.
    /// @param availableUntil End of the window.
    /// @param stock ITEM stock.
    /// @param uriLength Length of the metadata URI.
    function checkListing(
        Kind kind,
        Unit unit,
        uint256 minUnits,
        uint256 maxUnits,
        uint256 availableFrom,
        uint256 availableUntil,
        uint256 stock,
        uint256 uriLength
    ) external view;

    /// @notice Checks a listing's terms: the late-refund bps, amounts that fit the exchange's storage (96 bits),
    /// no deposit on ITEM listings, and the housing per-night ceiling (HOUR price x 24, DAY price as is).
    /// @param kind What is shared.
    /// @param unit What one unit is.
    /// @param price Price per unit.
    /// @param deposit Deposit per booking.
    /// @param lateRefundBps Late-cancellation refund share.
    /// @param housingCeiling The per-night ceiling of the listing's token (0 = none).
    function checkTerms(
        Kind kind,
        Unit unit,
        uint256 price,
        uint256 deposit,
        uint256 lateRefundBps,
        uint256 housingCeiling
    ) external pure;
}
