// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title MockRevertingReceiver
/// @author CivicDAO
/// @notice Test-only account that refuses ETH (no receive/fallback) but can act on other contracts, e.g. book,
/// list or withdraw on the exchange, to show that a reverting receiver blocks nobody but itself.
contract MockRevertingReceiver {
    /// @notice Calls `target` with `data` and `value` from this contract, bubbling any revert.
    /// @param target The contract to call.
    /// @param data The calldata.
    /// @return result The call's return data.
    function execute(address target, bytes calldata data) external payable returns (bytes memory result) {
        return Address.functionCallWithValue(target, data, msg.value);
    }
}
