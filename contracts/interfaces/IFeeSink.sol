// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IFeeSink
/// @notice Where the commons exchange sends its fees: the public treasury.
interface IFeeSink {
    /// @notice Receives an exchange fee tagged with the listing kind (`category`).
    /// @dev For ETH, `token` is address(0) and `msg.value` must equal `amount`. For an ERC-20 the sink
    /// pulls `amount` from `msg.sender` with `transferFrom`; the sender approves it beforehand.
    function depositFee(address token, uint256 amount, uint8 category) external payable;
}
