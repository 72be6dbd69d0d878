// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICommonsExchange} from "../../../contracts/interfaces/ICommonsExchange.sol";
import {ExchangeLens} from "../../../contracts/ExchangeLens.sol";
import {BookingStatus, DepositStatus, Kind, Unit} from "../../../contracts/interfaces/types/ExchangeTypes.sol";
import {CreditLedger, HandlerBase, Suite} from "./HandlerBase.sol";

/// @notice Listers and renters: list, book (ranges that cross 256-slot calendar words), cancel either way,
/// confirm receipt, settle, claim/accept/dispute/resolve/finalize damage claims, withdraw credits and returned
/// deposits, and flush the fees kept for the treasury. Amounts
/// are bounded so most calls are valid; a call the exchange refuses leaves no trace (the invariants read the
/// contract). A withdrawal of a positive credit must succeed and pay exactly the credit: a failure is counted.
contract ExchangeHandler is HandlerBase {
    enum Want {
        Active,
        Settleable,
        Held,
        Claimed,
        Disputed,
        Open,
        Item,
        Unshipped,
        Refundable
    }

    uint256 public constant MAX_LISTINGS = 10;

    /// @notice Withdrawals of a positive credit that failed or paid a different amount (must stay 0).
    uint256 public unwithdrawable;
    /// @dev Membership ids the DAO's reclaim scans (a campaign registers far fewer).
    uint256 private constant MAX_MEMBERSHIP_ID = 64;
    /// @notice Shipped purchases the buyer could still cancel (must stay 0).
    uint256 public escrowBreaches;

    constructor(Suite memory suite, address[] memory actors_, address resolver) HandlerBase(suite, actors_, resolver) {}

    function list(uint256 actorSeed, uint256 shape, uint256 price, uint256 deposit) external {
        if (s.exchange.listingCount() >= MAX_LISTINGS) return;
        ICommonsExchange.ListingParams memory p;
        Unit unit = Unit(shape % 3);
        p.unit = unit;
        p.kind = Kind(unit == Unit.ITEM ? 1 + ((shape >> 2) % 4) : (shape >> 2) % 5);
        p.residentsOnly = (shape >> 5) % 4 == 1;
        p.lateRefundBps = uint16(_bound(shape >> 6, 0, 10_000));
        p.freeCancelHours = uint32(_bound(shape >> 20, 0, 72));
        p.minUnits = 1;
        // Hour ranges up to 600 slots span three 256-slot calendar words.
        p.maxUnits = unit == Unit.ITEM ? 5 : (unit == Unit.DAY ? 20 : 600);
        p.stock = unit == Unit.ITEM ? uint32(_bound(shape >> 30, 1, 20)) : 0;
        p.availableFrom = uint64(block.timestamp - (block.timestamp % 1 hours));
        p.availableUntil = p.availableFrom + 365 days;
        p.token = _tokenOf(shape >> 40);
        p.price = _bound(price, 1e9, 1e15);
        p.deposit = unit == Unit.ITEM ? 0 : (deposit % 3 == 0 ? 0 : _bound(deposit, 1e9, 1e17));
        p.metadataURI = "ipfs://listing";
        vm.prank(_actor(actorSeed));
        try s.exchange.createListing(p) {
            _did("list");
        } catch {}
    }

    /// @dev The lister changes a listing's terms (price, deposit, cancellation policy): bookings made before keep
    /// the terms they were made on (the escrow invariant reads them through getBooking), later ones get the new.
    function updateTerms(uint256 listingSeed, uint256 price, uint256 deposit, uint256 policy) external {
        uint256 count = s.exchange.listingCount();
        if (count == 0) return;
        uint256 id = 1 + (listingSeed % count);
        ICommonsExchange.Listing memory lst = ExchangeLens(s.exchange.lens()).getListing(id);
        address holder = _holderOf(lst.membership);
        price = _bound(price, 1e9, 1e15);
        deposit = lst.unit == Unit.ITEM || deposit % 3 == 0 ? 0 : _bound(deposit, 1e9, 1e17);
        vm.prank(holder == address(0) ? lst.lister : holder);
        try s.exchange.updateTerms(
            id, price, deposit, uint32(_bound(policy, 0, 72)), uint16(_bound(policy >> 8, 0, 10_000))
        ) {
            _did("update terms");
        } catch {}
    }

    /// @dev Three renters try to book one listing: near now, across the next 256-slot calendar word boundary (long
    /// ranges), or just after it (short stays), so that a check or a free that stops at the first word shows.
    function book(uint256 actorSeed, uint256 listingSeed, uint256 slotSeed) external {
        uint256 count = s.exchange.listingCount();
        if (count == 0) return;
        uint256 id = 1 + (listingSeed % count);
        for (uint256 k; k < 3; ++k) {
            // The fuzzer repeats values it has seen; hashing in the attempt and booking count spreads them out.
            uint256 h = uint256(keccak256(abi.encode(slotSeed, k, s.exchange.bookingCount())));
            _bookOne(id, _actor(actorSeed % _actors.length + k), h);
        }
    }

    function _bookOne(uint256 id, address renter, uint256 h) private {
        ICommonsExchange.Listing memory lst = ExchangeLens(s.exchange.lens()).getListing(id);
        if (renter == lst.lister) renter = _actor(h); // self-booking is refused
        (uint256 start, uint256 units) = _range(lst, h);
        (uint256 price, uint256 deposit,) = s.lens.quote(id, units);
        _fund(renter, lst.token, price + deposit, address(s.exchange));
        uint256 value = lst.token == address(0) ? price + deposit : 0;
        vm.prank(renter);
        try s.exchange.book{value: value}(id, start, units, lst.termsVersion) {
            _did(_crossesWord(lst, start, units) ? "book across calendar words" : "book");
        } catch {}
    }

    function _crossesWord(ICommonsExchange.Listing memory lst, uint256 start, uint256 units)
        private
        pure
        returns (bool)
    {
        if (lst.unit == Unit.ITEM) return false;
        uint256 first = (start - lst.availableFrom) / (lst.unit == Unit.HOUR ? 1 hours : 1 days);
        return first >> 8 != (first + units - 1) >> 8;
    }

    function _range(ICommonsExchange.Listing memory lst, uint256 h) private view returns (uint256, uint256) {
        uint256 max = lst.maxUnits;
        if (lst.unit == Unit.ITEM) return (0, _bound(h, 1, max));
        uint256 len = lst.unit == Unit.HOUR ? 1 hours : 1 days;
        uint256 from = lst.availableFrom;
        uint256 first = block.timestamp <= from ? 0 : (block.timestamp - from + len - 1) / len;
        uint256 mode = h % 3;
        uint256 boundary = ((first >> 8) + 1) << 8; // the next 256-slot calendar word starts here
        uint256 slot;
        uint256 units = _bound(h >> 16, 1, (h >> 32) % 4 == 0 ? max : (max < 12 ? max : 12));
        if (mode == 0) {
            slot = first + (h >> 48) % 40;
        } else if (mode == 1) {
            slot = boundary - 1 - ((h >> 56) % 8); // a few slots before the boundary, then well past it
            if (slot < first) slot = first;
            units = _bound(h >> 16, max < 16 ? max : 16, max);
        } else {
            slot = boundary + (h >> 48) % 64; // short stays just after the boundary, for the long ones to meet
        }
        return (from + slot * len, units);
    }

    function cancelByRenter(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Active);
        if (id == 0) return;
        address renter = _renterKey(b);
        if (renter == address(0)) return; // a revoked renter membership: nobody answers for it
        vm.prank(renter);
        try s.exchange.cancelByRenter(id) {
            _did(_isItem(b) ? "cancel purchase before shipping" : "cancel by renter");
        } catch {}
    }

    function cancelByLister(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Active);
        if (id == 0) return;
        vm.prank(_listerKey(b));
        try s.exchange.cancelByLister(id) {
            _did("cancel by lister");
        } catch {}
    }

    /// @dev The seller marks an ITEM purchase shipped; from then on the buyer cannot cancel (checked here).
    function markShipped(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Unshipped);
        if (id == 0) return;
        vm.prank(_listerKey(b));
        try s.claims.markShipped(id) {
            _did("mark shipped");
        } catch {
            return;
        }
        address buyer = _renterKey(b);
        if (buyer == address(0)) return;
        vm.prank(buyer);
        try s.exchange.cancelByRenter(id) {
            ++escrowBreaches; // a shipped purchase must not be cancellable by the buyer
        } catch {}
    }

    function confirmReceipt(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Item);
        if (id == 0) return;
        address buyer = _renterKey(b);
        if (buyer == address(0)) return;
        vm.prank(buyer);
        try s.claims.confirmReceipt(id) {
            _did("confirm receipt");
        } catch {}
    }

    /// @dev The buyer of an ITEM claims non-delivery before the delivery window ends (shipped or not).
    function claimNonDelivery(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Item);
        if (id == 0) return;
        address buyer = _renterKey(b);
        if (buyer == address(0)) return;
        vm.prank(buyer);
        try s.claims.claimNonDelivery(id, "ipfs://evidence") {
            _did(b.shippedAt == 0 ? "claim non-delivery (unshipped)" : "claim non-delivery (shipped)");
        } catch {}
    }

    function settle(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Settleable);
        if (id == 0) return;
        _reach(b.status == BookingStatus.ACTIVE ? b.end : b.claimUntil);
        try s.exchange.settle(id) {
            _did(_isItem(b) ? "settle purchase (silence)" : "settle");
        } catch {}
    }

    function claimDamage(uint256 bookingSeed, uint256 amount) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Held);
        if (id == 0 || b.deposit == 0) return;
        _reach(b.end);
        vm.prank(_listerKey(b));
        try s.claims.claimDamage(id, _bound(amount, 1, b.deposit), "ipfs://evidence") {
            _did("claim damage");
        } catch {}
    }

    /// @dev The answering party: the renter for a damage claim, the seller for a non-delivery claim.
    function answerClaim(uint256 bookingSeed, bool accept) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Claimed);
        if (id == 0) return;
        bool item = b.status == BookingStatus.CLAIMED;
        address party = item ? _listerKey(b) : _renterKey(b);
        if (party == address(0)) return;
        vm.prank(party);
        if (accept) {
            try s.claims.acceptClaim(id) {
                _did(item ? "seller accepts non-delivery" : "accept claim");
            } catch {}
        } else {
            try s.claims.disputeClaim(id) {
                _did(item ? "seller disputes non-delivery" : "dispute claim");
            } catch {}
        }
    }

    function resolve(uint256 bookingSeed, uint256 toLister) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Disputed);
        if (id == 0) return;
        vm.prank(_resolver);
        try s.claims.resolve(id, b.claimAmount == 0 ? 0 : toLister % (b.claimAmount + 1)) {
            _did(_isItem(b) ? "resolve non-delivery" : "resolve");
        } catch {}
    }

    function finalizeClaim(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Open);
        if (id == 0) return;
        _reach(b.decideBy);
        try s.claims.finalizeClaim(id) {
            _did(_isItem(b) ? "finalize non-delivery claim" : "finalize claim");
        } catch {}
    }

    /// @dev "Nothing owed becomes unwithdrawable": a positive credit always withdraws, and pays exactly itself.
    function withdraw(uint256 actorSeed, uint256 tokenSeed) external {
        address token = _tokenOf(tokenSeed);
        address who = _actor(actorSeed);
        uint256 credit;
        for (uint256 k; k < _actors.length && credit == 0; ++k) {
            who = _actor(actorSeed % _actors.length + k);
            credit = s.exchange.credits(who, token);
        }
        if (credit == 0) return;
        uint256 before = _balanceOf(token, who);
        vm.prank(who);
        try s.exchange.withdraw(token) {
            _did("withdraw");
            if (_balanceOf(token, who) != before + credit || s.exchange.credits(who, token) != 0) ++unwithdrawable;
        } catch {
            ++unwithdrawable;
        }
    }

    /// @dev A deposit `settle` returned (REFUNDABLE) always pulls, by the renter's current key, and pays exactly
    /// itself; a failure counts as unwithdrawable.
    function withdrawDeposit(uint256 bookingSeed) external {
        (uint256 id, ICommonsExchange.Booking memory b) = _booking(bookingSeed, Want.Refundable);
        if (id == 0) return;
        address who = _renterKey(b);
        if (who == address(0)) return; // a revoked membership: nobody may pull it
        address token = ExchangeLens(s.exchange.lens()).getListing(b.listingId).token;
        uint256 before = _balanceOf(token, who);
        vm.prank(who);
        try s.exchange.withdrawDeposit(id) {
            _did("withdraw deposit");
            if (_balanceOf(token, who) != before + b.deposit) ++unwithdrawable;
        } catch {
            ++unwithdrawable;
        }
    }

    /// @dev The DAO pays out what a revoked membership is owed (the credit its key had, moved by the registry's
    /// hook, and what it earned since) to a resident it names: exactly the credit, and nothing is left; a failure
    /// counts as unwithdrawable. Scans membership ids from a seeded position for one with a credit.
    function reclaimRevokedCredit(uint256 membershipSeed, uint256 tokenSeed, uint256 toSeed) external {
        address token = _tokenOf(tokenSeed);
        address ex = address(s.exchange);
        uint256 membership;
        uint256 credit;
        for (uint256 k; k < MAX_MEMBERSHIP_ID && credit == 0; ++k) {
            membership = (membershipSeed % MAX_MEMBERSHIP_ID + k) % MAX_MEMBERSHIP_ID + 1;
            credit = CreditLedger.ofMembership(ex, membership, token);
        }
        if (credit == 0) return;
        address to = _actor(toSeed);
        uint256 before = _balanceOf(token, to);
        vm.prank(address(s.timelock));
        try s.exchange.reclaimRevokedCredit(membership, token, payable(to)) {
            _did("reclaim revoked credit");
            if (_balanceOf(token, to) != before + credit || CreditLedger.ofMembership(ex, membership, token) != 0) {
                ++unwithdrawable;
            }
        } catch {
            ++unwithdrawable;
        }
    }

    /// @dev Anyone delivers the fees kept for a kind to the treasury (the fee sink).
    function flushFees(uint256 tokenSeed, uint256 kindSeed) external {
        address token = _tokenOf(tokenSeed);
        Kind kind = Kind(kindSeed % 5);
        if (s.exchange.pendingFees(token, kind) == 0) return;
        try s.exchange.flushFees(token, kind) {
            _did("flush fees");
        } catch {}
    }

    /// @dev The first booking from a seeded position on whose price or deposit is in the wanted state (so that
    /// most calls act on a booking they can act on), or id 0 when there is none.
    function _booking(uint256 seed, Want want) private view returns (uint256 id, ICommonsExchange.Booking memory b) {
        uint256 count = s.exchange.bookingCount();
        for (uint256 k; k < count; ++k) {
            id = 1 + ((seed % count + k) % count);
            b = s.exchange.getBooking(id);
            if (_wanted(b, want)) return (id, b);
        }
        return (0, b);
    }

    function _wanted(ICommonsExchange.Booking memory b, Want want) private view returns (bool) {
        BookingStatus st = b.status;
        DepositStatus ds = b.depositStatus;
        if (want == Want.Active) return st == BookingStatus.ACTIVE;
        if (want == Want.Item || want == Want.Unshipped) {
            if (st != BookingStatus.ACTIVE || !_isItem(b)) return false;
            return want == Want.Item || b.shippedAt == 0;
        }
        if (want == Want.Settleable) {
            return st == BookingStatus.ACTIVE || ds == DepositStatus.HELD;
        }
        if (want == Want.Held) return ds == DepositStatus.HELD;
        if (want == Want.Refundable) return ds == DepositStatus.REFUNDABLE;
        bool claimed = ds == DepositStatus.CLAIMED || st == BookingStatus.CLAIMED;
        bool disputed = ds == DepositStatus.DISPUTED || st == BookingStatus.DISPUTED;
        if (want == Want.Claimed) return claimed;
        if (want == Want.Disputed) return disputed;
        return claimed || disputed;
    }

    function _isItem(ICommonsExchange.Booking memory b) private view returns (bool) {
        return ExchangeLens(s.exchange.lens()).getListing(b.listingId).unit == Unit.ITEM;
    }

    /// @dev Who acts as the renter now: the current key of the renter's membership (address(0) once revoked), or
    /// the renter address of a non-citizen.
    function _renterKey(ICommonsExchange.Booking memory b) private view returns (address) {
        return _keyOf(b.renterMembership, b.renter);
    }

    /// @dev Who acts as the lister now: the current key of the lister's membership, or the lister address (a
    /// non-citizen listing, or a citizen's listing whose membership was revoked: that address may still close it).
    function _listerKey(ICommonsExchange.Booking memory b) private view returns (address) {
        ICommonsExchange.Listing memory lst = ExchangeLens(s.exchange.lens()).getListing(b.listingId);
        address holder = _holderOf(lst.membership);
        return holder == address(0) ? lst.lister : holder;
    }
}
