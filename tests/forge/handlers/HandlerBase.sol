// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CitizenRegistry} from "../../../contracts/CitizenRegistry.sol";
import {CivicGovernor} from "../../../contracts/CivicGovernor.sol";
import {CivicTimelock} from "../../../contracts/CivicTimelock.sol";
import {CommonsExchange} from "../../../contracts/CommonsExchange.sol";
import {ExchangeClaims} from "../../../contracts/ExchangeClaims.sol";
import {ExchangeLens} from "../../../contracts/ExchangeLens.sol";
import {PublicTreasury} from "../../../contracts/PublicTreasury.sol";
import {ParticipatoryBudget} from "../../../contracts/ParticipatoryBudget.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {Vm} from "../utils/Invariant.sol";

/// @notice The deployed suite every handler acts on.
struct Suite {
    CitizenRegistry registry;
    CivicGovernor governor;
    CivicTimelock timelock;
    PublicTreasury treasury;
    CommonsExchange exchange;
    ExchangeClaims claims;
    ExchangeLens lens;
    ParticipatoryBudget budget;
    MockERC20 token;
}

/// @notice Reads the exchange's credit ledger straight from storage (`forge inspect CommonsExchange storageLayout`:
/// `_credits` is slot 9, keyed by holder: an address as uint160, a membership id with bit 255 set), so the
/// invariants can tell an address's own credit from its membership's, and see credits no key can reach.
library CreditLedger {
    Vm internal constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant CREDITS_SLOT = 9;
    uint256 internal constant MEMBER_KEY = 1 << 255;

    /// @dev Without the exchange's KEY_LOST mark (bit 255 of an address's ETH word).
    function ofAddress(address exchange, address account, address token) internal view returns (uint256) {
        return _at(exchange, uint256(uint160(account)), token) & (MEMBER_KEY - 1);
    }

    function ofMembership(address exchange, uint256 membership, address token) internal view returns (uint256) {
        return _at(exchange, MEMBER_KEY | membership, token);
    }

    function _at(address exchange, uint256 holder, address token) private view returns (uint256) {
        bytes32 inner = keccak256(abi.encode(holder, CREDITS_SLOT));
        return uint256(VM.load(exchange, keccak256(abi.encode(token, inner))));
    }
}

/// @notice What the handlers share: the suite, a fixed pool of residents' keys (so every membership, vote,
/// credit and grant stays inside a set the invariants can enumerate), seed helpers and funding.
abstract contract HandlerBase {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant ACTORS = 8;

    Suite internal s;
    address[] internal _actors;
    address internal _resolver;
    string[] private _actions;
    mapping(string action => uint256 count) private _done;

    constructor(Suite memory suite, address[] memory actors_, address resolver) {
        s = suite;
        _actors = actors_;
        _resolver = resolver;
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    /// @notice How often each action went through in this run (the campaign's reach, printed by `make fuzz`).
    function activity() external view returns (string[] memory actions, uint256[] memory counts) {
        actions = _actions;
        counts = new uint256[](actions.length);
        for (uint256 i; i < actions.length; ++i) {
            counts[i] = _done[actions[i]];
        }
    }

    /// @dev Counts an action that went through.
    function _did(string memory action) internal {
        if (_done[action]++ == 0) _actions.push(action);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    /// @dev ETH (address(0)) or the mock token, by seed.
    function _tokenOf(uint256 seed) internal view returns (address) {
        return seed % 2 == 0 ? address(0) : address(s.token);
    }

    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + (x % (hi - lo + 1));
    }

    /// @dev Gives `who` `amount` of `token` and, for the ERC-20, approves `spender` for it.
    function _fund(address who, address token, uint256 amount, address spender) internal {
        if (token == address(0)) {
            vm.deal(who, who.balance + amount);
        } else {
            s.token.mint(who, amount);
            vm.prank(who);
            s.token.approve(spender, amount);
        }
    }

    function _balanceOf(address token, address who) internal view returns (uint256) {
        return token == address(0) ? who.balance : s.token.balanceOf(who);
    }

    /// @dev Moves time forward to `t` (when it is at most 60 days away), so a step that waits for a deadline
    /// (a vote's start, a slot's end, a claim window) can happen within one campaign.
    function _reach(uint256 t) internal {
        if (t > block.timestamp && t - block.timestamp <= 60 days) vm.warp(t);
    }

    /// @dev The key that holds `membership` now, or address(0) once it was revoked (or never existed).
    function _holderOf(uint256 membership) internal view returns (address) {
        if (membership == 0) return address(0);
        try s.registry.ownerOf(membership) returns (address holder) {
            return holder;
        } catch {
            return address(0);
        }
    }

    /// @dev The key that acts for a citizen's membership (its holder now), or `fallback_` for a non-citizen record.
    function _keyOf(uint256 membership, address fallback_) internal view returns (address) {
        return membership == 0 ? fallback_ : _holderOf(membership);
    }

    /// @dev The DAO's hand: the timelock, which holds every admin role after deployment.
    function _asDao() internal {
        vm.prank(address(s.timelock));
    }
}
