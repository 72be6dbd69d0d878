// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IFeeSink} from "../interfaces/IFeeSink.sol";

/// @title MockFeeSink
/// @author CivicDAO
/// @notice Test-only fee sink: records fees per token and category, and can be told to refuse fees or to pull
/// less than asked (to exercise deferred fees and the exchange's pull check).
contract MockFeeSink is IFeeSink {
    using SafeERC20 for IERC20;

    /// @notice Thrown when the sink is set to refuse fees.
    error MockFeeSinkRefused();
    /// @notice Thrown when ETH sent differs from the amount.
    error MockFeeSinkWrongValue(uint256 amount, uint256 value);

    /// @notice Emitted for every fee received.
    event MockFeeReceived(address indexed token, uint8 indexed category, uint256 amount);

    bool private _refuse;
    uint256 private _shortPull;
    mapping(address token => mapping(uint8 category => uint256)) private _received;

    /// @notice Makes the sink refuse (revert) or accept fees.
    /// @param refuse_ True to refuse.
    function setRefuse(bool refuse_) external {
        _refuse = refuse_;
    }

    /// @notice Makes the sink pull `shortPull` less than asked for ERC-20 fees.
    /// @param shortPull_ The shortfall.
    function setShortPull(uint256 shortPull_) external {
        _shortPull = shortPull_;
    }

    /// @inheritdoc IFeeSink
    function depositFee(address token, uint256 amount, uint8 category) external payable {
        if (_refuse) revert MockFeeSinkRefused();
        if (token == address(0)) {
            if (msg.value != amount) revert MockFeeSinkWrongValue(amount, msg.value);
        } else {
            if (msg.value != 0) revert MockFeeSinkWrongValue(0, msg.value);
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount - _shortPull);
        }
        _received[token][category] += amount;
        emit MockFeeReceived(token, category, amount);
    }

    /// @notice Fees received in `token` for `category`.
    /// @param token The token (address(0) = ETH).
    /// @param category The category.
    /// @return The total received.
    function received(address token, uint8 category) external view returns (uint256) {
        return _received[token][category];
    }
}
