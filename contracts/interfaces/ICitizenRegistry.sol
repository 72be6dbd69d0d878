// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICitizenRegistry
/// @notice The part of the citizen registry that other CivicDAO contracts rely on.
interface ICitizenRegistry {
    /// @notice Whether `account` holds a live (not revoked) residency membership now.
    /// @param account The address to query.
    /// @return True while `account` holds a membership.
    function isCitizen(address account) external view returns (bool);

    /// @notice The membership id `account` holds now: the identity of the resident behind the key.
    /// @dev Ids start at 1 and 0 means "none", so the result is non-zero exactly when `isCitizen(account)`.
    /// A key rotation moves the id to the new address unchanged; a revoked id is never issued again. Contracts
    /// that count people (quadratic-funding matching) key by this id, not by the address, so one resident who
    /// rotates keys is still one person.
    /// @param account The address to query.
    /// @return The membership id, or 0 when `account` holds none.
    function membershipOf(address account) external view returns (uint256);
}
