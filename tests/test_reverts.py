"""Reverts become named Python exceptions: custom errors with arguments, reason strings, panics."""

from __future__ import annotations

import pytest
from eth_abi import encode
from mock_contracts import MockReverterCustom
from web3 import Web3

from civicdao import errors
from civicdao._custom_errors import CUSTOM_ERRORS
from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.contracts import deploy_contract
from civicdao.reverts import decode_revert, revert_class
from civicdao.tx import call, transact


def _encoded(signature: str, types: list[str], values: list[object]) -> str:
    return "0x" + (Web3.keccak(text=signature)[:4] + encode(types, values)).hex()


def test_decode_revert_string_reason() -> None:
    revert = decode_revert(_encoded("Error(string)", ["string"], ["not allowed"]))
    assert isinstance(revert, errors.StringRevert)
    assert revert.reason == "not allowed"
    assert str(revert) == "reverted: not allowed"


def test_decode_revert_panic_code() -> None:
    revert = decode_revert(_encoded("Panic(uint256)", ["uint256"], [0x11]))
    assert isinstance(revert, errors.PanicRevert)
    assert revert.code == 0x11
    assert "overflow" in str(revert)


def test_decode_revert_custom_error_carries_arguments() -> None:
    who = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    revert = decode_revert(
        _encoded(
            "MockReverterCustom(uint256,address,string)", ["uint256", "address", "string"], [7, who, "x"]
        )
    )
    assert isinstance(revert, MockReverterCustom)
    assert (revert.code, revert.who, revert.note) == (7, who, "x")
    assert str(revert).startswith(f"MockReverterCustom(code=7, who='{who}', note='x') — Thrown when")


@pytest.mark.parametrize("data", [None, "0x", "0x1234", "0xdeadbeef" + "00" * 32])
def test_decode_revert_unknown_data(data: str | None) -> None:
    revert = decode_revert(data)
    assert type(revert) is errors.UnknownRevert


def test_decode_revert_malformed_arguments_is_unknown() -> None:
    assert type(decode_revert(MockReverterCustom.selector + "00")) is errors.UnknownRevert


def test_revert_class_lookup() -> None:
    assert revert_class("MockReverterCustom") is MockReverterCustom
    with pytest.raises(LookupError):
        revert_class("NoSuchError")


def test_generated_classes_are_contract_reverts_with_unique_selectors() -> None:
    assert CUSTOM_ERRORS, "no custom errors generated"
    for selector, cls in CUSTOM_ERRORS.items():
        assert issubclass(cls, errors.ContractRevert)
        assert cls.selector == selector == "0x" + Web3.keccak(text=cls.signature)[:4].hex()


def test_error_hierarchy_mixes_in_builtins() -> None:
    assert issubclass(errors.InvalidAddressError, ValueError)
    assert issubclass(errors.RPCUnreachableError, ConnectionError)
    assert issubclass(errors.BinaryNotFoundError, FileNotFoundError)
    classes = [getattr(errors, name) for name in errors.__all__ if name != "FACTS"]
    assert all(issubclass(cls, errors.CivicDAOError) for cls in classes)


def test_one_class_per_fact_on_chain_and_off() -> None:
    """A fact the library finds off-chain and the contract's revert for it are caught by one class."""
    generated = {cls.__name__: cls for cls in CUSTOM_ERRORS.values()}
    assert set(errors.FACTS) <= set(generated), "a FACTS entry names an error no contract has any more"
    for name, fact in errors.FACTS.items():
        assert issubclass(generated[name], fact) and issubclass(generated[name], errors.ContractRevert)
    already_voted = generated["GovernorAlreadyCastVote"]("0x", {"proposalId": 1, "account": "0x" + "11" * 20})
    with pytest.raises(errors.AlreadyVotedError) as caught:
        raise already_voted
    assert caught.value.proposalId == 1 and "GovernorAlreadyCastVote" in str(caught.value)
    expired = decode_revert(generated["VotesExpiredSignature"].selector + encode(["uint256"], [5]).hex())
    assert isinstance(expired, errors.SignatureExpiredError) and expired.expiry == 5
    assert not issubclass(generated["GovernorAlreadyQueuedProposal"], errors.RefusedError)


def test_mock_contracts_are_not_shipped() -> None:
    from civicdao.artifacts import list_artifacts

    assert not [name for name in list_artifacts() if name.startswith("Mock")]
    assert not [cls for cls in CUSTOM_ERRORS.values() if cls.__name__.startswith("Mock")]
    assert revert_class("MockReverterCustom") is MockReverterCustom  # registered by the tests' build


@pytest.mark.ganache
def test_transact_raises_named_reverts(
    w3: Web3, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> None:
    reverter, _ = deploy_contract(w3, deployer, "MockReverter")
    sender = local_signers[1]
    with pytest.raises(MockReverterCustom) as caught:
        transact(w3, sender, reverter.functions.revertCustom(42))
    assert caught.value.code == 42
    assert caught.value.who == sender.address
    with pytest.raises(errors.StringRevert, match="mock reason"):
        transact(w3, sender, reverter.functions.revertString())
    with pytest.raises(errors.PanicRevert) as panic:
        transact(w3, sender, reverter.functions.divide(0))
    assert panic.value.code == 0x12
    with pytest.raises(errors.UnknownRevert):
        transact(w3, sender, reverter.functions.revertBare())


@pytest.mark.ganache
def test_call_raises_named_reverts(w3: Web3, deployer: NodeSigner) -> None:
    reverter, _ = deploy_contract(w3, deployer, "MockReverter")
    with pytest.raises(errors.PanicRevert):
        call(reverter.functions.divide(0))
    with pytest.raises(MockReverterCustom):
        call(reverter.functions.revertCustom(1), sender=deployer.address)
    assert call(reverter.functions.divide(4)) == 25


@pytest.mark.ganache
def test_revert_found_after_mining_is_decoded(w3: Web3, deployer: NodeSigner) -> None:
    reverter, _ = deploy_contract(w3, deployer, "MockReverter")
    with pytest.raises(MockReverterCustom):
        transact(
            w3, deployer, reverter.functions.revertCustom(3), gas=100_000
        )  # no estimate: mined, reverted
