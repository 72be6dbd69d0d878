// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICitizenRegistry} from "./ICitizenRegistry.sol";

/// @title ICitizenRegistryFull
/// @notice The complete CivicDAO citizen registry: soulbound (ERC-5192) residency memberships, registrar
/// attestations (EIP-712), revocation and key rotation. Voting (ERC-5805 / IVotes) and ERC-721 come from
/// OpenZeppelin and are not repeated here.
/// @dev Nothing personal is stored: a membership is an address, a token id and a salted credential hash that is
/// computed off-chain by the registrar.
interface ICitizenRegistryFull is ICitizenRegistry {
    // ───────────────────────────────── errors ─────────────────────────────────

    /// @notice Thrown when anyone tries to transfer or approve a membership token (memberships are soulbound).
    /// @param tokenId The membership token concerned (0 for `setApprovalForAll`).
    error CitizenRegistrySoulbound(uint256 tokenId);

    /// @notice Thrown when a citizen (or rotation target) address is the zero address.
    error CitizenRegistryZeroAddress();

    /// @notice Thrown when a registration carries a zero credential hash.
    error CitizenRegistryZeroCredential();

    /// @notice Thrown when a credential hash was already used once (credential hashes are consumed forever).
    /// @param credentialHash The reused credential hash.
    error CitizenRegistryCredentialUsed(bytes32 credentialHash);

    /// @notice Thrown when an address that already holds a membership would receive a second one.
    /// @param account The address that already holds a membership.
    error CitizenRegistryAlreadyMember(address account);

    /// @notice Thrown when an address that holds no membership is revoked or rotated.
    /// @param account The address without a membership.
    error CitizenRegistryNotMember(address account);

    /// @notice Thrown when an attestation or rotation signature is used after its expiry (unix seconds).
    /// @param expiry The expiry that has passed.
    error CitizenRegistrySignatureExpired(uint256 expiry);

    /// @notice Thrown when a signature is malformed (wrong length, invalid `s` or `v`) and recovers no signer.
    error CitizenRegistryInvalidSignature();

    /// @notice Thrown when a signature recovers to an account that does not hold REGISTRAR_ROLE. This is also
    /// what a signature made for another chain id, another registry contract or other data produces, and what a
    /// rotation signed at a stale nonce (see `rotationNonces`) produces.
    /// @param signer The recovered signer.
    error CitizenRegistrySignerNotRegistrar(address signer);

    /// @notice Thrown when a revocation reason is not one of the documented codes (1 to 4).
    /// @param reason The unknown reason code.
    error CitizenRegistryInvalidReason(uint8 reason);

    /// @notice Thrown when `revoke` is called by an account that is neither a registrar nor an admin.
    /// @param caller The unauthorized caller.
    error CitizenRegistryUnauthorized(address caller);

    // ───────────────────────────────── events ─────────────────────────────────

    /// @notice ERC-5192: emitted when a token becomes locked (every membership, at mint).
    /// @param tokenId The locked token.
    event Locked(uint256 tokenId);

    /// @notice ERC-5192: declared for the standard; never emitted (memberships never unlock).
    /// @param tokenId The unlocked token.
    event Unlocked(uint256 tokenId);

    /// @notice Emitted when a membership is issued.
    /// @param citizen The new member.
    /// @param tokenId The membership token id.
    /// @param credentialHash The consumed salted credential hash.
    /// @param registrar The registrar who called `register` or signed the attestation.
    event CitizenRegistered(
        address indexed citizen,
        uint256 indexed tokenId,
        bytes32 indexed credentialHash,
        address registrar
    );

    /// @notice Emitted when a membership is revoked (burned).
    /// @param citizen The former member.
    /// @param tokenId The burned token id.
    /// @param reason The reason code (1 MOVED_AWAY, 2 FRAUD, 3 DECEASED, 4 OTHER).
    /// @param revokedBy The registrar or admin who revoked.
    event CitizenRevoked(address indexed citizen, uint256 indexed tokenId, uint8 reason, address revokedBy);

    /// @notice Emitted when a membership moves to a new key.
    /// @param from The old address.
    /// @param to The new address.
    /// @param tokenId The membership token id (unchanged).
    /// @param authorizedBy The admin who called `rotate` or the registrar who signed the rotation.
    event CitizenRotated(address indexed from, address indexed to, uint256 indexed tokenId, address authorizedBy);

    /// @notice Emitted when the admin sets the contract told of every rotation and revocation.
    /// @param hook The new hook (address(0): none).
    event MembershipHookSet(address indexed hook);

    // ──────────────────────────────── functions ───────────────────────────────

    /// @notice Registers `citizen` with a salted credential hash. Only REGISTRAR_ROLE. Moves
    /// `rotationNonces(citizen)`, so a rotation signed before the registration never applies to the new membership.
    /// @param citizen The resident's address (must hold no membership).
    /// @param credentialHash The salted credential hash (non-zero, never used before).
    /// @return tokenId The new membership token id.
    function register(address citizen, bytes32 credentialHash) external returns (uint256 tokenId);

    /// @notice Registers `citizen` on the strength of a registrar's EIP-712 `Attestation` signature. Anyone may
    /// relay it. Moves `rotationNonces(citizen)`, like `register`.
    /// @param citizen The resident's address (must hold no membership).
    /// @param credentialHash The salted credential hash (non-zero, never used before).
    /// @param expiry Unix time after which the signature is no longer valid.
    /// @param signature The registrar's 65-byte ECDSA signature over the typed data.
    /// @return tokenId The new membership token id.
    function registerWithAttestation(
        address citizen,
        bytes32 credentialHash,
        uint256 expiry,
        bytes calldata signature
    ) external returns (uint256 tokenId);

    /// @notice Revokes (burns) `citizen`'s membership. Only REGISTRAR_ROLE or DEFAULT_ADMIN_ROLE. Moves
    /// `rotationNonces(citizen)`, so a rotation signed for the revoked membership never applies to a later one.
    /// @param citizen The member to revoke.
    /// @param reason One of 1 MOVED_AWAY, 2 FRAUD, 3 DECEASED, 4 OTHER.
    function revoke(address citizen, uint8 reason) external;

    /// @notice Moves `from`'s membership to `to`. Only DEFAULT_ADMIN_ROLE (the Timelock). Moves
    /// `rotationNonces(from)`, so registrar-signed rotations of `from` not yet relayed are void, and
    /// `rotationNonces(to)`, so a rotation of `to` signed while it held no membership never applies to this one.
    /// @param from The current member.
    /// @param to The new key (must hold no membership).
    function rotate(address from, address to) external;

    /// @notice Moves `from`'s membership to `to` on the strength of a registrar's EIP-712 `Rotation` signature
    /// carrying the current `rotationNonces(from)`, which then moves by one (and so does `rotationNonces(to)`, as
    /// in `rotate`). Anyone may relay it.
    /// @param from The current member.
    /// @param to The new key (must hold no membership).
    /// @param expiry Unix time after which the signature is no longer valid.
    /// @param signature The registrar's 65-byte ECDSA signature over the typed data.
    function rotateWithAttestation(address from, address to, uint256 expiry, bytes calldata signature) external;

    /// @notice ERC-5192: whether `tokenId` is locked (always true for an existing token; reverts otherwise).
    /// @param tokenId The token to query.
    /// @return Always true.
    function locked(uint256 tokenId) external view returns (bool);

    /// @notice Sets the contract told of every rotation and revocation (`IMembershipHook.onMembershipMoved`, called
    /// in the same transaction, after the registry's own changes): the exchange, whose credits are kept by address
    /// and move with the membership. Only DEFAULT_ADMIN_ROLE (the Timelock after deployment).
    /// @param hook The hook, or address(0) for none.
    function setMembershipHook(address hook) external;

    /// @notice The contract told of every rotation and revocation (address(0): none).
    /// @return The hook.
    function membershipHook() external view returns (address);

    /// @notice Whether a credential hash has ever been consumed.
    /// @param credentialHash The hash to query.
    /// @return True once used (stays true after revocation).
    function credentialUsed(bytes32 credentialHash) external view returns (bool);

    /// @notice The number of live (not revoked) memberships.
    /// @return The live member count.
    function citizenCount() external view returns (uint256);

    /// @notice The nonce the next registrar-signed `Rotation` of `from` must carry. It moves by exactly one on
    /// every gain, loss or rotation of a membership by `from`: its registration, a rotation to it, a rotation away
    /// from it (signed or by the DAO) and its revocation. A signature made at an older nonce is refused with
    /// `CitizenRegistrySignerNotRegistrar` (the digest no longer matches), so a rotation signed while `from` held
    /// no membership never applies to one it gains later.
    /// @param from The member address.
    /// @return The current rotation nonce.
    function rotationNonces(address from) external view returns (uint256);

    /// @notice Whose snapshot ballot `account` casts on a proposal whose snapshot is `timepoint`, with the key
    /// rotations made after the snapshot applied: a membership's vote on proposals still open follows the
    /// resident to the new key, and the old key keeps none.
    /// - `account` holds a membership that was rotated after `timepoint`: the key that held it at `timepoint`
    ///   (that key's whole snapshot weight, including votes delegated to it, is cast under that key's receipt);
    /// - otherwise, `account` rotated a membership away after `timepoint`: address(0) (it votes nothing);
    /// - otherwise `account` itself.
    /// At most one key maps to any snapshot key, so no snapshot weight can be cast twice. Revocation is not a
    /// rotation: a member revoked after the snapshot keeps that proposal's ballot (the snapshot rule).
    /// @param account The key that wants to vote.
    /// @param timepoint The proposal's snapshot (unix seconds).
    /// @return The key whose snapshot weight and ballot receipt `account` uses, or address(0) for none.
    function snapshotVoter(address account, uint256 timepoint) external view returns (address);
}
