// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICitizenRegistry} from "../interfaces/ICitizenRegistry.sol";
import {IMembershipHook} from "../interfaces/IMembershipHook.sol";

/// @title MockCitizenRegistry
/// @author CivicDAO
/// @notice Test-only citizen registry where anyone can mark an address as a citizen or not, and move a
/// membership id between addresses to stand in for a key rotation.
/// @dev Like the real registry, an address is a citizen exactly when it holds a non-zero membership id.
contract MockCitizenRegistry is ICitizenRegistry {
    /// @notice Thrown by `ownerOf` when nobody holds `membership`.
    error MockCitizenRegistryNoHolder(uint256 membership);

    mapping(address account => uint256 membership) private _membershipOf;
    mapping(uint256 membership => address holder) private _holderOf;
    uint256 private _lastMembership;
    IMembershipHook private _hook;

    /// @notice Marks `account` as a citizen or not (anyone may call: test only). A new citizen gets a fresh
    /// membership id (1, 2, …); marking an existing citizen again keeps its id; `false` removes the id.
    /// @param account The account.
    /// @param citizen Whether it is a citizen.
    function setCitizen(address account, bool citizen) external {
        if (!citizen) {
            _setMembership(account, 0);
        } else if (_membershipOf[account] == 0) {
            _setMembership(account, ++_lastMembership);
        }
    }

    /// @notice Sets `account`'s membership id directly (0 = none; anyone may call: test only). A rotation is
    /// `setMembership(newKey, membershipOf(oldKey))` then `setMembership(oldKey, 0)`. Ids are not checked for
    /// uniqueness: giving one id to two addresses makes them one person.
    /// @param account The account.
    /// @param membership The membership id it holds from now on.
    function setMembership(address account, uint256 membership) external {
        _setMembership(account, membership);
    }

    /// @notice Like the real registry's ERC-721 `ownerOf`: the address holding `membership`; reverts when nobody
    /// does (never issued, or taken away, as a revoked membership is burnt).
    /// @param membership The membership id.
    /// @return The holder.
    function ownerOf(uint256 membership) external view returns (address) {
        address holder = _holderOf[membership];
        if (holder == address(0)) revert MockCitizenRegistryNoHolder(membership);
        return holder;
    }

    /// @notice Sets the hook told when a key loses its membership, as CitizenRegistry.setMembershipHook (anyone).
    /// @param hook The hook, or address(0).
    function setMembershipHook(address hook) external {
        _hook = IMembershipHook(hook);
    }

    /// @dev A key that loses its membership tells the hook who holds it now: the key given it by an earlier
    /// `setMembership` (a rotation: set the new key first), or nobody (a revocation).
    function _setMembership(address account, uint256 membership) private {
        uint256 old = _membershipOf[account];
        if (old != 0 && _holderOf[old] == account) delete _holderOf[old];
        _membershipOf[account] = membership;
        if (membership != 0) _holderOf[membership] = account;
        if (old != 0 && old != membership && address(_hook) != address(0)) {
            _hook.onMembershipMoved(account, _holderOf[old], old);
        }
    }

    /// @inheritdoc ICitizenRegistry
    function isCitizen(address account) external view returns (bool) {
        return _membershipOf[account] != 0;
    }

    /// @inheritdoc ICitizenRegistry
    function membershipOf(address account) external view returns (uint256) {
        return _membershipOf[account];
    }
}
