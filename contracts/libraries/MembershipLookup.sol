// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title MembershipLookup
/// @notice Who holds a citizen membership now, for the contracts whose money and rights follow a membership
/// across key rotations (exchange, treasury).
library MembershipLookup {
    /// @notice The holder of `membership` in `registry`, or address(0) when nobody holds it: the registry's ERC-721
    /// `ownerOf` reverts for a burnt (revoked) membership, and so does a registry without ERC-721.
    /// @param registry The citizen registry.
    /// @param membership The membership id.
    /// @return The holder, or address(0).
    function holderOf(address registry, uint256 membership) internal view returns (address) {
        try IERC721(registry).ownerOf(membership) returns (address holder) {
            return holder;
        } catch {
            return address(0);
        }
    }
}
