// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICitizenRegistry
/// @notice The part of the citizen registry that other CivicDAO contracts rely on.
interface ICitizenRegistry {
    /// @notice Whether `account` holds a live (not revoked) residency membership now.
    function isCitizen(address account) external view returns (bool);
}
