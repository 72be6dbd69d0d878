// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title SlotCalendar
/// @notice A calendar of equal-length slots stored as a bitmap (bit set = slot taken), with range operations
/// that touch one storage word per 256 slots: checking, taking or freeing `count` slots costs
/// O(count / 256) storage accesses whatever the number of bookings.
/// @dev OpenZeppelin's BitMaps works bit by bit; this library adds the word-masked range operations the
/// exchange needs. Callers bound `count` (the exchange by its max units per booking).
library SlotCalendar {
    /// @notice The bitmap: word index => 256 slot bits (bit i of word w is slot w * 256 + i).
    struct Calendar {
        mapping(uint256 word => uint256 bits) words;
    }

    /// @notice Finds the first taken slot in [first, first + count).
    /// @param cal The calendar.
    /// @param first First slot index.
    /// @param count Number of slots (> 0).
    /// @return found True when a slot in the range is taken.
    /// @return slot The lowest taken slot index (0 when not found).
    function firstTaken(Calendar storage cal, uint256 first, uint256 count)
        internal
        view
        returns (bool found, uint256 slot)
    {
        uint256 last = first + count - 1;
        uint256 endWord = (last >> 8) + 1;
        for (uint256 w = first >> 8; w < endWord; ++w) {
            (found, slot) = takenInWord(cal.words[w], w, first, last);
            if (found) return (found, slot);
        }
        return (false, 0);
    }

    /// @notice The lowest taken slot of [first, last] within word `w` whose bits are `bits` (for readers that
    /// fetch words themselves, such as a lens contract).
    /// @param bits The word's bits.
    /// @param w The word index.
    /// @param first First slot index of the range.
    /// @param last Last slot index of the range (inclusive).
    /// @return found True when a slot of the range in this word is taken.
    /// @return slot The lowest such slot index (0 when not found).
    function takenInWord(uint256 bits, uint256 w, uint256 first, uint256 last)
        internal
        pure
        returns (bool found, uint256 slot)
    {
        uint256 hit = bits & _mask(w, first, last);
        if (hit == 0) return (false, 0);
        // isolate the lowest set bit (hit != 0, so ~hit + 1 cannot overflow) and take its index
        return (true, (w << 8) | Math.log2(hit & (~hit + 1)));
    }

    /// @notice Marks [first, first + count) taken. The caller checks with `firstTaken` first.
    /// @param cal The calendar.
    /// @param first First slot index.
    /// @param count Number of slots (> 0).
    function take(Calendar storage cal, uint256 first, uint256 count) internal {
        uint256 last = first + count - 1;
        uint256 endWord = (last >> 8) + 1;
        for (uint256 w = first >> 8; w < endWord; ++w) {
            cal.words[w] |= _mask(w, first, last);
        }
    }

    /// @notice Marks [first, first + count) free.
    /// @param cal The calendar.
    /// @param first First slot index.
    /// @param count Number of slots (> 0).
    function free(Calendar storage cal, uint256 first, uint256 count) internal {
        uint256 last = first + count - 1;
        uint256 endWord = (last >> 8) + 1;
        for (uint256 w = first >> 8; w < endWord; ++w) {
            cal.words[w] &= ~_mask(w, first, last);
        }
    }

    /// @dev The bits of word `w` that lie in [first, last].
    function _mask(uint256 w, uint256 first, uint256 last) private pure returns (uint256) {
        uint256 lo = (first >> 8) == w ? first & 0xff : 0;
        uint256 hi = (last >> 8) == w ? last & 0xff : 0xff;
        return (type(uint256).max >> (0xff - hi)) & (type(uint256).max << lo);
    }
}
