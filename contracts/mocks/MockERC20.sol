// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockERC20
/// @author CivicDAO
/// @notice Test-only ERC-20 that anyone can mint.
contract MockERC20 is ERC20 {
    uint8 private immutable _decimals;

    /// @notice Deploys the token.
    /// @param name_ The token name.
    /// @param symbol_ The token symbol.
    /// @param decimals_ The number of decimals.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    /// @param to The receiver.
    /// @param amount The amount minted.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The number of decimals.
    /// @return The decimals set at deployment.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
