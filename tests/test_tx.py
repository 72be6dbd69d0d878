"""The one transaction path: fees by chain type, gas margin, receipts as frozen records with events."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_account import Account
from eth_typing import ChecksumAddress
from web3 import Web3

from civicdao.accounts import KeySigner, LocalSigner, NodeSigner
from civicdao.chain import LocalChain
from civicdao.contracts import bind, deploy_contract
from civicdao.errors import (
    ArtifactError,
    InvalidAddressError,
    InvalidAmountError,
    SigningError,
    TransactionError,
)
from civicdao.signing import Domain, attestation_typed_data, recover_signer, sign_typed_data
from civicdao.tx import calldata, send_transaction, transact


@pytest.mark.ganache
def test_transact_returns_frozen_record_with_decoded_events(
    w3: Web3, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> None:
    reverter, deployment = deploy_contract(w3, deployer, "MockReverter")
    assert deployment.contract_address == reverter.address
    record = transact(w3, local_signers[2], reverter.functions.setValue(9))
    assert record.sender == local_signers[2].address
    assert record.gas_used > 21_000
    assert record.block_number == w3.eth.block_number
    event = record.event("MockReverterValueSet")
    assert (event["who"], event["oldValue"], event["newValue"]) == (local_signers[2].address, 0, 9)
    assert event.address == reverter.address
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.gas_used = 0  # type: ignore[misc]
    with pytest.raises(LookupError, match="emitted no Nope event"):
        record.event("Nope")


@pytest.mark.ganache
def test_local_signer_sends_eip1559_where_the_chain_has_a_base_fee(
    w3: Web3, local_signers: list[LocalSigner]
) -> None:
    record = send_transaction(w3, local_signers[3], to=local_signers[4].address, value=10**15)
    tx = w3.eth.get_transaction(record.tx_hash)
    assert tx["type"] == 2
    assert "maxFeePerGas" in tx


def test_legacy_transaction_where_the_chain_has_no_base_fee() -> None:
    with LocalChain("anvil", hardfork="berlin") as berlin:
        from civicdao.accounts import from_mnemonic
        from civicdao.chain import DEFAULT_MNEMONIC

        signer = from_mnemonic(DEFAULT_MNEMONIC, 0, chain_id=berlin.chain_id)
        record = send_transaction(berlin.w3, signer, to=berlin.w3.eth.accounts[1], value=1)
        assert berlin.w3.eth.get_transaction(record.tx_hash)["type"] == 0


def test_negative_value_is_refused_before_anything_is_sent(w3: Web3, deployer: NodeSigner) -> None:
    block = w3.eth.block_number
    with pytest.raises(InvalidAmountError, match="0 or more"):
        send_transaction(w3, deployer, to=deployer.address, value=-1)
    assert w3.eth.block_number == block


def test_node_refusal_is_a_transaction_error(w3: Web3, local_signers: list[LocalSigner]) -> None:
    too_much = w3.eth.get_balance(local_signers[5].address) * 2
    with pytest.raises(TransactionError, match="refused"):
        send_transaction(w3, local_signers[5], to=local_signers[6].address, value=too_much, gas=21_000)


def test_gas_estimate_has_a_margin(w3: Web3, deployer: NodeSigner) -> None:
    reverter, _ = deploy_contract(w3, deployer, "MockReverter")
    record = transact(w3, deployer, reverter.functions.setValue(1), gas_margin=2.0)
    assert w3.eth.get_transaction(record.tx_hash)["gas"] >= 2 * record.gas_used - 5_000


def test_bind_validates_address_and_name(w3: Web3) -> None:
    with pytest.raises(InvalidAddressError, match="MockReverter address"):
        bind(w3, "MockReverter", "0x1234")
    with pytest.raises(ArtifactError, match="no artifact for contract 'Nope'"):
        bind(w3, "Nope", "0x" + "11" * 20)


# -- pluggable signers: a key signer is any object that signs; the node signs only when told ------------


class VaultSigner:
    """A signer that is not eth-account's: it signs through its own methods (as a remote signing service or a
    hardware wallet adapter would) and returns raw bytes."""

    def __init__(self) -> None:
        self._key = Account.create()

    @property
    def address(self) -> ChecksumAddress:
        return self._key.address

    def sign_transaction(self, transaction_dict: dict[str, Any], /) -> bytes:
        return bytes(self._key.sign_transaction(transaction_dict).raw_transaction)

    def sign_typed_data(self, *, full_message: dict[str, Any]) -> bytes:
        return bytes(self._key.sign_typed_data(full_message=full_message).signature)


@dataclasses.dataclass(frozen=True)
class AddressOnly:
    """An object with an address and no way to sign."""

    address: ChecksumAddress


def _funded(w3: Web3, deployer: NodeSigner, address: str) -> None:
    send_transaction(w3, deployer, to=address, value=10**18)


def test_a_bare_eth_account_signs_and_sends(w3: Web3, deployer: NodeSigner) -> None:
    account = Account.create()  # not wrapped: eth-account's own LocalAccount
    assert isinstance(account, KeySigner) and account.address not in w3.eth.accounts
    _funded(w3, deployer, account.address)
    reverter, _ = deploy_contract(w3, deployer, "MockReverter")
    record = transact(w3, account, reverter.functions.setValue(7))
    assert record.sender == account.address
    assert record.event("MockReverterValueSet")["who"] == account.address
    sent = w3.eth.get_transaction(record.tx_hash)
    assert sent["from"] == account.address and sent["type"] == 2  # signed here, sent raw


def test_an_object_implementing_the_signer_protocol_sends(w3: Web3, deployer: NodeSigner) -> None:
    vault = VaultSigner()
    _funded(w3, deployer, vault.address)
    record = send_transaction(w3, vault, to=deployer.address, value=1)
    assert w3.eth.get_transaction(record.tx_hash)["from"] == vault.address
    domain = Domain("CivicDAO CitizenRegistry", "1", w3.eth.chain_id, deployer.address)
    typed = attestation_typed_data(domain, citizen=deployer.address, credential_hash=b"\x01" * 32, expiry=9)
    assert recover_signer(typed, sign_typed_data(vault, typed)) == vault.address  # the same protocol


def test_an_address_alone_is_never_sent_through_the_node(w3: Web3, deployer: NodeSigner) -> None:
    block = w3.eth.block_number
    unlocked = AddressOnly(deployer.address)  # the node could sign for it, but nobody chose that
    with pytest.raises(SigningError, match="NodeSigner"):
        send_transaction(w3, unlocked, to=deployer.address, value=1)  # type: ignore[arg-type]
    assert w3.eth.block_number == block
    record = send_transaction(w3, NodeSigner(deployer.address), to=deployer.address, value=1)  # chosen
    assert record.sender == deployer.address


def test_calldata_is_encoded_offline_like_web3(w3: Web3, deployer: NodeSigner) -> None:
    reverter, _ = deploy_contract(w3, deployer, "MockReverter")
    fn = reverter.functions.setValue(9)
    assert calldata(fn) == reverter.encode_abi("setValue", args=[9])
    assert calldata(fn).startswith("0x" + Web3.keccak(text="setValue(uint256)")[:4].hex())
