// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title QuadraticFundingMath
/// @author CivicDAO
/// @notice Integer maths of quadratic funding: per-project raw match (Σ√c_i)² − Σc_i and its normalisation to a pool.
/// @dev Square roots are taken of `c·SCALE` (SCALE = 1e18) so that small token amounts keep precision; callers
/// keep Σc_i ≤ 2^96 − 1 per project, so that Σ√(c_i·SCALE) ≤ 1e9·Σc_i < 2^126 (PublicTreasury stores it in 128
/// bits) and (Σ√(c_i·SCALE))² stays inside uint256.
library QuadraticFundingMath {
    /// @notice Precision factor applied under the square root.
    uint256 internal constant SCALE = 1e18;

    /// @notice √(amount·SCALE), rounded down.
    /// @param amount A contributor's total contribution c_i.
    /// @return The scaled square root.
    function scaledSqrt(uint256 amount) internal pure returns (uint256) {
        return Math.sqrt(amount * SCALE);
    }

    /// @notice The raw quadratic match (Σ√c_i)² − Σc_i, floored at zero.
    /// @param sumSqrt Σ√(c_i·SCALE) over citizen contributors.
    /// @param sumContributions Σc_i over the same contributors.
    /// @return The raw match, in token units.
    function rawMatching(uint256 sumSqrt, uint256 sumContributions) internal pure returns (uint256) {
        uint256 squared = (sumSqrt * sumSqrt) / SCALE;
        return Math.saturatingSub(squared, sumContributions);
    }

    /// @notice The payout of one project: its raw match when all matches fit the pool, else its pro-rata share.
    /// @dev Rounds down, so Σ payouts ≤ pool.
    /// @param pool The matching pool.
    /// @param raw The project's raw match.
    /// @param totalRaw The sum of all projects' raw matches.
    /// @return The payout.
    function normalise(uint256 pool, uint256 raw, uint256 totalRaw) internal pure returns (uint256) {
        if (totalRaw > pool) return Math.mulDiv(pool, raw, totalRaw);
        return raw;
    }
}
