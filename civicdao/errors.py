"""The CivicDAO exception hierarchy: one name per fact.

Everything the library raises derives from :class:`CivicDAOError`. Where a builtin exception fits,
the class mixes it in (a bad address is also a ``ValueError``, an unreachable node also a
``ConnectionError``), so callers may catch either::

    CivicDAOError
    ├── ConfigError (ValueError)                 a value or argument is missing or invalid
    │   ├── InvalidAddressError, InvalidAmountError
    │   └── MalformedMessageError                (also a SigningError)
    ├── CompilationError, ArtifactError (LookupError), BinaryNotFoundError (FileNotFoundError)
    ├── NetworkError (ConnectionError)           RPCUnreachableError, ChainIdMismatchError,
    │                                            UnknownNetworkError, ChainStartError
    ├── SigningError                             a key, a signature or a signed message is unusable
    │   ├── MissingKeyError (LookupError), KeystoreError
    │   ├── InvalidSignatureError (ValueError), SignatureExpiredError (ValueError)
    │   ├── DomainMismatchError (ValueError)     WrongChainError, WrongContractError
    │   └── NonceMismatchError (ValueError)      StaleNonceError
    ├── RefusedError                             the DAO's rules refuse the action
    │   ├── NotCitizenError, NotRegistrarError, NoVotingPowerError
    │   ├── AlreadyVotedError, AlreadyCitizenError → CredentialUsedError
    │   └── UnknownProposalError (LookupError), ProposalNotActiveError
    ├── TransactionError                         not sent, refused by the node, or not mined
    │   └── ContractRevert                       StringRevert, PanicRevert, UnknownRevert, and one
    │                                            generated class per Solidity custom error
    └── DeploymentError

A subsystem's own errors hang under these next to its code, e.g. ``civicdao.relayer``'s ``RelayerError``
and ``UnknownRoundError`` (a ``RefusedError``), ``civicdao.budget``'s ``BudgetError``, ``civicdao.logs``'s
``LogReadError`` (a ``NetworkError``), ``civicdao.index``'s ``IndexStoreError``.

Contract reverts land in the :class:`ContractRevert` branch: :class:`StringRevert` for
``require(…, "reason")``, :class:`PanicRevert` for ``Panic(uint256)``, :class:`UnknownRevert` for data we
cannot decode, and one generated subclass per Solidity custom error found in the shipped ABIs
(see :mod:`civicdao._custom_errors`), carrying the decoded arguments.

A fact has one name whether the library finds it before sending (the relayer's checks, a signature's
verification) or the contract reverts with it: the generated ``GovernorAlreadyCastVote`` is also an
:class:`AlreadyVotedError`, ``CitizenRegistrySignatureExpired`` a :class:`SignatureExpiredError`, and so on
(:data:`FACTS` lists each pair), so ``except AlreadyVotedError`` catches both.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "FACTS",
    "AlreadyCitizenError",
    "AlreadyVotedError",
    "ArtifactError",
    "BinaryNotFoundError",
    "ChainIdMismatchError",
    "ChainStartError",
    "CivicDAOError",
    "CompilationError",
    "ConfigError",
    "ContractRevert",
    "CredentialUsedError",
    "DeploymentError",
    "DomainMismatchError",
    "InvalidAddressError",
    "InvalidAmountError",
    "InvalidSignatureError",
    "KeystoreError",
    "MalformedMessageError",
    "MissingKeyError",
    "NetworkError",
    "NoVotingPowerError",
    "NonceMismatchError",
    "NotCitizenError",
    "NotRegistrarError",
    "PanicRevert",
    "ProposalNotActiveError",
    "RPCUnreachableError",
    "RefusedError",
    "SignatureExpiredError",
    "SigningError",
    "StaleNonceError",
    "StringRevert",
    "TargetCodeChangedError",
    "TransactionError",
    "UnknownNetworkError",
    "UnknownProposalError",
    "UnknownRevert",
    "WrongChainError",
    "WrongContractError",
]


class CivicDAOError(Exception):
    """Root of every error raised by CivicDAO."""


# -- configuration and input ------------------------------------------------------------------------


class ConfigError(CivicDAOError, ValueError):
    """A configuration value or argument is missing or invalid."""


class InvalidAddressError(ConfigError):
    """A string is not a valid Ethereum address."""


class InvalidAmountError(ConfigError):
    """An amount is negative, not a whole number, or otherwise unusable."""


# -- toolchain ----------------------------------------------------------------------------------------


class CompilationError(CivicDAOError):
    """The Solidity compiler reported errors (or warnings, which fail the build)."""


class ArtifactError(CivicDAOError, LookupError):
    """A contract artifact is missing, malformed or stale."""


class BinaryNotFoundError(CivicDAOError, FileNotFoundError):
    """A required executable (anvil, ganache, node, the solc shim) is not installed."""


# -- networks -----------------------------------------------------------------------------------------


class NetworkError(CivicDAOError, ConnectionError):
    """Talking to an Ethereum node failed."""


class RPCUnreachableError(NetworkError):
    """No node answers at the RPC URL."""


class ChainIdMismatchError(NetworkError):
    """The node serves another chain than the one expected."""

    def __init__(self, expected: int, actual: int, url: str = "") -> None:
        self.expected = expected
        self.actual = actual
        where = f" at {url}" if url else ""
        super().__init__(
            f"the node{where} serves chain id {actual}, expected {expected}: "
            "check the RPC URL or the --chain-id you passed"
        )


class UnknownNetworkError(NetworkError, ValueError):
    """A network name is not one CivicDAO knows."""


class ChainStartError(NetworkError):
    """A local chain process did not start or did not become ready in time."""


# -- signing: keys, signatures, signed messages --------------------------------------------------------


class SigningError(CivicDAOError):
    """A key cannot be loaded or cannot sign, or a signed message cannot be accepted (malformed, forged,
    expired, for another domain, or with the wrong nonce). Messages never contain key material."""


class MissingKeyError(SigningError, LookupError):
    """No key was configured where one was expected."""


class KeystoreError(SigningError):
    """An encrypted keystore is missing, malformed, or the password is wrong."""


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


# -- the DAO's rules ------------------------------------------------------------------------------------


class RefusedError(CivicDAOError):
    """The DAO's rules refuse the action: the same fact whether found before sending or reverted on-chain."""


class NotCitizenError(RefusedError):
    """The account is not a citizen (a ballot's voter: no membership and no votes at the proposal snapshot,
    or a key the membership rotated away from)."""


class NotRegistrarError(RefusedError):
    """The attestation or rotation is not signed by a holder of REGISTRAR_ROLE."""


class NoVotingPowerError(RefusedError):
    """The voter is a citizen but had delegated its vote at the snapshot: a plain ballot would count 0."""


class AlreadyVotedError(RefusedError):
    """The voter has already voted (or overridden) on this proposal."""


class AlreadyCitizenError(RefusedError):
    """The attested resident is already a citizen, or the credential was already used."""


class CredentialUsedError(AlreadyCitizenError):
    """The attested credential hash was already used to register a citizen (it is single-use)."""


class UnknownProposalError(RefusedError, LookupError):
    """The governor has no proposal with this id."""


class ProposalNotActiveError(RefusedError):
    """The proposal is not open for voting (pending, or voting has ended)."""


class TargetCodeChangedError(RefusedError):
    """The code at one of a proposal's targets changed since it was proposed: the governor's proposal id
    commits to each target's code hash, so the proposal can no longer be queued, executed or cancelled
    (restore the code, or propose again), and the timelock refuses a call whose target changed after
    queueing."""


# -- transactions and deployments -------------------------------------------------------------------


class TransactionError(CivicDAOError):
    """A transaction could not be built, sent or mined successfully."""


class DeploymentError(CivicDAOError):
    """A deployment could not be completed or its manifest does not match the chain."""


class ContractRevert(TransactionError):
    """A contract call reverted.

    Attributes:
        data: the raw revert data (``0x``-prefixed hex).
        args: the decoded arguments by name (empty when there are none).
    """

    #: Solidity signature of the error, e.g. ``"ExchangeSlotTaken(uint256,uint256)"`` (subclasses set it).
    signature: ClassVar[str] = ""
    #: The 4-byte selector as ``0x``-prefixed hex (subclasses set it).
    selector: ClassVar[str] = ""
    #: ``(name, abi type)`` of each argument, in order (subclasses set it).
    inputs: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, data: str = "0x", args: Mapping[str, Any] | None = None, *, message: str = "") -> None:
        self.data = data
        self.args_by_name: Mapping[str, Any] = MappingProxyType(dict(args or {}))
        # not super(): a generated class may also be a fact class (AlreadyVotedError…) with its own __init__
        Exception.__init__(self, message or self._describe())

    def __getattr__(self, name: str) -> Any:
        # Decoded arguments read as attributes: ``err.listingId``.
        try:
            return self.__dict__["args_by_name"][name]
        except KeyError:
            raise AttributeError(name) from None

    def _describe(self) -> str:
        shown = ", ".join(f"{key}={_short(value)}" for key, value in self.args_by_name.items())
        doc = (type(self).__doc__ or "").strip().splitlines()
        hint = f" — {doc[0]}" if doc and type(self).signature else ""
        return f"{type(self).__name__}({shown}){hint}"


class StringRevert(ContractRevert):
    """The contract reverted with a reason string (``Error(string)``)."""

    signature = "Error(string)"
    selector = "0x08c379a0"
    inputs = (("reason", "string"),)

    @property
    def reason(self) -> str:
        return str(self.args_by_name.get("reason", ""))

    def _describe(self) -> str:
        return f"reverted: {self.reason}"


PANIC_REASONS: Mapping[int, str] = MappingProxyType(
    {
        0x00: "generic compiler panic",
        0x01: "assertion failed",
        0x11: "arithmetic overflow or underflow",
        0x12: "division or modulo by zero",
        0x21: "invalid enum value",
        0x22: "corrupt storage byte array",
        0x31: "pop on an empty array",
        0x32: "array index out of bounds",
        0x41: "out of memory",
        0x51: "call to an uninitialised function",
    }
)


class PanicRevert(ContractRevert):
    """The contract hit a Solidity panic (``Panic(uint256)``): a bug or an arithmetic fault."""

    signature = "Panic(uint256)"
    selector = "0x4e487b71"
    inputs = (("code", "uint256"),)

    @property
    def code(self) -> int:
        return int(self.args_by_name.get("code", 0))

    def _describe(self) -> str:
        return f"panic 0x{self.code:02x}: {PANIC_REASONS.get(self.code, 'unknown panic code')}"


class UnknownRevert(ContractRevert):
    """The call reverted with data that matches no known error (or with no data at all)."""

    def _describe(self) -> str:
        if self.data in ("", "0x"):
            return "reverted without a reason (out of gas, a failed call, or a bare revert)"
        return f"reverted with unrecognised error data {self.data[:74]}"


#: The custom errors that state a fact the library also finds off-chain: the class the generated revert
#: class also derives from (``civicdao compile`` writes them so; a rename on either side fails its test).
FACTS: Mapping[str, type[CivicDAOError]] = MappingProxyType(
    {
        "GovernorAlreadyCastVote": AlreadyVotedError,
        "GovernorAlreadyOverriddenVote": AlreadyVotedError,
        "CitizenRegistryNotMember": NotCitizenError,
        "CivicGovernorVoterRotatedAway": NotCitizenError,
        "BudgetNotMember": NotCitizenError,
        "ExchangeNotResident": NotCitizenError,
        "CitizenRegistrySignerNotRegistrar": NotRegistrarError,
        "CitizenRegistryAlreadyMember": AlreadyCitizenError,
        "CitizenRegistryCredentialUsed": CredentialUsedError,
        "GovernorNonexistentProposal": UnknownProposalError,
        "CivicTimelockTargetCodeChanged": TargetCodeChangedError,
        "CitizenRegistrySignatureExpired": SignatureExpiredError,
        "VotesExpiredSignature": SignatureExpiredError,
        "InvalidAccountNonce": NonceMismatchError,
        "BudgetBallotReplayed": NonceMismatchError,
        "GovernorInvalidSignature": InvalidSignatureError,
        "CitizenRegistryInvalidSignature": InvalidSignatureError,
        "BudgetInvalidSignature": InvalidSignatureError,
        "ECDSAInvalidSignature": InvalidSignatureError,
        "ECDSAInvalidSignatureLength": InvalidSignatureError,
        "ECDSAInvalidSignatureS": InvalidSignatureError,
    }
)


def _short(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)
