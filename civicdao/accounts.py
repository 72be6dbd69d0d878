"""Signers: who signs a transaction or a typed-data message.

A :class:`LocalSigner` holds a key in memory (loaded from an environment variable, an encrypted keystore,
or a mnemonic on local chains); a :class:`NodeSigner` is an account the node unlocks (what Anvil, Ganache
and Brownie hand out). Key material never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3

from civicdao.errors import ConfigError, InvalidAddressError, KeystoreError, MissingKeyError, SignerError

__all__ = [
    "DEFAULT_KEY_ENV",
    "LOCAL_CHAIN_IDS",
    "LocalSigner",
    "NodeSigner",
    "Signer",
    "checksum",
    "from_env",
    "from_keystore",
    "from_mnemonic",
    "from_private_key",
    "node_signers",
]

#: The environment variable read by :func:`from_env` unless told otherwise.
DEFAULT_KEY_ENV = "CIVICDAO_PRIVATE_KEY"
#: Chain ids of local development chains, the only ones where a mnemonic signer is allowed.
LOCAL_CHAIN_IDS = frozenset({1337, 31337})

Account.enable_unaudited_hdwallet_features()


@runtime_checkable
class Signer(Protocol):
    """Anything that can authorise transactions from :attr:`address`."""

    @property
    def address(self) -> ChecksumAddress: ...


@dataclass(frozen=True)
class NodeSigner:
    """An account unlocked by the node: transactions go out through ``eth_sendTransaction``."""

    address: ChecksumAddress


@dataclass(frozen=True)
class LocalSigner:
    """A key held in memory. Its repr shows the address only."""

    address: ChecksumAddress
    _account: LocalAccount = field(repr=False, compare=False)

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """Sign a transaction dict and return the raw signed bytes."""
        return bytes(self._account.sign_transaction(tx).raw_transaction)

    def sign_typed_data(self, typed_data: dict[str, Any]) -> bytes:
        """Sign EIP-712 typed data (the JSON ``eth_signTypedData_v4`` takes); returns 65 signature bytes."""
        message = encode_typed_data(full_message=typed_data)
        return bytes(self._account.sign_message(message).signature)

    def __reduce__(self) -> Any:
        raise TypeError("LocalSigner holds a private key and cannot be pickled")


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
        raise SignerError("the private key is malformed: expected 32 bytes as 64 hex digits") from None
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
    except SignerError:
        raise SignerError(f"{variable} does not hold a valid private key (64 hex digits)") from None


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
    try:
        account: LocalAccount = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    except Exception:
        raise SignerError("the mnemonic is not a valid BIP-39 phrase") from None
    return LocalSigner(account.address, account)


def node_signers(w3: Web3) -> list[NodeSigner]:
    """The accounts the node has unlocked, in its order."""
    return [NodeSigner(to_checksum_address(address)) for address in w3.eth.accounts]
