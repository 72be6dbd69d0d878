// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {VotesExtended} from "@openzeppelin/contracts/governance/utils/VotesExtended.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {ICitizenRegistry} from "./interfaces/ICitizenRegistry.sol";
import {ICitizenRegistryFull} from "./interfaces/ICitizenRegistryFull.sol";

/// @title CitizenRegistry
/// @notice One soulbound (ERC-5192) residency membership per verified resident, with OpenZeppelin voting power
/// (1 membership = 1 vote) on an ERC-6372 timestamp clock. A registrar attests residency off-chain; the chain
/// keeps only a salted credential hash, consumed forever, so nobody can register twice and nobody learns who a
/// member is.
/// @dev Composition: ERC721 + ERC721Votes (votes follow the token) + VotesExtended (checkpointed delegates and
/// balances, required by GovernorCountingOverridable) + AccessControl. EIP712 comes through Votes with the
/// domain name "CivicDAO CitizenRegistry", version "1".
/// Nonces: OpenZeppelin's `nonces(address)` (from Votes) is used only by `delegateBySig`. Registrar-signed
/// rotations use a separate per-`from` counter, `rotationNonces(address)`, so a pending rotation never
/// invalidates a citizen's pending delegation signature and vice versa. That counter moves once on every
/// gain, loss or rotation of a membership by an address: its registration, a rotation to it, a rotation away
/// from it (registrar-signed or by the DAO) and its revocation. So a signed rotation is only good while nothing
/// else has happened to the address it was signed for: a DAO rotation, a revocation or a revocation followed by
/// a re-registration all void it, and so does the address gaining a membership after the signature (a rotation
/// signed while it held none never applies to the membership it gets later).
/// Delegation to a rotated-away address: votes that *other* citizens delegated to `from` stay with `from`
/// (their choice, not ours); those delegators re-delegate if they wish.
contract CitizenRegistry is ERC721Votes, VotesExtended, AccessControl, ICitizenRegistryFull {
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

    /// @dev Next token id to mint (ids start at 1, so 0 means "no membership").
    uint256 private _nextTokenId = 1;

    /// @dev Membership token id per address (0 = none).
    mapping(address account => uint256 tokenId) private _membershipOf;

    /// @dev Credential hashes ever consumed.
    mapping(bytes32 credentialHash => bool used) private _credentialUsed;

    /// @dev Registrar-signed rotation nonce per `from` address (moves on every membership gain, loss or rotation).
    mapping(address from => uint256 nonce) private _rotationNonces;

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
        uint256 tokenId = _membershipOf[citizen];
        if (tokenId == 0) revert CitizenRegistryNotMember(citizen);

        delete _membershipOf[citizen];
        _bumpRotationNonce(citizen); // a rotation signed for this membership dies with it
        _burn(tokenId); // voting units leave the holder's delegate now; past checkpoints are kept

        emit CitizenRevoked(citizen, tokenId, reason, caller);
    }

    /// @inheritdoc ICitizenRegistryFull
    function rotate(address from, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _rotate(from, to, _msgSender());
    }

    /// @inheritdoc ICitizenRegistryFull
    function rotateWithAttestation(address from, address to, uint256 expiry, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(ROTATION_TYPEHASH, from, to, _rotationNonces[from], expiry));
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

    /// @inheritdoc ICitizenRegistry
    function isCitizen(address account) external view returns (bool) {
        return _membershipOf[account] != 0;
    }

    /// @inheritdoc ICitizenRegistryFull
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @inheritdoc ICitizenRegistry
    function membershipOf(address account) external view returns (uint256) {
        return _membershipOf[account];
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
        return _rotationNonces[from];
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

    /// @dev Issues a membership: checks, consumes the credential, self-delegates if the holder has no delegate
    /// yet (so votes are live on mint), then mints.
    function _register(address citizen, bytes32 credentialHash, address registrar) internal returns (uint256) {
        if (citizen == address(0)) revert CitizenRegistryZeroAddress();
        if (credentialHash == bytes32(0)) revert CitizenRegistryZeroCredential();
        if (_credentialUsed[credentialHash]) revert CitizenRegistryCredentialUsed(credentialHash);
        if (_membershipOf[citizen] != 0) revert CitizenRegistryAlreadyMember(citizen);

        uint256 tokenId = _nextTokenId;
        unchecked {
            ++_nextTokenId;
        }
        _credentialUsed[credentialHash] = true;
        _membershipOf[citizen] = tokenId;
        // A rotation of `citizen` signed while it held no membership (or an earlier one) must not apply to this one.
        _bumpRotationNonce(citizen);

        // Delegating first (0 units) and minting second moves the single unit once, straight to the delegate.
        if (delegates(citizen) == address(0)) _delegate(citizen, citizen);
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
        uint256 tokenId = _membershipOf[from];
        if (tokenId == 0) revert CitizenRegistryNotMember(from);
        if (_membershipOf[to] != 0) revert CitizenRegistryAlreadyMember(to);

        delete _membershipOf[from];
        _membershipOf[to] = tokenId;
        _bumpRotationNonce(from); // any other signed rotation of `from` is now stale
        // `to` gains a membership: a rotation of `to` signed while it held none must not apply to this one.
        _bumpRotationNonce(to);

        address fromDelegate = delegates(from);
        address newDelegate = fromDelegate == from ? to : fromDelegate;
        // `to` holds no units yet, so this only records the choice; the move below carries the vote once.
        if (delegates(to) != newDelegate) _delegate(to, newDelegate);
        _update(to, tokenId, address(0)); // internal move (auth = 0); ERC721Votes moves the voting unit

        emit CitizenRotated(from, to, tokenId, authorizedBy);
    }

    /// @dev Voids every registrar-signed rotation of `from` made so far (they carry the old nonce).
    function _bumpRotationNonce(address from) internal {
        unchecked {
            ++_rotationNonces[from]; // one step per gain, loss or rotation of a membership: cannot reach 2^256
        }
    }

    /// @dev Checks expiry and recovers a registrar's EIP-712 signature over `structHash`.
    function _checkRegistrarSignature(
        bytes32 structHash,
        uint256 expiry,
        bytes calldata signature
    ) internal view returns (address signer) {
        if (block.timestamp > expiry) revert CitizenRegistrySignatureExpired(expiry);
        ECDSA.RecoverError err;
        // slither-disable-next-line unused-return — the third value only details `err`
        (signer, err, ) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError) revert CitizenRegistryInvalidSignature();
        if (!hasRole(REGISTRAR_ROLE, signer)) revert CitizenRegistrySignerNotRegistrar(signer);
    }

    /// @dev Soulbound guard: `transferFrom` (and any other public path) passes the caller as `auth` and reverts
    /// here; only internal mints, burns and rotations (all with `auth == 0`) go through. (`transferFrom` to the
    /// zero address is refused earlier by ERC721 with `ERC721InvalidReceiver`.)
    function _update(
        address to,
        uint256 tokenId,
        address auth
    ) internal override returns (address) {
        if (auth != address(0)) revert CitizenRegistrySoulbound(tokenId);
        return super._update(to, tokenId, auth);
    }

    /// @dev Resolves Votes / VotesExtended (VotesExtended checkpoints the delegate).
    function _delegate(address account, address delegatee) internal override(Votes, VotesExtended) {
        super._delegate(account, delegatee);
    }

    /// @dev Resolves Votes / VotesExtended (VotesExtended checkpoints balances after the move).
    function _transferVotingUnits(address from, address to, uint256 amount) internal override(Votes, VotesExtended) {
        super._transferVotingUnits(from, to, amount);
    }
}
