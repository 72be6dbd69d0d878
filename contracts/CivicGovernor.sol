// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorCountingOverridable} from
    "@openzeppelin/contracts/governance/extensions/GovernorCountingOverridable.sol";
import {GovernorPreventLateQuorum} from "@openzeppelin/contracts/governance/extensions/GovernorPreventLateQuorum.sol";
import {GovernorProposalGuardian} from "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ICitizenRegistryFull} from "./interfaces/ICitizenRegistryFull.sol";
import {ICivicGovernor} from "./interfaces/ICivicGovernor.sol";
import {CodeHash} from "./libraries/CodeHash.sol";

/// @title CivicGovernor
/// @notice The CivicDAO governor: OpenZeppelin Governor with settings, liquid delegation with override
/// (GovernorCountingOverridable), quorum as a fraction of live citizens, TimelockController execution,
/// late-quorum protection, an expiring proposal guardian, vote by signature and batching of relayed ballots
/// (castVotesBySig, and Multicall). Proposals are listed from their ProposalCreated events (no GovernorStorage: queue, execute and
/// cancel take the full proposal, as in the stock Governor).
/// @dev Our additions:
/// - Target pinning: each target's code hash is recorded at proposal time (and announced with one
///   ProposalTargetPinned event per target; there is no getter, to stay under EIP-170); queue reverts with
///   CivicGovernorTargetCodeChanged if any target's code changed. At queue time the CivicTimelock records the same
///   hashes per call and checks each call's target right before that call runs (CivicTimelockTargetCodeChanged),
///   which also catches code put at a later target by an earlier call of the same proposal. "No code" (EXTCODEHASH
///   0 for an empty account and keccak256("") for a funded code-less account) is normalised to bytes32(0). Only
///   direct targets are pinned: an upgradeable proxy's implementation, or code reached through the target, is not.
///   Addresses a proposal hands power to are pinned by CivicTimelock.requireCodeHash actions (civicdao.governance
///   adds them). Give the timelock's EXECUTOR_ROLE to this governor only.
/// - Key rotation: a ballot (direct, by signature or override) is cast for the key that held the voter's
///   membership at the snapshot (CitizenRegistry.snapshotVoter): after a lost-key rotation the new key carries the
///   membership's vote on open proposals and the old key gets CivicGovernorVoterRotatedAway. A ballot the old key
///   cast before the rotation stands (the receipt is the old key's, so the new key cannot cast it again).
/// - Quorum fixed at propose: the quorum fraction of the live citizens when the proposal is made
///   (`proposalQuorum`), stored in the slot of target 0's pin; no vote, queue or execute searches the supply
///   history, so their gas does not grow with the city.
/// - Batched ballots: `castVotesBySig` counts many nonce-less `BatchBallot` signatures in one transaction.
/// - Guardian expiry: after `proposalGuardianExpiry()` (0 = never) the guardian's cancel power ends
///   (CivicGovernorGuardianExpired); it keeps only what any proposer has (cancel its own Pending proposal).
///   Governance can set a new guardian (setProposalGuardian) and a new expiry (setProposalGuardianExpiry).
/// The clock (timestamp, ERC-6372) comes from the token.
contract CivicGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingOverridable,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorPreventLateQuorum,
    GovernorProposalGuardian,
    Multicall,
    ICivicGovernor
{
    // ───────────────────────────────── storage ────────────────────────────────

    /// @dev Unix time after which the guardian's cancel power ends (0 = never).
    uint48 private _guardianExpiry;

    /// @dev EIP-712 type hash of a ballot in a relayer's batch (`castVotesBySig`): no nonce, since a key votes once
    /// per proposal and that makes the ballot single-use.
    bytes32 private constant _BATCH_BALLOT_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("BatchBallot(uint256 proposalId,uint8 support,address voter)");

    /// @dev Per proposal and target index, written once at proposal time: the low 192 bits of the target's
    /// normalised code hash (a 192-bit pin: finding other code with the same truncated hash is a second
    /// preimage); the slot of target 0 also carries the proposal's fixed quorum in its high 64 bits, so a
    /// one-action proposal writes one slot for both.
    mapping(uint256 proposalId => mapping(uint256 index => uint256 pin)) private _pins;

    // ─────────────────────────────── constructor ──────────────────────────────

    /// @notice Deploys the governor.
    /// @param name_ Governor name (also the EIP-712 domain name for ballots).
    /// @param token The voting token (the CitizenRegistry; it must implement VotesExtended).
    /// @param timelock_ The TimelockController that executes proposals.
    /// @param config Voting delay/period (seconds), proposal threshold, quorum percent, late-quorum extension
    /// (seconds), guardian and guardian expiry (unix seconds, 0 = never); see ICivicGovernor.GovernorConfig.
    constructor(
        string memory name_,
        IVotes token,
        TimelockController timelock_,
        GovernorConfig memory config
    )
        Governor(name_)
        GovernorSettings(config.votingDelay, config.votingPeriod, config.proposalThreshold)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(config.quorumNumerator)
        GovernorTimelockControl(timelock_)
        GovernorPreventLateQuorum(config.voteExtension)
    {
        _setProposalGuardian(config.guardian);
        _setProposalGuardianExpiry(config.guardianExpiry);
    }

    // ───────────────────────────────── external ───────────────────────────────

    /// @inheritdoc ICivicGovernor
    function castVotesBySig(uint256 proposalId, SignedBallot[] calldata ballots) external {
        uint256 n = ballots.length; // bounded by the relayer's calldata
        for (uint256 i = 0; i < n; ++i) {
            SignedBallot calldata b = ballots[i];
            _castVote(proposalId, _ballotSigner(proposalId, b), b.support, "");
        }
    }

    /// @inheritdoc ICivicGovernor
    function setProposalGuardianExpiry(uint48 newExpiry) external onlyGovernance {
        _setProposalGuardianExpiry(newExpiry);
    }

    // ─────────────────────────────────── views ────────────────────────────────

    /// @inheritdoc ICivicGovernor
    function proposalQuorum(uint256 proposalId) external view returns (uint256) {
        return _pins[proposalId][0] >> 192;
    }

    /// @inheritdoc ICivicGovernor
    function proposalGuardianExpiry() external view returns (uint256) {
        return _guardianExpiry;
    }

    /// @notice Seconds between proposal and vote start.
    /// @return The voting delay.
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @notice Seconds of voting.
    /// @return The voting period.
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @notice Votes needed to propose.
    /// @return The proposal threshold.
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @notice Quorum at `timepoint`: the quorum fraction of the total votes then.
    /// @param timepoint The timepoint (unix seconds).
    /// @return The number of For + Abstain votes required.
    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    /// @notice The state of a proposal, taking the timelock into account.
    /// @param proposalId The proposal.
    /// @return The proposal state.
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @notice Whether proposals must be queued (always true: they go through the timelock).
    /// @param proposalId The proposal.
    /// @return True.
    function proposalNeedsQueuing(
        uint256 proposalId
    ) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @notice The voting deadline, extended if quorum was reached late.
    /// @param proposalId The proposal.
    /// @return The deadline (unix seconds).
    function proposalDeadline(
        uint256 proposalId
    ) public view override(Governor, GovernorPreventLateQuorum) returns (uint256) {
        return super.proposalDeadline(proposalId);
    }

    // ───────────────────────────────── internal ───────────────────────────────

    /// @dev Records (and announces) the normalised code hash of every target after the proposal is created, and fixes
    /// the proposal's quorum: the quorum fraction of the live citizens now (one read of the latest total-supply
    /// checkpoint instead of a binary search of that history on every vote).
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);

        mapping(uint256 => uint256) storage pins = _pins[proposalId];
        uint256 n = targets.length; // bounded by the proposal itself (at least 1: Governor refuses empty ones)
        for (uint256 i = 0; i < n; ++i) {
            bytes32 h = CodeHash.normalised(targets[i]);
            pins[i] = uint192(uint256(h));
            emit ProposalTargetPinned(proposalId, targets[i], h);
        }
        // citizens < 2^64 and numerator <= denominator (100): no overflow, and the quorum fits in 64 bits
        uint256 fixedQuorum = (ICitizenRegistryFull(address(token())).citizenCount() * quorumNumerator()) /
            quorumDenominator();
        pins[0] |= fixedQuorum << 192;
    }

    /// @dev Refuses to queue when a target's code changed since proposal time (the timelock then pins each call).
    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        _checkPinnedTargets(proposalId, targets);
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @dev Resolves Governor / GovernorTimelockControl. The CivicTimelock checks each call's target against its
    /// pin right before that call runs.
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @dev Casts the ballot of the key that held `account`'s membership at the snapshot (key rotations after the
    /// snapshot move a membership's vote on open proposals to the new key; see CitizenRegistry.snapshotVoter).
    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal override returns (uint256) {
        return super._castVote(proposalId, _snapshotVoter(proposalId, account), support, reason, params);
    }

    /// @dev Same rotation rule for override votes: the override uses the snapshot key's balance and delegate.
    function _castOverride(
        uint256 proposalId,
        address account,
        uint8 support,
        string calldata reason
    ) internal override returns (uint256) {
        return super._castOverride(proposalId, _snapshotVoter(proposalId, account), support, reason);
    }

    /// @dev Resolves Governor / GovernorTimelockControl.
    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    /// @dev Resolves Governor / GovernorTimelockControl: the timelock executes.
    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    /// @dev Resolves Governor / GovernorPreventLateQuorum (extends the deadline on a late quorum).
    function _tallyUpdated(uint256 proposalId) internal override(Governor, GovernorPreventLateQuorum) {
        super._tallyUpdated(proposalId);
    }

    /// @dev Adds the guardian expiry to GovernorProposalGuardian's rules. An expired guardian keeps only the
    /// core proposer right (cancel its own Pending proposal); otherwise it gets CivicGovernorGuardianExpired.
    function _validateCancel(
        uint256 proposalId,
        address caller
    ) internal view override(Governor, GovernorProposalGuardian) returns (bool) {
        bool allowed = super._validateCancel(proposalId, caller);
        uint48 expiry = _guardianExpiry;
        if (allowed && expiry != 0 && block.timestamp > expiry && caller == proposalGuardian()) {
            if (!Governor._validateCancel(proposalId, caller)) revert CivicGovernorGuardianExpired(caller, expiry);
        }
        return allowed;
    }

    /// @dev Sets the guardian expiry and emits ProposalGuardianExpirySet.
    function _setProposalGuardianExpiry(uint48 newExpiry) internal {
        emit ProposalGuardianExpirySet(_guardianExpiry, newExpiry);
        _guardianExpiry = newExpiry;
    }

    /// @dev Reverts with CivicGovernorTargetCodeChanged at the first target whose code differs from the pin.
    function _checkPinnedTargets(uint256 proposalId, address[] memory targets) internal view {
        mapping(uint256 => uint256) storage pins = _pins[proposalId];
        uint256 n = targets.length; // same targets as at proposal time: the proposal id commits to them
        for (uint256 i = 0; i < n; ++i) {
            if (uint192(uint256(CodeHash.normalised(targets[i]))) != uint192(pins[i])) {
                revert CivicGovernorTargetCodeChanged(proposalId, targets[i]);
            }
        }
    }

    /// @dev Quorum reached against the quorum fixed at proposal time (see `proposalQuorum`).
    function _quorumReached(
        uint256 proposalId
    ) internal view override(Governor, GovernorCountingOverridable) returns (bool) {
        (, uint256 forVotes, uint256 abstainVotes) = proposalVotes(proposalId);
        return _pins[proposalId][0] >> 192 <= forVotes + abstainVotes;
    }

    /// @dev The key whose snapshot ballot `account` casts; reverts when `account` rotated its membership away
    /// after the snapshot.
    function _snapshotVoter(uint256 proposalId, address account) private view returns (address voter) {
        voter = ICitizenRegistryFull(address(token())).snapshotVoter(account, proposalSnapshot(proposalId));
        if (voter == address(0)) revert CivicGovernorVoterRotatedAway(account);
    }

    /// @dev The ballot's voter, once its EIP-712 `BatchBallot` signature checks out.
    function _ballotSigner(uint256 proposalId, SignedBallot calldata b) private view returns (address voter) {
        voter = b.voter;
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_BATCH_BALLOT_TYPEHASH, proposalId, b.support, voter))
        );
        // slither-disable-next-line unused-return (the error detail is not needed: any error is refused)
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, b.v, b.r, b.s);
        if (err != ECDSA.RecoverError.NoError || signer != voter) revert GovernorInvalidSignature(voter);
    }
}
