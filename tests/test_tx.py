"""The one transaction path: fees by chain type, gas margin, receipts as frozen records with events."""

from __future__ import annotations

import dataclasses

import pytest
from web3 import Web3

from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.chain import LocalChain
from civicdao.contracts import bind, deploy_contract
from civicdao.errors import ArtifactError, InvalidAddressError, InvalidAmountError, TransactionError
from civicdao.tx import send_transaction, transact


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
