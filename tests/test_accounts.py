"""Signers load from env, keystore, mnemonic or the node; key material never leaks into text."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from civicdao import accounts
from civicdao.accounts import LocalSigner
from civicdao.chain import DEFAULT_MNEMONIC
from civicdao.errors import (
    ConfigError,
    InvalidAddressError,
    KeystoreError,
    MissingKeyError,
    SigningError,
)
from civicdao.tx import send_transaction

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil account 1
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICDAO_PRIVATE_KEY", KEY)
    assert accounts.from_env().address == ADDRESS


def test_from_env_missing_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="MY_KEY is not set"):
        accounts.from_env("MY_KEY")


def test_from_env_malformed_key_does_not_echo_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = KEY[:-2] + "zz"
    monkeypatch.setenv("CIVICDAO_PRIVATE_KEY", bad)
    with pytest.raises(SigningError) as caught:
        accounts.from_env()
    assert bad[4:] not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def _keystore(tmp_path: Path) -> Path:
    path = tmp_path / "deployer.json"
    path.write_text(json.dumps(Account.encrypt(KEY, "correct horse", iterations=2)))
    return path


def test_from_keystore(tmp_path: Path) -> None:
    assert accounts.from_keystore(_keystore(tmp_path), "correct horse").address == ADDRESS


def test_from_keystore_wrong_password(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="wrong password"):
        accounts.from_keystore(_keystore(tmp_path), "wrong")


def test_from_keystore_missing_or_malformed(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="does not exist"):
        accounts.from_keystore(tmp_path / "nope.json", "x")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    with pytest.raises(KeystoreError, match="not a readable JSON keystore"):
        accounts.from_keystore(garbage, "x")


def test_from_mnemonic_only_on_local_chains() -> None:
    assert accounts.from_mnemonic(DEFAULT_MNEMONIC, 1, chain_id=31337).address == ADDRESS
    with pytest.raises(ConfigError, match="local chains only"):
        accounts.from_mnemonic(DEFAULT_MNEMONIC, 1, chain_id=1)
    with pytest.raises(SigningError, match="not a valid BIP-39"):
        accounts.from_mnemonic("not a mnemonic", 0, chain_id=31337)


@pytest.mark.parametrize("bad", ["0x1234", "hello", "0x" + "g" * 40, "", None])
def test_checksum_rejects_malformed_addresses(bad: object) -> None:
    with pytest.raises(InvalidAddressError, match="recipient"):
        accounts.checksum(bad, what="recipient")  # type: ignore[arg-type]


def test_checksum_accepts_lowercase() -> None:
    assert accounts.checksum(ADDRESS.lower()) == ADDRESS


def test_private_key_never_in_repr_str_or_pickle() -> None:
    signer = accounts.from_private_key(KEY)
    for text in (repr(signer), str(signer), repr([signer]), repr({"s": signer})):
        assert KEY[2:] not in text and KEY[2:].upper() not in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(signer)


def test_private_key_never_logged(w3: Web3, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    signer: LocalSigner = accounts.from_private_key(KEY)
    send_transaction(w3, signer, to=signer.address, value=1)
    assert caplog.records, "expected the transaction path to log at DEBUG level"
    assert KEY[2:] not in caplog.text
