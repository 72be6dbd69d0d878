// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title TreasuryVestingMath
/// @author CivicDAO
/// @notice Linear vesting with a cliff, as in OpenZeppelin's VestingWalletCliff, for grants held inside the treasury.
library TreasuryVestingMath {
    /// @notice How much of `total` has vested at `timestamp`.
    /// @param total The amount granted.
    /// @param start The vesting start timestamp.
    /// @param cliff Seconds after `start` before which nothing vests.
    /// @param duration Seconds after `start` at which everything has vested (> 0).
    /// @param timestamp The time of evaluation.
    /// @return The vested amount.
    function linearVested(
        uint256 total,
        uint256 start,
        uint256 cliff,
        uint256 duration,
        uint256 timestamp
    ) internal pure returns (uint256) {
        if (timestamp < start + cliff) return 0;
        if (timestamp < start + duration) return Math.mulDiv(total, timestamp - start, duration);
        return total;
    }
}
