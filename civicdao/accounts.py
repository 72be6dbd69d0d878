"""Signers: who signs a transaction or a typed-data message, and how.

A signer is one of two things, and which one is always the caller's explicit choice:

* a :class:`KeySigner` holds its key and signs itself: eth-account's ``LocalAccount``
  (``Account.create()``, ``Account.from_key(...)``) fits as it is, and so does any object with an
  ``address``, ``sign_transaction(tx)`` and ``sign_typed_data(full_message=...)`` (a hardware wallet, a
  remote signing service). The loaders here (:func:`from_env`, :func:`from_keystore`,
  :func:`from_mnemonic`, :func:`from_private_key`) return a :class:`LocalSigner`, a ``LocalAccount``
  whose repr shows the address only and which refuses to be pickled;
* a :class:`NodeSigner` names an account the node unlocks (what Anvil, Ganache and Brownie hand out):
  transactions go out through ``eth_sendTransaction`` and typed data through ``eth_signTypedData_v4``.

:data:`Signer` is either. Anything else is refused with a :class:`~civicdao.errors.SigningError`: an
object that only has an ``address`` is never sent through the node's unlocked account by default.
Key material never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeAlias, runtime_checkable

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3

from civicdao.errors import ConfigError, InvalidAddressError, KeystoreError, MissingKeyError, SigningError

__all__ = [
    "DEFAULT_KEY_ENV",
    "LOCAL_CHAIN_IDS",
    "KeySigner",
    "LocalSigner",
    "NodeSigner",
    "SignedMessageLike",
    "SignedTransactionLike",
    "Signer",
    "checksum",
    "from_env",
    "from_keystore",
    "from_mnemonic",
    "from_private_key",
    "node_signers",
    "sign_raw_transaction",
    "sign_typed_data_locally",
]

#: The environment variable read by :func:`from_env` unless told otherwise.
DEFAULT_KEY_ENV = "CIVICDAO_PRIVATE_KEY"
#: Chain ids of local development chains, the only ones where a mnemonic signer is allowed.
LOCAL_CHAIN_IDS = frozenset({1337, 31337})


class SignedTransactionLike(Protocol):
    """What eth-account's ``sign_transaction`` returns: the raw signed transaction in ``raw_transaction``."""

    @property
    def raw_transaction(self) -> bytes: ...


class SignedMessageLike(Protocol):
    """What eth-account's ``sign_typed_data`` returns: the 65-byte signature in ``signature``."""

    @property
    def signature(self) -> bytes: ...


@runtime_checkable
class KeySigner(Protocol):
    """A signer that holds its key and signs in this process; the node never sees the key.

    eth-account's ``LocalAccount`` satisfies it unchanged. Each method may return the raw bytes or
    eth-account's result object (``SignedTransaction`` / ``SignedMessage``).
    """

    @property
    def address(self) -> ChecksumAddress:
        """The account that signs."""
        ...

    def sign_transaction(self, transaction_dict: dict[str, Any], /) -> bytes | SignedTransactionLike:
        """Sign a complete transaction dict (nonce, chainId, gas and fees filled in)."""
        ...

    def sign_typed_data(self, *, full_message: dict[str, Any]) -> bytes | SignedMessageLike:
        """Sign EIP-712 typed data: the JSON object ``eth_signTypedData_v4`` takes."""
        ...


@dataclass(frozen=True)
class NodeSigner:
    """An account the node has unlocked: transactions go out through ``eth_sendTransaction`` and typed data
    is signed by ``eth_signTypedData_v4``. Choosing it is explicit: nothing falls back to the node."""

    address: ChecksumAddress


#: Who signs: a key held here (:class:`KeySigner`, e.g. an eth-account ``LocalAccount``) or an account the
#: node unlocks (:class:`NodeSigner`).
Signer: TypeAlias = KeySigner | NodeSigner


@dataclass(frozen=True)
class LocalSigner:
    """A key held in memory (a :class:`KeySigner`). Its repr shows the address only; it cannot be pickled."""

    address: ChecksumAddress
    _account: LocalAccount = field(repr=False, compare=False)

    def sign_transaction(self, transaction_dict: dict[str, Any], /) -> bytes:
        """Sign a transaction dict and return the raw signed bytes."""
        return bytes(self._account.sign_transaction(transaction_dict).raw_transaction)

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        """Sign EIP-712 typed data (the JSON ``eth_signTypedData_v4`` takes); returns 65 signature bytes."""
        return bytes(self._account.sign_typed_data(full_message=full_message).signature)

    @property
    def key(self) -> HexBytes:
        """The private key, for handing it to another program (a test's subprocess). Never log it."""
        return HexBytes(self._account.key)

    def __reduce__(self) -> Any:
        raise TypeError("LocalSigner holds a private key and cannot be pickled")


def sign_raw_transaction(signer: KeySigner, transaction_dict: dict[str, Any]) -> bytes:
    """``signer``'s signature of a complete transaction, as the raw bytes ``eth_sendRawTransaction`` takes."""
    signed = signer.sign_transaction(transaction_dict)
    return bytes(signed if isinstance(signed, bytes) else signed.raw_transaction)


def sign_typed_data_locally(signer: KeySigner, typed_data: dict[str, Any]) -> bytes:
    """``signer``'s 65-byte signature of EIP-712 typed data."""
    signed = signer.sign_typed_data(full_message=typed_data)
    return bytes(signed if isinstance(signed, bytes) else signed.signature)


def checksum(address: str, *, what: str = "address") -> ChecksumAddress:
    """Validate and checksum an address, or raise :class:`InvalidAddressError` naming ``what``."""
    if not isinstance(address, str) or not is_address(address):
        raise InvalidAddressError(f"{what} {address!r} is not a valid Ethereum address (0x + 40 hex digits)")
    return to_checksum_address(address)


def from_private_key(key: str | bytes) -> LocalSigner:
    """A signer for a raw private key (hex string or 32 bytes)."""
    try:
        account: LocalAccount = Account.from_key(key)
    except Exception:  # the library's message may echo the key: never let it through
        raise SigningError("the private key is malformed: expected 32 bytes as 64 hex digits") from None
    return LocalSigner(account.address, account)


def from_env(variable: str = DEFAULT_KEY_ENV) -> LocalSigner:
    """A signer for the private key in environment variable ``variable``."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise MissingKeyError(
            f"environment variable {variable} is not set: export the deployer's private key"
        )
    try:
        return from_private_key(value)
    except SigningError:
        raise SigningError(f"{variable} does not hold a valid private key (64 hex digits)") from None


def from_keystore(path: str | os.PathLike[str], password: str) -> LocalSigner:
    """A signer for an encrypted JSON keystore (the format geth, Brownie and eth-account write)."""
    keystore = Path(path)
    try:
        encrypted = json.loads(keystore.read_text())
    except FileNotFoundError:
        raise KeystoreError(f"keystore {keystore} does not exist") from None
    except (OSError, ValueError):
        raise KeystoreError(f"keystore {keystore} is not a readable JSON keystore") from None
    try:
        key = Account.decrypt(encrypted, password)
    except ValueError:
        raise KeystoreError(f"wrong password for keystore {keystore}") from None
    except Exception:
        raise KeystoreError(f"keystore {keystore} is malformed") from None
    return from_private_key(key)


def from_mnemonic(mnemonic: str, index: int = 0, *, chain_id: int) -> LocalSigner:
    """Account ``index`` of a mnemonic (BIP-44 path m/44'/60'/0'/0/index), for local chains only."""
    if chain_id not in LOCAL_CHAIN_IDS:
        raise ConfigError(
            f"mnemonic signers are for local chains only (chain id {chain_id} is not one of "
            f"{sorted(LOCAL_CHAIN_IDS)}): use a keystore or an environment key"
        )
    if index < 0:
        raise ConfigError(f"account index must be 0 or more, got {index}")
    Account.enable_unaudited_hdwallet_features()  # eth-account gates mnemonics behind this switch
    try:
        account: LocalAccount = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    except Exception:
        raise SigningError("the mnemonic is not a valid BIP-39 phrase") from None
    return LocalSigner(account.address, account)


def node_signers(w3: Web3) -> list[NodeSigner]:
    """The accounts the node has unlocked, in its order (sending through one is an explicit choice)."""
    return [NodeSigner(to_checksum_address(address)) for address in w3.eth.accounts]
