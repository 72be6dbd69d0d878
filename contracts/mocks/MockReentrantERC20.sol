// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title MockReentrantERC20
/// @author CivicDAO
/// @notice Test-only ERC-20 that, when armed, calls back into a target (with stored calldata) in the middle of
/// its next transfer, to check reentrancy guards. The callback's revert bubbles up and fails the transfer.
contract MockReentrantERC20 is ERC20 {
    address private _target;
    bytes private _reentryData;
    bool private _armed;

    /// @notice Deploys the token.
    constructor() ERC20("Reentrant Token", "REENT") {}

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    /// @param to The receiver.
    /// @param amount The amount minted.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets the call made during the next transfer (disarmed when `data` is empty).
    /// @param target The contract to re-enter.
    /// @param data The calldata of the re-entry.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _reentryData = data;
        _armed = data.length != 0;
    }

    /// @dev Re-enters once, before moving the balance, on transfers between two accounts.
    function _update(address from, address to, uint256 value) internal override {
        if (_armed && from != address(0) && to != address(0)) {
            _armed = false;
            Address.functionCall(_target, _reentryData);
        }
        super._update(from, to, value);
    }
}
