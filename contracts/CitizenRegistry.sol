// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {ICitizenRegistry} from "./interfaces/ICitizenRegistry.sol";
import {ICitizenRegistryFull} from "./interfaces/ICitizenRegistryFull.sol";
import {IMembershipHook} from "./interfaces/IMembershipHook.sol";

/// @title CitizenRegistry
/// @notice One soulbound (ERC-5192) residency membership per verified resident, with OpenZeppelin voting power
/// (1 membership = 1 vote) on an ERC-6372 timestamp clock. A registrar attests residency off-chain; the chain
/// keeps only a salted credential hash, consumed forever, so nobody can register twice and nobody learns who a
/// member is.
/// @dev Composition: ERC721 + ERC721Votes (votes follow the token) + AccessControl, with VotesExtended's two
/// lookups (`getPastDelegate`, `getPastBalanceOf`, read by GovernorCountingOverridable for override votes)
/// implemented here. Storage per registration is kept small, replacing OpenZeppelin's own bookkeeping for a
/// measured gas target (registration <= 175,000 gas, re-delegation <= 1.05 x stock ERC20Votes; numbers from
/// `python -m benchmarks.gas_bench --write-ceilings`, see benchmarks/REPORT.md):
/// - one member record per address packs the membership id, the rotation nonce, rotation and delegation flags
///   and the time the holding began; ERC-721's owner and balance slots are replaced by `_holders` and the
///   record (see `_update`), and VotesExtended's balance checkpoints by the record plus `_pastHoldings`, written
///   when a holding ends (registration 343,393 -> 253,637 gas);
/// - Votes' and VotesExtended's delegation bookkeeping is replaced too (see `_delegate`): self-delegation is
///   implicit and a self-delegated holder's own vote is derived from its record, so a registration writes no
///   delegate, delegate-history or vote checkpoint; explicit choices and votes received from other holders
///   live in `History`s whose latest entry is one slot. Registration 253,637 -> 138,390 gas (4 fresh slots:
///   credential, record, holder, total-supply checkpoint), by attestation 259,906 -> 144,671; delegating away
///   from oneself 127,527 -> 85,028 (stock ERC20Votes re-delegation: 96,651); revocation 170,902 -> 136,224,
///   rotation 373,782 -> 228,755; castVote 80,135 -> 75,459 and the override vote 101,224 -> 98,709 (a
///   self-delegated voter's record is the only read). A change of an explicit choice (to a third address)
///   writes three fresh slots, 117,626 (it was 127,527), as the stock token's two plus the delegate history.
/// Events stay as OpenZeppelin's and the standards emit them (index, wallets and the relayer read them):
/// Transfer and Locked (ERC-721/ERC-5192), CitizenRegistered, DelegateChanged (from nobody to the holder on an
/// address's first membership: the implicit self-delegation begins) and DelegateVotesChanged; together about
/// 8,500 gas of a registration, which meets its target with them. EIP712 comes through Votes with the domain
/// name "CivicDAO CitizenRegistry", version "1".
/// Nonces: OpenZeppelin's `nonces(address)` (from Votes) is used only by `delegateBySig`. Registrar-signed
/// rotations use a separate per-`from` counter, `rotationNonces(address)`, so a pending rotation never
/// invalidates a citizen's pending delegation signature and vice versa. That counter moves once on every
/// gain, loss or rotation of a membership by an address: its registration, a rotation to it, a rotation away
/// from it (registrar-signed or by the DAO) and its revocation. So a signed rotation is only good while nothing
/// else has happened to the address it was signed for: a DAO rotation, a revocation or a revocation followed by
/// a re-registration all void it, and so does the address gaining a membership after the signature (a rotation
/// signed while it held none never applies to the membership it gets later).
/// Rotation and open proposals: every rotation is recorded twice, as (time -> membership id) for the old key and
/// (time -> old key) for the membership, keeping the first entry when several land in the same second.
/// `snapshotVoter` reads them so that, on proposals whose snapshot precedes a rotation, the new key casts the old
/// key's snapshot ballot and the old key casts none (the governor applies it).
/// Delegation to a rotated-away address: on proposals open at the rotation, what *other* citizens delegated to
/// `from` is cast by the new key (with the rest of `from`'s snapshot weight), and the delegators can still
/// override. On later proposals those delegations stay with `from` (their choice, not ours; the registry cannot
/// move them without a loop over delegators): they re-delegate if they wish.
contract CitizenRegistry is ERC721Votes, AccessControl, ICitizenRegistryFull {
    using Checkpoints for Checkpoints.Trace208;

    // ───────────────────────────────── constants ──────────────────────────────

    /// @notice Role allowed to register and revoke citizens and to sign attestations and rotations.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice EIP-712 type hash of a registrar's residency attestation.
    bytes32 public constant ATTESTATION_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("Attestation(address citizen,bytes32 credentialHash,uint256 expiry)");

    /// @notice EIP-712 type hash of a registrar-signed key rotation.
    bytes32 public constant ROTATION_TYPEHASH =
        // solhint-disable-next-line gas-small-strings
        keccak256("Rotation(address from,address to,uint256 nonce,uint256 expiry)");

    /// @notice Revocation reason: the resident moved away.
    uint8 public constant REASON_MOVED_AWAY = 1;
    /// @notice Revocation reason: the registration was fraudulent.
    uint8 public constant REASON_FRAUD = 2;
    /// @notice Revocation reason: the resident died.
    uint8 public constant REASON_DECEASED = 3;
    /// @notice Revocation reason: any other reason decided under DAO rules.
    uint8 public constant REASON_OTHER = 4;

    /// @dev ERC-5192 interface id (`locked(uint256)`).
    bytes4 private constant _ERC5192_INTERFACE_ID = 0xb45a3c0e;

    // ───────────────────────────────── storage ────────────────────────────────

    /// @dev One slot: the next token id to mint (bits 0-63; ids start at 1, so 0 means "no membership"), the live
    /// memberships (bits 64-127) and when they last changed (bits 128-175). The last two mirror the latest
    /// total-supply checkpoint, so a registration reads one slot for both and a governor fixing the quorum of a
    /// snapshot after the latest change (the common case) reads one slot however long the history is.
    uint256 private _counters = 1;
    uint256 private constant _COUNT_MASK = type(uint64).max;
    uint256 private constant _SUPPLY_SHIFT = 64;
    uint256 private constant _CHANGED_SHIFT = 128;

    /// @dev Bits of a member record above the membership id (low 128 bits) and the rotation nonce (next 64 bits).
    uint256 private constant _ID_MASK = type(uint128).max;
    uint256 private constant _NONCE_ONE = 1 << 128;
    /// @dev Set once the address has rotated a membership away (its `_rotatedAway` trace is not empty).
    uint256 private constant _ROTATED_AWAY = 1 << 192;
    /// @dev Set while the address holds a membership that was rotated at least once (`_rotatedFrom` not empty).
    uint256 private constant _ID_ROTATED = 1 << 193;
    /// @dev Bits 200-247: when the address gained the membership it holds now (0 while it holds none).
    uint256 private constant _SINCE_SHIFT = 200;
    uint256 private constant _SINCE_MASK = uint256(type(uint48).max) << _SINCE_SHIFT;
    /// @dev What a loss clears from a record: the id, the id's rotation flag and the gain time.
    uint256 private constant _HOLDING_MASK = _ID_MASK | _ID_ROTATED | _SINCE_MASK;
    /// @dev The rotation nonce bits: non-zero once the address has ever gained a membership.
    uint256 private constant _NONCE_MASK = uint256(type(uint64).max) << 128;
    /// @dev Set once the address has chosen a delegate explicitly (`_choices` is not empty); never cleared.
    uint256 private constant _CHOSE = 1 << 194;
    /// @dev Set once another holder has delegated to the address (`_received` is not empty); never cleared.
    uint256 private constant _RECEIVES = 1 << 195;

    /// @dev A history head: value (bits 0-159), the time it was set (bits 160-207, 0 = never set) and the number
    /// of earlier entries in `past` (bits 208-255). An earlier entry is value | time << 160, oldest first.
    uint256 private constant _TIME_SHIFT = 160;
    uint256 private constant _LENGTH_SHIFT = 208;

    /// @dev A value history whose latest entry sits in one head slot: the first write of a history is one fresh
    /// slot (OpenZeppelin's Checkpoints array writes two: its length and the element), later writes move the
    /// head into `past` only when a new timepoint begins. Reading a current or recent value reads the head.
    struct History {
        uint256 head;
        mapping(uint256 index => uint256 entry) past;
    }

    /// @dev Per address, one slot: membership id (bits 0-127, 0 = none), registrar-signed rotation nonce (bits
    /// 128-191; moves on every membership gain, loss or rotation), the two rotation flags and the time the
    /// current membership was gained, so that a registration writes one fresh slot for all of it, `snapshotVoter`
    /// reads one slot for a never-rotated member and `getPastBalanceOf` needs no checkpoint for a current holding.
    mapping(address account => uint256 record) private _members;

    /// @dev Per address, its past holdings only (VotesExtended's balance history, written when a holding ends):
    /// (gain time -> 1), (loss time -> 0). The current holding lives in the member record.
    mapping(address account => Checkpoints.Trace208) private _pastHoldings;

    /// @dev Credential hashes ever consumed.
    mapping(bytes32 credentialHash => bool used) private _credentialUsed;

    /// @dev Per key: (rotation time -> membership id rotated away from it).
    mapping(address account => Checkpoints.Trace208) private _rotatedAway;

    /// @dev Holder of each live membership token (ERC-721's own owner and balance slots stay unused).
    mapping(uint256 tokenId => address holder) private _holders;

    /// @dev Per membership: (rotation time -> the key it was rotated away from).
    mapping(uint256 tokenId => Checkpoints.Trace208) private _rotatedFrom;

    /// @dev Per address, its explicit delegate choices over time (empty: it delegates to itself, implicitly).
    mapping(address account => History) private _choices;

    /// @dev Per address, the votes other holders delegate to it, over time (its own vote is not counted here: it
    /// is derived from the member record and `_choices`).
    mapping(address account => History) private _received;

    /// @dev Live memberships over time (Votes' total-supply checkpoints, kept here since `_transferVotingUnits`
    /// is replaced).
    Checkpoints.Trace208 private _supply;

    /// @dev Told of every rotation and revocation (the exchange, whose credits follow the membership). Last, so
    /// that the slots before it keep their places.
    IMembershipHook private _membershipHook;

    // ─────────────────────────────── constructor ──────────────────────────────

    /// @notice Deploys the registry.
    /// @param admin Initial DEFAULT_ADMIN_ROLE holder (the deployer during deployment; the Timelock afterwards).
    constructor(address admin)
        ERC721("CivicDAO Citizen", "CITIZEN")
        EIP712("CivicDAO CitizenRegistry", "1")
    {
        if (admin == address(0)) revert CitizenRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ───────────────────────────────── external ───────────────────────────────

    /// @inheritdoc ICitizenRegistryFull
    function register(
        address citizen,
        bytes32 credentialHash
    ) external onlyRole(REGISTRAR_ROLE) returns (uint256 tokenId) {
        return _register(citizen, credentialHash, _msgSender());
    }

    /// @inheritdoc ICitizenRegistryFull
    function registerWithAttestation(
        address citizen,
        bytes32 credentialHash,
        uint256 expiry,
        bytes calldata signature
    ) external returns (uint256 tokenId) {
        bytes32 structHash = keccak256(abi.encode(ATTESTATION_TYPEHASH, citizen, credentialHash, expiry));
        address registrar = _checkRegistrarSignature(structHash, expiry, signature);
        return _register(citizen, credentialHash, registrar);
    }

    /// @inheritdoc ICitizenRegistryFull
    function revoke(address citizen, uint8 reason) external {
        address caller = _msgSender();
        if (!hasRole(REGISTRAR_ROLE, caller) && !hasRole(DEFAULT_ADMIN_ROLE, caller)) {
            revert CitizenRegistryUnauthorized(caller);
        }
        if (reason < REASON_MOVED_AWAY || reason > REASON_OTHER) revert CitizenRegistryInvalidReason(reason);
        uint256 record = _members[citizen];
        uint256 tokenId = record & _ID_MASK;
        if (tokenId == 0) revert CitizenRegistryNotMember(citizen);

        // no membership any more; the nonce moves, so a rotation signed for this membership dies with it
        _members[citizen] = (record & ~_HOLDING_MASK) + _NONCE_ONE;
        _closeHolding(citizen, record);
        _burn(tokenId); // voting units leave the holder's delegate now; past checkpoints are kept

        emit CitizenRevoked(citizen, tokenId, reason, caller);
        _notifyMoved(citizen, address(0), tokenId);
    }

    /// @inheritdoc ICitizenRegistryFull
    function setMembershipHook(address hook) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _membershipHook = IMembershipHook(hook);
        emit MembershipHookSet(hook);
    }

    /// @inheritdoc ICitizenRegistryFull
    function rotate(address from, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _rotate(from, to, _msgSender());
    }

    /// @inheritdoc ICitizenRegistryFull
    function rotateWithAttestation(address from, address to, uint256 expiry, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(ROTATION_TYPEHASH, from, to, _nonceOf(_members[from]), expiry));
        address registrar = _checkRegistrarSignature(structHash, expiry, signature);
        _rotate(from, to, registrar); // moves the nonce once, like every rotation
    }

    /// @notice Disabled: memberships are soulbound.
    /// @param tokenId The token concerned.
    function approve(address, uint256 tokenId) public pure override {
        revert CitizenRegistrySoulbound(tokenId);
    }

    /// @notice Disabled: memberships are soulbound.
    function setApprovalForAll(address, bool) public pure override {
        revert CitizenRegistrySoulbound(0);
    }

    /// @notice Disabled: memberships are soulbound (the 3-argument overload routes here too).
    /// @param tokenId The token concerned.
    function safeTransferFrom(address, address, uint256 tokenId, bytes memory) public pure override {
        revert CitizenRegistrySoulbound(tokenId);
    }

    // ─────────────────────────────────── views ────────────────────────────────

    /// @notice ERC-721 balance: 1 while `owner` holds a membership, else 0 (read from the member record).
    /// @param owner The address to query (the zero address is refused with ERC721InvalidOwner, as in ERC-721).
    /// @return The number of memberships held (0 or 1).
    function balanceOf(address owner) public view override returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _members[owner] & _ID_MASK != 0 ? 1 : 0;
    }

    /// @notice VotesExtended's getPastBalanceOf: the voting units (0 or 1) `account` held at `timepoint` (must
    /// be in the past). GovernorCountingOverridable reads it for override votes.
    /// @param account The address to query.
    /// @param timepoint The timepoint (unix seconds, before now).
    /// @return 1 if `account` held a membership then, else 0.
    function getPastBalanceOf(address account, uint256 timepoint) public view returns (uint256) {
        return _pastBalance(account, _members[account], _validateTimepoint(timepoint));
    }

    /// @notice VotesExtended's getPastDelegate: the delegate `account` had at `timepoint` (must be in the past).
    /// GovernorCountingOverridable reads it for override votes.
    /// @param account The address to query.
    /// @param timepoint The timepoint (unix seconds, before now).
    /// @return The delegate then: the explicit choice in force, else `account` itself if it had held a membership
    /// by then (self-delegation is implicit), else the zero address.
    function getPastDelegate(address account, uint256 timepoint) public view returns (address) {
        return _pastDelegate(account, _members[account], _validateTimepoint(timepoint));
    }

    /// @notice IVotes: the delegate of `account`: its explicit choice, else itself once it has ever held a
    /// membership (every membership is self-delegated until its holder delegates), else the zero address.
    /// @param account The address to query.
    /// @return The current delegate.
    function delegates(address account) public view override returns (address) {
        uint256 record = _members[account];
        if (record & _CHOSE != 0) return address(uint160(_choices[account].head));
        return record & _NONCE_MASK != 0 ? account : address(0);
    }

    /// @notice IVotes: the votes `account` casts now: memberships other holders delegate to it, plus its own if
    /// it holds one and delegates to itself.
    /// @param account The address to query.
    /// @return votes The current voting power.
    function getVotes(address account) public view override returns (uint256 votes) {
        uint256 record = _members[account];
        if (record & _RECEIVES != 0) votes = uint160(_received[account].head);
        if (record & _ID_MASK != 0 && (record & _CHOSE == 0 || address(uint160(_choices[account].head)) == account))
        {
            ++votes;
        }
    }

    /// @notice IVotes: the votes `account` could cast at `timepoint` (must be in the past).
    /// @param account The address to query.
    /// @param timepoint The timepoint (unix seconds, before now).
    /// @return votes The voting power at `timepoint`.
    function getPastVotes(address account, uint256 timepoint) public view override returns (uint256 votes) {
        uint48 t = _validateTimepoint(timepoint);
        uint256 record = _members[account];
        if (record & _RECEIVES != 0) votes = _valueAt(_received[account], t);
        if (_pastBalance(account, record, t) == 0) return votes;
        // it held a membership at `t`, so without an explicit choice in force then it was its own delegate
        if (record & _CHOSE == 0) return votes + 1;
        (bool found, uint256 chosen) = _lookup(_choices[account], t);
        if (!found || address(uint160(chosen)) == account) ++votes;
    }

    /// @notice IVotes: the live memberships at `timepoint` (must be in the past).
    /// @dev The latest supply is one slot (`_counters`): a governor fixing a proposal's quorum asks for its snapshot,
    /// and when no one registered or left since then the answer costs one read however long the history is;
    /// otherwise the history is searched back from its end (`_pastSupply`).
    /// @param timepoint The timepoint (unix seconds, before now).
    /// @return The total voting power then.
    function getPastTotalSupply(uint256 timepoint) public view override returns (uint256) {
        uint48 key = _validateTimepoint(timepoint);
        uint256 counters = _counters;
        if (counters >> _CHANGED_SHIFT <= key) return (counters >> _SUPPLY_SHIFT) & _COUNT_MASK;
        return _pastSupply(key);
    }

    /// @inheritdoc ICitizenRegistry
    function isCitizen(address account) external view returns (bool) {
        return _members[account] & _ID_MASK != 0;
    }

    /// @inheritdoc ICitizenRegistryFull
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @inheritdoc ICitizenRegistry
    function membershipOf(address account) external view returns (uint256) {
        return _members[account] & _ID_MASK;
    }

    /// @inheritdoc ICitizenRegistryFull
    function membershipHook() external view returns (address) {
        return address(_membershipHook);
    }

    /// @inheritdoc ICitizenRegistryFull
    function credentialUsed(bytes32 credentialHash) external view returns (bool) {
        return _credentialUsed[credentialHash];
    }

    /// @inheritdoc ICitizenRegistryFull
    function citizenCount() external view returns (uint256) {
        return _getTotalSupply(); // one voting unit per live membership
    }

    /// @inheritdoc ICitizenRegistryFull
    function rotationNonces(address from) external view returns (uint256) {
        return _nonceOf(_members[from]);
    }

    /// @inheritdoc ICitizenRegistryFull
    function snapshotVoter(address account, uint256 timepoint) external view returns (address) {
        uint48 after_ = SafeCast.toUint48(timepoint + 1); // rotations strictly after the snapshot
        uint256 record = _members[account];
        if (record & (_ROTATED_AWAY | _ID_ROTATED) == 0) return account; // never rotated: one read
        uint256 tokenId = record & _ID_MASK;
        if (record & _ID_ROTATED != 0) {
            address heldBy = address(uint160(_rotatedFrom[tokenId].lowerLookup(after_)));
            if (heldBy != address(0)) {
                // `heldBy` is the snapshot key of this membership only if this was the first membership it rotated
                // away after the snapshot (one heir per snapshot key).
                return _rotatedAway[heldBy].lowerLookup(after_) == tokenId ? heldBy : address(0);
            }
        }
        // slither-disable-next-line unused-return (the value, a membership id, is not needed here)
        (bool rotated, uint48 lastRotation, ) = _rotatedAway[account].latestCheckpoint();
        return rotated && lastRotation >= after_ ? address(0) : account;
    }

    /// @notice ERC-6372 clock: the block timestamp.
    /// @return The current timepoint.
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock description.
    /// @return "mode=timestamp".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice ERC-165 support: ERC-721, ERC-5192, AccessControl and ERC-165.
    /// @param interfaceId The interface id to query.
    /// @return Whether the interface is supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return interfaceId == _ERC5192_INTERFACE_ID || super.supportsInterface(interfaceId);
    }

    // ───────────────────────────────── internal ───────────────────────────────

    /// @dev Issues a membership: checks, consumes the credential, then mints. Self-delegation is implicit (see
    /// `delegates`): a holder who never chose a delegate votes for itself without a delegate or vote checkpoint
    /// of its own; only a holder who explicitly chose nobody (the zero address) is self-delegated explicitly.
    function _register(address citizen, bytes32 credentialHash, address registrar) internal returns (uint256) {
        if (citizen == address(0)) revert CitizenRegistryZeroAddress();
        if (credentialHash == bytes32(0)) revert CitizenRegistryZeroCredential();
        if (_credentialUsed[credentialHash]) revert CitizenRegistryCredentialUsed(credentialHash);
        uint256 record = _members[citizen];
        if (record & _ID_MASK != 0) revert CitizenRegistryAlreadyMember(citizen);

        uint256 tokenId = _counters & _COUNT_MASK;
        unchecked {
            ++_counters; // far below 2^64 registrations: the id never carries into the supply bits
        }
        _credentialUsed[credentialHash] = true;
        // The vote must be live on mint. The record holds no id yet, so these move no vote; minting moves it once.
        if (record & _CHOSE != 0) {
            if (_choices[citizen].head & type(uint160).max == 0) _delegate(citizen, citizen); // chose nobody
        } else if (record & _NONCE_MASK == 0) {
            emit DelegateChanged(citizen, address(0), citizen); // the implicit self-delegation begins
        }
        // The nonce moves: a rotation of `citizen` signed while it held no membership (or an earlier one) must not
        // apply to this one. Ids stay far below 2^128 (one per registration).
        _members[citizen] = record + _NONCE_ONE + tokenId + (uint256(clock()) << _SINCE_SHIFT);
        _mint(citizen, tokenId); // _mint, not _safeMint: no receiver callback, no reentrancy

        emit Locked(tokenId);
        emit CitizenRegistered(citizen, tokenId, credentialHash, registrar);
        return tokenId;
    }

    /// @dev Moves the membership of `from` to `to`; `to` inherits `from`'s delegate choice (self stays self).
    /// The one path of both rotations (DAO and registrar-signed): moves the rotation nonces of `from` and of `to`
    /// exactly once each.
    function _rotate(address from, address to, address authorizedBy) internal {
        if (to == address(0)) revert CitizenRegistryZeroAddress();
        uint256 fromRecord = _members[from];
        uint256 tokenId = fromRecord & _ID_MASK;
        if (tokenId == 0) revert CitizenRegistryNotMember(from);
        uint256 toRecord = _members[to];
        if (toRecord & _ID_MASK != 0) revert CitizenRegistryAlreadyMember(to);

        address fromDelegate = delegates(from);
        address newDelegate = fromDelegate == from ? to : fromDelegate;
        // `to` holds no units yet (its record holds no id), so this only records the choice; the move below
        // carries the vote once. Self stays implicit for a `to` that never chose.
        if (newDelegate == to && toRecord & _CHOSE == 0) {
            if (toRecord & _NONCE_MASK == 0) emit DelegateChanged(to, address(0), to);
        } else if (delegates(to) != newDelegate) {
            _delegate(to, newDelegate);
            toRecord = _members[to]; // now flagged as having chosen
        }

        // `from` holds nothing now and has a rotation history; its nonce moves, so any other signed rotation of
        // `from` is stale
        _members[from] = ((fromRecord & ~_HOLDING_MASK) | _ROTATED_AWAY) + _NONCE_ONE;
        _closeHolding(from, fromRecord);
        uint48 now_ = clock();
        // `to` gains a membership with a rotation history; its nonce moves, so a rotation of `to` signed while it
        // held none must not apply to this one
        _members[to] = (toRecord | _ID_ROTATED) + _NONCE_ONE + tokenId + (uint256(now_) << _SINCE_SHIFT);
        _recordFirst(_rotatedAway[from], now_, tokenId);
        _recordFirst(_rotatedFrom[tokenId], now_, uint160(from));
        _update(to, tokenId, address(0)); // internal move (auth = 0): moves the holder and the voting unit

        emit CitizenRotated(from, to, tokenId, authorizedBy);
        _notifyMoved(from, to, tokenId);
    }

    /// @dev Tells the hook (if any) that `from` lost `tokenId`, after every change of the registry's own: the
    /// hook is the DAO's exchange, and a hook that reverts undoes the rotation or revocation with it, so money
    /// never stays with a key that lost its membership.
    function _notifyMoved(address from, address to, uint256 tokenId) private {
        IMembershipHook hook = _membershipHook;
        if (address(hook) != address(0)) hook.onMembershipMoved(from, to, tokenId);
    }

    /// @dev Appends (`now_`, `value`) unless `trace` already has an entry at `now_` (the first one stands).
    function _recordFirst(Checkpoints.Trace208 storage trace, uint48 now_, uint256 value) private {
        // slither-disable-next-line unused-return (only the time of the last entry matters)
        (bool exists, uint48 last, ) = trace.latestCheckpoint();
        // slither-disable-next-line unused-return (push returns the old and new values, not needed)
        if (!exists || last != now_) trace.push(now_, uint208(value)); // ids and addresses fit in 208 bits
    }

    /// @dev The rotation nonce in a member record (one step per gain, loss or rotation: never reaches 2^64).
    function _nonceOf(uint256 record) private pure returns (uint256) {
        return uint64(record >> 128);
    }

    /// @dev Checks expiry and recovers a registrar's EIP-712 signature over `structHash`.
    function _checkRegistrarSignature(
        bytes32 structHash,
        uint256 expiry,
        bytes calldata signature
    ) internal view returns (address signer) {
        if (block.timestamp > expiry) revert CitizenRegistrySignatureExpired(expiry);
        ECDSA.RecoverError err;
        // slither-disable-next-line unused-return (the third value only details `err`, which is checked)
        (signer, err, ) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError) revert CitizenRegistryInvalidSignature();
        if (!hasRole(REGISTRAR_ROLE, signer)) revert CitizenRegistrySignerNotRegistrar(signer);
    }

    /// @dev Soulbound guard: `transferFrom` (and any other public path) passes the caller as `auth` and reverts
    /// here; only internal mints, burns and rotations (all with `auth == 0`) go through. (`transferFrom` to the
    /// zero address is refused earlier by ERC721 with `ERC721InvalidReceiver`.) Replaces ERC721's storage update
    /// (and ERC721Votes', which it repeats): the holder goes to `_holders`, there are no approvals to clear, and
    /// the balance is read from the member record (written before every mint, burn and rotation), so a
    /// registration writes no ERC-721 balance slot. Then the voting unit moves as ERC721Votes moves it.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        if (auth != address(0)) revert CitizenRegistrySoulbound(tokenId);
        from = _holders[tokenId];
        _holders[tokenId] = to;
        emit Transfer(from, to, tokenId);
        _transferVotingUnits(from, to, 1);
    }

    /// @dev The holder of `tokenId` (address(0) for none), from `_holders`.
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        return _holders[tokenId];
    }

    /// @dev Replaces Votes' and VotesExtended's delegation bookkeeping (measured, benchmarks/REPORT.md): their
    /// delegate slot, delegate-history and vote checkpoints cost a registration 5 fresh slots and a delegation
    /// 3 (registration 253,637 gas, delegation 127,527 against stock ERC20Votes' 96,651). Here a holder who never
    /// chose delegates to itself implicitly and its own vote is derived from the member record, so a registration
    /// writes no delegation or vote state; an explicit choice is a `History` in `_choices`, and `_received` counts
    /// only votes delegated by other holders (both first written in one fresh slot each, see `History`).
    /// Emits DelegateChanged and DelegateVotesChanged as Votes does.
    function _delegate(address account, address delegatee) internal override {
        uint256 record = _members[account];
        address oldDelegate = delegates(account);
        _write(_choices[account], uint160(delegatee));
        if (record & _CHOSE == 0) _members[account] = record | _CHOSE;
        emit DelegateChanged(account, oldDelegate, delegatee);
        if (record & _ID_MASK != 0 && oldDelegate != delegatee) {
            _unitMoved(account, oldDelegate, false);
            _unitMoved(account, delegatee, true);
        }
    }

    /// @dev Moves a membership's vote from `from`'s delegate to `to`'s (mint: `from` is 0, burn: `to` is 0) and
    /// keeps the total supply. Called after the member records changed, so the holders' own (derived) votes have
    /// already moved; only votes delegated to someone else are written.
    function _transferVotingUnits(address from, address to, uint256 amount) internal override {
        if (from == address(0) || to == address(0)) {
            uint256 counters = _counters;
            uint256 supply = (counters >> _SUPPLY_SHIFT) & _COUNT_MASK;
            supply = from == address(0) ? supply + amount : supply - amount;
            uint48 now_ = clock();
            _counters = (counters & _COUNT_MASK) | (supply << _SUPPLY_SHIFT) | (uint256(now_) << _CHANGED_SHIFT);
            // slither-disable-next-line unused-return (push returns the old and new values, not needed)
            _supply.push(now_, uint208(supply));
        }
        address fromDelegate = from == address(0) ? address(0) : delegates(from);
        address toDelegate = to == address(0) ? address(0) : delegates(to);
        if (from != address(0) && to != address(0) && fromDelegate == toDelegate) {
            // A rotation that keeps the delegate: its power is unchanged (no event, as in Votes). Only a vote that
            // becomes (or stops being) the delegate's own is written: rotated onto the delegate itself.
            if (fromDelegate != from && toDelegate == to) _add(toDelegate, false);
            else if (fromDelegate == from && toDelegate != to) _add(toDelegate, true);
            return;
        }
        if (from != address(0)) _unitMoved(from, fromDelegate, false);
        if (to != address(0)) _unitMoved(to, toDelegate, true);
    }

    /// @dev The live memberships (Votes' total supply).
    function _getTotalSupply() internal view override returns (uint256) {
        return (_counters >> _SUPPLY_SHIFT) & _COUNT_MASK;
    }

    /// @dev The supply at `key` from the checkpoint history, searched back from its end: doubling steps until a
    /// checkpoint at or before `key`, then a binary search between the last two probes, so k changes after `key`
    /// cost O(log k) reads. OpenZeppelin's `upperLookupRecent` probes sqrt(n) from the end and otherwise searches the
    /// whole history, so a snapshot more than sqrt(n) registrations old would cost O(log n): a first ballot's
    /// quorum lookup would grow with the city (issue 11).
    function _pastSupply(uint48 key) private view returns (uint256) {
        uint256 high = _supply.length(); // every checkpoint from `high` on is after `key`
        uint256 low = 0;
        uint256 step = 1;
        while (true) {
            if (high == 0) return 0; // before the first registration
            low = high > step ? high - step : 0;
            if (_supply.at(uint32(low))._key <= key) break;
            high = low;
            step <<= 1;
        }
        while (high - low > 1) {
            uint256 mid = (low + high) / 2; // `low` is at or before `key`, `high` after it
            if (_supply.at(uint32(mid))._key <= key) low = mid;
            else high = mid;
        }
        return _supply.at(uint32(low))._value;
    }

    /// @dev One vote of `holder` left (`gained` false) or reached (`gained` true) `delegate_`, whose own record or
    /// choice already reflects it when `delegate_` is `holder`; writes `_received` otherwise and emits
    /// DelegateVotesChanged.
    function _unitMoved(address holder, address delegate_, bool gained) private {
        if (delegate_ == address(0)) return; // delegated to nobody: no one's votes change
        if (delegate_ != holder) _add(delegate_, gained);
        uint256 votes = getVotes(delegate_);
        emit DelegateVotesChanged(delegate_, gained ? votes - 1 : votes + 1, votes);
    }

    /// @dev Adds (or removes) one vote delegated to `delegate_` by another holder.
    function _add(address delegate_, bool gained) private {
        uint256 record = _members[delegate_];
        History storage received = _received[delegate_];
        uint256 count = record & _RECEIVES != 0 ? uint160(received.head) : 0;
        _write(received, gained ? count + 1 : count - 1);
        if (record & _RECEIVES == 0) _members[delegate_] = record | _RECEIVES;
    }

    /// @dev Sets `value` (< 2^160) as of now: overwrites the head within the same timepoint, else moves the head
    /// into `past` first (the first write of a history is one fresh slot).
    function _write(History storage history, uint256 value) private {
        uint256 head = history.head;
        uint256 since = uint48(head >> _TIME_SHIFT);
        uint256 length = head >> _LENGTH_SHIFT;
        uint48 now_ = clock();
        if (since != 0 && since != now_) {
            history.past[length] = uint160(head) | (since << _TIME_SHIFT);
            ++length;
        }
        history.head = value | (uint256(now_) << _TIME_SHIFT) | (length << _LENGTH_SHIFT);
    }

    /// @dev The value `history` held at `t`: (false, 0) before its first entry. Reads the head, then the latest
    /// earlier entry, then searches the rest (binary search; recent timepoints are the common case).
    function _lookup(History storage history, uint48 t) private view returns (bool found, uint256 value) {
        uint256 head = history.head;
        uint256 since = uint48(head >> _TIME_SHIFT);
        if (since == 0) return (false, 0);
        if (t >= since) return (true, uint160(head));
        uint256 high = head >> _LENGTH_SHIFT;
        if (high == 0) return (false, 0);
        uint256 latest = history.past[high - 1];
        if (uint48(latest >> _TIME_SHIFT) <= t) return (true, uint160(latest));
        --high; // the answer is older than the latest earlier entry
        uint256 low;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (uint48(history.past[mid] >> _TIME_SHIFT) > t) high = mid;
            else low = mid + 1;
        }
        if (high == 0) return (false, 0);
        return (true, uint160(history.past[high - 1]));
    }

    /// @dev The value of a count history at `t` (0 before its first entry).
    function _valueAt(History storage history, uint48 t) private view returns (uint256 value) {
        // slither-disable-next-line unused-return (a count is 0 before its first entry: `found` adds nothing)
        (, value) = _lookup(history, t);
    }

    /// @dev 1 if `account` (whose member record is `record`) held a membership at `t`.
    function _pastBalance(address account, uint256 record, uint48 t) private view returns (uint256) {
        if (record & _ID_MASK != 0 && t >= uint48(record >> _SINCE_SHIFT)) return 1;
        return _pastHoldings[account].upperLookupRecent(t);
    }

    /// @dev The delegate of `account` (member record `record`) at `t`: see `getPastDelegate`.
    function _pastDelegate(address account, uint256 record, uint48 t) private view returns (address) {
        if (record & _CHOSE != 0) {
            (bool found, uint256 chosen) = _lookup(_choices[account], t);
            if (found) return address(uint160(chosen));
        }
        if (record & _NONCE_MASK == 0) return address(0); // never held a membership, never chose
        // implicit self from its first membership on: held now since `t` or before, or held earlier
        if (record & _ID_MASK != 0 && t >= uint48(record >> _SINCE_SHIFT)) return account;
        Checkpoints.Trace208 storage past = _pastHoldings[account];
        return past.length() != 0 && past.at(0)._key <= t ? account : address(0);
    }

    /// @dev Records the end of the holding in `record` (the address's record before the loss) in `_pastHoldings`.
    function _closeHolding(address account, uint256 record) private {
        Checkpoints.Trace208 storage past = _pastHoldings[account];
        // slither-disable-next-line unused-return (push returns the old and new values, not needed)
        past.push(uint48(record >> _SINCE_SHIFT), 1);
        // slither-disable-next-line unused-return (as above)
        past.push(clock(), 0);
    }
}
