// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICivicGovernor
/// @notice CivicDAO's additions to the OpenZeppelin Governor: target code pinning (a proposal's id commits to its
/// targets' code, so it cannot be queued against code that changed after it was proposed; the CivicTimelock then checks each call), votes that follow a
/// membership's key rotation on open proposals, and an expiring proposal guardian.
/// @dev The rest of the governor API is OpenZeppelin's IGovernor and its extensions (Settings,
/// VotesQuorumFraction, TimelockControl, ProposalGuardian; counting with override and late quorum of its own,
/// Multicall).
interface ICivicGovernor {
    // ───────────────────────────────── types ──────────────────────────────────

    /// @notice Constructor settings, grouped in one struct (ten separate constructor arguments overflow the
    /// legacy code generator's stack).
    /// @param votingDelay Seconds between proposal and snapshot/start of voting.
    /// @param votingPeriod Seconds of voting.
    /// @param proposalThreshold Votes needed to propose (1 = any citizen).
    /// @param quorumNumerator Quorum in percent of the total votes at the snapshot.
    /// @param voteExtension Seconds voting stays open after a late quorum (GovernorPreventLateQuorum's rule).
    /// @param guardian The proposal guardian (address(0) for none).
    /// @param guardianExpiry Unix time after which the guardian can no longer cancel (0 = never).
    struct GovernorConfig {
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint256 quorumNumerator;
        uint48 voteExtension;
        address guardian;
        uint48 guardianExpiry;
    }

    /// @notice One voter's signed ballot in a relayer's batch (`castVotesBySig`).
    /// @param voter The signer.
    /// @param support 0 Against, 1 For, 2 Abstain.
    /// @param v The signature's recovery byte (27 or 28).
    /// @param r The signature's r.
    /// @param s The signature's s (in the lower half order, as OpenZeppelin's ECDSA requires).
    /// The signature (ECDSA, split in three static words) is over the EIP-712
    /// `BatchBallot(uint256 proposalId,uint8 support,address voter)` in the governor's domain (the domain of
    /// `castVoteBySig`'s `Ballot`). There is no nonce: a key votes once per proposal, so a ballot is single-use.
    struct SignedBallot {
        address voter;
        uint8 support;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    // ───────────────────────────────── errors ─────────────────────────────────

    /// @notice Thrown when a key votes on a proposal whose snapshot precedes the rotation of its membership to
    /// another key: that membership's ballot now belongs to the new key (a stolen key votes no more).
    /// @param account The rotated-away key.
    error CivicGovernorVoterRotatedAway(address account);

    /// @notice Thrown when the proposal guardian tries to cancel after the guardian expiry.
    /// @param guardian The guardian.
    /// @param expiry The expiry (unix seconds) that has passed.
    error CivicGovernorGuardianExpired(address guardian, uint256 expiry);

    // ───────────────────────────────── events ─────────────────────────────────

    /// @notice Emitted at proposal time, once per target (in target order), with the code hash recorded for it
    /// (bytes32(0) means "no code": an empty or code-less account). This event is the public record of the pins.
    /// @param proposalId The proposal.
    /// @param target The target.
    /// @param codeHash The pinned, normalised code hash.
    event ProposalTargetPinned(uint256 indexed proposalId, address indexed target, bytes32 codeHash);

    /// @notice Emitted when the guardian expiry changes (constructor or governance).
    /// @param oldExpiry The previous expiry (0 = never expires).
    /// @param newExpiry The new expiry (0 = never expires).
    event ProposalGuardianExpirySet(uint256 oldExpiry, uint256 newExpiry);

    // ──────────────────────────────── functions ───────────────────────────────

    /// @notice Counts a batch of signed ballots in one transaction (a relayer's entry point: one base fee and one
    /// calldata envelope for the batch). Each ballot is a `BatchBallot` signature (see `SignedBallot`) and is
    /// counted exactly like a `castVoteBySig` ballot: for the key that held the voter's membership at the snapshot,
    /// with one `VoteCast` each. No nonce is read or used up. ECDSA signers only (a contract wallet uses
    /// `castVoteBySig`, which also takes ERC-1271 signatures). The batch reverts as a whole on the first ballot
    /// that fails (GovernorInvalidSignature, GovernorAlreadyCastVote, CivicGovernorVoterRotatedAway, a proposal
    /// not Active...): relayers simulate first and drop those.
    /// @param proposalId The proposal every ballot is for.
    /// @param ballots The signed ballots.
    function castVotesBySig(uint256 proposalId, SignedBallot[] calldata ballots) external;

    /// @notice Sets the unix time after which the guardian can no longer cancel (0 = never). Only governance.
    /// @param newExpiry The new expiry.
    function setProposalGuardianExpiry(uint48 newExpiry) external;

    /// @notice The quorum (For + Abstain votes) `proposalId` must reach: OpenZeppelin's rule, the quorum fraction at
    /// the proposal's snapshot of the live citizens at the snapshot, stored by its first ballot (0 for an unknown
    /// proposal). Changes after the snapshot to the citizen count or to the quorum fraction do not move it. Before
    /// the snapshot, the quorum the proposal would have with the citizens and fraction of now.
    /// @param proposalId The proposal.
    /// @return The votes needed.
    function proposalQuorum(uint256 proposalId) external view returns (uint256);

    /// @notice The unix time after which the guardian can no longer cancel (0 = never expires).
    /// @return The guardian expiry.
    function proposalGuardianExpiry() external view returns (uint256);
}
