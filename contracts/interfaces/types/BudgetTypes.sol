// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The enum of CivicDAO participatory budgeting that its errors carry, at file level so that
// IParticipatoryBudgetErrors and IParticipatoryBudget share it.

/// @notice Where a participatory-budget round stands. Submission and voting are told apart by time while `Open`.
enum BudgetRoundStatus {
    None,
    Open,
    Posted,
    Disputed,
    Resolved,
    Finalized,
    Cancelled
}
