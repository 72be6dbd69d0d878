"""EIP-712 messages citizens sign in their own wallet, and their off-chain verification.

Each builder returns exactly the JSON object ``eth_signTypedData_v4`` takes (``types`` with ``EIP712Domain``,
``primaryType``, ``domain``, ``message``). The domain is read from the verifying contract itself
(ERC-5267 ``eip712Domain()``), so it always matches what the contract checks. Numbers wider than 53 bits
(proposal ids, nonces, expiries) are written as decimal strings, which wallets and ethers.js accept and
JavaScript's ``JSON.parse`` cannot corrupt.

Verification (:func:`verify_ballot`, :func:`verify_delegation`, :func:`verify_attestation`,
:func:`verify_rotation`) checks a signed message against the chain before anything is sent, and raises a
named :class:`SigningError` subclass: wrong chain, wrong contract, stale nonce, expired, a signer who is
not a citizen (at the proposal snapshot, for ballots), a citizen who already voted, and so on. What it
returns (:class:`Ballot`, :class:`Delegation`, :class:`Attestation`, :class:`Rotation`) knows the contract
call that carries it on-chain.

Messages and the functions that consume them:

=================  ======================================  ==============================
primaryType        contract function                        nonce
=================  ======================================  ==============================
Ballot             governor ``castVoteBySig``               governor ``nonces(voter)``
ExtendedBallot     ``castVoteWithReasonAndParamsBySig``     governor ``nonces(voter)``
OverrideBallot     ``castOverrideVoteBySig``                governor ``nonces(voter)``
Delegation         registry ``delegateBySig``               registry ``nonces(delegator)``
Attestation        registry ``registerWithAttestation``     none (the credential is single-use)
Rotation           registry ``rotateWithAttestation``       registry ``rotationNonces(from)``
=================  ======================================  ==============================
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from civicdao._validate import UINT256_MAX, whole_number
from civicdao.accounts import LocalSigner, Signer, checksum
from civicdao.errors import CivicDAOError, ConfigError, SignerError
from civicdao.tx import call

__all__ = [
    "BALLOT_KINDS",
    "PRIMARY_TYPES",
    "AlreadyCitizenError",
    "AlreadyVotedError",
    "Attestation",
    "Ballot",
    "CredentialUsedError",
    "Delegation",
    "Domain",
    "DomainMismatchError",
    "InvalidSignatureError",
    "MalformedMessageError",
    "NoVotingPowerError",
    "NonceMismatchError",
    "NotCitizenError",
    "NotRegistrarError",
    "ProposalNotActiveError",
    "Rotation",
    "SignatureExpiredError",
    "SigningError",
    "StaleNonceError",
    "UnknownProposalError",
    "WrongChainError",
    "WrongContractError",
    "attestation_typed_data",
    "ballot_typed_data",
    "batch_ballot_typed_data",
    "delegation_typed_data",
    "normalize_signature",
    "read_domain",
    "recover_signer",
    "rotation_typed_data",
    "sign_typed_data",
    "typed_data_digest",
    "verify_attestation",
    "verify_ballot",
    "verify_delegation",
    "verify_rotation",
]

logger = logging.getLogger(__name__)

# -- errors -------------------------------------------------------------------------------------------


class SigningError(CivicDAOError):
    """A signed message cannot be accepted. Raised before anything is sent to the chain."""


class MalformedMessageError(SigningError, ConfigError):
    """The typed data or the signature is not well formed (bad hex, wrong types, missing fields)."""


class InvalidSignatureError(SigningError, ValueError):
    """The signature does not recover to the account the message names (or is not a valid signature)."""


class DomainMismatchError(SigningError, ValueError):
    """The message was signed for another EIP-712 domain than the verifying contract's."""


class WrongChainError(DomainMismatchError):
    """The message was signed for another chain: replaying it here is refused."""

    def __init__(self, expected: int, actual: Any) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"the message was signed for chain id {actual}, but this chain is {expected}")


class WrongContractError(DomainMismatchError):
    """The message was signed for another contract (another governor or registry)."""

    def __init__(self, expected: str, actual: Any) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"the message was signed for contract {actual}, but the verifying contract is {expected}"
        )


class NonceMismatchError(SigningError, ValueError):
    """The message carries a nonce the contract will not accept next."""

    def __init__(self, account: str, expected: int, actual: int, what: str = "nonce") -> None:
        self.account = account
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{what} {actual} for {account} is not the next one ({expected}): "
            "fetch the nonce again and re-sign"
        )


class StaleNonceError(NonceMismatchError):
    """The nonce was already used (the message, or another one with the same nonce, was executed)."""


class SignatureExpiredError(SigningError, ValueError):
    """The message's expiry has passed (by the chain's clock)."""

    def __init__(self, expiry: int, now: int) -> None:
        self.expiry = expiry
        self.now = now
        super().__init__(f"the signature expired at {expiry}; the chain's time is {now}")


class NotCitizenError(SigningError, PermissionError):
    """The signer is not a citizen (a ballot's voter: no membership and no votes at the proposal snapshot)."""


class NoVotingPowerError(SigningError):
    """The voter is a citizen but had delegated its vote at the snapshot: a plain ballot would count 0."""


class AlreadyVotedError(SigningError):
    """The voter has already voted (or overridden) on this proposal."""


class AlreadyCitizenError(SigningError):
    """The attested resident is already a citizen, or the credential was already used."""


class CredentialUsedError(AlreadyCitizenError):
    """The attested credential hash was already used to register a citizen (it is single-use)."""


class NotRegistrarError(SigningError, PermissionError):
    """The attestation or rotation is not signed by a holder of REGISTRAR_ROLE."""


class UnknownProposalError(SigningError, LookupError):
    """The governor has no proposal with this id."""


class ProposalNotActiveError(SigningError):
    """The proposal is not open for voting (pending, or voting has ended)."""


# -- typed-data shapes ---------------------------------------------------------------------------------

_Field = dict[str, str]

EIP712_DOMAIN_TYPE: tuple[_Field, ...] = (
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
)

_STRUCTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "Ballot": (("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")),
    "ExtendedBallot": (
        ("proposalId", "uint256"),
        ("support", "uint8"),
        ("voter", "address"),
        ("nonce", "uint256"),
        ("reason", "string"),
        ("params", "bytes"),
    ),
    "OverrideBallot": (
        ("proposalId", "uint256"),
        ("support", "uint8"),
        ("voter", "address"),
        ("nonce", "uint256"),
        ("reason", "string"),
    ),
    "BatchBallot": (("proposalId", "uint256"), ("support", "uint8"), ("voter", "address")),
    "Delegation": (("delegatee", "address"), ("nonce", "uint256"), ("expiry", "uint256")),
    "Attestation": (("citizen", "address"), ("credentialHash", "bytes32"), ("expiry", "uint256")),
    "Rotation": (("from", "address"), ("to", "address"), ("nonce", "uint256"), ("expiry", "uint256")),
}

#: Every primaryType CivicDAO builds and verifies.
PRIMARY_TYPES = tuple(_STRUCTS)
#: The primaryTypes that are ballots (verified by the governor).
BALLOT_KINDS = ("Ballot", "ExtendedBallot", "OverrideBallot")

BallotKind = Literal["Ballot", "ExtendedBallot", "OverrideBallot"]

_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
#: Governor proposal states (OpenZeppelin IGovernor.ProposalState) by number.
_STATE_NAMES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain as the verifying contract reports it (ERC-5267)."""

    name: str
    version: str
    chain_id: int
    verifying_contract: ChecksumAddress

    def as_dict(self) -> dict[str, Any]:
        """The ``domain`` object of ``eth_signTypedData_v4``."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def read_domain(contract: Contract) -> Domain:
    """The EIP-712 domain ``contract`` verifies signatures with, read from its ``eip712Domain()``.

    Raises:
        ConfigError: the contract reports a salt or extensions, which CivicDAO's messages do not use.
    """
    fields, name, version, chain_id, verifying_contract, salt, extensions = call(
        contract.functions.eip712Domain()
    )
    if bytes(fields) != b"\x0f" or any(bytes(salt)) or extensions:
        raise ConfigError(
            f"contract {contract.address} uses EIP-712 domain fields {bytes(fields).hex()}; "
            "CivicDAO signs name, version, chainId and verifyingContract only"
        )
    return Domain(str(name), str(version), int(chain_id), to_checksum_address(verifying_contract))


# -- builders -------------------------------------------------------------------------------------------


def batch_ballot_typed_data(
    governor: Contract, *, proposal_id: int, support: int, voter: str
) -> dict[str, Any]:
    """The typed data of a ballot for the governor's batched entry point ``castVotesBySig``:
    ``BatchBallot(uint256 proposalId,uint8 support,address voter)`` in the governor's domain. It has no nonce:
    a key votes once per proposal, so the ballot is single-use. ``support`` is 0 against, 1 for, 2 abstain."""
    whole_number(proposal_id, "proposal_id")
    message = {
        "proposalId": str(proposal_id),
        "support": _support(support),
        "voter": checksum(voter, what="voter"),
    }
    return _typed_data(read_domain(governor), "BatchBallot", message)


def ballot_typed_data(
    governor: Contract,
    *,
    proposal_id: int,
    support: int,
    voter: str,
    nonce: int | None = None,
    reason: str | None = None,
    params: bytes = b"",
    override: bool = False,
) -> dict[str, Any]:
    """The typed data of a ballot on ``governor``.

    ``support`` is 0 against, 1 for, 2 abstain. Without a reason this is a ``Ballot``
    (``castVoteBySig``); with a reason (even an empty one) or params it is an ``ExtendedBallot``
    (``castVoteWithReasonAndParamsBySig``). With ``override=True`` it is an ``OverrideBallot``
    (``castOverrideVoteBySig``): a citizen who delegated votes themselves, taking their vote back from the
    delegate for this proposal. ``nonce`` defaults to the governor's ``nonces(voter)``.
    """
    voter_address = checksum(voter, what="voter")
    whole_number(proposal_id, "proposal_id")
    support = _support(support)
    if nonce is None:
        nonce = int(call(governor.functions.nonces(voter_address)))
    whole_number(nonce, "nonce")
    message: dict[str, Any] = {
        "proposalId": str(proposal_id),
        "support": support,
        "voter": voter_address,
        "nonce": str(nonce),
    }
    if override:
        if params:
            raise ConfigError("an override ballot carries no params")
        message["reason"] = reason or ""
        return _typed_data(read_domain(governor), "OverrideBallot", message)
    if reason is None and not params:
        return _typed_data(read_domain(governor), "Ballot", message)
    message["reason"] = reason or ""
    message["params"] = HexBytes(params).to_0x_hex()
    return _typed_data(read_domain(governor), "ExtendedBallot", message)


def delegation_typed_data(
    registry: Contract, *, delegator: str, delegatee: str, expiry: int, nonce: int | None = None
) -> dict[str, Any]:
    """The typed data of ``delegator`` giving its vote to ``delegatee`` (``delegateBySig``).

    The struct names no delegator (the contract recovers it from the signature); ``delegator`` is needed
    only to read its nonce, which is the registry's ``nonces(delegator)`` unless ``nonce`` is given.
    """
    delegator_address = checksum(delegator, what="delegator")
    message = {"delegatee": checksum(delegatee, what="delegatee")}
    if nonce is None:
        nonce = int(call(registry.functions.nonces(delegator_address)))
    whole_number(nonce, "nonce")
    whole_number(expiry, "expiry")
    return _typed_data(
        read_domain(registry), "Delegation", {**message, "nonce": str(nonce), "expiry": str(expiry)}
    )


def attestation_typed_data(
    registry: Contract | Domain, *, citizen: str, credential_hash: bytes | str, expiry: int
) -> dict[str, Any]:
    """The typed data a registrar signs to attest ``citizen``'s residency (``registerWithAttestation``).

    ``credential_hash`` is the salted hash of the resident's credential (32 bytes); the chain keeps only it.
    ``registry`` is the bound contract, or its :class:`Domain` to build the message offline.
    """
    whole_number(expiry, "expiry")
    message = {
        "citizen": checksum(citizen, what="citizen"),
        "credentialHash": _bytes32(credential_hash, "credential_hash"),
        "expiry": str(expiry),
    }
    return _typed_data(_domain_of(registry), "Attestation", message)


def rotation_typed_data(
    registry: Contract | Domain, *, from_address: str, to_address: str, expiry: int, nonce: int | None = None
) -> dict[str, Any]:
    """The typed data a registrar signs to move a membership to a new key (``rotateWithAttestation``).

    ``nonce`` defaults to the registry's ``rotationNonces(from_address)`` (give it when ``registry`` is a
    :class:`Domain`).
    """
    source = checksum(from_address, what="from_address")
    target = checksum(to_address, what="to_address")
    if nonce is None:
        if isinstance(registry, Domain):
            raise ConfigError("give the rotation nonce when building from a Domain")
        nonce = int(call(registry.functions.rotationNonces(source)))
    whole_number(nonce, "nonce")
    whole_number(expiry, "expiry")
    message = {"from": source, "to": target, "nonce": str(nonce), "expiry": str(expiry)}
    return _typed_data(_domain_of(registry), "Rotation", message)


def _domain_of(contract: Contract | Domain) -> Domain:
    return contract if isinstance(contract, Domain) else read_domain(contract)


def _typed_data(domain: Domain, primary_type: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [dict(f) for f in EIP712_DOMAIN_TYPE],
            primary_type: [{"name": name, "type": kind} for name, kind in _STRUCTS[primary_type]],
        },
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": message,
    }


# -- signing and recovery -------------------------------------------------------------------------------


def sign_typed_data(signer: Signer, typed_data: Mapping[str, Any], *, w3: Web3 | None = None) -> str:
    """Sign typed data; returns the 65-byte signature as ``0x`` hex (v = 27 or 28).

    A :class:`~civicdao.accounts.LocalSigner` signs in memory; any other signer (a node-unlocked account)
    signs through the node's ``eth_signTypedData_v4``, which needs ``w3``.

    Raises:
        SignerError: the node could not sign (or no ``w3`` was given for a node account).
    """
    if isinstance(signer, LocalSigner):
        return HexBytes(signer.sign_typed_data(dict(typed_data))).to_0x_hex()
    if w3 is None:
        raise SignerError(f"{signer.address} is not a local key: pass w3 so the node can sign")
    request = [signer.address, dict(typed_data)]
    response = w3.provider.make_request("eth_signTypedData_v4", request)  # type: ignore[arg-type]
    if "error" in response:
        message = response["error"].get("message", response["error"])
        raise SignerError(f"the node could not sign typed data for {signer.address}: {message}")
    return HexBytes(response["result"]).to_0x_hex()


def normalize_signature(signature: str | bytes) -> bytes:
    """A 65-byte ``r‖s‖v`` signature with v = 27/28 and a low s, as OpenZeppelin's ECDSA requires.

    Accepts ``0x`` hex or bytes; v = 0/1 (some wallets and hardware signers) becomes 27/28.

    Raises:
        MalformedMessageError: not hex, not 65 bytes, a bad v, or a high s (malleable signature).
    """
    raw = _hex_bytes(signature, "signature")
    if len(raw) != 65:
        raise MalformedMessageError(
            f"a signature is 65 bytes (r, s, v) as 130 hex digits, got {len(raw)} bytes"
        )
    v = raw[64] + 27 if raw[64] in (0, 1) else raw[64]
    if v not in (27, 28):
        raise MalformedMessageError(f"signature v must be 27 or 28 (or 0/1), got {raw[64]}")
    if int.from_bytes(raw[32:64], "big") > _SECP256K1_HALF_N:
        raise MalformedMessageError("signature s is in the upper half of the curve order (malleable form)")
    return raw[:64] + bytes([v])


def typed_data_digest(typed_data: Mapping[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest (``keccak256(0x1901 ‖ domainSeparator ‖ structHash)``) that is signed."""
    signable = _signable(typed_data)
    return bytes(Web3.keccak(b"\x19" + signable.version + signable.header + signable.body))


def recover_signer(typed_data: Mapping[str, Any], signature: str | bytes) -> ChecksumAddress:
    """The address whose key signed ``typed_data``.

    Raises:
        MalformedMessageError: the typed data or the signature is malformed.
        InvalidSignatureError: no key produces this signature (e.g. r or s out of range).
    """
    signable = _signable(typed_data)
    raw = normalize_signature(signature)
    try:
        return to_checksum_address(Account.recover_message(signable, signature=raw))
    except Exception:  # eth-keys raises several types for points off the curve
        raise InvalidSignatureError("the signature does not correspond to any key") from None


def _signable(typed_data: Mapping[str, Any]) -> SignableMessage:
    if isinstance(typed_data, Mapping) and typed_data.get("primaryType") in PRIMARY_TYPES:
        # our own messages: name the bad field instead of passing on eth-account's encoder error
        _check_message(typed_data, _check_types(typed_data, PRIMARY_TYPES))
    try:
        return encode_typed_data(full_message=dict(typed_data))
    except Exception as exc:  # eth-account raises ValueError, TypeError, KeyError… on bad input
        raise MalformedMessageError(f"the typed data cannot be encoded: {exc}") from None


# -- verified messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ballot:
    """A verified ballot: who votes how on which proposal, and the signature carrying it."""

    kind: BallotKind
    proposal_id: int
    support: int
    voter: ChecksumAddress
    nonce: int
    reason: str
    params: bytes
    signature: bytes
    digest: bytes
    snapshot: int
    deadline: int

    def call(self, governor: Contract) -> ContractFunction:
        """The governor call that casts this ballot (send it, or batch it in ``multicall``)."""
        if self.kind == "Ballot":
            fn: ContractFunction = governor.functions.castVoteBySig(
                self.proposal_id, self.support, self.voter, self.signature
            )
        elif self.kind == "ExtendedBallot":
            fn = governor.functions.castVoteWithReasonAndParamsBySig(
                self.proposal_id, self.support, self.voter, self.reason, self.params, self.signature
            )
        else:
            fn = governor.functions.castOverrideVoteBySig(
                self.proposal_id, self.support, self.voter, self.reason, self.signature
            )
        return fn


@dataclass(frozen=True)
class Delegation:
    """A verified delegation: ``delegator`` (recovered from the signature) gives its vote to ``delegatee``."""

    delegator: ChecksumAddress
    delegatee: ChecksumAddress
    nonce: int
    expiry: int
    signature: bytes
    digest: bytes

    def call(self, registry: Contract) -> ContractFunction:
        """The registry's ``delegateBySig`` call carrying this delegation."""
        r, s, v = self.signature[:32], self.signature[32:64], self.signature[64]
        fn: ContractFunction = registry.functions.delegateBySig(
            self.delegatee, self.nonce, self.expiry, v, r, s
        )
        return fn


@dataclass(frozen=True)
class Attestation:
    """A verified registrar attestation of a resident."""

    registrar: ChecksumAddress
    citizen: ChecksumAddress
    credential_hash: bytes
    expiry: int
    signature: bytes
    digest: bytes

    def call(self, registry: Contract) -> ContractFunction:
        """The registry's ``registerWithAttestation`` call that mints the membership."""
        fn: ContractFunction = registry.functions.registerWithAttestation(
            self.citizen, self.credential_hash, self.expiry, self.signature
        )
        return fn


@dataclass(frozen=True)
class Rotation:
    """A verified registrar-signed move of a membership to a new key."""

    registrar: ChecksumAddress
    from_address: ChecksumAddress
    to_address: ChecksumAddress
    nonce: int
    expiry: int
    signature: bytes
    digest: bytes

    def call(self, registry: Contract) -> ContractFunction:
        """The registry's ``rotateWithAttestation`` call."""
        fn: ContractFunction = registry.functions.rotateWithAttestation(
            self.from_address, self.to_address, self.expiry, self.signature
        )
        return fn


# -- verification ---------------------------------------------------------------------------------------


def verify_ballot(
    governor: Contract,
    registry: Contract,
    typed_data: Mapping[str, Any],
    signature: str | bytes,
    *,
    expected_nonce: int | None = None,
) -> Ballot:
    """Check a signed ballot against the chain and return it.

    ``expected_nonce`` is the nonce the ballot must carry (default: the governor's ``nonces(voter)``; a
    relayer holding earlier ballots of the same voter passes that plus their number).

    Raises:
        MalformedMessageError, InvalidSignatureError, WrongChainError, WrongContractError,
        DomainMismatchError, UnknownProposalError, ProposalNotActiveError, StaleNonceError,
        NonceMismatchError, NotCitizenError, AlreadyVotedError.
    """
    kind, message = _parse(governor, typed_data, BALLOT_KINDS)
    proposal_id = message["proposalId"]
    voter = message["voter"]
    raw = _check_signer(typed_data, signature, voter, "voter")
    snapshot, deadline = _active_proposal(governor, proposal_id)
    current = int(call(governor.functions.nonces(voter)))
    _check_nonce(voter, message["nonce"], current, expected_nonce)
    if kind == "OverrideBallot":
        _check_override(governor, registry, proposal_id, voter, snapshot)
    else:
        _check_voter(governor, registry, proposal_id, voter, snapshot)
    return Ballot(
        kind=kind,  # type: ignore[arg-type]
        proposal_id=proposal_id,
        support=message["support"],
        voter=voter,
        nonce=message["nonce"],
        reason=message.get("reason", ""),
        params=message.get("params", b""),
        signature=raw,
        digest=typed_data_digest(typed_data),
        snapshot=snapshot,
        deadline=deadline,
    )


def verify_delegation(
    registry: Contract,
    typed_data: Mapping[str, Any],
    signature: str | bytes,
    *,
    expected_nonce: int | None = None,
) -> Delegation:
    """Check a signed delegation against the chain and return it (the delegator is recovered).

    Raises:
        MalformedMessageError, InvalidSignatureError, DomainMismatchError (WrongChainError,
        WrongContractError), SignatureExpiredError, StaleNonceError, NonceMismatchError, NotCitizenError.
    """
    _, message = _parse(registry, typed_data, ("Delegation",))
    raw = normalize_signature(signature)
    delegator = recover_signer(typed_data, raw)
    _check_expiry(registry.w3, message["expiry"])
    current = int(call(registry.functions.nonces(delegator)))
    _check_nonce(delegator, message["nonce"], current, expected_nonce)
    if not call(registry.functions.isCitizen(delegator)):
        raise NotCitizenError(
            f"the delegation is signed by {delegator}, who is not a citizen (or the message was altered)"
        )
    return Delegation(
        delegator=delegator,
        delegatee=message["delegatee"],
        nonce=message["nonce"],
        expiry=message["expiry"],
        signature=raw,
        digest=typed_data_digest(typed_data),
    )


def verify_attestation(
    registry: Contract, typed_data: Mapping[str, Any], signature: str | bytes
) -> Attestation:
    """Check a registrar's signed attestation against the chain and return it.

    Raises:
        MalformedMessageError, InvalidSignatureError, DomainMismatchError, SignatureExpiredError,
        NotRegistrarError, AlreadyCitizenError.
    """
    _, message = _parse(registry, typed_data, ("Attestation",))
    raw = normalize_signature(signature)
    registrar = recover_signer(typed_data, raw)
    _check_expiry(registry.w3, message["expiry"])
    _check_registrar(registry, registrar)
    citizen, credential = message["citizen"], message["credentialHash"]
    if credential == b"\x00" * 32:
        raise MalformedMessageError("the credential hash must not be zero")
    if call(registry.functions.isCitizen(citizen)):
        raise AlreadyCitizenError(f"{citizen} is already a citizen")
    if call(registry.functions.credentialUsed(credential)):
        raise CredentialUsedError(f"credential 0x{credential.hex()} was already used to register a citizen")
    return Attestation(
        registrar=registrar,
        citizen=citizen,
        credential_hash=credential,
        expiry=message["expiry"],
        signature=raw,
        digest=typed_data_digest(typed_data),
    )


def verify_rotation(registry: Contract, typed_data: Mapping[str, Any], signature: str | bytes) -> Rotation:
    """Check a registrar's signed rotation against the chain and return it.

    Raises:
        MalformedMessageError, InvalidSignatureError, DomainMismatchError, SignatureExpiredError,
        NotRegistrarError, StaleNonceError, NonceMismatchError, NotCitizenError, AlreadyCitizenError.
    """
    _, message = _parse(registry, typed_data, ("Rotation",))
    raw = normalize_signature(signature)
    registrar = recover_signer(typed_data, raw)
    _check_expiry(registry.w3, message["expiry"])
    _check_registrar(registry, registrar)
    source, target = message["from"], message["to"]
    current = int(call(registry.functions.rotationNonces(source)))
    _check_nonce(source, message["nonce"], current, None, what="rotation nonce")
    if not call(registry.functions.isCitizen(source)):
        raise NotCitizenError(f"{source} is not a citizen: there is no membership to rotate")
    if call(registry.functions.isCitizen(target)):
        raise AlreadyCitizenError(f"{target} is already a citizen")
    return Rotation(
        registrar=registrar,
        from_address=source,
        to_address=target,
        nonce=message["nonce"],
        expiry=message["expiry"],
        signature=raw,
        digest=typed_data_digest(typed_data),
    )


# -- internals: parsing -----------------------------------------------------------------------------------


def _parse(
    contract: Contract, typed_data: Mapping[str, Any], allowed: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """Check the shape and the domain of incoming typed data; return its primaryType and typed message."""
    primary = _check_types(typed_data, allowed)
    _check_domain(read_domain(contract), typed_data.get("domain"))
    return primary, _check_message(typed_data, primary)


def _check_types(typed_data: Mapping[str, Any], allowed: tuple[str, ...]) -> str:
    if not isinstance(typed_data, Mapping):
        raise MalformedMessageError("typed data must be a JSON object (what eth_signTypedData_v4 takes)")
    primary = typed_data.get("primaryType")
    if primary not in allowed:
        raise MalformedMessageError(f"primaryType must be one of {', '.join(allowed)}, got {primary!r}")
    types = typed_data.get("types")
    if not isinstance(types, Mapping):
        raise MalformedMessageError("typed data has no 'types' object")
    expected_fields = [{"name": name, "type": kind} for name, kind in _STRUCTS[primary]]
    if _fields(types.get(primary)) != expected_fields:
        signature = ",".join(f"{kind} {name}" for name, kind in _STRUCTS[primary])
        raise MalformedMessageError(f"types.{primary} must be exactly {primary}({signature})")
    if set(types) - {primary, "EIP712Domain"}:
        raise MalformedMessageError(f"types may hold only EIP712Domain and {primary}")
    if "EIP712Domain" in types and _fields(types["EIP712Domain"]) != [dict(f) for f in EIP712_DOMAIN_TYPE]:
        raise DomainMismatchError(
            "types.EIP712Domain must be (string name, string version, uint256 chainId, address "
            "verifyingContract): the contract's domain has no other fields"
        )
    return str(primary)


def _check_message(typed_data: Mapping[str, Any], primary: str) -> dict[str, Any]:
    message = typed_data.get("message")
    if not isinstance(message, Mapping):
        raise MalformedMessageError("typed data has no 'message' object")
    missing = [name for name, _ in _STRUCTS[primary] if name not in message]
    extra = set(message) - {name for name, _ in _STRUCTS[primary]}
    if missing or extra:
        raise MalformedMessageError(
            f"message fields do not match {primary}: missing {missing or 'none'}, unexpected "
            f"{sorted(extra) or 'none'}"
        )
    parsed = {name: _value(kind, message[name], name) for name, kind in _STRUCTS[primary]}
    if "support" in parsed:
        parsed["support"] = _support(parsed["support"])
    return parsed


def _fields(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list) or not all(isinstance(f, Mapping) for f in value):
        return None
    return [{"name": f.get("name"), "type": f.get("type")} for f in value]


def _check_domain(expected: Domain, domain: Any) -> None:
    if not isinstance(domain, Mapping):
        raise MalformedMessageError("typed data has no 'domain' object")
    chain_id = domain.get("chainId")
    try:
        chain = _uint(chain_id, "domain.chainId")
    except MalformedMessageError:
        raise WrongChainError(expected.chain_id, chain_id) from None
    if chain != expected.chain_id:
        raise WrongChainError(expected.chain_id, chain_id)
    contract = domain.get("verifyingContract")
    if (
        not isinstance(contract, str)
        or not is_address(contract)
        or (to_checksum_address(contract) != expected.verifying_contract)
    ):
        raise WrongContractError(expected.verifying_contract, contract)
    if domain.get("name") != expected.name or domain.get("version") != expected.version:
        raise DomainMismatchError(
            f"the message was signed for domain {domain.get('name')!r} version {domain.get('version')!r}, "
            f"but the contract's is {expected.name!r} version {expected.version!r}"
        )
    extra = set(domain) - {"name", "version", "chainId", "verifyingContract"}
    if extra:
        raise DomainMismatchError(f"the domain has fields the contract does not use: {sorted(extra)}")


def _value(kind: str, value: Any, name: str) -> Any:
    if kind.startswith("uint"):
        number = _uint(value, name)
        if kind == "uint8" and number > 255:
            raise MalformedMessageError(f"{name} must fit in uint8, got {number}")
        return number
    if kind == "address":
        if not isinstance(value, str) or not is_address(value):
            raise MalformedMessageError(f"{name} must be an address (0x + 40 hex digits), got {value!r}")
        return to_checksum_address(value)
    if kind == "bytes32":
        return bytes(HexBytes(_bytes32(value, name)))
    if kind == "bytes":
        return _hex_bytes(value, name)
    if kind == "string":
        if not isinstance(value, str):
            raise MalformedMessageError(f"{name} must be a string, got {type(value).__name__}")
        return value
    raise MalformedMessageError(f"unsupported field type {kind}")  # pragma: no cover - _STRUCTS is fixed


_UINT_TEXT = re.compile(r"0[xX][0-9a-fA-F]{1,64}|[0-9]{1,78}")


def _uint(value: Any, name: str) -> int:
    """A uint256 from a JSON number, a decimal string or a 0x hex string."""
    if isinstance(value, bool):
        raise MalformedMessageError(f"{name} must be a whole number, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _UINT_TEXT.fullmatch(value):  # ASCII digits only: int() takes "١٢٣"
        number = int(value, 16) if value[:2] in ("0x", "0X") else int(value, 10)
    elif isinstance(value, str) and value.strip():
        raise MalformedMessageError(
            f"{name} must be a whole number in ASCII digits (decimal, or 0x hex), got {value[:80]!r}"
        )
    else:
        raise MalformedMessageError(f"{name} must be a whole number (or a decimal string), got {value!r}")
    if not 0 <= number <= UINT256_MAX:
        raise MalformedMessageError(f"{name} must be between 0 and 2**256-1, got {number}")
    return number


def _hex_bytes(value: Any, name: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise MalformedMessageError(f"{name} must be 0x-prefixed hex, got {str(value)[:80]!r}")
    digits = value[2:]
    if len(digits) % 2:
        raise MalformedMessageError(f"{name} has an odd number of hex digits")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise MalformedMessageError(f"{name} is not valid hex: {value[:80]!r}") from None


def _bytes32(value: Any, name: str) -> str:
    raw = _hex_bytes(value, name)
    if len(raw) != 32:
        raise MalformedMessageError(f"{name} must be 32 bytes (64 hex digits), got {len(raw)} bytes")
    return "0x" + raw.hex()


def _support(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (0, 1, 2):
        raise ConfigError(f"support must be 0 (against), 1 (for) or 2 (abstain), got {value!r}")
    return value


# -- internals: chain checks ---------------------------------------------------------------------------


def _check_signer(
    typed_data: Mapping[str, Any], signature: str | bytes, claimed: ChecksumAddress, role: str
) -> bytes:
    raw = normalize_signature(signature)
    signer = recover_signer(typed_data, raw)
    if signer != claimed:
        raise InvalidSignatureError(
            f"the signature is by {signer}, not by the {role} {claimed} the message names "
            "(the message was altered, or signed for another chain or contract)"
        )
    return raw


def _check_nonce(
    account: str, nonce: int, current: int, expected: int | None, *, what: str = "nonce"
) -> None:
    wanted = current if expected is None else expected
    if nonce < current:
        raise StaleNonceError(account, wanted, nonce, what)
    if nonce != wanted:
        raise NonceMismatchError(account, wanted, nonce, what)


def _check_expiry(w3: Web3, expiry: int) -> None:
    now = int(w3.eth.get_block("latest")["timestamp"])
    if now > expiry:  # the contracts refuse `block.timestamp > expiry`
        raise SignatureExpiredError(expiry, now)


def _check_registrar(registry: Contract, signer: ChecksumAddress) -> None:
    role = call(registry.functions.REGISTRAR_ROLE())
    if not call(registry.functions.hasRole(role, signer)):
        raise NotRegistrarError(
            f"the message is signed by {signer}, who does not hold REGISTRAR_ROLE "
            "(or the message was altered)"
        )


def _active_proposal(governor: Contract, proposal_id: int) -> tuple[int, int]:
    snapshot = int(call(governor.functions.proposalSnapshot(proposal_id)))
    if snapshot == 0:
        raise UnknownProposalError(f"the governor has no proposal {proposal_id}")
    state = int(call(governor.functions.state(proposal_id)))
    if state != 1:
        raise ProposalNotActiveError(
            f"proposal {proposal_id} is {_STATE_NAMES[state] if state < len(_STATE_NAMES) else state}, "
            "not Active: ballots are accepted only while voting is open"
        )
    return snapshot, int(call(governor.functions.proposalDeadline(proposal_id)))


def _check_voter(
    governor: Contract, registry: Contract, proposal_id: int, voter: ChecksumAddress, snapshot: int
) -> None:
    voter = _ballot_key(
        registry, voter, snapshot
    )  # after a key rotation the new key casts the old key's ballot
    votes = int(call(registry.functions.getPastVotes(voter, snapshot)))
    balance = int(call(registry.functions.getPastBalanceOf(voter, snapshot)))
    if votes == 0 and balance == 0:
        raise NotCitizenError(
            f"{voter} was not a citizen and held no delegated votes at the proposal snapshot ({snapshot})"
        )
    if call(governor.functions.hasVoted(proposal_id, voter)):
        raise AlreadyVotedError(f"{voter} has already voted on proposal {proposal_id}")
    if votes == 0:
        delegate = call(registry.functions.getPastDelegate(voter, snapshot))
        raise NoVotingPowerError(
            f"{voter} had delegated its vote to {delegate} at the proposal snapshot, so a plain ballot "
            "would count 0: sign an OverrideBallot to vote yourself"
        )


def _ballot_key(registry: Contract, voter: ChecksumAddress, snapshot: int) -> ChecksumAddress:
    """The key whose ballot ``voter`` casts (CitizenRegistry.snapshotVoter); refuses a rotated-away key."""
    key = str(call(registry.functions.snapshotVoter(voter, snapshot)))
    if int(key, 16) == 0:
        raise NotCitizenError(
            f"{voter} rotated its membership to a new key after the proposal snapshot ({snapshot}): "
            "the new key casts this membership's ballot"
        )
    return checksum(key)


def _check_override(
    governor: Contract, registry: Contract, proposal_id: int, voter: ChecksumAddress, snapshot: int
) -> None:
    voter = _ballot_key(registry, voter, snapshot)
    if int(call(registry.functions.getPastBalanceOf(voter, snapshot))) == 0:
        raise NotCitizenError(f"{voter} was not a citizen at the proposal snapshot ({snapshot})")
    if call(governor.functions.hasVotedOverride(proposal_id, voter)):
        raise AlreadyVotedError(f"{voter} has already overridden its delegate on proposal {proposal_id}")
