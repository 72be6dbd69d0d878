"""EIP-712 messages citizens sign in their own wallet: typed data, digests, signatures, domains.

Each builder returns exactly the JSON object ``eth_signTypedData_v4`` takes (``types`` with ``EIP712Domain``,
``primaryType``, ``domain``, ``message``). The domain is read from the verifying contract itself
(ERC-5267 ``eip712Domain()``), so it always matches what the contract checks. Numbers wider than 53 bits
(proposal ids, nonces, expiries) are written as decimal strings, which wallets and ethers.js accept and
JavaScript's ``JSON.parse`` cannot corrupt.

:func:`verify_message` checks what came back signed: the shape, the domain (wrong chain, wrong contract)
and the signature, raising the named :class:`~civicdao.errors.SigningError` subclasses. Whether the signer
may act now (a citizen at the snapshot, not voted yet, a registrar, the next nonce) is a question of the
chain's state that the relayer asks before it queues anything: :mod:`civicdao.relayer.policy`
(``verify_ballot``, ``verify_delegation``, ``verify_attestation``, ``verify_rotation``), which returns the
records here (:class:`Ballot`, :class:`Delegation`, :class:`Attestation`, :class:`Rotation`) that know the
contract call carrying them on-chain.

Messages and the functions that consume them:

=================  ======================================  ==============================
primaryType        contract function                        nonce
=================  ======================================  ==============================
Ballot             governor ``castVoteBySig``               governor ``nonces(voter)``
ExtendedBallot     ``castVoteWithReasonAndParamsBySig``     governor ``nonces(voter)``
OverrideBallot     ``castOverrideVoteBySig``                governor ``nonces(voter)``
BatchBallot        governor ``castVotesBySig`` (batched)    none (a key votes once per proposal)
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

from civicdao._validate import UINT256_MAX, bytes32, whole_number
from civicdao.accounts import KeySigner, NodeSigner, Signer, checksum, sign_typed_data_locally
from civicdao.errors import (
    ConfigError,
    DomainMismatchError,
    InvalidSignatureError,
    MalformedMessageError,
    SigningError,
    WrongChainError,
    WrongContractError,
)
from civicdao.tx import call

__all__ = [
    "BALLOT_KINDS",
    "PRIMARY_TYPES",
    "REGISTRY_DOMAIN_NAME",
    "REGISTRY_DOMAIN_VERSION",
    "Attestation",
    "Ballot",
    "Delegation",
    "Domain",
    "Rotation",
    "VerifiedMessage",
    "attestation_typed_data",
    "ballot_typed_data",
    "batch_ballot_typed_data",
    "check_signer",
    "delegation_typed_data",
    "normalize_signature",
    "read_domain",
    "recover_signer",
    "registry_domain",
    "rotation_typed_data",
    "sign_typed_data",
    "split_signature",
    "typed_data_digest",
    "verify_message",
]

logger = logging.getLogger(__name__)

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
BALLOT_KINDS = ("Ballot", "ExtendedBallot", "OverrideBallot", "BatchBallot")

BallotKind = Literal["Ballot", "ExtendedBallot", "OverrideBallot", "BatchBallot"]

_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


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

    A :class:`~civicdao.accounts.KeySigner` (an eth-account ``LocalAccount``, a
    :class:`~civicdao.accounts.LocalSigner`, or any object with ``sign_typed_data(full_message=...)``) signs
    in this process; a :class:`~civicdao.accounts.NodeSigner` signs through the node's
    ``eth_signTypedData_v4``, which needs ``w3``.

    Raises:
        SigningError: ``signer`` is neither, the node could not sign, or a node account came without ``w3``.
    """
    if isinstance(signer, KeySigner):
        return HexBytes(sign_typed_data_locally(signer, dict(typed_data))).to_0x_hex()
    if not isinstance(signer, NodeSigner):
        raise SigningError(
            f"{type(signer).__name__} cannot sign typed data: give a key signer (sign_typed_data) or "
            "NodeSigner(address) to sign through the node"
        )
    if w3 is None:
        raise SigningError(f"{signer.address} is an account of the node: pass w3 so the node can sign")
    request = [signer.address, dict(typed_data)]
    response = w3.provider.make_request("eth_signTypedData_v4", request)  # type: ignore[arg-type]
    if "error" in response:
        message = response["error"].get("message", response["error"])
        raise SigningError(f"the node could not sign typed data for {signer.address}: {message}")
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


def split_signature(signature: str | bytes) -> tuple[int, bytes, bytes]:
    """A signature as the ``(v, r, s)`` words ``castVotesBySig`` takes (normalized first, see
    :func:`normalize_signature`)."""
    raw = normalize_signature(signature)
    return raw[64], raw[:32], raw[32:64]


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
    """A verified ballot: who votes how on which proposal, and the signature carrying it (``nonce`` is None
    for a ``BatchBallot``, which carries none)."""

    kind: BallotKind
    proposal_id: int
    support: int
    voter: ChecksumAddress
    nonce: int | None
    reason: str
    params: bytes
    signature: bytes
    digest: bytes
    snapshot: int
    deadline: int

    def batch_argument(self) -> tuple[ChecksumAddress, int, int, bytes, bytes]:
        """This ballot as one ``SignedBallot`` (voter, support, v, r, s) of ``castVotesBySig``."""
        return self.voter, self.support, *split_signature(self.signature)

    def call(self, governor: Contract) -> ContractFunction:
        """The governor call that casts this ballot (send it, or batch it in ``multicall``); a
        ``BatchBallot`` is a ``castVotesBySig`` of this one ballot."""
        if self.kind == "BatchBallot":
            batch = [self.batch_argument()]
            fn: ContractFunction = governor.functions.castVotesBySig(self.proposal_id, batch)
        elif self.kind == "Ballot":
            fn = governor.functions.castVoteBySig(self.proposal_id, self.support, self.voter, self.signature)
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


#: The CitizenRegistry's EIP-712 domain name and version (set in its constructor).
REGISTRY_DOMAIN_NAME = "CivicDAO CitizenRegistry"
REGISTRY_DOMAIN_VERSION = "1"


def registry_domain(chain_id: int, registry: str) -> Domain:
    """The EIP-712 domain of the CitizenRegistry at ``registry`` on chain ``chain_id`` (built offline)."""
    address = checksum(registry, what="registry")
    return Domain(REGISTRY_DOMAIN_NAME, REGISTRY_DOMAIN_VERSION, chain_id, address)


class _RegistryMessage:
    """What a registrar-signed message knows of itself: its domain, digest and signer."""

    signature: bytes
    #: The registry's EIP-712 domain it was signed in (its chain id and address).
    domain: Domain

    def typed_data(self) -> dict[str, Any]:
        """The EIP-712 typed data that was signed (``eth_signTypedData_v4`` JSON)."""
        raise NotImplementedError

    @property
    def chain_id(self) -> int:
        """The chain it was signed for."""
        return self.domain.chain_id

    @property
    def registry(self) -> ChecksumAddress:
        """The CitizenRegistry it was signed for."""
        return self.domain.verifying_contract

    @property
    def digest(self) -> bytes:
        """The 32-byte EIP-712 digest that was signed."""
        return typed_data_digest(self.typed_data())

    def recover_signer(self) -> ChecksumAddress:
        """The address that made :attr:`signature` (the registrar, for an untampered message)."""
        return recover_signer(self.typed_data(), self.signature)


@dataclass(frozen=True)
class Attestation(_RegistryMessage):
    """A registrar's signed statement that ``citizen`` is a verified resident holding ``credential_hash``.

    Made by :meth:`civicdao.citizens.Citizens.attest` (or checked by :func:`verify_attestation`). Hand it to
    the resident or a relayer as JSON with :meth:`to_dict`; anyone may relay it before ``expiry`` with
    :meth:`civicdao.citizens.Citizens.register_with_attestation`.
    """

    registrar: ChecksumAddress
    citizen: ChecksumAddress
    credential_hash: bytes
    expiry: int
    signature: bytes
    domain: Domain

    def typed_data(self) -> dict[str, Any]:
        return attestation_typed_data(
            self.domain, citizen=self.citizen, credential_hash=self.credential_hash, expiry=self.expiry
        )

    def call(self, registry: Contract) -> ContractFunction:
        """The registry's ``registerWithAttestation`` call that mints the membership."""
        fn: ContractFunction = registry.functions.registerWithAttestation(
            self.citizen, self.credential_hash, self.expiry, self.signature
        )
        return fn

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (read back with :meth:`from_dict`)."""
        return {
            "citizen": self.citizen,
            "credentialHash": "0x" + self.credential_hash.hex(),
            "expiry": self.expiry,
            "registrar": self.registrar,
            "signature": "0x" + self.signature.hex(),
            "chainId": self.chain_id,
            "registry": self.registry,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attestation:
        """Read back what :meth:`to_dict` wrote; raises :class:`ConfigError` on a malformed record."""
        try:
            return cls(
                registrar=checksum(data["registrar"], what="registrar"),
                citizen=checksum(data["citizen"], what="citizen"),
                credential_hash=bytes32(data["credentialHash"], "credentialHash", nonzero=True),
                expiry=whole_number(int(data["expiry"]), "expiry"),
                signature=bytes(HexBytes(data["signature"])),
                domain=registry_domain(int(data["chainId"]), data["registry"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"malformed attestation: {exc!r}") from None


@dataclass(frozen=True)
class Rotation(_RegistryMessage):
    """A registrar's signed permission to move ``from_address``'s membership to the new key ``to_address``.

    Made by :meth:`civicdao.citizens.Citizens.attest_rotation` (or checked by :func:`verify_rotation`); it
    carries the registry's rotation nonce of ``from_address`` and is relayed with
    :meth:`civicdao.citizens.Citizens.rotate_with_attestation`.
    """

    registrar: ChecksumAddress
    from_address: ChecksumAddress
    to_address: ChecksumAddress
    nonce: int
    expiry: int
    signature: bytes
    domain: Domain

    def typed_data(self) -> dict[str, Any]:
        return rotation_typed_data(
            self.domain,
            from_address=self.from_address,
            to_address=self.to_address,
            nonce=self.nonce,
            expiry=self.expiry,
        )

    def call(self, registry: Contract) -> ContractFunction:
        """The registry's ``rotateWithAttestation`` call."""
        fn: ContractFunction = registry.functions.rotateWithAttestation(
            self.from_address, self.to_address, self.expiry, self.signature
        )
        return fn


# -- internals: parsing -----------------------------------------------------------------------------------


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
    return "0x" + bytes32(_hex_bytes(value, name), name, error=MalformedMessageError).hex()


def _support(value: Any) -> int:
    """A ballot's ``support`` as the message carries it: one of :class:`~civicdao.governance.VoteType`'s
    numbers (a member or its name is parsed first by the callers that accept them)."""
    from civicdao.governance import VoteType  # governance signs through this module

    if isinstance(value, bool) or not isinstance(value, int) or value not in set(VoteType):
        choices = " or ".join(f"{int(v)} ({v.name.lower()})" for v in VoteType)
        raise ConfigError(f"support must be {choices}, got {value!r}")
    return int(value)


# -- verifying what was signed -------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedMessage:
    """Typed data whose shape, EIP-712 domain and signature check out (nothing about the chain's state yet:
    whether the signer may act is the relayer's policy, :mod:`civicdao.relayer.policy`)."""

    primary_type: str
    #: The message's fields as Python values (ints, checksummed addresses, bytes).
    message: Mapping[str, Any]
    signer: ChecksumAddress
    #: The signature as 65 bytes with v = 27/28 and a low s.
    signature: bytes
    digest: bytes
    #: The verifying contract's domain (the message was signed for it).
    domain: Domain


def verify_message(
    contract: Contract,
    typed_data: Mapping[str, Any],
    signature: str | bytes,
    *,
    kinds: tuple[str, ...],
    signed_by: str | None = None,
) -> VerifiedMessage:
    """Check that ``typed_data`` is one of CivicDAO's ``kinds``, signed for ``contract``'s EIP-712 domain, and
    recover who signed it; with ``signed_by`` (a message field such as ``"voter"``) the signer must be the
    account that field names.

    Raises:
        MalformedMessageError, DomainMismatchError (WrongChainError, WrongContractError),
        InvalidSignatureError.
    """
    primary = _check_types(typed_data, kinds)
    domain = read_domain(contract)
    _check_domain(domain, typed_data.get("domain"))
    message = _check_message(typed_data, primary)
    if signed_by is None:
        raw = normalize_signature(signature)
        signer = recover_signer(typed_data, raw)
    else:
        signer = message[signed_by]
        raw = check_signer(typed_data, signature, signer, role=signed_by)
    return VerifiedMessage(primary, message, signer, raw, typed_data_digest(typed_data), domain)


def check_signer(typed_data: Mapping[str, Any], signature: str | bytes, claimed: str, *, role: str) -> bytes:
    """The normalized signature, once it is checked to be ``claimed``'s (the ``role`` the message names).

    Raises:
        MalformedMessageError, InvalidSignatureError: the signature is malformed or by someone else.
    """
    signer = recover_signer(typed_data, signature)  # the message's own errors first, then the signature's
    if signer != claimed:
        raise InvalidSignatureError(
            f"the signature is by {signer}, not by the {role} {claimed} the message names "
            "(the message was altered, or signed for another chain or contract)"
        )
    return normalize_signature(signature)
