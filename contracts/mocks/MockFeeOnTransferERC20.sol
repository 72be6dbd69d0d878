// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockFeeOnTransferERC20
/// @author CivicDAO
/// @notice Test-only ERC-20 that burns 1% of every transfer, to check that contracts refuse fee-on-transfer tokens.
contract MockFeeOnTransferERC20 is ERC20 {
    /// @notice Deploys the token.
    constructor() ERC20("Fee Token", "FEE") {}

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    /// @param to The receiver.
    /// @param amount The amount minted.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @dev Burns 1% of every transfer between two accounts.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}
