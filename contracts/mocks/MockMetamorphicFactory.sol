// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockMetamorphicInit} from "./MockMetamorphicInit.sol";

/// @title MockMetamorphicFactory
/// @notice Test double: CREATE2-deploys arbitrary runtime code at an address fixed by the salt alone, so code
/// that self-destructs (before Cancun) can be replaced by other code at the same address.
contract MockMetamorphicFactory {
    /// @notice Thrown when the CREATE2 deployment fails (the address still holds code).
    /// @param salt The salt used.
    error MockMetamorphicFactoryDeployFailed(bytes32 salt);

    /// @notice Emitted when code is deployed.
    /// @param deployed The address that now holds `runtime`.
    /// @param runtimeHash keccak256 of the deployed runtime code.
    event MockMetamorphicDeployed(address indexed deployed, bytes32 runtimeHash);

    bytes private _runtime;

    /// @notice CREATE2-deploys `code` as runtime code at `addressOf(salt)`.
    /// @param salt The CREATE2 salt.
    /// @param code The runtime code to deploy.
    /// @return deployed The address (always `addressOf(salt)`).
    function deploy(bytes32 salt, bytes calldata code) external returns (address deployed) {
        _runtime = code;
        try new MockMetamorphicInit{salt: salt}() returns (MockMetamorphicInit created) {
            deployed = address(created);
        } catch {
            revert MockMetamorphicFactoryDeployFailed(salt);
        }
        delete _runtime;
        emit MockMetamorphicDeployed(deployed, keccak256(code));
    }

    /// @notice The runtime code being deployed (read by MockMetamorphicInit's constructor).
    /// @return The runtime code.
    function runtime() external view returns (bytes memory) {
        return _runtime;
    }

    /// @notice The address `deploy(salt, ...)` deploys to.
    /// @param salt The CREATE2 salt.
    /// @return The address.
    function addressOf(bytes32 salt) external view returns (address) {
        bytes32 initHash = keccak256(type(MockMetamorphicInit).creationCode);
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initHash)))));
    }
}
