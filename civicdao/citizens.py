"""Citizens: register verified residents, attest residency off-chain, revoke, rotate lost keys, delegate.

A resident proves residency to a *registrar* (a town-hall desk, a neighbourhood association) off-chain.
The registrar turns the proof into a **salted credential hash** with :func:`credential_hash` and either
registers the resident itself (:meth:`Citizens.register`) or signs an EIP-712
:class:`~civicdao.signing.Attestation` that anyone may relay (:meth:`Citizens.attest`, then
:meth:`Citizens.register_with_attestation`). Only the hash goes on-chain: the credential and the salt stay
with the registrar, so nobody learns who a member is, while the same credential can never register twice
(the hash is consumed forever).

Memberships are soulbound (ERC-5192): they cannot be transferred or approved. A lost key is recovered by
*rotation* — by the DAO (:meth:`Citizens.rotate_action`, executed by the Timelock) or on a registrar's
signed :class:`~civicdao.signing.Rotation` (:meth:`Citizens.attest_rotation`,
:meth:`Citizens.rotate_with_attestation`). Moving away or fraud ends a membership by *revocation* with a
reason code. A signed rotation carries the registry's rotation nonce of the old key
(:meth:`Citizens.rotation_nonce`), which moves on every gain, loss or rotation of a membership by that key
(registration, rotation to or from it, revocation): once the DAO has rotated or revoked the membership, a
signature not yet relayed is void (``CitizenRegistrySignerNotRegistrar``), even if the key is registered
again later, and a rotation signed
while the key held no membership is void once it gains one.

Every membership carries one vote, live from the moment it is minted (self-delegated). A citizen may
delegate it (:meth:`Citizens.delegate`) and still override the delegate's ballot on any proposal.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.types import BlockIdentifier

from civicdao import signing
from civicdao._validate import ParsableEnum, bytes32, whole_number
from civicdao.accounts import Signer, checksum
from civicdao.client import ContractClient
from civicdao.errors import ConfigError, InvalidAddressError
from civicdao.governance import Action
from civicdao.signing import Attestation, Rotation
from civicdao.tokens import ZERO_ADDRESS
from civicdao.tx import TxRecord, call

__all__ = [
    "AttestationMismatchError",
    "CitizenInfo",
    "Citizens",
    "Delegated",
    "Registration",
    "Revocation",
    "RevocationReason",
    "Rotated",
    "credential_hash",
    "new_salt",
]

logger = logging.getLogger(__name__)

#: How long an attestation stays valid unless told otherwise (seconds).
DEFAULT_ATTESTATION_VALIDITY = 7 * 24 * 3_600
#: How long a rotation signature stays valid unless told otherwise (seconds).
DEFAULT_ROTATION_VALIDITY = 24 * 3_600
#: Shortest salt accepted by :func:`credential_hash` (bytes).
MIN_SALT_BYTES = 16


class AttestationMismatchError(ConfigError):
    """A signed attestation or rotation was made for another chain or another registry than this one."""


class RevocationReason(ParsableEnum):
    """Why a membership ends (the registry's reason codes).

    ``RevocationReason.parse("moved away")`` (or ``"moved_away"``, ``"fraud"``, ``1``) reads user input.
    """

    MOVED_AWAY = 1
    FRAUD = 2
    DECEASED = 3
    OTHER = 4


# -- records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """A membership issued."""

    citizen: ChecksumAddress
    membership_id: int
    credential_hash: bytes
    registrar: ChecksumAddress
    tx: TxRecord


@dataclass(frozen=True)
class Revocation:
    """A membership ended (burned). Its credential hash stays consumed."""

    citizen: ChecksumAddress
    membership_id: int
    reason: RevocationReason
    revoked_by: ChecksumAddress
    tx: TxRecord


@dataclass(frozen=True)
class Rotated:
    """A membership moved to a new key (same membership id, same vote)."""

    from_address: ChecksumAddress
    to_address: ChecksumAddress
    membership_id: int
    authorized_by: ChecksumAddress
    tx: TxRecord


@dataclass(frozen=True)
class Delegated:
    """A vote delegated: ``delegator``'s membership now counts for ``delegatee``."""

    delegator: ChecksumAddress
    delegatee: ChecksumAddress
    previous: ChecksumAddress | None
    tx: TxRecord


@dataclass(frozen=True)
class CitizenInfo:
    """What the registry knows about an address right now."""

    address: ChecksumAddress
    is_citizen: bool
    #: Membership token id (0 = none).
    membership_id: int
    #: Votes this address casts now: its own membership if self-delegated, plus memberships delegated to it.
    votes: int
    #: Whom this address's membership counts for (None = nobody chose yet).
    delegatee: ChecksumAddress | None


# -- credential hashes ------------------------------------------------------------------------------------


def new_salt() -> bytes:
    """A fresh 32-byte secret salt for a registrar (generate once, keep it secret, never put it on-chain)."""
    return secrets.token_bytes(32)


def credential_hash(credential: str | bytes, *, salt: bytes) -> bytes:
    """The salted hash of a residency credential, the only trace of it that goes on-chain.

    ``keccak256(keccak256(salt) || credential)``. A text credential is normalised first (Unicode NFKC,
    whitespace collapsed, case folded) so ``"ab 123"`` and ``"AB  123 "`` give the same hash: the same
    person cannot register twice by retyping. The **salt is the registrar's secret**, the same for every
    credential it hashes (otherwise duplicates would not collide): without it nobody can test guesses of
    permit numbers against the public hashes. Registrars who must detect each other's duplicates share
    one salt.

    Raises:
        ConfigError: an empty credential or a salt shorter than 16 bytes.
    """
    if not isinstance(salt, bytes | bytearray) or len(salt) < MIN_SALT_BYTES:
        raise ConfigError(f"the salt must be at least {MIN_SALT_BYTES} secret bytes (see new_salt())")
    if isinstance(credential, str):
        normalised = " ".join(unicodedata.normalize("NFKC", credential).split()).casefold()
        data = normalised.encode()
    elif isinstance(credential, bytes | bytearray):
        data = bytes(credential)
    else:
        raise ConfigError(f"a credential is text or bytes, not {type(credential).__name__}")
    if not data:
        raise ConfigError("the credential is empty")
    return bytes(Web3.keccak(bytes(Web3.keccak(bytes(salt))) + data))


# -- the registry -----------------------------------------------------------------------------------------


class Citizens(ContractClient):
    """Typed access to a CitizenRegistry (``.contract``).

    Build it with ``dao.citizens`` (:class:`civicdao.CivicDAO`), :meth:`from_suite` or :meth:`at`.
    """

    ARTIFACT = "CitizenRegistry"
    SUITE_KEY = "registry"

    # -- registration -------------------------------------------------------------------------------------

    def register(self, registrar: Signer, citizen: str, credential_hash: bytes) -> Registration:
        """Issue a membership to ``citizen`` for a salted credential hash. Only a registrar may."""
        who = _citizen_address(citizen)
        digest = _credential(credential_hash)
        record = self._send(registrar, self.contract.functions.register(who, digest))
        return self._registration(record)

    def attest(
        self,
        registrar: Signer,
        citizen: str,
        credential_hash: bytes,
        *,
        expiry: int | None = None,
        valid_for: int = DEFAULT_ATTESTATION_VALIDITY,
    ) -> Attestation:
        """Sign (off-chain, nothing is sent) an attestation that ``citizen`` holds ``credential_hash``.

        ``expiry`` is a unix time; by default the chain's time plus ``valid_for`` seconds. A
        :class:`~civicdao.accounts.LocalSigner` signs in memory; a node account signs through the node's
        ``eth_signTypedData_v4``.
        """
        domain = signing.registry_domain(self.w3.eth.chain_id, self.address)
        unsigned = Attestation(
            registrar=registrar.address,
            citizen=_citizen_address(citizen),
            credential_hash=_credential(credential_hash),
            expiry=self._expiry(expiry, valid_for),
            signature=b"",
            domain=domain,
        )
        attestation = dataclasses.replace(unsigned, signature=self._sign(registrar, unsigned.typed_data()))
        logger.info(
            "attestation for %s signed by %s, valid until %s",
            attestation.citizen,
            registrar.address,
            attestation.expiry,
        )
        return attestation

    def register_with_attestation(self, relayer: Signer, attestation: Attestation) -> Registration:
        """Relay a registrar's attestation: the relayer pays gas, ``attestation.citizen`` gets the membership.

        Raises:
            AttestationMismatchError: it was signed for another chain or registry (before anything is sent).
            CitizenRegistrySignatureExpired, CitizenRegistrySignerNotRegistrar, CitizenRegistryCredentialUsed:
                the registry refused it.
        """
        self._check_domain(attestation, "attestation")
        return self._registration(self._send(relayer, attestation.call(self.contract)))

    # -- revocation and rotation --------------------------------------------------------------------------

    def revoke(self, signer: Signer, citizen: str, reason: RevocationReason | str | int) -> Revocation:
        """End ``citizen``'s membership (a registrar, or the DAO through :meth:`revoke_action`)."""
        who = checksum(citizen, what="citizen")
        code = RevocationReason.parse(reason)
        record = self._send(signer, self.contract.functions.revoke(who, int(code)))
        event = record.event("CitizenRevoked")
        logger.info("membership %s of %s revoked (%s)", event["tokenId"], who, code.name)
        return Revocation(
            citizen=checksum(event["citizen"]),
            membership_id=int(event["tokenId"]),
            reason=RevocationReason(int(event["reason"])),
            revoked_by=checksum(event["revokedBy"]),
            tx=record,
        )

    def rotate_action(self, from_: str, to: str) -> Action:
        """A Timelock action moving ``from_``'s membership to ``to`` (the DAO's key recovery). ``to`` is its
        grantee: the proposal pins its code (see :meth:`civicdao.governance.Governance.pin_grantees`)."""
        old, new = checksum(from_, what="current key"), _citizen_address(to, what="new key")
        return Action.call(
            self.contract.functions.rotate(old, new), description=f"rotate {old} to {new}", grantees=[new]
        )

    def revoke_action(self, citizen: str, reason: RevocationReason | str | int) -> Action:
        """A Timelock action revoking ``citizen`` (the DAO may revoke as the registry's admin)."""
        who, code = checksum(citizen, what="citizen"), RevocationReason.parse(reason)
        return Action.call(
            self.contract.functions.revoke(who, int(code)), description=f"revoke {who} ({code.name.lower()})"
        )

    def attest_rotation(
        self,
        registrar: Signer,
        from_: str,
        to: str,
        *,
        expiry: int | None = None,
        valid_for: int = DEFAULT_ROTATION_VALIDITY,
    ) -> Rotation:
        """Sign (off-chain) a rotation of ``from_``'s membership to ``to`` at the current rotation nonce.

        The signature is good once, and only until something else happens to ``from_``'s membership: another
        rotation (signed or by the DAO) or a revocation moves the nonce and voids it. Signed while ``from_``
        holds no membership, it is void once ``from_`` gains one (registration or rotation to it).
        """
        old, new = checksum(from_, what="current key"), _citizen_address(to, what="new key")
        if old == new:
            raise ConfigError("a rotation needs a new key different from the current one")
        unsigned = Rotation(
            registrar=registrar.address,
            from_address=old,
            to_address=new,
            nonce=self.rotation_nonce(old),
            expiry=self._expiry(expiry, valid_for),
            signature=b"",
            domain=signing.registry_domain(self.w3.eth.chain_id, self.address),
        )
        return dataclasses.replace(unsigned, signature=self._sign(registrar, unsigned.typed_data()))

    def rotate_with_attestation(self, relayer: Signer, rotation: Rotation) -> Rotated:
        """Relay a registrar-signed rotation (anyone may)."""
        self._check_domain(rotation, "rotation")
        record = self._send(relayer, rotation.call(self.contract))
        event = self._event(record, "CitizenRotated")
        return Rotated(
            from_address=checksum(event["from"]),
            to_address=checksum(event["to"]),
            membership_id=int(event["tokenId"]),
            authorized_by=checksum(event["authorizedBy"]),
            tx=record,
        )

    # -- the membership hook -------------------------------------------------------------------------------

    def membership_hook(self) -> ChecksumAddress | None:
        """The contract the registry tells of every rotation and revocation (the exchange, whose credits then
        move with the membership), or None."""
        hook = checksum(str(call(self.contract.functions.membershipHook())))
        return None if int(hook, 16) == 0 else hook

    def membership_hook_action(self, hook: str | None) -> Action:
        """A Timelock action pointing the registry's membership hook at ``hook`` (a new exchange), or at
        nobody with None. The hook runs inside every rotation and revocation, so the proposal pins its
        code."""
        if hook is None:
            return Action.call(
                self.contract.functions.setMembershipHook(ZERO_ADDRESS),
                description="clear the membership hook",
            )
        target = checksum(hook, what="membership hook")
        return Action.call(
            self.contract.functions.setMembershipHook(target),
            description=f"set the membership hook to {target}",
            grantees=[target],
        )

    # -- registrars ---------------------------------------------------------------------------------------

    def registrar_role(self) -> bytes:
        return bytes(call(self.contract.functions.REGISTRAR_ROLE()))

    def is_registrar(self, account: str) -> bool:
        role = self.registrar_role()
        return bool(call(self.contract.functions.hasRole(role, checksum(account, what="registrar"))))

    def grant_registrar_action(self, account: str) -> Action:
        """A Timelock action making ``account`` a registrar (its grantee: the proposal pins its code)."""
        who = _citizen_address(account, what="registrar")
        return Action.call(
            self.contract.functions.grantRole(self.registrar_role(), who),
            description=f"grant registrar {who}",
            grantees=[who],
        )

    def revoke_registrar_action(self, account: str) -> Action:
        """A Timelock action removing ``account``'s registrar role."""
        who = checksum(account, what="registrar")
        return Action.call(
            self.contract.functions.revokeRole(self.registrar_role(), who),
            description=f"remove registrar {who}",
        )

    # -- votes --------------------------------------------------------------------------------------------

    def delegate(self, signer: Signer, to: str) -> Delegated:
        """Let ``to`` cast ``signer``'s vote (delegate to yourself to take it back).

        Raises:
            InvalidAddressError: ``to`` is the zero address (which would silently drop the vote).
        """
        target = _citizen_address(to, what="delegate")
        previous = self.delegate_of(signer.address)
        record = self._send(signer, self.contract.functions.delegate(target))
        logger.info("%s delegated to %s (was %s)", signer.address, target, previous)
        return Delegated(delegator=signer.address, delegatee=target, previous=previous, tx=record)

    def delegate_of(self, account: str) -> ChecksumAddress | None:
        """Whom ``account``'s vote counts for (None when no delegate was ever chosen)."""
        chosen = str(call(self.contract.functions.delegates(checksum(account))))
        return None if int(chosen, 16) == 0 else checksum(chosen)

    # -- reading ------------------------------------------------------------------------------------------

    def is_citizen(self, account: str) -> bool:
        return bool(call(self.contract.functions.isCitizen(checksum(account))))

    def membership_of(self, account: str) -> int:
        """The membership id ``account`` holds (0 = none)."""
        return int(call(self.contract.functions.membershipOf(checksum(account))))

    def snapshot_voter(
        self, account: str, timepoint: int, *, block: BlockIdentifier = "latest"
    ) -> ChecksumAddress | None:
        """Whose ballot ``account`` casts on a proposal whose snapshot is ``timepoint``: after a key rotation
        made after the snapshot, the new key casts the old key's ballot and the old key none (``None``).
        The one reader of ``CitizenRegistry.snapshotVoter`` (governance, signing and the relayer ask here);
        ``block``: as the registry answered at that block."""
        fn = self.contract.functions.snapshotVoter(checksum(account, what="account"), timepoint)
        voter = call(fn, block=block)
        return None if int(voter, 16) == 0 else checksum(voter)

    def rotation_nonce(self, account: str) -> int:
        """The nonce the next registrar-signed rotation away from ``account`` must carry.

        It moves by one on every gain, loss or rotation of a membership by ``account``: its registration, a
        rotation to or away from it, and its revocation.
        """
        return int(call(self.contract.functions.rotationNonces(checksum(account))))

    def votes(self, account: str, *, at: int | None = None) -> int:
        """Votes of ``account`` now, or at unix time ``at`` (in the past, as proposal snapshots are)."""
        who = checksum(account)
        if at is None:
            return int(call(self.contract.functions.getVotes(who)))
        return int(call(self.contract.functions.getPastVotes(who, whole_number(at, "timepoint"))))

    def citizen_count(self) -> int:
        """Live (not revoked) memberships."""
        return int(call(self.contract.functions.citizenCount()))

    def credential_used(self, credential_hash: bytes) -> bool:
        """Whether a credential hash was ever consumed (revocation does not free it)."""
        return bool(call(self.contract.functions.credentialUsed(_credential(credential_hash))))

    def info(self, account: str) -> CitizenInfo:
        """Everything the registry says about ``account`` now."""
        who = checksum(account)
        membership = self.membership_of(who)
        return CitizenInfo(
            address=who,
            is_citizen=membership != 0,
            membership_id=membership,
            votes=self.votes(who),
            delegatee=self.delegate_of(who),
        )

    # -- internals ----------------------------------------------------------------------------------------

    def _registration(self, record: TxRecord) -> Registration:
        event = self._event(record, "CitizenRegistered")
        registration = Registration(
            citizen=checksum(event["citizen"]),
            membership_id=int(event["tokenId"]),
            credential_hash=bytes(event["credentialHash"]),
            registrar=checksum(event["registrar"]),
            tx=record,
        )
        logger.info("membership %s issued to %s", registration.membership_id, registration.citizen)
        return registration

    def _expiry(self, expiry: int | None, valid_for: int) -> int:
        if expiry is not None:
            return whole_number(expiry, "expiry")
        if not isinstance(valid_for, int) or valid_for <= 0:
            raise ConfigError(f"valid_for must be a positive number of seconds, got {valid_for!r}")
        return int(self.w3.eth.get_block("latest")["timestamp"]) + valid_for

    def _check_domain(self, message: Attestation | Rotation, what: str) -> None:
        here = signing.registry_domain(self.w3.eth.chain_id, self.address)
        if message.domain != here:
            raise AttestationMismatchError(
                f"this {what} was signed for registry {message.registry} on chain {message.chain_id}, "
                f"not {self.address} on chain {here.chain_id}: ask the registrar for a new one"
            )

    def _sign(self, signer: Signer, typed_data: dict[str, Any]) -> bytes:
        return bytes(HexBytes(signing.sign_typed_data(signer, typed_data, w3=self.w3)))


def _citizen_address(value: str, *, what: str = "citizen") -> ChecksumAddress:
    address = checksum(value, what=what)
    if address == ZERO_ADDRESS:
        raise InvalidAddressError(f"{what} must not be the zero address")
    return address


def _credential(value: bytes | str) -> bytes:
    """A credential hash as 32 bytes (given as bytes or 0x hex), refused when malformed or all zeros."""
    return bytes32(value, "a credential hash (see credential_hash(credential, salt=…))", nonzero=True)
