// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ApprovalBitmap
/// @author CivicDAO
/// @notice Approval ballots as 256-bit bitmaps: bit i set means project i is approved.
library ApprovalBitmap {
    uint256 private constant _M1 = 0x5555555555555555555555555555555555555555555555555555555555555555;
    uint256 private constant _M2 = 0x3333333333333333333333333333333333333333333333333333333333333333;
    uint256 private constant _M4 = 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f;
    uint256 private constant _M8 = 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff;
    uint256 private constant _M16 = 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff;
    uint256 private constant _M32 = 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff;
    uint256 private constant _M64 = 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff;
    uint256 private constant _M128 = 0x00000000000000000000000000000000ffffffffffffffffffffffffffffffff;

    /// @notice The number of set bits (approved projects) in `x`, in constant gas.
    /// @param x The bitmap.
    /// @return The population count (0..256).
    function count(uint256 x) internal pure returns (uint256) {
        unchecked {
            x = x - ((x >> 1) & _M1);
            x = (x & _M2) + ((x >> 2) & _M2);
            x = (x + (x >> 4)) & _M4;
            x = (x + (x >> 8)) & _M8;
            x = (x + (x >> 16)) & _M16;
            x = (x + (x >> 32)) & _M32;
            x = (x + (x >> 64)) & _M64;
            return (x + (x >> 128)) & _M128;
        }
    }

    /// @notice Whether `x` names only indexes below `size` (every project it names exists).
    /// @param x The bitmap.
    /// @param size The number of projects (0..256).
    /// @return True when no bit at or above `size` is set.
    function within(uint256 x, uint256 size) internal pure returns (bool) {
        return size > 255 || x >> size == 0;
    }
}
