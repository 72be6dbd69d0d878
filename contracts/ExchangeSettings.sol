// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ICommonsExchange} from "./interfaces/ICommonsExchange.sol";
import {IExchangeSettings} from "./interfaces/IExchangeSettings.sol";
import {ICommonsExchangeErrors} from "./interfaces/errors/ICommonsExchangeErrors.sol";
import {Kind, Unit} from "./interfaces/types/ExchangeTypes.sol";
import {ExchangeLimits} from "./libraries/ExchangeLimits.sol";

/// @title ExchangeSettings
/// @notice The DAO's settings of the commons exchange that created it. Each setter checks that the caller holds
/// the exchange's GOVERNOR_ROLE, checks the value, emits the change with the old value, and has the exchange store
/// it, except the guardian expiry, which only pausing reads and which this contract keeps and checks
/// (`checkGuardian`): the exchange keeps every setting its bookings read in its own storage.
/// @dev Created by CommonsExchange's constructor, which trusts exactly this contract for `configure`. The
/// constructor checks and announces the exchange's first settings (the exchange stores them itself).
contract ExchangeSettings is IExchangeSettings {
    /// @notice The exchange's DAO role (the Timelock).
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice Hard cap on any fee: 10 %.
    uint256 public constant MAX_FEE_BPS = ExchangeLimits.MAX_FEE_BPS;
    /// @notice Hard cap on the claim, dispute and delivery windows.
    uint256 public constant MAX_WINDOW = ExchangeLimits.MAX_WINDOW;
    /// @notice Floor of the dispute window, so renters can always answer a claim.
    uint256 public constant MIN_DISPUTE_WINDOW = ExchangeLimits.MIN_DISPUTE_WINDOW;

    /// @notice The exchange's role of those who may pause it until the guardian expiry.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @dev Latest accepted end of a listing's window, so the exchange's packed times (40 bits) fit with any window
    /// added.
    uint256 private constant MAX_TIME = 1 << 38;

    ICommonsExchange private immutable _exchange;
    uint256 private _guardianExpiry;

    modifier onlyGovernor() {
        if (!IAccessControl(address(_exchange)).hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, GOVERNOR_ROLE);
        }
        _;
    }

    /// @notice Binds to the exchange that creates this contract, checking and announcing its first settings.
    /// @param registry The citizen registry (a contract).
    /// @param feeSink The fee sink (a contract).
    /// @param claimWindow Seconds after a booking's end during which the lister may claim damage.
    /// @param disputeWindow Seconds to answer a claim, and for resolvers to decide a dispute.
    /// @param deliveryWindow Seconds after an ITEM purchase before the price is released automatically.
    constructor(address registry, address feeSink, uint256 claimWindow, uint256 disputeWindow, uint256 deliveryWindow) {
        _exchange = ICommonsExchange(msg.sender);
        emit RegistrySet(address(0), _contract(registry));
        emit FeeSinkSet(address(0), _contract(feeSink));
        emit ClaimWindowSet(0, _window(claimWindow, 0));
        emit DisputeWindowSet(0, _window(disputeWindow, MIN_DISPUTE_WINDOW));
        emit DeliveryWindowSet(0, _window(deliveryWindow, 0));
    }

    /// @inheritdoc IExchangeSettings
    function setFeeBps(Kind kind, uint16 bps) external onlyGovernor {
        if (bps > MAX_FEE_BPS) revert ICommonsExchangeErrors.ExchangeInvalidBps(bps, MAX_FEE_BPS);
        uint256 fees = 0;
        for (uint256 k = 0; k <= uint256(Kind.NATURE); ++k) {
            uint256 fee = k == uint256(kind) ? bps : _exchange.feeBps(Kind(k));
            fees |= fee << (16 * k);
        }
        emit FeeBpsSet(kind, _exchange.feeBps(kind), bps);
        // the exchange keeps every kind's fee in one word, 16 bits per kind
        _exchange.configure(ICommonsExchange.Setting.FeeBps, uint8(kind), fees);
    }

    /// @inheritdoc IExchangeSettings
    function setFeeSink(address sink) external onlyGovernor {
        emit FeeSinkSet(_exchange.feeSink(), _contract(sink));
        _exchange.configure(ICommonsExchange.Setting.FeeSink, 0, uint160(sink));
    }

    /// @inheritdoc IExchangeSettings
    function setRegistry(address newRegistry) external onlyGovernor {
        emit RegistrySet(_exchange.registry(), _contract(newRegistry));
        _exchange.configure(ICommonsExchange.Setting.Registry, 0, uint160(newRegistry));
    }

    /// @inheritdoc IExchangeSettings
    function setClaimWindow(uint256 window) external onlyGovernor {
        // slither-disable-next-line unused-return — only the window being set matters here
        (uint256 old,,) = _exchange.windows();
        emit ClaimWindowSet(old, _window(window, 0));
        _exchange.configure(ICommonsExchange.Setting.ClaimWindow, 0, window);
    }

    /// @inheritdoc IExchangeSettings
    function setDisputeWindow(uint256 window) external onlyGovernor {
        // slither-disable-next-line unused-return — only the window being set matters here
        (, uint256 old,) = _exchange.windows();
        emit DisputeWindowSet(old, _window(window, MIN_DISPUTE_WINDOW));
        _exchange.configure(ICommonsExchange.Setting.DisputeWindow, 0, window);
    }

    /// @inheritdoc IExchangeSettings
    function setDeliveryWindow(uint256 window) external onlyGovernor {
        // slither-disable-next-line unused-return — only the window being set matters here
        (,, uint256 old) = _exchange.windows();
        emit DeliveryWindowSet(old, _window(window, 0));
        _exchange.configure(ICommonsExchange.Setting.DeliveryWindow, 0, window);
    }

    /// @inheritdoc IExchangeSettings
    function setHousingPriceCeiling(address token, uint256 ceiling) external onlyGovernor {
        emit HousingPriceCeilingSet(token, _exchange.housingPriceCeiling(token), ceiling);
        _exchange.configure(ICommonsExchange.Setting.HousingPriceCeiling, uint160(token), ceiling);
    }

    /// @inheritdoc IExchangeSettings
    function setHousingListingCap(uint256 cap) external onlyGovernor {
        emit HousingListingCapSet(_exchange.housingListingCap(), cap);
        _exchange.configure(ICommonsExchange.Setting.HousingListingCap, 0, cap);
    }

    /// @inheritdoc IExchangeSettings
    function setTokenAllowed(address token, bool allowed) external onlyGovernor {
        if (token == address(0)) revert ICommonsExchangeErrors.ExchangeZeroAddress();
        emit TokenAllowedSet(token, allowed);
        _exchange.configure(ICommonsExchange.Setting.TokenAllowed, uint160(token), allowed ? 1 : 0);
    }

    /// @inheritdoc IExchangeSettings
    function setGuardianExpiry(uint64 newExpiry) external onlyGovernor {
        emit GuardianExpirySet(_guardianExpiry, newExpiry);
        _guardianExpiry = newExpiry;
    }

    /// @inheritdoc IExchangeSettings
    function checkGuardian(address account) external view {
        if (!IAccessControl(address(_exchange)).hasRole(GUARDIAN_ROLE, account)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(account, GUARDIAN_ROLE);
        }
        uint256 expiry = _guardianExpiry;
        if (expiry != 0 && block.timestamp > expiry) {
            revert ICommonsExchangeErrors.ExchangeGuardianExpired(account, expiry);
        }
    }

    /// @inheritdoc IExchangeSettings
    function checkListing(
        Kind kind,
        Unit unit,
        uint256 minUnits,
        uint256 maxUnits,
        uint256 availableFrom,
        uint256 availableUntil,
        uint256 stock,
        uint256 uriLength
    ) external view {
        if (minUnits == 0 || minUnits > maxUnits || maxUnits > ExchangeLimits.MAX_UNITS_PER_BOOKING) {
            revert ICommonsExchangeErrors.ExchangeInvalidUnitRange(minUnits, maxUnits);
        }
        if (availableFrom >= availableUntil || availableUntil <= block.timestamp || availableUntil > MAX_TIME) {
            revert ICommonsExchangeErrors.ExchangeInvalidWindow(availableFrom, availableUntil);
        }
        if (uriLength == 0) revert ICommonsExchangeErrors.ExchangeEmptyMetadata();
        if (unit == Unit.ITEM && (stock == 0 || kind == Kind.ROOM_HOUSE)) {
            revert ICommonsExchangeErrors.ExchangeInvalidItemListing();
        }
    }

    /// @inheritdoc IExchangeSettings
    function checkTerms(
        Kind kind,
        Unit unit,
        uint256 price,
        uint256 deposit,
        uint256 lateRefundBps,
        uint256 housingCeiling
    ) external pure {
        if (unit == Unit.ITEM && deposit != 0) revert ICommonsExchangeErrors.ExchangeInvalidItemListing();
        if (lateRefundBps > ExchangeLimits.BPS) {
            revert ICommonsExchangeErrors.ExchangeInvalidBps(lateRefundBps, ExchangeLimits.BPS);
        }
        uint256 larger = price > deposit ? price : deposit;
        if (larger > type(uint96).max) revert ICommonsExchangeErrors.ExchangeAmountTooLarge(larger, type(uint96).max);
        if (kind == Kind.ROOM_HOUSE) {
            uint256 perNight = unit == Unit.HOUR ? price * 24 : price;
            if (housingCeiling != 0 && perNight > housingCeiling) {
                revert ICommonsExchangeErrors.ExchangeHousingPriceTooHigh(perNight, housingCeiling);
            }
        }
    }

    /// @inheritdoc IExchangeSettings
    function guardianExpiry() external view returns (uint256) {
        return _guardianExpiry;
    }

    /// @inheritdoc IExchangeSettings
    function exchange() external view returns (address) {
        return address(_exchange);
    }

    /// @dev `account`, when it is a contract; else a revert (the registry and the fee sink must be contracts).
    function _contract(address account) private view returns (address) {
        if (account.code.length == 0) revert ICommonsExchangeErrors.ExchangeZeroAddress();
        return account;
    }

    /// @dev `window`, when min <= window <= MAX_WINDOW; else a revert naming the bounds.
    function _window(uint256 window, uint256 min) private pure returns (uint256) {
        if (window < min || window > MAX_WINDOW) {
            revert ICommonsExchangeErrors.ExchangeInvalidPeriod(window, min, MAX_WINDOW);
        }
        return window;
    }
}
