// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorProposalGuardian} from "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {VotesExtended} from "@openzeppelin/contracts/governance/utils/VotesExtended.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ICitizenRegistryFull} from "./interfaces/ICitizenRegistryFull.sol";
import {ICivicGovernor} from "./interfaces/ICivicGovernor.sol";
import {CodeHash} from "./libraries/CodeHash.sol";

/// @title CivicGovernor
/// @notice The CivicDAO governor: OpenZeppelin Governor with settings, liquid delegation with override (a delegator
/// voting directly overrides its delegate's vote for its weight), quorum as a fraction of the citizens at the
/// proposal's snapshot (OpenZeppelin's rule, fixed at its first ballot), TimelockController execution, late-quorum protection, an expiring proposal guardian, vote by signature and
/// batching of relayed ballots (castVotesBySig, and Multicall). Proposals are listed from their ProposalCreated events
/// (no GovernorStorage: queue, execute and cancel take the full proposal, as in the stock Governor).
/// @dev Our additions:
/// - Target pinning in the proposal id: `getProposalId` hashes OpenZeppelin's `hashProposal` with the normalised code
///   hash of every target (announced with one ProposalTargetPinned event per target), so a proposal whose target's
///   code changed after it was proposed cannot be queued, executed or cancelled any more: its id no longer matches
///   (GovernorNonexistentProposal). The pins cost no storage. At queue time the CivicTimelock records the same hashes
///   per call and checks each call's target right before that call runs (CivicTimelockTargetCodeChanged), which also
///   catches code put at a later target by an earlier call of the same proposal. "No code" (EXTCODEHASH 0 for an empty
///   account and keccak256("") for a funded code-less account) is normalised to bytes32(0). Only direct targets are
///   pinned: an upgradeable proxy's implementation, or code reached through the target, is not. Addresses a proposal
///   hands power to are pinned by CivicTimelock.requireCodeHash actions (civicdao.governance adds them). Give the
///   timelock's EXECUTOR_ROLE to this governor only. Use `getProposalId`, not `hashProposal`, for a proposal's id.
/// - Key rotation: a ballot (direct, by signature or override) is cast for the key that held the voter's
///   membership at the snapshot (CitizenRegistry.snapshotVoter): after a lost-key rotation the new key carries the
///   membership's vote on open proposals and the old key gets CivicGovernorVoterRotatedAway. A ballot the old key
///   cast before the rotation stands (the receipt is the old key's, so the new key cannot cast it again).
/// - Quorum fixed at the first ballot: OpenZeppelin's quorum rule (the quorum fraction at the snapshot of the
///   citizens at the snapshot), computed once, when the proposal's first ballot is counted, into the proposal's slot
///   (`proposalQuorum`); later ballots, queue and execute never look the supply history up, so their gas does not
///   grow with the city. The first ballot's lookup reads one slot when no one registered or left since the snapshot
///   (CitizenRegistry keeps its latest supply in one slot) and the registry's recent-history search otherwise.
/// - Counting and late quorum of our own, replacing OpenZeppelin's GovernorCountingOverridable and
///   GovernorPreventLateQuorum with the same rules, events and errors (VoteReduced, OverrideVoteCast,
///   GovernorAlreadyOverriddenVote, ProposalExtended, LateQuorumVoteExtensionSet): one slot per proposal, written by
///   its first ballot, packs the fixed quorum, the late-quorum deadline and the three tallies, and a receipt is one
///   slot per voter. Measured (issue 11, Anvil, 10 citizens): OpenZeppelin's modules spread these over five slots (three tallies,
///   the extended deadline, our quorum) and a first vote cost 97,235 gas and a later one 80,135, against 91,228 and
///   72,418 allowed (1.10 x the stock governor's 82,935 and 65,835); packed, a vote reads one proposal slot and the
///   later vote costs 66,761 now (override vote 101,224 -> 77,214). Writing that slot at propose (fixing the quorum
///   there) left propose at 109,823 against 85,912 allowed (1.25 x the stock's 68,730, which writes one fresh slot):
///   a second fresh slot (22,100) and the citizen-count read did not fit, so the first ballot writes the slot, as the
///   stock's first vote writes its fresh tally slot: propose 80,228, first ballot 89,998 (<= 91,228).
/// - Batched ballots: `castVotesBySig` counts many nonce-less `BatchBallot` signatures in one transaction.
/// - Guardian expiry: after `proposalGuardianExpiry()` (0 = never) the guardian's cancel power ends
///   (CivicGovernorGuardianExpired); it keeps only what any proposer has (cancel its own Pending proposal).
///   Governance can set a new guardian (setProposalGuardian) and a new expiry (setProposalGuardianExpiry).
/// The clock is the block timestamp (ERC-6372), the CitizenRegistry's clock.
contract CivicGovernor is
    Governor,
    GovernorSettings,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorProposalGuardian,
    Multicall,
    ICivicGovernor
{
    // ───────────────────────────────── types ──────────────────────────────────

    /// @notice Ballot choices, as in OpenZeppelin's counting modules.
    enum VoteType {
        Against,
        For,
        Abstain
    }

    // ───────────────────────────────── storage ────────────────────────────────

    /// @dev Unix time after which the guardian's cancel power ends (0 = never).
    uint48 private _guardianExpiry;

    /// @dev Seconds voting stays open after the vote that reaches quorum (GovernorPreventLateQuorum's rule).
    uint48 private _voteExtension;

    /// @dev The latest quorum numerator and when it was set (a copy of GovernorVotesQuorumFraction's checkpointed
    /// history, which stays the record for older timepoints): fixing a quorum reads one slot instead of the history's
    /// two.
    uint16 private _quorumNumerator;
    uint48 private _quorumNumeratorSince;

    /// @notice EIP-712 type hash of an override ballot (as in OpenZeppelin's GovernorCountingOverridable).
    bytes32 public constant OVERRIDE_BALLOT_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("OverrideBallot(uint256 proposalId,uint8 support,address voter,uint256 nonce,string reason)");

    /// @dev EIP-712 type hash of a ballot in a relayer's batch (`castVotesBySig`): no nonce, since a key votes once
    /// per proposal and that makes the ballot single-use.
    bytes32 private constant _BATCH_BALLOT_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("BatchBallot(uint256 proposalId,uint8 support,address voter)");

    /// @dev Proposal slot layout: fixed quorum (bits 0-62), quorum fixed (bit 63, set by the first ballot),
    /// late-quorum deadline (bits 64-111, 0 until quorum is reached) and the Against/For/Abstain tallies (48 bits
    /// each from bit 112). All zero until the first ballot.
    uint256 private constant _QUORUM_MASK = type(uint64).max >> 1;
    uint256 private constant _QUORUM_FIXED = 1 << 63;
    uint256 private constant _EXTENDED_SHIFT = 64;
    uint256 private constant _TALLY_SHIFT = 112;
    uint256 private constant _TALLY_MASK = type(uint48).max;

    /// @dev Receipt layout: support + 1 (bits 0-7, 0 = not cast), has overridden (bit 8), weight overridden by
    /// delegators before this delegate voted (bits 16-223).
    uint256 private constant _CASTED_MASK = 0xff;
    uint256 private constant _HAS_OVERRIDDEN = 1 << 8;
    uint256 private constant _OVERRIDDEN_SHIFT = 16;

    /// @dev Masks of `_hexDigits` (the low half of each lane at every step) and 0x01 in every byte.
    uint256 private constant _SPREAD_32 = 0x00ffffffff000000000000000000000000ffffffff;
    uint256 private constant _SPREAD_16 = 0xffff000000000000ffff000000000000ffff000000000000ffff;
    uint256 private constant _SPREAD_8 = 0xff000000ff000000ff000000ff000000ff000000ff000000ff000000ff;
    uint256 private constant _SPREAD_4 = 0x000f000f000f000f000f000f000f000f000f000f000f000f000f000f000f000f;
    uint256 private constant _ONES = 0x0101010101010101010101010101010101010101010101010101010101010101;

    /// @dev Per proposal, one slot written from its first ballot on (see the layout above).
    mapping(uint256 proposalId => uint256 packed) private _proposalTally;

    /// @dev Per proposal and voter key, one slot (see the receipt layout above).
    mapping(uint256 proposalId => mapping(address voter => uint256 receipt)) private _receipts;

    // ───────────────────────────────── events ─────────────────────────────────

    /// @notice A delegator's override reduced its delegate's counted vote (GovernorCountingOverridable's event).
    /// @param delegate The delegate whose vote was reduced.
    /// @param proposalId The proposal.
    /// @param support The delegate's choice.
    /// @param weight The weight removed.
    event VoteReduced(address indexed delegate, uint256 proposalId, uint8 support, uint256 weight);

    /// @notice A delegator voted directly, overriding its delegate (GovernorCountingOverridable's event).
    /// @param voter The delegator.
    /// @param proposalId The proposal.
    /// @param support The choice.
    /// @param weight The delegator's own weight at the snapshot.
    /// @param reason The reason given.
    event OverrideVoteCast(address indexed voter, uint256 proposalId, uint8 support, uint256 weight, string reason);

    /// @notice A late quorum moved the deadline (GovernorPreventLateQuorum's event).
    /// @param proposalId The proposal.
    /// @param extendedDeadline The new deadline.
    event ProposalExtended(uint256 indexed proposalId, uint64 extendedDeadline);

    /// @notice The late-quorum extension changed (GovernorPreventLateQuorum's event).
    /// @param oldVoteExtension The previous extension (seconds).
    /// @param newVoteExtension The new extension (seconds).
    event LateQuorumVoteExtensionSet(uint64 oldVoteExtension, uint64 newVoteExtension);

    // ───────────────────────────────── errors ─────────────────────────────────

    /// @notice The account already overrode its delegate on this proposal.
    /// @param account The account.
    error GovernorAlreadyOverriddenVote(address account);

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
    {
        _setLateQuorumVoteExtension(config.voteExtension);
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

    /// @notice Sets the late-quorum extension (only through governance).
    /// @param newVoteExtension Seconds voting stays open after the vote that reaches quorum.
    function setLateQuorumVoteExtension(uint48 newVoteExtension) external onlyGovernance {
        _setLateQuorumVoteExtension(newVoteExtension);
    }

    /// @notice Vote directly for your own weight, overriding your delegate's vote for it.
    /// @param proposalId The proposal.
    /// @param support 0 Against, 1 For, 2 Abstain.
    /// @param reason A reason (emitted only).
    /// @return The weight counted.
    function castOverrideVote(uint256 proposalId, uint8 support, string calldata reason) external returns (uint256) {
        return _castOverride(proposalId, _msgSender(), support, reason);
    }

    /// @notice Override vote by EIP-712 signature (`OverrideBallot`, with the voter's nonce).
    /// @param proposalId The proposal.
    /// @param support 0 Against, 1 For, 2 Abstain.
    /// @param voter The signing delegator.
    /// @param reason A reason (emitted only, signed).
    /// @param signature The voter's signature (EOA or ERC-1271).
    /// @return The weight counted.
    function castOverrideVoteBySig(
        uint256 proposalId,
        uint8 support,
        address voter,
        string calldata reason,
        bytes calldata signature
    ) external returns (uint256) {
        bytes32 structHash = keccak256(
            abi.encode(OVERRIDE_BALLOT_TYPEHASH, proposalId, support, voter, _useNonce(voter), keccak256(bytes(reason)))
        );
        if (!SignatureChecker.isValidSignatureNow(voter, _hashTypedDataV4(structHash), signature)) {
            revert GovernorInvalidSignature(voter);
        }
        return _castOverride(proposalId, voter, support, reason);
    }

    // ─────────────────────────────────── views ────────────────────────────────

    /// @inheritdoc ICivicGovernor
    function proposalQuorum(uint256 proposalId) external view returns (uint256) {
        uint256 tally = _proposalTally[proposalId];
        if (tally & _QUORUM_FIXED != 0) return tally & _QUORUM_MASK;
        uint256 snapshot = proposalSnapshot(proposalId);
        if (snapshot == 0) return 0; // unknown proposal
        if (snapshot < clock()) return quorum(snapshot); // not fixed yet: no ballot so far
        // before the snapshot: the quorum with the citizens and the fraction of now
        return (ICitizenRegistryFull(address(token())).citizenCount() * quorumNumerator()) / quorumDenominator();
    }

    /// @inheritdoc ICivicGovernor
    function proposalGuardianExpiry() external view returns (uint256) {
        return _guardianExpiry;
    }

    /// @notice Whether `account` overrode its delegate on `proposalId`.
    /// @param proposalId The proposal.
    /// @param account The account.
    /// @return True once it cast an override vote.
    function hasVotedOverride(uint256 proposalId, address account) external view returns (bool) {
        return _receipts[proposalId][account] & _HAS_OVERRIDDEN != 0;
    }

    /// @notice Seconds voting stays open after the vote that reaches quorum.
    /// @return The extension.
    function lateQuorumVoteExtension() external view returns (uint48) {
        return _voteExtension;
    }

    /// @notice The counting mode (ERC-6372 style string, as OpenZeppelin's GovernorCountingOverridable).
    /// @return The mode.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure override returns (string memory) {
        return "support=bravo,override&quorum=for,abstain&overridable=true";
    }

    /// @notice Whether `account` cast a (delegate) vote on `proposalId`.
    /// @param proposalId The proposal.
    /// @param account The voter key.
    /// @return True once it voted.
    function hasVoted(uint256 proposalId, address account) public view override returns (bool) {
        return _receipts[proposalId][account] & _CASTED_MASK != 0;
    }

    /// @notice The tallies of a proposal.
    /// @param proposalId The proposal.
    /// @return againstVotes Against.
    /// @return forVotes For.
    /// @return abstainVotes Abstain.
    function proposalVotes(
        uint256 proposalId
    ) public view returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes) {
        uint256 t = _proposalTally[proposalId];
        return (_tallyOf(t, 0), _tallyOf(t, 1), _tallyOf(t, 2));
    }

    /// @notice The proposal id: OpenZeppelin's `hashProposal` chained with every target's normalised code hash now
    /// (`id = keccak256(abi.encode(id, codeHash))` per target, in target order),
    /// so the id of a proposal whose target's code changed no longer matches (see the contract NatSpec).
    /// @param targets The targets.
    /// @param values The values.
    /// @param calldatas The calldatas.
    /// @param descriptionHash keccak256 of the description.
    /// @return The proposal id.
    function getProposalId(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) public view override returns (uint256) {
        bytes32 id = bytes32(hashProposal(targets, values, calldatas, descriptionHash));
        uint256 n = targets.length; // bounded by the proposal itself
        for (uint256 i = 0; i < n; ++i) {
            bytes32 pin = CodeHash.normalised(targets[i]);
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                mstore(0x00, id)
                mstore(0x20, pin)
                id := keccak256(0x00, 0x40) // id = keccak256(abi.encode(id, pin)), in scratch space
            }
        }
        return uint256(id);
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

    /// @notice The current quorum numerator (percent of the live citizens).
    /// @return The numerator.
    function quorumNumerator() public view override returns (uint256) {
        return _quorumNumerator;
    }

    /// @notice The quorum numerator at `timepoint`: the one-slot copy when it was set by then, else
    /// GovernorVotesQuorumFraction's history.
    /// @param timepoint The timepoint (unix seconds).
    /// @return The numerator.
    function quorumNumerator(uint256 timepoint) public view override returns (uint256) {
        if (_quorumNumeratorSince <= timepoint) return _quorumNumerator;
        return super.quorumNumerator(timepoint);
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

    /// @notice ERC-6372 clock: the block timestamp, the CitizenRegistry's clock (read here instead of calling the
    /// registry, which every state check did).
    /// @return The current timepoint.
    function clock() public view override(Governor, GovernorVotes) returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock mode (timestamps, as the CitizenRegistry's).
    /// @return The mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override(Governor, GovernorVotes) returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice The voting deadline, extended if quorum was reached late.
    /// @param proposalId The proposal.
    /// @return The deadline (unix seconds).
    function proposalDeadline(uint256 proposalId) public view override returns (uint256) {
        return Math.max(super.proposalDeadline(proposalId), (_proposalTally[proposalId] >> _EXTENDED_SHIFT) & _TALLY_MASK);
    }

    // ───────────────────────────────── internal ───────────────────────────────

    /// @dev Announces the normalised code hash of every target (the id commits to them, see `getProposalId`). The
    /// proposal's slot (quorum and tallies) is written by its first ballot.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        uint256 n = targets.length; // bounded by the proposal itself (at least 1: Governor refuses empty ones)
        for (uint256 i = 0; i < n; ++i) {
            emit ProposalTargetPinned(proposalId, targets[i], CodeHash.normalised(targets[i]));
        }
    }

    /// @dev Resolves Governor / GovernorTimelockControl (the pins are checked by `getProposalId`; the CivicTimelock
    /// then pins each call).
    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
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

    /// @dev Counts a (delegate) vote: the weight minus what delegators already overrode (OpenZeppelin's
    /// GovernorCountingOverridable rule).
    function _countVote(
        uint256 proposalId,
        address account,
        uint8 support,
        uint256 totalWeight,
        bytes memory // params
    ) internal override returns (uint256) {
        if (support > uint8(VoteType.Abstain)) revert GovernorInvalidVoteType();
        uint256 receipt = _receipts[proposalId][account];
        if (receipt & _CASTED_MASK != 0) revert GovernorAlreadyCastVote(account);
        totalWeight -= receipt >> _OVERRIDDEN_SHIFT;
        _proposalTally[proposalId] = _tallyAdd(_openTally(proposalId), support, totalWeight);
        _receipts[proposalId][account] = receipt | (uint256(support) + 1);
        return totalWeight;
    }

    /// @dev Casts an override vote for the snapshot key of `account` (the same rotation rule as ballots).
    function _castOverride(
        uint256 proposalId,
        address account,
        uint8 support,
        string calldata reason
    ) private returns (uint256 weight) {
        _validateStateBitmap(proposalId, _encodeStateBitmap(ProposalState.Active));
        account = _snapshotVoter(proposalId, account);
        weight = _countOverride(proposalId, account, support);
        emit OverrideVoteCast(account, proposalId, support, weight, reason);
        _tallyUpdated(proposalId);
    }

    /// @dev Counts the key's own weight at the snapshot and takes it from its delegate's vote (or from the
    /// delegate's future vote), as OpenZeppelin's GovernorCountingOverridable.
    function _countOverride(uint256 proposalId, address account, uint8 support) private returns (uint256 weight) {
        if (support > uint8(VoteType.Abstain)) revert GovernorInvalidVoteType();
        mapping(address => uint256) storage receipts = _receipts[proposalId];
        uint256 receipt = receipts[account];
        if (receipt & _HAS_OVERRIDDEN != 0) revert GovernorAlreadyOverriddenVote(account);
        receipts[account] = receipt | _HAS_OVERRIDDEN;

        uint256 snapshot = proposalSnapshot(proposalId);
        VotesExtended registry = VotesExtended(address(token()));
        weight = registry.getPastBalanceOf(account, snapshot);
        address delegate = registry.getPastDelegate(account, snapshot);
        uint256 delegateReceipt = receipts[delegate]; // read after the write above: `delegate` may be `account`
        uint256 tally = _tallyAdd(_openTally(proposalId), support, weight);
        uint256 delegateCasted = delegateReceipt & _CASTED_MASK;
        if (delegateCasted == 0) {
            uint256 overridden = SafeCast.toUint208((delegateReceipt >> _OVERRIDDEN_SHIFT) + weight);
            receipts[delegate] = (delegateReceipt & (_CASTED_MASK | _HAS_OVERRIDDEN)) | (overridden << _OVERRIDDEN_SHIFT);
        } else {
            uint8 delegateSupport = uint8(delegateCasted - 1);
            tally = _tallySub(tally, delegateSupport, weight);
            emit VoteReduced(delegate, proposalId, delegateSupport, weight);
        }
        _proposalTally[proposalId] = tally;
    }

    /// @dev Extends the deadline when a vote reaches quorum late (OpenZeppelin's GovernorPreventLateQuorum rule),
    /// reading and writing the proposal's one slot.
    function _tallyUpdated(uint256 proposalId) internal override {
        uint256 tally = _proposalTally[proposalId];
        if ((tally >> _EXTENDED_SHIFT) & _TALLY_MASK == 0 && _reached(tally)) {
            uint48 extendedDeadline = clock() + _voteExtension;
            if (extendedDeadline > proposalDeadline(proposalId)) {
                emit ProposalExtended(proposalId, extendedDeadline);
            }
            _proposalTally[proposalId] = tally | (uint256(extendedDeadline) << _EXTENDED_SHIFT);
        }
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

    /// @dev Records a new quorum numerator in GovernorVotesQuorumFraction's history and in the one-slot copy.
    function _updateQuorumNumerator(uint256 newQuorumNumerator) internal override {
        super._updateQuorumNumerator(newQuorumNumerator);
        _quorumNumerator = uint16(newQuorumNumerator); // <= quorumDenominator() (100): checked by super
        _quorumNumeratorSince = clock(); // the key super recorded it under
    }

    /// @dev Sets the late-quorum extension and emits LateQuorumVoteExtensionSet.
    function _setLateQuorumVoteExtension(uint48 newVoteExtension) internal {
        emit LateQuorumVoteExtensionSet(_voteExtension, newVoteExtension);
        _voteExtension = newVoteExtension;
    }

    /// @dev Resolves Governor / GovernorTimelockControl: the timelock executes.
    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    /// @dev Adds the guardian expiry to GovernorProposalGuardian's rules. An expired guardian keeps only the
    /// core proposer right (cancel its own Pending proposal); otherwise it gets CivicGovernorGuardianExpired.
    function _validateCancel(
        uint256 proposalId,
        address caller
    ) internal view override(Governor, GovernorProposalGuardian) returns (bool) {
        bool allowed = super._validateCancel(proposalId, caller);
        if (allowed && caller == proposalGuardian()) {
            uint48 expiry = _guardianExpiry; // read for the guardian only
            if (expiry != 0 && block.timestamp > expiry && !Governor._validateCancel(proposalId, caller)) {
                revert CivicGovernorGuardianExpired(caller, expiry);
            }
        }
        return allowed;
    }

    /// @dev Sets the guardian expiry and emits ProposalGuardianExpirySet.
    function _setProposalGuardianExpiry(uint48 newExpiry) internal {
        emit ProposalGuardianExpirySet(_guardianExpiry, newExpiry);
        _guardianExpiry = newExpiry;
    }

    /// @dev Quorum reached against the proposal's quorum (see `proposalQuorum`; a proposal without ballots has its
    /// quorum worked out here).
    function _quorumReached(uint256 proposalId) internal view override returns (bool) {
        return _reached(_openTally(proposalId));
    }

    /// @dev More For than Against.
    function _voteSucceeded(uint256 proposalId) internal view override returns (bool) {
        uint256 tally = _proposalTally[proposalId];
        return _tallyOf(tally, uint8(VoteType.For)) > _tallyOf(tally, uint8(VoteType.Against));
    }

    /// @dev Fast path of OpenZeppelin's `#proposer=` description check (whose address parser cost ~11,000 gas per
    /// propose): a suffix `#proposer=0x` + the proposer's 40 hex digits (any case) is accepted at once; anything else
    /// goes to OpenZeppelin's check. The fast path accepts only what that check accepts: matching digits parse to the
    /// proposer, and bytes that match only after `| 0x20` (control characters) make that parse fail, which it accepts.
    /// The digits are compared a word at a time (`_hexDigits`).
    function _isValidDescriptionForProposer(
        address proposer,
        string memory description
    ) internal view override returns (bool) {
        uint256 length = bytes(description).length;
        if (length >= 52) {
            uint256 marker;
            uint256 high; // digits 1-32, as typed
            uint256 low; // digits 33-40, in the low 8 bytes
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                let start := add(add(description, 0x20), sub(length, 52))
                marker := shr(160, mload(start))
                high := mload(add(start, 12))
                low := shr(192, mload(add(start, 44)))
            }
            uint256 a = uint160(proposer);
            if (
                marker == 0x2370726f706f7365723d3078 && // "#proposer=0x"
                high | (_ONES << 5) == _hexDigits(a >> 32) &&
                low | (uint64(_ONES) << 5) == uint64(_hexDigits(a & 0xffffffff))
            ) return true;
        }
        return super._isValidDescriptionForProposer(proposer, description);
    }

    /// @dev The proposal's slot with its quorum fixed: as stored once a ballot was counted, else with the quorum at
    /// the snapshot (the first ballot stores it; the proposal is Active or later, so the snapshot is past).
    function _openTally(uint256 proposalId) private view returns (uint256 tally) {
        tally = _proposalTally[proposalId];
        if (tally & _QUORUM_FIXED == 0) {
            // citizens < 2^63 and numerator <= denominator (100): the quorum fits its 63 bits
            tally = quorum(proposalSnapshot(proposalId)) | _QUORUM_FIXED;
        }
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

    /// @dev The 32 lowercase hex digits of a 128-bit `x`, one ASCII byte each, most significant first: the nibbles
    /// are spread to one per byte, then 0x30 is added, and 0x27 more to nibbles above 9.
    function _hexDigits(uint256 x) private pure returns (uint256 t) {
        t = (x & 0xffffffffffffffff) | ((x & (0xffffffffffffffff << 64)) << 64);
        t = (t & _SPREAD_32) | ((t & (_SPREAD_32 << 32)) << 32);
        t = (t & _SPREAD_16) | ((t & (_SPREAD_16 << 16)) << 16);
        t = (t & _SPREAD_8) | ((t & (_SPREAD_8 << 8)) << 8);
        t = (t & _SPREAD_4) | ((t & (_SPREAD_4 << 4)) << 4);
        t = t + _ONES * 0x30 + (((t + _ONES * 6) & (_ONES << 4)) >> 4) * 0x27;
    }

    /// @dev Quorum (bits 0-63) <= For + Abstain.
    function _reached(uint256 tally) private pure returns (bool) {
        return tally & _QUORUM_MASK <= _tallyOf(tally, uint8(VoteType.For)) + _tallyOf(tally, uint8(VoteType.Abstain));
    }

    /// @dev The tally of `support` in a packed proposal slot.
    function _tallyOf(uint256 tally, uint8 support) private pure returns (uint256) {
        return (tally >> (_TALLY_SHIFT + 48 * uint256(support))) & _TALLY_MASK;
    }

    /// @dev Takes `weight` from the tally of `support` (panics on underflow, as OpenZeppelin's checked subtraction).
    function _tallySub(uint256 tally, uint8 support, uint256 weight) private pure returns (uint256) {
        return _tallySet(tally, support, _tallyOf(tally, support) - weight);
    }

    /// @dev Adds `weight` to the tally of `support`; reverts (SafeCast) if that tally would not fit its 48 bits.
    function _tallyAdd(uint256 tally, uint8 support, uint256 weight) private pure returns (uint256) {
        return _tallySet(tally, support, SafeCast.toUint48(_tallyOf(tally, support) + weight));
    }

    /// @dev `tally` with the tally of `support` set to `value` (< 2^48).
    function _tallySet(uint256 tally, uint8 support, uint256 value) private pure returns (uint256) {
        uint256 shift = _TALLY_SHIFT + 48 * uint256(support);
        return (tally & ~(_TALLY_MASK << shift)) | (value << shift);
    }
}
