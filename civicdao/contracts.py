"""Deploy shipped contracts and bind deployed ones to their ABIs."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract

from civicdao.accounts import Signer, checksum
from civicdao.artifacts import load_artifact
from civicdao.errors import ArtifactError, DeploymentError
from civicdao.tx import OnSent, TxRecord, send_transaction

__all__ = ["bind", "create_address", "deploy_contract"]


def bind(w3: Web3, name: str, address: str) -> Contract:
    """The shipped contract ``name`` at ``address`` as a web3.py ``Contract``."""
    artifact = load_artifact(name)
    return w3.eth.contract(address=checksum(address, what=f"{name} address"), abi=artifact.abi_list())


def create_address(sender: str, nonce: int) -> str:
    """The address CREATE gives a contract deployed by ``sender`` (an account or a contract) at ``nonce``."""
    import rlp  # type: ignore[import-untyped]

    encoded = rlp.encode([bytes.fromhex(sender[2:]), nonce])
    return str(Web3.to_checksum_address(Web3.keccak(encoded)[12:]))


def deploy_contract(
    w3: Web3, signer: Signer, name: str, *args: Any, value: int = 0, on_sent: OnSent | None = None
) -> tuple[Contract, TxRecord]:
    """Deploy the shipped contract ``name`` with constructor ``args``; returns it bound, and the receipt.

    ``on_sent`` is told the creation's hash before it is broadcast (see :func:`civicdao.tx.send_transaction`).
    """
    artifact = load_artifact(name)
    if artifact.link_references:
        raise ArtifactError(f"{name} needs linked libraries, which CivicDAO does not deploy")
    factory = w3.eth.contract(abi=artifact.abi_list(), bytecode=artifact.bytecode)
    data = factory.constructor(*args).data_in_transaction
    record = send_transaction(w3, signer, data=data, value=value, on_sent=on_sent)
    if record.contract_address is None:
        raise DeploymentError(f"deploying {name} mined transaction {record.tx_hash} but created no contract")
    return bind(w3, name, record.contract_address), record
