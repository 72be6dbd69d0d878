// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title CivicTimelock
/// @notice The DAO's hand: an unmodified OpenZeppelin TimelockController under a CivicDAO name. It owns or
/// administers every other CivicDAO contract after deployment.
/// @dev Recommended roles: PROPOSER_ROLE and CANCELLER_ROLE = the CivicGovernor only; EXECUTOR_ROLE = the
/// CivicGovernor only (not address(0)), so every execution passes through the governor's target code-hash check;
/// `admin` = the deployer during set-up, renounced afterwards (the timelock administers itself).
contract CivicTimelock is TimelockController {
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
}
