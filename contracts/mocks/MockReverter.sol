// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockReverter
/// @notice Test double that reverts in every way Solidity can, so the Python side can decode each one.
contract MockReverter {
    /// @notice Thrown when a test asks for a custom error with arguments.
    error MockReverterCustom(uint256 code, address who, string note);

    /// @notice Emitted when the stored value changes.
    event MockReverterValueSet(address indexed who, uint256 oldValue, uint256 newValue);

    uint256 private _value;

    /// @notice Store `newValue`.
    /// @param newValue The value to store.
    function setValue(uint256 newValue) external {
        emit MockReverterValueSet(msg.sender, _value, newValue);
        _value = newValue;
    }

    /// @notice The stored value.
    /// @return The value.
    function value() external view returns (uint256) {
        return _value;
    }

    /// @notice Revert with MockReverterCustom.
    /// @param code Echoed in the error.
    function revertCustom(uint256 code) external view {
        revert MockReverterCustom(code, msg.sender, "custom");
    }

    /// @notice Revert with a reason string.
    function revertString() external pure {
        // solhint-disable-next-line gas-custom-errors
        require(false, "mock reason");
    }

    /// @notice Divide by `divisor` (zero causes Panic(0x12)).
    /// @param divisor The divisor.
    /// @return The quotient of 100 by `divisor`.
    function divide(uint256 divisor) external pure returns (uint256) {
        return 100 / divisor;
    }

    /// @notice Revert with no data at all.
    function revertBare() external pure {
        // solhint-disable-next-line no-inline-assembly
        assembly {
            revert(0, 0)
        }
    }
}
