// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IMembershipHook
/// @notice What the citizen registry calls when a key loses its membership, so that a contract keeping money by
/// address (the exchange's credits) can move it with the membership in the same transaction: a key rotated away,
/// perhaps stolen, is left with nothing to withdraw.
interface IMembershipHook {
    /// @notice Called by the registry after `from` lost `membership`: to `to` by a rotation, or to nobody
    /// (`to` = address(0)) by a revocation.
    /// @param from The key that lost the membership.
    /// @param to The key that holds it now, or address(0) once it is revoked.
    /// @param membership The membership id.
    function onMembershipMoved(address from, address to, uint256 membership) external;
}
