// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ICommonsExchange} from "./interfaces/ICommonsExchange.sol";
import {IExchangeClaims} from "./interfaces/IExchangeClaims.sol";
import {ICommonsExchangeErrors} from "./interfaces/errors/ICommonsExchangeErrors.sol";
import {BookingStatus, DepositStatus} from "./interfaces/types/ExchangeTypes.sol";

/// @title ExchangeClaims
/// @notice Claims and disputes of the commons exchange, and the delivery steps of ITEM purchases (shipped,
/// received): damage claims on deposits and non-delivery claims on ITEM prices, answered by the other party and, if disputed, decided by the exchange's resolvers. Holds no money and
/// no state: the exchange that created it records each step and pays out (see IExchangeClaims).
/// @dev Created by CommonsExchange's constructor, which trusts exactly this contract for its claim hooks.
contract ExchangeClaims is IExchangeClaims {
    /// @notice Role on the exchange of the DAO's dispute resolvers.
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");

    ICommonsExchange private immutable _exchange;

    /// @notice Binds to the exchange that creates this contract.
    constructor() {
        _exchange = ICommonsExchange(msg.sender);
    }

    /// @inheritdoc IExchangeClaims
    function markShipped(uint256 bookingId) external {
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (ICommonsExchange.Booking memory b, bool item, bool isLister,) = _exchange.claimContext(bookingId, msg.sender);
        _requireActive(bookingId, b);
        if (!isLister) revert ICommonsExchangeErrors.ExchangeNotLister(b.listingId, msg.sender);
        if (!item) revert ICommonsExchangeErrors.ExchangeNotItem(bookingId);
        if (b.shippedAt != 0) revert ICommonsExchangeErrors.ExchangeItemShipped(bookingId, b.shippedAt);
        emit ItemShipped(bookingId);
        _exchange.recordShipment(bookingId);
    }

    /// @inheritdoc IExchangeClaims
    function confirmReceipt(uint256 bookingId) external {
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (ICommonsExchange.Booking memory b, bool item,, bool isRenter) = _exchange.claimContext(bookingId, msg.sender);
        _requireActive(bookingId, b);
        if (!isRenter) revert ICommonsExchangeErrors.ExchangeNotRenter(bookingId, msg.sender);
        if (!item) revert ICommonsExchangeErrors.ExchangeNotItem(bookingId);
        emit ReceiptConfirmed(bookingId);
        _exchange.payClaim(bookingId, b.price);
    }

    /// @inheritdoc IExchangeClaims
    function claimDamage(uint256 bookingId, uint256 amount, string calldata evidenceURI) external {
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (ICommonsExchange.Booking memory b,, bool isLister,) = _exchange.claimContext(bookingId, msg.sender);
        if (!isLister) revert ICommonsExchangeErrors.ExchangeNotLister(b.listingId, msg.sender);
        _requireDeposit(bookingId, b, DepositStatus.HELD);
        if (block.timestamp < b.end) revert ICommonsExchangeErrors.ExchangeNotEnded(bookingId, b.end);
        if (block.timestamp >= b.claimUntil) {
            revert ICommonsExchangeErrors.ExchangeClaimWindowClosed(bookingId, b.claimUntil);
        }
        if (amount == 0 || amount > b.deposit) {
            revert ICommonsExchangeErrors.ExchangeInvalidClaimAmount(amount, b.deposit);
        }
        uint64 respondBy = _deadline();
        _exchange.recordClaim(bookingId, b.status, DepositStatus.CLAIMED, amount, respondBy);
        emit DamageClaimed(bookingId, amount, evidenceURI, respondBy);
    }

    /// @inheritdoc IExchangeClaims
    function claimNonDelivery(uint256 bookingId, string calldata evidenceURI) external {
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (ICommonsExchange.Booking memory b, bool item,, bool isRenter) = _exchange.claimContext(bookingId, msg.sender);
        if (!isRenter) revert ICommonsExchangeErrors.ExchangeNotRenter(bookingId, msg.sender);
        if (!item) revert ICommonsExchangeErrors.ExchangeNotItem(bookingId);
        _requireActive(bookingId, b);
        if (block.timestamp >= b.end) revert ICommonsExchangeErrors.ExchangeDeadlinePassed(bookingId, b.end);
        uint64 respondBy = _deadline();
        _exchange.recordClaim(
            bookingId, BookingStatus.CLAIMED, b.depositStatus, b.price, respondBy
        );
        emit NonDeliveryClaimed(bookingId, b.price, evidenceURI, respondBy);
    }

    /// @inheritdoc IExchangeClaims
    function acceptClaim(uint256 bookingId) external {
        (ICommonsExchange.Booking memory b, bool itemClaim) = _answerable(bookingId, false);
        emit ClaimAccepted(bookingId);
        _exchange.payClaim(bookingId, itemClaim ? 0 : b.claimAmount);
    }

    /// @inheritdoc IExchangeClaims
    function disputeClaim(uint256 bookingId) external {
        (ICommonsExchange.Booking memory b, bool itemClaim) = _answerable(bookingId, true);
        uint64 resolveBy = _deadline();
        if (itemClaim) {
            _exchange.recordClaim(
                bookingId, BookingStatus.DISPUTED, b.depositStatus, b.claimAmount, resolveBy
            );
        } else {
            _exchange.recordClaim(
                bookingId, b.status, DepositStatus.DISPUTED, b.claimAmount, resolveBy
            );
        }
        emit ClaimDisputed(bookingId, resolveBy);
    }

    /// @inheritdoc IExchangeClaims
    function resolve(uint256 bookingId, uint256 toLister) external {
        address resolver = msg.sender;
        if (!IAccessControl(address(_exchange)).hasRole(RESOLVER_ROLE, resolver)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(resolver, RESOLVER_ROLE);
        }
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (ICommonsExchange.Booking memory b,, bool isLister, bool isRenter) = _exchange.claimContext(bookingId, resolver);
        if (isLister || isRenter) revert ICommonsExchangeErrors.ExchangeResolverIsParty(bookingId, resolver);
        if (b.status != BookingStatus.DISPUTED) {
            _requireDeposit(bookingId, b, DepositStatus.DISPUTED);
        }
        if (block.timestamp >= b.decideBy) revert ICommonsExchangeErrors.ExchangeDeadlinePassed(bookingId, b.decideBy);
        if (toLister > b.claimAmount) revert ICommonsExchangeErrors.ExchangeResolutionTooHigh(toLister, b.claimAmount);
        emit ClaimResolved(bookingId, resolver, toLister);
        _exchange.payClaim(bookingId, toLister);
    }

    /// @inheritdoc IExchangeClaims
    function finalizeClaim(uint256 bookingId) external {
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (ICommonsExchange.Booking memory b,,,) = _exchange.claimContext(bookingId, msg.sender);
        bool itemClaim = _isItemClaim(b.status);
        bool answered = itemClaim
            ? b.status == BookingStatus.DISPUTED
            : b.depositStatus == DepositStatus.DISPUTED;
        if (!itemClaim && !answered && b.depositStatus != DepositStatus.CLAIMED) {
            revert ICommonsExchangeErrors.ExchangeWrongDepositStatus(bookingId, b.depositStatus);
        }
        if (block.timestamp < b.decideBy) {
            revert ICommonsExchangeErrors.ExchangeDeadlineNotReached(bookingId, b.decideBy);
        }
        // an unanswered claim stands: a damage claim pays the lister, a non-delivery claim refunds the buyer;
        // an unresolved dispute returns everything to whoever paid it in (the renter / buyer)
        bool claimStood = !answered;
        emit ClaimFinalized(bookingId, claimStood);
        _exchange.payClaim(bookingId, claimStood && !itemClaim ? b.claimAmount : 0);
    }

    /// @inheritdoc IExchangeClaims
    function exchange() external view returns (address) {
        return address(_exchange);
    }

    /// @dev The open claim `account` may answer: a damage claim (CLAIMED deposit) by the renter, a non-delivery
    /// claim (CLAIMED item) by the seller, before the answer deadline (`disputing`) or any time (accepting).
    function _answerable(uint256 bookingId, bool disputing)
        private
        view
        returns (ICommonsExchange.Booking memory b, bool itemClaim)
    {
        bool isLister;
        bool isRenter;
        // slither-disable-next-line unused-return — each caller takes only the fields of the booking context it needs
        (b,, isLister, isRenter) = _exchange.claimContext(bookingId, msg.sender);
        itemClaim = b.status == BookingStatus.CLAIMED;
        if (itemClaim) {
            if (!isLister) revert ICommonsExchangeErrors.ExchangeNotLister(b.listingId, msg.sender);
        } else {
            if (!isRenter) revert ICommonsExchangeErrors.ExchangeNotRenter(bookingId, msg.sender);
            _requireDeposit(bookingId, b, DepositStatus.CLAIMED);
        }
        if (disputing && block.timestamp >= b.decideBy) {
            revert ICommonsExchangeErrors.ExchangeDeadlinePassed(bookingId, b.decideBy);
        }
    }

    function _requireActive(uint256 bookingId, ICommonsExchange.Booking memory b) private pure {
        if (b.status != BookingStatus.ACTIVE) {
            revert ICommonsExchangeErrors.ExchangeWrongBookingStatus(bookingId, b.status);
        }
    }

    function _requireDeposit(uint256 bookingId, ICommonsExchange.Booking memory b, DepositStatus s)
        private
        pure
    {
        if (b.depositStatus != s) revert ICommonsExchangeErrors.ExchangeWrongDepositStatus(bookingId, b.depositStatus);
    }

    function _isItemClaim(BookingStatus status) private pure returns (bool) {
        return status == BookingStatus.CLAIMED || status == BookingStatus.DISPUTED;
    }

    function _deadline() private view returns (uint64) {
        // slither-disable-next-line unused-return — only the dispute window matters here
        (, uint256 disputeWindow,) = _exchange.windows();
        return uint64(block.timestamp + disputeWindow);
    }
}
