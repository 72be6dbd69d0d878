// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICurrencyTransferErrors
/// @notice The custom errors of `CurrencyTransfer`, the one way value moves in and out of CivicDAO's exchange,
/// treasury and budget (native ETH is the currency address(0)).
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`. The exchange, the treasury and the budget revert with these
/// when value moves (the budget only pays out, so only with `CurrencyNativeTransferFailed`).
interface ICurrencyTransferErrors {
    /// @dev Indicates that the ETH sent with a call is not what is due (0 when the currency is an ERC-20).
    /// @param expected The ETH due.
    /// @param sent The ETH sent (`msg.value`).
    error CurrencyWrongValue(uint256 expected, uint256 sent);

    /// @dev Indicates a pulled ERC-20 that raised the balance by another amount than was transferred
    /// (fee-on-transfer and similar tokens).
    /// @param token The ERC-20.
    /// @param expected The amount transferred.
    /// @param received The balance change measured.
    error CurrencyTokenShortfall(address token, uint256 expected, uint256 received);

    /// @dev Indicates that sending ETH failed (the receiver reverted or refused it).
    /// @param to The receiver.
    /// @param amount The ETH sent.
    error CurrencyNativeTransferFailed(address to, uint256 amount);
}
