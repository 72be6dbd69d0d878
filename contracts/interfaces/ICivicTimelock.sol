// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICivicTimelock
/// @notice CivicDAO's additions to the OpenZeppelin TimelockController: per-call code pinning (each call of an
/// operation runs only against the code its target had when the operation was scheduled) and code-hash pins for
/// the addresses a proposal hands power or custody to.
/// @dev "No code" (EXTCODEHASH 0 for an empty account, keccak256("") for a funded account without code) is
/// normalised to bytes32(0) everywhere.
interface ICivicTimelock {
    // ───────────────────────────────── errors ─────────────────────────────────

    /// @notice Thrown when a call of an operation is about to run while its target's code differs from the code
    /// recorded when the operation was scheduled: e.g. an address without code that an earlier call of the same
    /// operation deployed code to, or a target self-destructed and redeployed (the 2023 Tornado Cash attack).
    /// @param target The call's target.
    /// @param pinned The normalised code hash recorded at scheduling.
    /// @param actual The normalised code hash the target has now.
    error CivicTimelockTargetCodeChanged(address target, bytes32 pinned, bytes32 actual);

    /// @notice Thrown by `requireCodeHash` when an account's code is not the code the proposal pinned.
    /// @param account The account (a role grantee, registrar, fee sink, guardian, grant recipient...).
    /// @param pinned The normalised code hash the proposal expects.
    /// @param actual The normalised code hash the account has now.
    error CivicTimelockCodeHashMismatch(address account, bytes32 pinned, bytes32 actual);

    // ───────────────────────────────── events ─────────────────────────────────

    /// @notice Emitted when an operation is scheduled, once per call, with the target's code hash recorded for
    /// that call (bytes32(0) = no code).
    /// @param id The operation id.
    /// @param index The call's position in the operation.
    /// @param target The call's target.
    /// @param codeHash The normalised code hash the target must still have when the call runs.
    event CallTargetPinned(bytes32 indexed id, uint256 index, address indexed target, bytes32 codeHash);

    // ──────────────────────────────── functions ───────────────────────────────

    /// @notice Reverts with CivicTimelockCodeHashMismatch unless `account`'s normalised code hash is `codeHash`.
    /// A proposal puts this call right before every action that gives `account` a role or custody, so the code
    /// the citizens voted for is the code that receives the power.
    /// @param account The account to check.
    /// @param codeHash The expected normalised code hash (bytes32(0) for an account without code).
    function requireCodeHash(address account, bytes32 codeHash) external view;

    /// @notice The normalised code hash of `account` (bytes32(0) when it holds no code).
    /// @param account The account.
    /// @return The normalised code hash.
    function codeHashOf(address account) external view returns (bytes32);
}
