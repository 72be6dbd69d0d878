// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ICivicTimelock} from "./interfaces/ICivicTimelock.sol";
import {CodeHash} from "./libraries/CodeHash.sol";

/// @title CivicTimelock
/// @notice The DAO's hand: an OpenZeppelin TimelockController that owns or administers every other CivicDAO
/// contract after deployment, and that runs each call of an operation only against the code its target had when
/// the operation was scheduled.
/// @dev Per-call pinning: `schedule`/`scheduleBatch` record the normalised code hash of each call's target (the
/// governor refuses to queue when a target's code changed since proposal time, so these are the proposal-time
/// pins); `execute`/`executeBatch` check each call's target right before that call runs (in `_execute`), so code
/// that an earlier call of the same operation put at a later call's target is refused
/// (CivicTimelockTargetCodeChanged). The pin of call `i` of operation `id` lives at key `uint256(id) + i`; while
/// an operation executes, `_cursor` holds the key of its next call (saved and restored around nested executions).
/// Only direct targets are pinned: an upgradeable proxy's implementation, or code reached through the target, is
/// not. `requireCodeHash` lets a proposal pin an address it gives power or custody to.
/// Recommended roles: PROPOSER_ROLE and CANCELLER_ROLE = the CivicGovernor only; EXECUTOR_ROLE = the
/// CivicGovernor only (not address(0)); `admin` = the deployer during set-up, renounced afterwards.
contract CivicTimelock is TimelockController, ICivicTimelock {
    /// @dev Normalised target code hash of call `i` of operation `id`, at key `uint256(id) + i` (0 = no code).
    mapping(uint256 key => bytes32 codeHash) private _pins;

    /// @dev Pin key of the next call of the operation executing now (0 outside execution).
    uint256 private _cursor;

    /// @notice Deploys the timelock.
    /// @param minDelay Initial minimum delay in seconds for operations.
    /// @param proposers Accounts granted the proposer and canceller roles.
    /// @param executors Accounts granted the executor role (address(0) would open execution to anyone).
    /// @param admin Optional extra admin for set-up (address(0) for none); renounce after configuration.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}

    // ───────────────────────────────── external ───────────────────────────────

    /// @notice Schedules one call (PROPOSER_ROLE) and pins its target's code.
    /// @param target The call's target.
    /// @param value Wei sent with the call.
    /// @param data The calldata.
    /// @param predecessor An operation that must be done first (0 for none).
    /// @param salt Distinguishes otherwise identical operations.
    /// @param delay Seconds before the call may run (at least the minimum delay).
    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.schedule(target, value, data, predecessor, salt, delay);
        _pin(hashOperation(target, value, data, predecessor, salt), 0, target);
    }

    /// @notice Schedules a batch of calls (PROPOSER_ROLE) and pins the code of each call's target.
    /// @param targets The calls' targets.
    /// @param values Wei sent with each call.
    /// @param payloads The calls' calldata.
    /// @param predecessor An operation that must be done first (0 for none).
    /// @param salt Distinguishes otherwise identical operations.
    /// @param delay Seconds before the calls may run (at least the minimum delay).
    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.scheduleBatch(targets, values, payloads, predecessor, salt, delay);
        bytes32 id = hashOperationBatch(targets, values, payloads, predecessor, salt);
        uint256 n = targets.length; // bounded by the operation itself
        for (uint256 i = 0; i < n; ++i) {
            _pin(id, i, targets[i]);
        }
    }

    /// @notice Runs a ready call (EXECUTOR_ROLE), refusing it if its target's code changed since scheduling.
    /// @param target The call's target.
    /// @param value Wei sent with the call.
    /// @param payload The calldata.
    /// @param predecessor The predecessor given at scheduling.
    /// @param salt The salt given at scheduling.
    function execute(
        address target,
        uint256 value,
        bytes calldata payload,
        bytes32 predecessor,
        bytes32 salt
    ) public payable override {
        uint256 outer = _cursor;
        _cursor = uint256(hashOperation(target, value, payload, predecessor, salt));
        super.execute(target, value, payload, predecessor, salt);
        _cursor = outer;
    }

    /// @notice Runs a ready batch (EXECUTOR_ROLE), checking each call's target against its pin right before
    /// that call (CivicTimelockTargetCodeChanged).
    /// @param targets The calls' targets.
    /// @param values Wei sent with each call.
    /// @param payloads The calls' calldata.
    /// @param predecessor The predecessor given at scheduling.
    /// @param salt The salt given at scheduling.
    function executeBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) public payable override {
        uint256 outer = _cursor; // a call may execute another ready operation (through the governor)
        _cursor = uint256(hashOperationBatch(targets, values, payloads, predecessor, salt));
        super.executeBatch(targets, values, payloads, predecessor, salt);
        _cursor = outer;
    }

    // ─────────────────────────────────── views ────────────────────────────────

    /// @inheritdoc ICivicTimelock
    function requireCodeHash(address account, bytes32 codeHash) external view {
        bytes32 actual = CodeHash.normalised(account);
        if (actual != codeHash) revert CivicTimelockCodeHashMismatch(account, codeHash, actual);
    }

    /// @inheritdoc ICivicTimelock
    function codeHashOf(address account) external view returns (bytes32) {
        return CodeHash.normalised(account);
    }

    // ───────────────────────────────── internal ───────────────────────────────

    /// @dev Checks the next call's target against its pin, moves the cursor, then runs the call.
    function _execute(address target, uint256 value, bytes calldata data) internal override {
        uint256 key = _cursor;
        bytes32 pinned = _pins[key];
        bytes32 actual = CodeHash.normalised(target);
        if (actual != pinned) revert CivicTimelockTargetCodeChanged(target, pinned, actual);
        unchecked {
            _cursor = key + 1; // keys are hashes: wrapping is harmless
        }
        super._execute(target, value, data);
    }

    /// @dev Records (and announces) the normalised code hash of call `index` of operation `id`.
    function _pin(bytes32 id, uint256 index, address target) private {
        bytes32 h = CodeHash.normalised(target);
        unchecked {
            _pins[uint256(id) + index] = h; // keys are hashes: wrapping is harmless
        }
        emit CallTargetPinned(id, index, target, h);
    }
}
