// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ICurrencyTransferErrors} from "../interfaces/errors/ICurrencyTransferErrors.sol";

/// @title CurrencyTransfer
/// @notice The one way value moves in and out of CivicDAO's exchange, treasury and budget: a currency is an
/// address, native ETH is address(0) (like Uniswap v4's `Currency`), every other currency an ERC-20 moved with
/// OpenZeppelin's SafeERC20.
/// @dev In: ETH must arrive as exactly `msg.value`; an ERC-20 is pulled and must raise this contract's balance by
/// exactly the amount (fee-on-transfer and rebasing-down tokens are refused). Out: ETH goes with a plain call whose
/// failure reverts with `CurrencyNativeTransferFailed`; an ERC-20 with `safeTransfer`. The callers keep the
/// accounting (effects before this interaction) and their reentrancy guards. The errors are in
/// ICurrencyTransferErrors.
library CurrencyTransfer {
    using SafeERC20 for IERC20;

    /// @notice The currency address that means native ETH.
    address internal constant NATIVE = address(0);

    // slither-disable-start msg-value-in-nonpayable — also reached from non-payable ERC-20 paths, where msg.value is 0
    /// @notice Takes `amount` of `currency` in from the caller (`msg.sender`, who pays): exactly `msg.value` for
    /// ETH; for an ERC-20 no ETH, and a pull whose balance change must be exactly `amount` (nothing is pulled for 0).
    /// @param currency The currency (address(0) for ETH).
    /// @param amount The amount due.
    function collect(address currency, uint256 amount) internal {
        if (currency == NATIVE) {
            if (msg.value != amount) revert ICurrencyTransferErrors.CurrencyWrongValue(amount, msg.value);
            return;
        }
        if (msg.value != 0) revert ICurrencyTransferErrors.CurrencyWrongValue(0, msg.value);
        if (amount == 0) return;
        uint256 before = _tokenBalance(currency);
        IERC20(currency).safeTransferFrom(msg.sender, address(this), amount);
        uint256 balance = _tokenBalance(currency);
        uint256 received = balance > before ? balance - before : 0;
        if (received != amount) revert ICurrencyTransferErrors.CurrencyTokenShortfall(currency, amount, received);
    }
    // slither-disable-end msg-value-in-nonpayable

    /// @notice Sends `amount` of `currency` to `to`.
    /// @param currency The currency (address(0) for ETH).
    /// @param to The receiver.
    /// @param amount The amount.
    function send(address currency, address to, uint256 amount) internal {
        if (currency == NATIVE) {
            // slither-disable-next-line arbitrary-send-eth,low-level-calls — callers pay only whom they owe, after their effects
            (bool ok, ) = payable(to).call{value: amount}("");
            if (!ok) revert ICurrencyTransferErrors.CurrencyNativeTransferFailed(to, amount);
        } else {
            IERC20(currency).safeTransfer(to, amount);
        }
    }

    /// @notice This contract's balance of `currency`.
    /// @param currency The currency (address(0) for ETH).
    /// @return The balance.
    function balanceOfSelf(address currency) internal view returns (uint256) {
        return currency == NATIVE ? address(this).balance : _tokenBalance(currency);
    }

    /// @dev This contract's balance of the ERC-20 `token`.
    function _tokenBalance(address token) private view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }
}
