// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title MockReentrantAttacker
/// @author CivicDAO
/// @notice Test-only account that, on receiving ETH, tries to call back into a target with stored calldata.
/// The re-entry is attempted through an external self-call inside try/catch, so the outer payment succeeds and
/// the test can read whether the re-entry was refused (`lastReentryFailed`) and with which revert data.
contract MockReentrantAttacker {
    /// @notice Thrown when `reenter` is called by anyone but this contract.
    error MockReentrantAttackerOnlySelf();

    /// @notice Emitted after every attempted re-entry.
    event MockReentryAttempted(bool succeeded, bytes revertData);

    address private _target;
    bytes private _reentryData;
    bool private _armed;
    bool private _lastReentryFailed;
    bytes private _lastRevertData;

    /// @notice Sets the call tried on every ETH receipt (disarmed when `data` is empty).
    /// @param target The contract to re-enter.
    /// @param data The calldata of the re-entry.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _reentryData = data;
        _armed = data.length != 0;
    }

    /// @notice Calls `target` with `data` and `value` from this contract, bubbling any revert.
    /// @param target The contract to call.
    /// @param data The calldata.
    /// @return result The call's return data.
    function execute(address target, bytes calldata data) external payable returns (bytes memory result) {
        return Address.functionCallWithValue(target, data, msg.value);
    }

    /// @notice The re-entry itself; only callable by this contract.
    function reenter() external {
        if (msg.sender != address(this)) revert MockReentrantAttackerOnlySelf();
        Address.functionCall(_target, _reentryData);
    }

    /// @notice Accepts ETH and, when armed, tries the re-entry once (complex on purpose: it is the attack).
    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        if (!_armed) return;
        _armed = false;
        try this.reenter() {
            _lastReentryFailed = false;
            emit MockReentryAttempted(true, "");
        } catch (bytes memory reason) {
            _lastReentryFailed = true;
            _lastRevertData = reason;
            emit MockReentryAttempted(false, reason);
        }
    }

    /// @notice Whether the last re-entry attempt was refused.
    /// @return True when it reverted.
    function lastReentryFailed() external view returns (bool) {
        return _lastReentryFailed;
    }

    /// @notice Revert data of the last refused re-entry.
    /// @return The revert data.
    function lastRevertData() external view returns (bytes memory) {
        return _lastRevertData;
    }
}
