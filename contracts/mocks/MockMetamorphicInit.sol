// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockMetamorphicInit
/// @notice Constant init code (no constructor arguments, so one CREATE2 address per salt) that deploys whatever
/// runtime code its factory currently offers: the metamorphic-contract trick behind the 2023 Tornado Cash
/// governance attack.
contract MockMetamorphicInit {
    /// @notice Deploys the runtime code the calling factory offers.
    constructor() {
        (, bytes memory returned) = msg.sender.staticcall(abi.encodeWithSignature("runtime()"));
        bytes memory code = abi.decode(returned, (bytes));
        assembly ("memory-safe") {
            return(add(code, 32), mload(code))
        }
    }
}
