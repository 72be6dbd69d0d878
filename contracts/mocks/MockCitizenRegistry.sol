// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICitizenRegistry} from "../interfaces/ICitizenRegistry.sol";

/// @title MockCitizenRegistry
/// @author CivicDAO
/// @notice Test-only citizen registry where anyone can mark an address as a citizen or not.
contract MockCitizenRegistry is ICitizenRegistry {
    mapping(address account => bool) private _citizens;

    /// @notice Marks `account` as a citizen or not (anyone may call: test only).
    /// @param account The account.
    /// @param citizen Whether it is a citizen.
    function setCitizen(address account, bool citizen) external {
        _citizens[account] = citizen;
    }

    /// @inheritdoc ICitizenRegistry
    function isCitizen(address account) external view returns (bool) {
        return _citizens[account];
    }
}
