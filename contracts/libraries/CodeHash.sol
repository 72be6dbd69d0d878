// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title CodeHash
/// @author CivicDAO
/// @notice The normalised code hash the governor and the timelock pin targets with.
/// @dev "No code" is bytes32(0): EXTCODEHASH is 0 for an empty account and keccak256("") for an existing account
/// without code (e.g. a funded EOA); both map to 0, so funding an address is not a code change.
library CodeHash {
    /// @dev keccak256("") — the EXTCODEHASH of an existing account without code.
    bytes32 private constant _EMPTY_CODE_HASH = 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470;

    /// @notice EXTCODEHASH of `account` with "no code" mapped to bytes32(0).
    /// @param account The account.
    /// @return h The normalised code hash.
    function normalised(address account) internal view returns (bytes32 h) {
        h = account.codehash;
        if (h == _EMPTY_CODE_HASH) h = bytes32(0);
    }
}
