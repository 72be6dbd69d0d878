// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICommonsExchange} from "./interfaces/ICommonsExchange.sol";
import {ICommonsExchangeErrors} from "./interfaces/errors/ICommonsExchangeErrors.sol";
import {Kind, Unit} from "./interfaces/types/ExchangeTypes.sol";
import {ExchangeLimits} from "./libraries/ExchangeLimits.sol";
import {SlotCalendar} from "./libraries/SlotCalendar.sol";

/// @title ExchangeLens
/// @notice Read-only answers about the commons exchange that created it: a listing as stored (decoded from the
/// exchange's packed words), whether a booking is possible now, the first taken slot of a range, and what a
/// booking costs. Split out of the exchange to keep it under EIP-170;
/// it reads only the exchange's public views (listings, calendar words, fees), so it holds no state.
contract ExchangeLens {
    ICommonsExchange private immutable _exchange;

    /// @notice Binds to the exchange that creates this contract.
    constructor() {
        _exchange = ICommonsExchange(msg.sender);
    }

    /// @notice A listing as the exchange stores it (decoded from its packed words, see
    /// ICommonsExchange.listingWords); reverts ExchangeUnknownListing for an unknown id.
    /// @param listingId The listing.
    /// @return listing The listing.
    function getListing(uint256 listingId) public view returns (ICommonsExchange.Listing memory listing) {
        (uint256[4] memory w, string memory uri) = _exchange.listingWords(listingId);
        uint256 w0 = w[0];
        listing.lister = address(uint160(w0));
        listing.membership = uint40(w0 >> 160);
        listing.kind = Kind(uint8(w0 >> 200));
        listing.unit = Unit(uint8(w0 >> 208));
        uint256 flags = uint8(w0 >> 216);
        listing.residentsOnly = flags & 1 != 0;
        listing.paused = flags & 2 != 0;
        listing.closed = flags & 4 != 0;
        listing.lateRefundBps = uint16(w0 >> 224);
        listing.maxUnits = uint16(w0 >> 240);
        uint256 w1 = w[1];
        listing.token = address(uint160(w1));
        listing.availableFrom = uint40(w1 >> 160);
        listing.availableUntil = uint40(w1 >> 200);
        listing.minUnits = uint16(w1 >> 240);
        uint256 w2 = w[2];
        listing.price = uint96(w2);
        listing.deposit = uint96(w2 >> 96);
        listing.freeCancelHours = uint32(w2 >> 192);
        listing.termsVersion = uint32(w2 >> 224);
        listing.stock = uint32(w[3]);
        listing.metadataURI = uri;
    }

    /// @notice Whether `units` from `start` can be booked now (valid, open, unpaused, free; ITEM: in stock).
    /// @param listingId The listing.
    /// @param start Start time (ignored for ITEM listings).
    /// @param units Units.
    /// @return True when a booking with these arguments would pass the calendar and listing checks.
    function isAvailable(uint256 listingId, uint256 start, uint256 units) external view returns (bool) {
        if (listingId == 0 || listingId > _exchange.listingCount()) return false;
        ICommonsExchange.Listing memory lst = getListing(listingId);
        if (lst.closed || lst.paused || Pausable(address(_exchange)).paused()) return false;
        if (units < lst.minUnits || units > lst.maxUnits) return false;
        if (lst.unit == Unit.ITEM) {
            return block.timestamp >= lst.availableFrom && block.timestamp < lst.availableUntil && units <= lst.stock;
        }
        uint256 len = _unitLength(lst.unit);
        if (start < block.timestamp || start < lst.availableFrom || start >= lst.availableUntil) return false;
        if ((start - lst.availableFrom) % len != 0 || start + units * len > lst.availableUntil) return false;
        (bool clash,) = _firstTaken(listingId, (start - lst.availableFrom) / len, units);
        return !clash;
    }

    /// @notice The first booked slot in the range, for calendar listings.
    /// @param listingId The listing.
    /// @param start Start time (aligned, inside the window).
    /// @param units Units.
    /// @return clash True when a slot is taken.
    /// @return slot The first taken slot index (valid when `clash`).
    function firstClash(uint256 listingId, uint256 start, uint256 units)
        external
        view
        returns (bool clash, uint256 slot)
    {
        ICommonsExchange.Listing memory lst = getListing(listingId);
        if (lst.unit == Unit.ITEM) revert ICommonsExchangeErrors.ExchangeNotItemListing(listingId);
        uint256 maxUnits = ExchangeLimits.MAX_UNITS_PER_BOOKING;
        if (units == 0 || units > maxUnits) revert ICommonsExchangeErrors.ExchangeInvalidUnits(units, 1, maxUnits);
        if (start < lst.availableFrom || start >= lst.availableUntil) {
            revert ICommonsExchangeErrors.ExchangeOutsideWindow(listingId, start, start);
        }
        uint256 len = _unitLength(lst.unit);
        uint256 end = start + units * len;
        if (end > lst.availableUntil) revert ICommonsExchangeErrors.ExchangeOutsideWindow(listingId, start, end);
        if ((start - lst.availableFrom) % len != 0) {
            revert ICommonsExchangeErrors.ExchangeStartMisaligned(listingId, start);
        }
        return _firstTaken(listingId, (start - lst.availableFrom) / len, units);
    }

    /// @notice What a booking of `units` costs under the current terms.
    /// @param listingId The listing.
    /// @param units Units.
    /// @return price Price for the units.
    /// @return deposit Refundable deposit.
    /// @return fee The part of the price that goes to the treasury on settlement.
    function quote(uint256 listingId, uint256 units)
        external
        view
        returns (uint256 price, uint256 deposit, uint256 fee)
    {
        ICommonsExchange.Listing memory lst = getListing(listingId);
        price = lst.price * units;
        deposit = lst.deposit;
        fee = (price * _exchange.feeBps(lst.kind)) / ExchangeLimits.BPS;
    }

    /// @notice The exchange this lens reads.
    /// @return The exchange.
    function exchange() external view returns (address) {
        return address(_exchange);
    }

    function _firstTaken(uint256 listingId, uint256 first, uint256 count)
        private
        view
        returns (bool found, uint256 slot)
    {
        uint256 last = first + count - 1;
        uint256 endWord = (last >> 8) + 1;
        for (uint256 w = first >> 8; w < endWord; ++w) {
            (found, slot) = SlotCalendar.takenInWord(_exchange.calendarWord(listingId, w), w, first, last);
            if (found) return (found, slot);
        }
        return (false, 0);
    }

    function _unitLength(Unit unit) private pure returns (uint256) {
        return unit == Unit.HOUR ? 1 hours : 1 days;
    }
}
