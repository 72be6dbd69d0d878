// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IParticipatoryBudgetEvents
/// @notice The events of CivicDAO participatory budgeting: rounds, projects, ballots, outcomes and payouts.
/// @dev Grouped like OpenZeppelin's `draft-IERC6093.sol`. `token == address(0)` means native ETH.
interface IParticipatoryBudgetEvents {
    /// @dev Emitted when ETH arrives (the treasury's reservation transfer, or a donation to rounds).
    /// @param from The sender.
    /// @param amount The amount.
    event FundsReceived(address indexed from, uint256 amount);

    /// @dev Emitted when the DAO opens a round and reserves its budget.
    /// @param roundId The new round.
    /// @param token The round's token.
    /// @param budget The budget reserved.
    /// @param submissionStart When submissions open.
    /// @param votingStart When voting opens (and submissions close).
    /// @param votingEnd When voting closes.
    /// @param challengePeriod Seconds after an outcome is posted during which anyone may challenge it.
    /// @param payoutDuration Seconds over which each winner's payout streams (0 = at once).
    /// @param minApprovals The fewest projects a ballot approves.
    /// @param maxApprovals The most projects a ballot approves.
    event RoundOpened(
        uint256 indexed roundId,
        address indexed token,
        uint256 budget,
        uint64 submissionStart,
        uint64 votingStart,
        uint64 votingEnd,
        uint64 challengePeriod,
        uint64 payoutDuration,
        uint16 minApprovals,
        uint16 maxApprovals
    );

    /// @dev Emitted when a resident submits a project.
    /// @param roundId The round.
    /// @param projectIndex The project's index (its bit in ballots).
    /// @param proposer The resident who submitted it.
    /// @param recipient Who is paid if it wins.
    /// @param cost The project's cost.
    /// @param metadataURI Where the project's non-personal description lives (or its title).
    event ProjectSubmitted(
        uint256 indexed roundId,
        uint256 indexed projectIndex,
        address indexed proposer,
        address recipient,
        uint256 cost,
        string metadataURI
    );

    /// @dev Emitted for every ballot cast or changed; the last one per membership is the ballot that counts.
    /// @param roundId The round.
    /// @param membership The voting membership.
    /// @param voter The key that cast (or signed) it.
    /// @param approvals The approvals bitmap.
    event BallotCast(uint256 indexed roundId, uint256 indexed membership, address indexed voter, uint256 approvals);

    /// @dev Emitted when an outcome is posted; the challenge window starts.
    /// @param roundId The round.
    /// @param poster Who posted it.
    /// @param winners The winners' bitmap.
    /// @param cost The winners' total cost.
    /// @param ballotDigest The digest of the ballot set the outcome was computed from.
    /// @param ruleId The rule that computed it.
    event OutcomePosted(
        uint256 indexed roundId,
        address indexed poster,
        uint256 winners,
        uint256 cost,
        bytes32 ballotDigest,
        bytes32 ruleId
    );

    /// @dev Emitted when someone posts a differing outcome; the round waits for the DAO.
    /// @param roundId The round.
    /// @param challenger Who challenged.
    /// @param winners The challenger's winners' bitmap.
    /// @param cost The challenger's winners' total cost.
    /// @param ballotDigest The challenger's ballot digest.
    /// @param ruleId The challenger's rule.
    event OutcomeChallenged(
        uint256 indexed roundId,
        address indexed challenger,
        uint256 winners,
        uint256 cost,
        bytes32 ballotDigest,
        bytes32 ruleId
    );

    /// @dev Emitted when the DAO settles a challenged round's outcome.
    /// @param roundId The round.
    /// @param winners The winners' bitmap.
    /// @param cost The winners' total cost.
    /// @param ballotDigest The digest of the ballot set the outcome was computed from.
    /// @param ruleId The rule that computed it.
    event DisputeResolved(uint256 indexed roundId, uint256 winners, uint256 cost, bytes32 ballotDigest, bytes32 ruleId);

    /// @dev Emitted when the winners become payouts.
    /// @param roundId The round.
    /// @param winners The winners' bitmap.
    /// @param spent The winners' total cost.
    /// @param returned The part of the budget that went back to the treasury.
    event RoundFinalized(uint256 indexed roundId, uint256 winners, uint256 spent, uint256 returned);

    /// @dev Emitted when the DAO cancels a round; its whole budget went back to the treasury.
    /// @param roundId The round.
    /// @param returned The budget returned.
    event RoundCancelled(uint256 indexed roundId, uint256 returned);

    /// @dev Emitted when a winning project's recipient claims.
    /// @param roundId The round.
    /// @param projectIndex The project.
    /// @param recipient The recipient.
    /// @param amount The amount paid.
    event PayoutClaimed(
        uint256 indexed roundId,
        uint256 indexed projectIndex,
        address indexed recipient,
        uint256 amount
    );
}
