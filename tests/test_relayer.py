"""The relayer: wallet-signed messages in, batched transactions out, exactly once, paid by the relayer.

The HTTP API is driven through FastAPI's TestClient (the batcher is run by hand, so each test decides
when a batch happens); one test runs the real ``civicdao relay`` command with uvicorn and posts with curl.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from budget_scenario import open_budget_round
from eth_account import Account
from governance_scenario import citizens_vote_soon, open_proposal, register
from hexbytes import HexBytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.logs import DISCARD

from civicdao.accounts import LocalSigner, NodeSigner, from_private_key
from civicdao.budget import ParticipatoryBudget
from civicdao.chain import ChainControl, LocalChain
from civicdao.citizens import Citizens
from civicdao.deploy import Suite
from civicdao.governance import Governance, SignedBallot, VoteType
from civicdao.relayer import Batcher, Relayer, RelayerSettings, Store, create_app
from civicdao.signing import (
    attestation_typed_data,
    ballot_typed_data,
    batch_ballot_typed_data,
    delegation_typed_data,
    sign_typed_data,
)
from civicdao.toolchain import project_root
from civicdao.tx import call, transact

with warnings.catch_warnings():  # Starlette nudges towards httpx2, which this environment does not have
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

HOUR = 3_600
SIGN_JS = project_root() / "tests" / "js" / "sign.mjs"


@dataclass(frozen=True)
class World:
    suite: Suite
    control: ChainControl
    registrar: LocalSigner
    citizens: tuple[LocalSigner, ...]
    funder: LocalSigner
    proposal_id: int


@pytest.fixture(scope="module")
def world(
    suite: Suite, control: ChainControl, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> Iterator[World]:
    snapshot = control.snapshot()
    citizens = tuple(local_signers[1:6])
    proposal_id = citizens_vote_soon(suite, control, deployer, citizens, salt="relay", text="Relayed vote")
    yield World(suite, control, local_signers[0], citizens, local_signers[9], proposal_id)
    control.revert(snapshot)


@dataclass
class Service:
    relayer: Relayer
    batcher: Batcher
    client: TestClient
    db: Path | str

    def post(self, path: str, typed: dict[str, Any], signature: str) -> httpx.Response:
        return self.client.post(path, json={"typed_data": typed, "signature": signature})


def start(world: World, db: Path | str, **options: Any) -> Service:
    relayer = Relayer(world.suite, world.funder, Store(db), RelayerSettings(**options))
    app = create_app(relayer)
    return Service(relayer, app.state.batcher, TestClient(app), db)


@pytest.fixture
def service(world: World, tmp_path: Path) -> Iterator[Service]:
    running = start(world, tmp_path / "relayer.sqlite")
    yield running
    running.relayer.store.close()


def fresh_key() -> LocalSigner:
    return from_private_key(Account.create().key)


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def signed_ballot(
    world: World, voter: LocalSigner, support: int = 1, **options: Any
) -> tuple[dict[str, Any], str]:
    proposal_id = options.pop("proposal_id", world.proposal_id)
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=proposal_id, support=support, voter=voter.address, **options
    )
    return typed, sign_typed_data(voter, typed)


def signed_batch_ballot(
    world: World, voter: LocalSigner, support: int = 1, *, proposal_id: int | None = None
) -> tuple[dict[str, Any], str]:
    typed = batch_ballot_typed_data(
        world.suite.governor,
        proposal_id=proposal_id or world.proposal_id,
        support=support,
        voter=voter.address,
    )
    return typed, sign_typed_data(voter, typed)


def selector(world: World, name: str) -> str:
    [fn] = [f for f in world.suite.governor.all_functions() if f.fn_name == name]
    return "0x" + bytes(Web3.keccak(text=fn.signature)[:4]).hex()


def sent_input(world: World, tx_hash: str) -> bytes:
    return bytes(world.suite.w3.eth.get_transaction(HexBytes(tx_hash))["input"])


def ballot_template(
    service: Service, proposal_id: int, voter: LocalSigner, support: int, **extra: Any
) -> Any:
    """What ``GET /typed-data/ballot`` gives ``voter`` to sign."""
    params = {"proposal_id": str(proposal_id), "voter": voter.address, "support": support, **extra}
    return service.client.get("/typed-data/ballot", params=params).json()


def sign_with_ethers(signer: LocalSigner, typed: dict[str, Any]) -> str:
    key = signer.key.to_0x_hex()
    result = subprocess.run(
        ["node", str(SIGN_JS)],
        input=json.dumps({"privateKey": key, "typedData": typed}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return str(json.loads(result.stdout)["signature"])


def tally(world: World, proposal_id: int | None = None) -> tuple[int, int, int]:
    t = Governance.from_suite(world.suite).tally(proposal_id or world.proposal_id)
    return t.against, t.for_, t.abstain


# -- the citizen's path, end to end ----------------------------------------------------------------------


@pytest.mark.ganache
def test_zero_eth_citizen_is_registered_delegates_and_votes_through_the_relayer(
    world: World, service: Service
) -> None:
    suite, w3 = world.suite, world.suite.w3
    zoe, wim = fresh_key(), fresh_key()  # two residents who never hold ETH
    for resident, salt in ((zoe, "zoe"), (wim, "wim")):
        typed = attestation_typed_data(
            suite.registry,
            citizen=resident.address,
            credential_hash=Web3.keccak(text=salt),
            expiry=now(w3) + HOUR,
        )
        answer = service.post("/attestations", typed, sign_typed_data(world.registrar, typed))
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "accepted"
    report = service.batcher.run_once()
    assert len(report.confirmed) == 2 and not report.dropped
    assert call(suite.registry.functions.isCitizen(zoe.address))

    typed = delegation_typed_data(
        suite.registry, delegator=zoe.address, delegatee=wim.address, expiry=now(w3) + HOUR
    )
    answer = service.post("/delegations", typed, sign_typed_data(zoe, typed))
    assert answer.status_code == 202, answer.text
    report = service.batcher.run_once()
    assert service.client.get(f"/submissions/{answer.json()['id']}").json()["status"] == "confirmed", report
    assert call(suite.registry.functions.getVotes(wim.address)) == 2

    proposal_id = open_proposal(suite, world.control, world.citizens[0], "Plant trees on Elm Street")
    template = service.client.get(
        "/typed-data/ballot", params={"proposal_id": str(proposal_id), "voter": wim.address, "support": 1}
    ).json()
    assert service.post("/ballots", template, sign_typed_data(wim, template)).status_code == 202
    override, signature = signed_ballot(world, zoe, 0, proposal_id=proposal_id, override=True)
    assert service.post("/ballots", override, signature).status_code == 202
    report = service.batcher.run_once()
    assert report.ballots_per_tx == (2,)
    assert tally(world, proposal_id) == (1, 1, 0)  # Wim for with his own vote, Zoe took hers back: against
    proposal = service.client.get(f"/proposals/{proposal_id}").json()
    assert proposal["tally"] == {"for": 1, "against": 1, "abstain": 0}
    assert w3.eth.get_balance(zoe.address) == w3.eth.get_balance(wim.address) == 0


def test_ballots_signed_by_ethers_and_eth_account_both_count(world: World, service: Service) -> None:
    ann, bob = world.citizens[1], world.citizens[2]
    typed = ballot_template(service, world.proposal_id, ann, 1)
    by_ethers = service.post("/ballots", typed, sign_with_ethers(ann, typed))
    assert by_ethers.status_code == 202, by_ethers.text
    typed, signature = signed_ballot(world, bob, 2, reason="abstaining: conflict of interest")
    by_eth_account = service.post("/ballots", typed, signature)
    assert by_eth_account.status_code == 202, by_eth_account.text
    report = service.batcher.run_once()
    assert report.ballots_per_tx == (2,) and len(report.tx_hashes) == 1
    assert tally(world) == (0, 1, 1)
    for answer in (by_ethers, by_eth_account):
        status = service.client.get(f"/submissions/{answer.json()['id']}").json()
        assert (status["status"], status["tx_hash"]) == ("confirmed", report.tx_hashes[0])


def test_delegation_built_and_signed_by_ethers_alone_is_relayed(world: World, service: Service) -> None:
    citizen, delegatee = world.citizens[3], world.citizens[4]
    domain = service.client.get(
        "/typed-data/delegation",
        params={
            "delegator": citizen.address,
            "delegatee": delegatee.address,
            "expiry": now(world.suite.w3) + HOUR,
        },
    ).json()["domain"]
    message = {"delegatee": delegatee.address, "nonce": "0", "expiry": str(now(world.suite.w3) + HOUR)}
    key = citizen.key.to_0x_hex()
    result = subprocess.run(
        ["node", str(SIGN_JS)],
        input=json.dumps(
            {"privateKey": key, "build": {"kind": "Delegation", "domain": domain, "message": message}}
        ),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    signed = json.loads(
        result.stdout
    )  # types written in JavaScript from OpenZeppelin's struct, not by civicdao
    answer = service.post("/delegations", signed["typedData"], signed["signature"])
    assert answer.status_code == 202, answer.text
    # a Delegation names no delegator: the submission id is ethers' EIP-712 digest bound to the signer
    bound = Web3.keccak(bytes.fromhex(signed["digest"][2:]) + bytes.fromhex(citizen.address[2:]))
    assert answer.json()["id"] == "0x" + bound.hex()
    service.batcher.run_once()
    assert call(world.suite.registry.functions.delegates(citizen.address)) == delegatee.address


def test_the_relayer_pays_and_citizens_pay_nothing(world: World, service: Service) -> None:
    voter = world.citizens[1]
    before_voter = world.suite.w3.eth.get_balance(voter.address)
    before_funder = world.suite.w3.eth.get_balance(world.funder.address)
    service.post("/ballots", *signed_ballot(world, voter))
    report = service.batcher.run_once()
    assert world.suite.w3.eth.get_balance(voter.address) == before_voter
    assert world.suite.w3.eth.get_balance(world.funder.address) < before_funder
    assert int(service.client.get("/health").json()["gas_spent_wei"]) > 0
    assert report.gas_used > 0


def test_a_voter_may_queue_ballots_on_two_proposals_with_consecutive_nonces(
    world: World, service: Service
) -> None:
    voter = world.citizens[3]
    second = open_proposal(world.suite, world.control, world.citizens[0], "A second question")
    assert service.client.get(f"/nonces/{voter.address}").json() == {"ballot": 0, "delegation": 0}
    assert service.post("/ballots", *signed_ballot(world, voter)).status_code == 202
    assert service.client.get(f"/nonces/{voter.address}").json()["ballot"] == 1
    # a ballot with a reason carries a nonce (a plain one is a nonce-less BatchBallot): the next one
    template = ballot_template(service, second, voter, 0, reason="too soon")
    assert template["primaryType"] == "ExtendedBallot"
    assert template["message"]["nonce"] == "1"
    assert service.post("/ballots", template, sign_typed_data(voter, template)).status_code == 202
    report = service.batcher.run_once()
    assert report.ballots_per_tx == (2,)
    assert tally(world)[1] == 1 and tally(world, second)[0] == 1


# -- exactly once ----------------------------------------------------------------------------------------


def test_same_signature_twice_is_refused_before_and_after_submission(world: World, service: Service) -> None:
    typed, signature = signed_ballot(world, world.citizens[1])
    first = service.post("/ballots", typed, signature)
    assert first.status_code == 202
    again = service.post("/ballots", typed, signature)
    assert again.status_code == 409
    assert again.json()["error"] == "DuplicateSubmissionError"
    service.batcher.run_once()
    after = service.post("/ballots", typed, signature)
    assert after.status_code == 409 and "confirmed" in after.json()["detail"]
    assert tally(world) == (0, 1, 0)


def test_ballot_signed_for_another_chain_is_refused(world: World, service: Service) -> None:
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=1, voter=world.citizens[1].address
    )
    typed["domain"]["chainId"] = 11_155_111
    answer = service.post("/ballots", typed, sign_typed_data(world.citizens[1], typed))
    assert answer.status_code == 400
    assert answer.json()["error"] == "WrongChainError"
    assert "chain id 11155111" in answer.json()["detail"]
    assert service.relayer.store.counts()["accepted"] == 0


def test_ballot_signed_for_another_governor_is_refused(world: World, service: Service) -> None:
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=1, voter=world.citizens[1].address
    )
    typed["domain"]["verifyingContract"] = world.suite.exchange.address
    answer = service.post("/ballots", typed, sign_typed_data(world.citizens[1], typed))
    assert (answer.status_code, answer.json()["error"]) == (400, "WrongContractError")
    assert service.relayer.store.counts()["accepted"] == 0


def test_restart_between_accepting_and_submitting_lands_every_ballot_once(
    world: World, tmp_path: Path
) -> None:
    db = tmp_path / "relayer.sqlite"
    first = start(world, db)
    ids = []
    for voter, support in zip(world.citizens[1:4], (1, 0, 1), strict=True):
        answer = first.post("/ballots", *signed_ballot(world, voter, support))
        assert answer.status_code == 202
        ids.append(answer.json()["id"])
    first.client.close()
    first.relayer.store.close()  # the relayer dies before its batcher ran

    second = start(world, db)
    assert second.relayer.store.counts()["accepted"] == 3
    report = second.batcher.run_once()
    assert sorted(report.confirmed) == sorted(ids) and report.ballots_per_tx == (3,)
    assert tally(world) == (1, 2, 0)
    assert second.batcher.run_once().tx_hashes == ()  # nothing left to send
    assert {second.client.get(f"/submissions/{i}").json()["status"] for i in ids} == {"confirmed"}
    second.relayer.store.close()


def test_restart_after_broadcast_before_receipt_confirms_from_the_receipt(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "relayer.sqlite"
    first = start(world, db)
    first.post("/ballots", *signed_ballot(world, world.citizens[1]))

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("relayer killed while waiting for the receipt")

    monkeypatch.setattr(first.batcher.w3.eth, "wait_for_transaction_receipt", crash)
    with pytest.raises(SystemExit):
        first.batcher.run_once()
    [row] = first.relayer.store.with_status("submitted")
    assert row.tx_hash is not None
    first.relayer.store.close()
    monkeypatch.undo()

    second = start(world, db)
    report = second.batcher.run_once()
    assert report.confirmed == (row.digest,) and report.tx_hashes == ()  # reconciled, not re-sent
    assert second.relayer.store.get(row.digest).status == "confirmed"  # type: ignore[union-attr]
    assert tally(world) == (0, 1, 0)
    second.relayer.store.close()


def test_ballot_already_relayed_by_someone_else_is_confirmed_not_resent(
    world: World, service: Service, deployer: NodeSigner
) -> None:
    typed, signature = signed_ballot(world, world.citizens[1])
    answer = service.post("/ballots", typed, signature)
    transact(world.suite.w3, deployer, world.suite.governor.functions.castVoteBySig(
        world.proposal_id, 1, world.citizens[1].address, bytes.fromhex(signature[2:])
    ))  # fmt: skip
    report = service.batcher.run_once()
    assert report.confirmed == (answer.json()["id"],) and report.tx_hashes == ()
    assert service.relayer.store.get(answer.json()["id"]).reason == "already on chain"  # type: ignore[union-attr]
    assert tally(world) == (0, 1, 0)


@pytest.mark.parametrize(("kind", "carrier"), [("Ballot", "multicall"), ("BatchBallot", "castVotesBySig")])
def test_batch_drops_only_the_ballot_that_would_revert_and_says_why(
    world: World, service: Service, kind: str, carrier: str
) -> None:
    """A ballot that became invalid (its voter voted directly) is dropped before the batch is sent, whether
    the batch is a multicall of castVoteBySig or one castVotesBySig (each reverts as a whole)."""
    sign = signed_batch_ballot if kind == "BatchBallot" else signed_ballot
    voters = world.citizens[1:4]
    answers = [service.post("/ballots", *sign(world, voter)) for voter in voters]
    Governance.from_suite(world.suite).vote(voters[1], world.proposal_id, "against")  # votes itself meanwhile
    report = service.batcher.run_once()
    dropped_id = answers[1].json()["id"]
    assert [digest for digest, _ in report.dropped] == [dropped_id]
    assert report.ballots_per_tx == (2,)
    status = service.client.get(f"/submissions/{dropped_id}").json()
    assert status["status"] == "dropped"
    assert status["reason"].startswith("GovernorAlreadyCastVote(voter=")
    assert "0x" + sent_input(world, report.tx_hashes[0])[:4].hex() == selector(world, carrier)
    assert tally(world) == (1, 2, 0)


# -- limits ----------------------------------------------------------------------------------------------


def test_gas_budget_spent_stops_submitting_and_health_says_so(world: World, tmp_path: Path) -> None:
    service = start(world, tmp_path / "r.sqlite", gas_budget_wei=1)
    service.post("/ballots", *signed_ballot(world, world.citizens[1]))
    report = service.batcher.run_once()
    assert report.stopped is not None and "gas budget spent" in report.stopped
    assert report.tx_hashes == ()
    assert service.relayer.store.counts()["accepted"] == 1  # kept for when the budget is raised
    health = service.client.get("/health").json()
    assert health["ok"] is False and "gas budget spent" in health["status"]
    service.relayer.store.close()
    raised = start(world, tmp_path / "r.sqlite")  # restarted with no cap: the ballot lands
    assert raised.batcher.run_once().ballots_per_tx == (1,)
    assert raised.client.get("/health").json()["status"] == "ok"
    raised.relayer.store.close()


def test_rate_limit_per_citizen_answers_429(world: World, tmp_path: Path) -> None:
    service = start(world, tmp_path / "r.sqlite", rate_limit=1, rate_window=600)
    citizen, other = world.citizens[1], world.citizens[2]
    expiry = now(world.suite.w3) + HOUR
    first = delegation_typed_data(
        world.suite.registry, delegator=citizen.address, delegatee=other.address, expiry=expiry
    )
    assert service.post("/delegations", first, sign_typed_data(citizen, first)).status_code == 202
    second = delegation_typed_data(
        world.suite.registry, delegator=citizen.address, delegatee=citizen.address, expiry=expiry, nonce=1
    )
    answer = service.post("/delegations", second, sign_typed_data(citizen, second))
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "600"
    assert answer.json()["error"] == "RateLimitedError"
    assert service.post("/ballots", *signed_ballot(world, other)).status_code == 202  # others unaffected
    service.relayer.store.close()


def test_oversized_body_gets_413_and_changes_nothing(world: World, service: Service) -> None:
    typed, signature = signed_ballot(world, world.citizens[1], reason="x" * 20_000)
    answer = service.post("/ballots", typed, signature)
    assert answer.status_code == 413
    assert answer.json()["error"] == "RequestTooLarge"
    chunked = service.client.post(
        "/ballots",
        content=iter([b"{" + b" " * 10_000, b" " * 10_000 + b"}"]),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert set(service.relayer.store.counts().values()) == {0}


@pytest.mark.parametrize(
    ("body", "status", "error", "detail"),
    [
        (b'{"typed_data": {', 400, "MalformedJSON", "not valid JSON"),
        (b"[1, 2]", 422, "InvalidRequest", "valid dictionary"),
        (b'{"typed_data": {}}', 422, "InvalidRequest", "signature: Field required"),
        (b'{"typed_data": 5, "signature": "0x"}', 422, "InvalidRequest", "typed_data"),
        (b'{"typed_data": {}, "signature": 7}', 422, "InvalidRequest", "signature"),
        (b'{"typed_data": {}, "signature": "0x", "extra": 1}', 422, "InvalidRequest", "extra"),
    ],
)
def test_malformed_requests_get_a_clear_4xx(
    service: Service, body: bytes, status: int, error: str, detail: str
) -> None:
    answer = service.client.post("/ballots", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    assert detail in answer.json()["detail"]
    assert service.relayer.store.counts()["accepted"] == 0


def test_bad_hex_unknown_proposal_and_wrong_types_in_the_message(world: World, service: Service) -> None:
    typed, _ = signed_ballot(world, world.citizens[1])
    answer = service.post("/ballots", typed, "0xnothex")
    assert (answer.status_code, answer.json()["error"]) == (400, "MalformedMessageError")
    unknown, signature = signed_ballot(world, world.citizens[1], proposal_id=424242)
    answer = service.post("/ballots", unknown, signature)
    assert (answer.status_code, answer.json()["error"]) == (404, "UnknownProposalError")
    wrong = json.loads(json.dumps(typed))
    wrong["message"]["support"] = "for"
    answer = service.post("/ballots", wrong, signature)
    assert answer.status_code == 400 and "support" in answer.json()["detail"]
    assert service.client.get("/proposals/424242").status_code == 404
    assert service.client.get("/proposals/banana").status_code == 400
    assert service.client.get("/submissions/0x1234").status_code == 404
    assert service.relayer.store.counts()["accepted"] == 0


def test_refusals_name_the_reason(world: World, service: Service) -> None:
    stranger = fresh_key()
    answer = service.post("/ballots", *signed_ballot(world, stranger, nonce=0))
    assert (answer.status_code, answer.json()["error"]) == (403, "NotCitizenError")
    service.post("/ballots", *signed_ballot(world, world.citizens[1]))
    answer = service.post("/ballots", *signed_ballot(world, world.citizens[1], 0, nonce=1))
    assert (answer.status_code, answer.json()["error"]) == (409, "AlreadyVotedError")
    expired = delegation_typed_data(
        world.suite.registry,
        delegator=world.citizens[2].address,
        delegatee=world.citizens[3].address,
        expiry=now(world.suite.w3) - 1,
    )
    answer = service.post("/delegations", expired, sign_typed_data(world.citizens[2], expired))
    assert (answer.status_code, answer.json()["error"]) == (400, "SignatureExpiredError")
    stale = delegation_typed_data(
        world.suite.registry,
        delegator=world.citizens[2].address,
        delegatee=world.citizens[3].address,
        expiry=now(world.suite.w3) + HOUR,
        nonce=5,
    )
    answer = service.post("/delegations", stale, sign_typed_data(world.citizens[2], stale))
    assert (answer.status_code, answer.json()["error"]) == (409, "NonceMismatchError")
    fake = attestation_typed_data(
        world.suite.registry,
        citizen=stranger.address,
        credential_hash=b"\x05" * 32,
        expiry=now(world.suite.w3) + HOUR,
    )
    answer = service.post("/attestations", fake, sign_typed_data(world.citizens[2], fake))
    assert (answer.status_code, answer.json()["error"]) == (403, "NotRegistrarError")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
        max_leaves=12,
    ),
    path=st.sampled_from(["/ballots", "/delegations", "/attestations"]),
)
def test_any_junk_body_gets_4xx_and_changes_nothing(service: Service, junk: Any, path: str) -> None:
    for body in (junk, {"typed_data": junk, "signature": "0x" + "11" * 65}):
        answer = service.client.post(path, json=body)
        assert 400 <= answer.status_code < 500, answer.text
        assert set(answer.json()) == {"error", "detail"}
    assert service.relayer.store.counts()["accepted"] == 0


# -- reading ---------------------------------------------------------------------------------------------


def test_health_proposals_and_openapi(world: World, service: Service) -> None:
    health = service.client.get("/health").json()
    assert health["ok"] is True and health["status"] == "ok"
    assert health["chain_id"] == world.suite.w3.eth.chain_id
    assert health["relayer"] == world.funder.address
    listed = service.client.get("/proposals").json()
    assert str(world.proposal_id) in [p["id"] for p in listed]
    one = service.client.get(f"/proposals/{world.proposal_id}").json()
    assert one["state"] == "active" and one["description"].startswith("Relayed vote")
    schema = service.client.get("/openapi.json").json()
    assert {"/ballots", "/delegations", "/attestations", "/health", "/proposals"} <= set(schema["paths"])
    assert service.client.get("/docs").status_code == 200


def test_batch_is_due_after_n_signatures_or_t_seconds(world: World, tmp_path: Path) -> None:
    service = start(world, tmp_path / "r.sqlite", batch_size=2, batch_interval=30)
    assert not service.batcher.due(time.time())
    service.post("/ballots", *signed_ballot(world, world.citizens[1]))
    assert not service.batcher.due(time.time())
    assert service.batcher.due(time.time() + 31)
    service.post("/ballots", *signed_ballot(world, world.citizens[2]))
    assert service.batcher.due(time.time())
    service.relayer.store.close()


# -- the walk-through: civicdao relay + ethers.js + curl -----------------------------------------------


def test_walkthrough_relay_command_ethers_signature_and_curl(
    chain: LocalChain, world: World, tmp_path: Path
) -> None:
    manifest = tmp_path / "suite.json"
    manifest.write_text(json.dumps(world.suite.manifest.to_dict()))
    port = _free_port()
    env = {**os.environ, "RELAYER_KEY": world.funder.key.to_0x_hex()}
    command = [
        sys.executable, "-m", "civicdao.cli", "relay",
        "--rpc-url", chain.rpc_url, "--manifest", str(manifest),
        "--key-env", "RELAYER_KEY", "--db", str(tmp_path / "relayer.sqlite"), "--port", str(port),
        "--batch-size", "1", "--batch-seconds", "1",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: httpx.get(f"{base}/health").status_code == 200, process)
        voter = world.citizens[4]
        typed = httpx.get(
            f"{base}/typed-data/ballot",
            params={"proposal_id": str(world.proposal_id), "voter": voter.address, "support": 1},
        ).json()
        body = json.dumps({"typed_data": typed, "signature": sign_with_ethers(voter, typed)})
        posted = subprocess.run(
            ["curl", "-s", "-X", "POST", f"{base}/ballots",
             "-H", "content-type: application/json", "-d", body],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        submission = json.loads(posted.stdout)
        assert submission["status"] == "accepted", posted.stdout
        _wait_for(
            lambda: httpx.get(f"{base}/submissions/{submission['id']}").json()["status"] == "confirmed",
            process,
        )
        assert tally(world) == (0, 1, 0)
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(condition: Any, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll a running relayer process until ``condition()`` holds (it works in real time, not chain time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"the relayer exited with {process.returncode}: {stderr[-2000:]}")
        try:
            if condition():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the relayer did not get there in time")


def test_measure_vote_gas_batches_cost_less_per_vote(world: World, deployer: NodeSigner) -> None:
    from civicdao.relayer.measure import measure_vote_gas

    block = world.suite.w3.eth.block_number
    rows = measure_vote_gas(world.suite, world.control, registrar=deployer, payer=world.funder, sizes=(1, 4))
    by = {(row.how, row.votes): row for row in rows}
    assert set(by) == {
        ("castVote", 1),
        ("castVoteBySig", 1),
        ("multicall", 1),
        ("multicall", 4),
        ("castVotesBySig", 1),
        ("castVotesBySig", 4),
    }
    assert by[("multicall", 4)].gas_per_vote < by[("castVoteBySig", 1)].gas_per_vote
    assert by[("multicall", 1)].gas_used > by[("castVoteBySig", 1)].gas_used  # the wrapping costs a little
    # the batched entry point shares the base and the per-call overhead: cheaper per vote than the multicall
    assert by[("castVotesBySig", 4)].gas_per_vote < by[("multicall", 4)].gas_per_vote
    assert by[("castVotesBySig", 4)].gas_per_vote < by[("castVotesBySig", 1)].gas_per_vote
    assert world.suite.w3.eth.block_number == block  # the chain was put back


# -- red team: superseded messages, forged signers, hostile input ----------------------------------------


def signed_delegation(
    world: World,
    delegator: LocalSigner,
    delegatee: LocalSigner,
    nonce: int = 0,
    *,
    key: LocalSigner | None = None,
) -> tuple[dict[str, Any], str]:
    typed = delegation_typed_data(
        world.suite.registry,
        delegator=delegator.address,
        delegatee=delegatee.address,
        expiry=now(world.suite.w3) + HOUR,
        nonce=nonce,
    )
    return typed, sign_typed_data(key or delegator, typed)


def relay_directly(world: World, payer: NodeSigner, typed: dict[str, Any], signature: str) -> str:
    """Someone else relays a signed delegation straight to the registry (not through this relayer)."""
    message, raw = typed["message"], bytes.fromhex(signature[2:])
    fn = world.suite.registry.functions.delegateBySig(
        message["delegatee"], int(message["nonce"]), int(message["expiry"]), raw[64], raw[:32], raw[32:64]
    )
    return transact(world.suite.w3, payer, fn).tx_hash


def test_delegation_whose_nonce_another_delegation_used_first_is_superseded_not_confirmed(
    world: World, service: Service, deployer: NodeSigner
) -> None:
    citizen, wanted, other = world.citizens[1], world.citizens[2], world.citizens[3]
    queued = service.post("/delegations", *signed_delegation(world, citizen, wanted))
    assert queued.status_code == 202, queued.text
    relay_directly(world, deployer, *signed_delegation(world, citizen, other))  # same nonce, lands first

    report = service.batcher.run_once()
    status = service.client.get(f"/submissions/{queued.json()['id']}").json()
    assert status["status"] == "superseded" and report.confirmed == ()
    assert [digest for digest, _ in report.superseded] == [queued.json()["id"]]
    assert "nonce 0" in status["reason"] and "never took effect" in status["reason"]
    assert call(world.suite.registry.functions.delegates(citizen.address)) == other.address
    assert report.tx_hashes == ()  # nothing was sent for it
    assert service.client.get("/health").json()["submissions"]["superseded"] == 1


def test_delegation_relayed_by_someone_else_is_confirmed_with_their_transaction(
    world: World, service: Service, deployer: NodeSigner
) -> None:
    citizen, delegatee = world.citizens[1], world.citizens[2]
    typed, signature = signed_delegation(world, citizen, delegatee)
    queued = service.post("/delegations", typed, signature)
    tx_hash = relay_directly(world, deployer, typed, signature)  # the very same signed message
    report = service.batcher.run_once()
    status = service.client.get(f"/submissions/{queued.json()['id']}").json()
    assert (status["status"], status["tx_hash"], status["reason"]) == (
        "confirmed",
        tx_hash,
        "already on chain",
    )
    assert report.superseded == () and report.tx_hashes == ()


def test_ballot_whose_nonce_another_ballot_used_first_is_superseded(
    world: World, service: Service, deployer: NodeSigner
) -> None:
    voter = world.citizens[1]
    queued = service.post("/ballots", *signed_ballot(world, voter, 1))  # for
    _, against = signed_ballot(world, voter, 0)  # same nonce, against, relayed elsewhere first
    transact(world.suite.w3, deployer, world.suite.governor.functions.castVoteBySig(
        world.proposal_id, 0, voter.address, bytes.fromhex(against[2:])
    ))  # fmt: skip
    report = service.batcher.run_once()
    status = service.client.get(f"/submissions/{queued.json()['id']}").json()
    assert status["status"] == "superseded" and report.confirmed == ()
    assert tally(world) == (1, 0, 0)  # the vote that counts is the other one


def test_our_own_delegation_transaction_is_confirmed_by_its_event_and_the_resulting_delegate(
    world: World, service: Service
) -> None:
    citizen, delegatee = world.citizens[4], world.citizens[2]
    queued = service.post("/delegations", *signed_delegation(world, citizen, delegatee))
    report = service.batcher.run_once()
    assert report.confirmed == (queued.json()["id"],) and len(report.tx_hashes) == 1
    receipt = world.suite.w3.eth.get_transaction_receipt(report.tx_hashes[0])
    changed = world.suite.registry.events.DelegateChanged().process_receipt(receipt, errors=DISCARD)
    assert [(e["args"]["delegator"], e["args"]["toDelegate"]) for e in changed] == [
        (citizen.address, delegatee.address)
    ]


def test_ballot_signed_by_one_key_naming_another_voter_is_refused(world: World, service: Service) -> None:
    """The signer check itself: with it switched off, this ballot would be accepted and counted for B."""
    mallory, bob = world.citizens[1], world.citizens[2]
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=0, voter=bob.address
    )
    answer = service.post("/ballots", typed, sign_typed_data(mallory, typed))
    assert (answer.status_code, answer.json()["error"]) == (400, "InvalidSignatureError")
    assert f"not by the voter {bob.address}" in answer.json()["detail"]
    assert service.relayer.store.counts()["accepted"] == 0
    service.batcher.run_once()
    assert tally(world) == (0, 0, 0)


def test_a_relayer_on_postgresql_queues_relays_and_confirms(world: World, pg_server: Any) -> None:
    """The same service with its queue in PostgreSQL: a ballot and a delegation accepted, a replay refused,
    both confirmed by one batch run."""
    pg_server.psql("CREATE DATABASE civicdao_relayer_service;")
    running = start(world, str(pg_server.get_uri("civicdao_relayer_service")))
    try:
        assert running.relayer.store.dialect == "postgresql"
        voter, citizen, delegatee = world.citizens[1], world.citizens[3], world.citizens[2]
        ballot = signed_batch_ballot(world, voter, 1)
        queued = [
            running.post("/ballots", *ballot),
            running.post("/delegations", *signed_delegation(world, citizen, delegatee)),
        ]
        assert [q.status_code for q in queued] == [202, 202], [q.text for q in queued]
        again = running.post("/ballots", *ballot)
        assert (again.status_code, again.json()["error"]) == (409, "DuplicateSubmissionError")
        report = running.batcher.run_once()
        assert sorted(report.confirmed) == sorted(q.json()["id"] for q in queued)
        assert tally(world) == (0, 1, 0)
        assert call(world.suite.registry.functions.delegates(citizen.address)) == delegatee.address
        assert running.client.get("/health").json()["submissions"]["confirmed"] == 2
    finally:
        running.relayer.store.close()


def test_byte_identical_delegations_of_two_citizens_are_both_kept_and_relayed(
    world: World, service: Service
) -> None:
    """A Delegation names no delegator: two citizens delegating to one neighbour with the same nonce and
    expiry sign the same message. Each submission id binds its signer, so both are kept; a replay is 409."""
    first, second, delegatee = world.citizens[3], world.citizens[4], world.citizens[2]
    expiry = now(world.suite.w3) + HOUR
    typed = {
        who.address: delegation_typed_data(
            world.suite.registry, delegator=who.address, delegatee=delegatee.address, expiry=expiry, nonce=0
        )
        for who in (first, second)
    }
    assert typed[first.address] == typed[second.address]  # byte-identical messages
    answers = [
        service.post("/delegations", typed[who.address], sign_typed_data(who, typed[who.address]))
        for who in (first, second)
    ]
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    ids = [a.json()["id"] for a in answers]
    assert ids[0] != ids[1]
    again = service.post("/delegations", typed[first.address], sign_typed_data(first, typed[first.address]))
    assert (again.status_code, again.json()["error"]) == (409, "DuplicateSubmissionError")
    report = service.batcher.run_once()
    assert sorted(report.confirmed) == sorted(ids)
    for who in (first, second):
        assert call(world.suite.registry.functions.delegates(who.address)) == delegatee.address


def test_delegation_signed_by_a_key_other_than_the_delegators_moves_nothing_of_theirs(
    world: World, service: Service
) -> None:
    """A delegation names no delegator: it is the signer's. Signed by a stranger for Bob's vote it is refused
    (the stranger is no citizen); signed by another citizen it moves only that citizen's vote."""
    bob, mallory, target = world.citizens[1], world.citizens[3], world.citizens[4]
    typed, by_stranger = signed_delegation(world, bob, target, key=fresh_key())
    answer = service.post("/delegations", typed, by_stranger)
    assert (answer.status_code, answer.json()["error"]) == (403, "NotCitizenError")
    typed, by_mallory = signed_delegation(world, bob, target, key=mallory)
    answer = service.post("/delegations", typed, by_mallory)
    assert answer.status_code == 202 and answer.json()["signer"] == mallory.address
    service.batcher.run_once()
    assert call(world.suite.registry.functions.delegates(bob.address)) == bob.address
    assert call(world.suite.registry.functions.delegates(mallory.address)) == target.address


def test_nobody_but_the_signer_learns_whether_a_ballot_is_queued(world: World, service: Service) -> None:
    bob, mallory = world.citizens[1], world.citizens[2]
    typed, signature = signed_ballot(world, bob, 1)
    assert service.post("/ballots", typed, signature).status_code == 202
    forged = sign_typed_data(mallory, typed)  # Bob's exact ballot (guessable), not Bob's signature
    answer = service.post("/ballots", typed, forged)
    assert (answer.status_code, answer.json()["error"]) == (400, "InvalidSignatureError")
    other = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=0, voter=bob.address, nonce=1
    )
    answer = service.post("/ballots", other, sign_typed_data(mallory, other))
    assert (answer.status_code, answer.json()["error"]) == (400, "InvalidSignatureError")
    delegation, by_bob = signed_delegation(world, bob, mallory)
    assert service.post("/delegations", delegation, by_bob).status_code == 202
    answer = service.post("/delegations", delegation, sign_typed_data(fresh_key(), delegation))
    assert answer.json()["error"] == "NotCitizenError"  # not "already received"
    # Bob himself is told
    assert service.post("/ballots", typed, signature).json()["error"] == "DuplicateSubmissionError"
    answer = service.post("/ballots", other, sign_typed_data(bob, other))
    assert (answer.status_code, answer.json()["error"]) == (409, "AlreadyVotedError")


ARABIC_123 = "\u0661\u0662\u0663"  # "١٢٣": Python's int() and str.isdigit() take these


def test_numbers_in_other_scripts_digits_are_refused(world: World, service: Service) -> None:
    voter = world.citizens[1]
    for field, value in (("nonce", "\u0660"), ("proposalId", ARABIC_123), ("support", "\u0661")):
        typed, _ = signed_ballot(world, voter)
        typed["message"][field] = value
        answer = service.post("/ballots", typed, "0x" + "11" * 65)
        assert answer.status_code == 400, (field, answer.text)
        assert answer.json()["error"] == "MalformedMessageError", field
        assert "ASCII digits" in answer.json()["detail"] or "support" in answer.json()["detail"]
    typed, _ = signed_delegation(world, voter, world.citizens[2])
    typed["message"]["expiry"] = "\u0661" * 10
    answer = service.post("/delegations", typed, "0x" + "11" * 65)
    assert (answer.status_code, answer.json()["error"]) == (400, "MalformedMessageError")
    for path in (f"/proposals/{ARABIC_123}", "/proposals/ 12", "/proposals/1_2", "/proposals/+1"):
        answer = service.client.get(path)
        assert (answer.status_code, set(answer.json())) == (400, {"error", "detail"}), path
    answer = service.client.get(
        "/typed-data/delegation",
        params={"delegator": voter.address, "delegatee": voter.address, "expiry": ARABIC_123},
    )
    assert answer.status_code == 422 and set(answer.json()) == {"error", "detail"}
    assert service.relayer.store.counts()["accepted"] == 0


NOT_UTF8 = b'{"typed_data": {"a": "\xff\xfe"}, "signature": "0x"}'
DEEP_OBJECT = b'{"typed_data": ' + b'{"a": ' * 40 + b"1" + b"}" * 41


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error"),
    [
        ("POST", "/ballots", NOT_UTF8, {}, 400, "MalformedJSON"),
        ("POST", "/ballots", b"[" * 8000 + b"]" * 8000, {}, 400, "MalformedJSON"),
        ("POST", "/delegations", DEEP_OBJECT, {}, 400, "MalformedJSON"),
        ("GET", "/no/such/path", b"", {}, 404, "NotFound"),
        ("POST", "/ballot", b"{}", {}, 404, "NotFound"),
        ("GET", "/ballots", b"", {}, 405, "MethodNotAllowed"),
        ("DELETE", "/health", b"", {}, 405, "MethodNotAllowed"),
        ("POST", "/ballots", b"{}", {"content-length": "abc"}, 400, "BadContentLength"),
        ("POST", "/ballots", b"{}", {"content-length": "\u0662".encode()}, 400, "BadContentLength"),
    ],
    ids=["not-utf8", "8000-deep", "41-deep-object", "unknown-path", "unknown-post", "get-on-post",
         "delete", "content-length-text", "content-length-arabic"],
)  # fmt: skip
def test_every_refusal_has_the_documented_body(
    service: Service, method: str, path: str, body: bytes, headers: dict[str, Any], status: int, error: str
) -> None:
    answer = service.client.request(
        method, path, content=body or None, headers={"content-type": "application/json", **headers}
    )
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error", "detail"} and answer.json()["error"] == error
    if status == 405:
        assert answer.headers["allow"]
    assert set(service.relayer.store.counts().values()) == {0}


def test_the_http_server_own_refusals_are_json_too(world: World, tmp_path: Path) -> None:
    """uvicorn refuses an unparsable request before the app sees it: that 400 has the same body shape."""
    import socket
    import threading

    from civicdao.relayer.app import server

    relayer = Relayer(world.suite, world.funder, Store(tmp_path / "r.sqlite"))
    port = _free_port()
    running = server(create_app(relayer), port=port)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        _wait_for_port(port)
        for head in (
            b"POST /ballots HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
            b"POST /ballots HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            b"GET /health HTTP/1.1\r\nHost x\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(head)
                answer = _read_all(connection)
            status_line, _, rest = answer.partition(b"\r\n")
            assert status_line.startswith(b"HTTP/1.1 400"), answer
            body = json.loads(rest.partition(b"\r\n\r\n")[2])
            assert body["error"] == "MalformedHTTP" and set(body) == {"error", "detail"}
        deep = b"[" * 8000 + b"]" * 8000
        answer = httpx.post(
            f"http://127.0.0.1:{port}/ballots", content=deep, headers={"content-type": "application/json"}
        )
        assert (answer.status_code, answer.json()["error"]) == (400, "MalformedJSON")
    finally:
        running.should_exit = True
        thread.join(timeout=10)
        relayer.store.close()


def _wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the relayer did not start listening")


def _read_all(connection: Any) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_openapi_states_the_formats_the_relayer_accepts(service: Service) -> None:
    from civicdao.relayer.app import ADDRESS_PATTERN, UINT256_PATTERN

    schema = service.client.get("/openapi.json").json()

    def parameter(path: str, name: str) -> dict[str, Any]:
        found = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
        return dict(found[0]["schema"])

    assert parameter("/nonces/{address}", "address")["pattern"] == ADDRESS_PATTERN
    for name in ("delegator", "delegatee"):
        assert parameter("/typed-data/delegation", name)["pattern"] == ADDRESS_PATTERN
    assert parameter("/typed-data/ballot", "voter")["pattern"] == ADDRESS_PATTERN
    assert parameter("/typed-data/ballot", "proposal_id")["pattern"] == UINT256_PATTERN
    assert parameter("/proposals/{proposal_id}", "proposal_id")["pattern"] == UINT256_PATTERN
    support = parameter("/typed-data/ballot", "support")
    assert (support["minimum"], support["maximum"]) == (0, 2)
    expiry = parameter("/typed-data/delegation", "expiry")
    assert (expiry["minimum"], expiry["maximum"]) == (0, 2**256 - 1)
    signed = schema["components"]["schemas"]["SignedMessage"]["properties"]["signature"]
    assert signed["pattern"] == "^0x[0-9a-fA-F]{130}$"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    address=st.from_regex(r"\A0x[0-9a-fA-F]{40}\Z"),
    other=st.from_regex(r"\A0x[0-9a-fA-F]{40}\Z"),
    number=st.from_regex(r"\A[0-9]{1,78}\Z"),
    expiry=st.integers(0, 2**256 - 1),
    support=st.integers(0, 2),
)
def test_requests_valid_by_the_schema_are_accepted(
    world: World, service: Service, address: str, other: str, number: str, expiry: int, support: int
) -> None:
    """What a schema-driven fuzzer sends as valid (any letter case, any uint256) gets a documented answer."""
    assert service.client.get(f"/nonces/{address}").status_code == 200
    assert service.client.get(f"/proposals/{number}").status_code in (200, 404)
    delegation = service.client.get(
        "/typed-data/delegation", params={"delegator": address, "delegatee": other, "expiry": expiry}
    )
    assert delegation.status_code == 200, delegation.text
    ballot = service.client.get(
        "/typed-data/ballot",
        params={"proposal_id": str(world.proposal_id), "voter": address, "support": support},
    )
    assert ballot.status_code == 200, ballot.text


def test_an_unexpected_failure_still_answers_the_documented_body(
    world: World, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service.relayer, "health", broken)
    client = TestClient(service.client.app, raise_server_exceptions=False)
    answer = client.get("/health")
    assert (answer.status_code, answer.json()["error"]) == (500, "InternalError")
    assert set(answer.json()) == {"error", "detail"} and "a bug" not in answer.text


def test_after_a_restart_a_delegation_whose_nonce_was_used_elsewhere_is_superseded(
    world: World, tmp_path: Path, deployer: NodeSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between recording the transaction and broadcasting it; meanwhile another delegation with the
    same nonce lands. The restarted relayer reconciles the row as superseded, not confirmed."""
    db = tmp_path / "relayer.sqlite"
    first = start(world, db)
    citizen, wanted, other = world.citizens[2], world.citizens[3], world.citizens[4]
    queued = first.post("/delegations", *signed_delegation(world, citizen, wanted)).json()["id"]

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("relayer killed before the broadcast")

    monkeypatch.setattr(first.batcher.w3.eth, "send_raw_transaction", killed)
    with pytest.raises(SystemExit):
        first.batcher.run_once()
    assert first.relayer.store.get(queued).status == "submitted"  # type: ignore[union-attr]
    first.relayer.store.close()
    monkeypatch.undo()
    relay_directly(world, deployer, *signed_delegation(world, citizen, other))

    second = start(world, db)
    report = second.batcher.run_once()
    row = second.relayer.store.get(queued)
    assert row is not None and row.status == "superseded" and report.confirmed == ()
    assert "never took effect" in (row.reason or "")
    assert call(world.suite.registry.functions.delegates(citizen.address)) == other.address
    second.relayer.store.close()


# -- participatory-budget ballots --------------------------------------------------------------------------


def budget_round(world: World, residents: tuple[LocalSigner, ...] = ()) -> int:
    """A round open for voting on three projects; ``residents`` (zero ETH) are registered first."""
    for index, resident in enumerate(residents):
        register(world.suite, world.registrar, resident.address, f"pb-{index}")
    projects = [
        (f"ipfs://park-{i}", cost * 10**17, world.citizens[4].address) for i, cost in enumerate((5, 4, 3))
    ]
    return open_budget_round(world.suite, world.control, world.citizens, projects)


def budget_template(service: Service, round_id: int, voter: str, approvals: str) -> httpx.Response:
    params = {"round_id": str(round_id), "voter": voter, "approvals": approvals}
    return service.client.get("/typed-data/budget-ballot", params=params)


def test_zero_eth_residents_budget_ballots_land_in_one_batch(world: World, service: Service) -> None:
    suite, w3 = world.suite, world.suite.w3
    zoe, wim, ann = fresh_key(), fresh_key(), fresh_key()
    round_id = budget_round(world, (zoe, wim, ann))
    ids = []
    # Ann signs the very message Zoe signs (an ApprovalBallot names no voter): both are kept and counted
    for resident, approvals in ((zoe, "0,2"), (wim, "1"), (ann, "0,2")):
        template = budget_template(service, round_id, resident.address, approvals)
        assert template.status_code == 200, template.text
        assert template.json()["primaryType"] == "ApprovalBallot"
        body = {"typed_data": template.json(), "signature": sign_typed_data(resident, template.json())}
        answer = service.client.post("/budget-ballots", json={**body, "voter": resident.address})
        assert answer.status_code == 202, answer.text
        assert answer.json()["kind"] == "budget_ballot" and answer.json()["subject"] == str(round_id)
        ids.append(answer.json()["id"])
    report = service.batcher.run_once()
    assert len(set(ids)) == 3
    assert report.ballots_per_tx == (3,) and set(report.confirmed) == set(ids)
    for digest in ids:
        assert service.client.get(f"/submissions/{digest}").json()["status"] == "confirmed"
    budget = suite.budget.functions
    for resident, bitmap in ((zoe, 0b101), (wim, 0b010), (ann, 0b101)):
        membership = call(suite.registry.functions.membershipOf(resident.address))
        assert call(budget.ballotOf(round_id, membership)) == [bitmap, 1]
        assert w3.eth.get_balance(resident.address) == 0
    # a change of mind: the next ballot carries nonce 1 and replaces the first
    template = budget_template(service, round_id, zoe.address, "1").json()
    assert template["message"]["nonce"] == "1"
    answer = service.post("/budget-ballots", template, sign_typed_data(zoe, template))
    assert answer.status_code == 202, answer.text
    assert service.batcher.run_once().confirmed == (answer.json()["id"],)
    membership = call(suite.registry.functions.membershipOf(zoe.address))
    assert call(budget.ballotOf(round_id, membership)) == [0b010, 2]


def test_a_changed_budget_ballot_replaces_the_one_still_waiting(world: World, service: Service) -> None:
    """A resident who changes their mind before the batch goes: the waiting ballot is superseded (its status
    names the new submission) and only the new one is sent, with the same nonce."""
    zoe = fresh_key()
    round_id = budget_round(world, (zoe,))
    first = budget_template(service, round_id, zoe.address, "0").json()
    queued = service.post("/budget-ballots", first, sign_typed_data(zoe, first))
    assert queued.status_code == 202, queued.text
    second = budget_template(service, round_id, zoe.address, "1,2").json()
    assert second["message"]["nonce"] == first["message"]["nonce"]  # nothing has used the nonce yet
    changed = service.post("/budget-ballots", second, sign_typed_data(zoe, second))
    assert changed.status_code == 202, changed.text
    old = service.client.get(f"/submissions/{queued.json()['id']}").json()
    assert old["status"] == "superseded" and changed.json()["id"] in old["reason"]
    report = service.batcher.run_once()
    assert report.confirmed == (changed.json()["id"],) and report.ballots_per_tx == (1,)
    membership = call(world.suite.registry.functions.membershipOf(zoe.address))
    assert call(world.suite.budget.functions.ballotOf(round_id, membership)) == [0b110, 1]


def test_budget_ballot_refusals_are_named_and_change_nothing(world: World, service: Service) -> None:
    zoe, outsider = fresh_key(), fresh_key()
    round_id = budget_round(world, (zoe,))
    template = budget_template(service, round_id, zoe.address, "0").json()
    signature = sign_typed_data(zoe, template)

    def refused(body: dict[str, Any], status: int, error: str) -> str:
        answer = service.client.post("/budget-ballots", json=body)
        assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
        return str(answer.json()["detail"])

    # signed by key A (a resident too) while the client names voter B: refused before anything else
    mallory = world.citizens[1]
    detail = refused(
        {"typed_data": template, "signature": sign_typed_data(mallory, template), "voter": zoe.address},
        400,
        "InvalidSignatureError",
    )
    assert f"not by the voter {zoe.address}" in detail
    # a non-resident signer
    assert "holds no membership" in refused(
        {"typed_data": template, "signature": sign_typed_data(outsider, template)}, 403, "NotCitizenError"
    )
    # malformed: a governor ballot's shape, a broken signature, a bitmap that is not a number
    assert "ApprovalBallot" in refused(
        {"typed_data": {**template, "primaryType": "Ballot"}, "signature": signature},
        400,
        "MalformedMessageError",
    )
    refused({"typed_data": template, "signature": "0x" + "00" * 65}, 400, "InvalidSignatureError")
    junk = {**template, "message": {**template["message"], "approvals": "lots"}}
    refused({"typed_data": junk, "signature": signature}, 400, "MalformedMessageError")
    # a project the round does not have, another chain's domain, a stale nonce, an unknown round
    beyond = dict(template, message={**template["message"], "approvals": str(0b1000)})
    assert "does not have" in refused(
        {"typed_data": beyond, "signature": sign_typed_data(zoe, beyond)}, 400, "BallotRejectedError"
    )
    elsewhere = {**template, "domain": {**template["domain"], "chainId": 1}}
    assert "another contract, chain" in refused(
        {"typed_data": elsewhere, "signature": sign_typed_data(zoe, elsewhere)}, 400, "BallotRejectedError"
    )
    stale = dict(template, message={**template["message"], "nonce": "5"})
    refused({"typed_data": stale, "signature": sign_typed_data(zoe, stale)}, 409, "NonceMismatchError")
    unknown = dict(template, message={**template["message"], "roundId": str(round_id + 7)})
    refused({"typed_data": unknown, "signature": sign_typed_data(zoe, unknown)}, 404, "UnknownRoundError")
    answer = budget_template(service, round_id, zoe.address, "0,x")
    assert (answer.status_code, answer.json()["error"]) == (400, "ConfigError")
    assert "project index must be a whole number" in answer.json()["detail"]
    assert budget_template(service, round_id, outsider.address, "0").status_code == 403
    assert service.relayer.store.counts()["accepted"] == 0
    # the good one is accepted once, and its replay refused
    assert service.post("/budget-ballots", template, signature).status_code == 202
    assert refused({"typed_data": template, "signature": signature}, 409, "DuplicateSubmissionError")
    # while the batcher is sending it, a change is refused (it waits until that one has landed)
    first = service.relayer.store.pending_for(zoe.address, ["budget_ballot"])[0]
    service.relayer.store.mark_submitted([first.digest], "0x" + "ab" * 32)
    other = dict(template, message={**template["message"], "approvals": "2"})
    assert "being sent now" in refused(
        {"typed_data": other, "signature": sign_typed_data(zoe, other)}, 409, "AlreadyVotedError"
    )
    assert service.relayer.store.get(first.digest).status == "submitted"  # nothing changed
    service.relayer.store.mark_retry([first.digest], "the test's pretend transaction")  # waiting again
    # after the voting window closes, a ballot is refused with the reason
    world.control.increase_time(
        world.suite.budget.functions.getRound(round_id).call()[6] - world.control.time()
    )
    late = budget_template(service, round_id, world.citizens[2].address, "0").json()
    assert "not open for voting" in refused(
        {"typed_data": late, "signature": sign_typed_data(world.citizens[2], late)}, 409, "RoundNotOpenError"
    )


def test_budget_ballot_whose_nonce_another_ballot_used_first_is_superseded(
    world: World, service: Service
) -> None:
    zoe = fresh_key()
    round_id = budget_round(world, (zoe,))
    template = budget_template(service, round_id, zoe.address, "0").json()
    assert service.post("/budget-ballots", template, sign_typed_data(zoe, template)).status_code == 202
    # the same nonce used first by a ballot relayed elsewhere (zoe signed twice)
    pb = ParticipatoryBudget.from_suite(world.suite)
    pb.relay(world.funder, round_id, [pb.sign_ballot(zoe, round_id, [2], nonce=0)])
    report = service.batcher.run_once()
    ((_, reason),) = report.superseded
    assert "used by another signed ballot first" in reason
    membership = call(world.suite.registry.functions.membershipOf(zoe.address))
    assert call(world.suite.budget.functions.ballotOf(round_id, membership)) == [0b100, 1]


@pytest.mark.parametrize("kind", ["Ballot", "BatchBallot"])
def test_ballot_signed_by_a_rotated_in_key_is_confirmed_under_the_membership_key(
    world: World, service: Service, deployer: NodeSigner, kind: str
) -> None:
    """The governor records a rotated membership's ballot under the key that held it at the snapshot; the
    batcher recognises that VoteCast as the new key's (rotation-aware ballot key), not a superseded one."""
    old, new = world.citizens[3], fresh_key()
    citizens = Citizens.from_suite(world.suite)
    citizens.rotate_with_attestation(deployer, citizens.attest_rotation(deployer, old.address, new.address))
    assert Governance.from_suite(world.suite).ballot_key(world.proposal_id, new.address) == old.address
    typed, signature = (signed_batch_ballot if kind == "BatchBallot" else signed_ballot)(world, new, 1)
    answer = service.post("/ballots", typed, signature)
    assert answer.status_code == 202, answer.text
    report = service.batcher.run_once()
    assert report.confirmed == (answer.json()["id"],) and not report.superseded
    assert tally(world) == (0, 1, 0)
    assert world.suite.governor.functions.hasVoted(world.proposal_id, old.address).call()


def test_budget_ballot_relayed_by_someone_else_is_confirmed_with_their_transaction(
    world: World, service: Service
) -> None:
    zoe = fresh_key()
    round_id = budget_round(world, (zoe,))
    template = budget_template(service, round_id, zoe.address, "0,1").json()
    signature = sign_typed_data(zoe, template)
    answer = service.post("/budget-ballots", template, signature)
    assert answer.status_code == 202, answer.text
    pb = ParticipatoryBudget.from_suite(world.suite)
    (elsewhere,) = pb.relay(world.funder, round_id, [pb.check_signed_ballot(template, signature)])
    report = service.batcher.run_once()
    assert report.confirmed == (answer.json()["id"],) and not report.tx_hashes
    found = service.client.get(f"/submissions/{answer.json()['id']}").json()
    assert (found["status"], found["tx_hash"]) == ("confirmed", elsewhere.tx.tx_hash)


def test_attestation_template_is_what_the_registry_verifies_and_refuses_what_would_fail(
    world: World, service: Service
) -> None:
    """GET /typed-data/attestation builds the message registerWithAttestation checks: a registrar signs it
    as served, the relayer registers the zero-ETH resident; a citizen, a used credential or a malformed hash
    is refused before anyone signs, in the documented body."""
    from civicdao.relayer.app import ADDRESS_PATTERN, BYTES32_PATTERN

    suite, w3 = world.suite, world.suite.w3
    resident = fresh_key()
    credential = "0x" + Web3.keccak(text="template-resident").hex().removeprefix("0x")
    expiry = now(w3) + HOUR
    params = {"citizen": resident.address.lower(), "credential_hash": credential, "expiry": expiry}
    answer = service.client.get("/typed-data/attestation", params=params)
    assert answer.status_code == 200, answer.text
    typed = answer.json()
    built = attestation_typed_data(
        suite.registry, citizen=resident.address, credential_hash=credential, expiry=expiry
    )
    assert typed == json.loads(json.dumps(built))
    posted = service.post("/attestations", typed, sign_typed_data(world.registrar, typed))
    assert posted.status_code == 202, posted.text
    queued = service.client.get("/typed-data/attestation", params=params)
    assert (queued.status_code, queued.json()["error"]) == (409, "AlreadyCitizenError")
    assert "already queued" in queued.json()["detail"]
    service.batcher.run_once()
    assert call(suite.registry.functions.isCitizen(resident.address))
    assert w3.eth.get_balance(resident.address) == 0

    citizen = service.client.get("/typed-data/attestation", params=params)
    assert (citizen.status_code, citizen.json()["error"]) == (409, "AlreadyCitizenError")
    assert "already a citizen" in citizen.json()["detail"]
    used = service.client.get("/typed-data/attestation", params={**params, "citizen": fresh_key().address})
    assert (used.status_code, used.json()["error"]) == (409, "CredentialUsedError")
    for bad, status in (("0x" + "00" * 32, 400), ("0x1234", 400), ("0x" + "ab" * 40, 422)):
        refused = service.client.get(
            "/typed-data/attestation",
            params={**params, "citizen": fresh_key().address, "credential_hash": bad},
        )
        assert refused.status_code == status, refused.text
        assert set(refused.json()) == {"error", "detail"}
    schema = service.client.get("/openapi.json").json()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/typed-data/attestation"]["get"]["parameters"]
    }
    assert parameters["citizen"]["pattern"] == ADDRESS_PATTERN
    assert parameters["credential_hash"]["pattern"] == BYTES32_PATTERN
    assert (parameters["expiry"]["minimum"], parameters["expiry"]["maximum"]) == (0, 2**256 - 1)


# -- plain ballots: nonce-less BatchBallots, cast in one castVotesBySig per proposal ----------------------


def test_plain_ballot_template_is_a_nonce_less_batch_ballot(world: World, service: Service) -> None:
    voter = world.citizens[1]
    plain = ballot_template(service, world.proposal_id, voter, 2)
    assert plain["primaryType"] == "BatchBallot"
    assert [f["name"] for f in plain["types"]["BatchBallot"]] == ["proposalId", "support", "voter"]
    assert plain["message"] == {"proposalId": str(world.proposal_id), "support": 2, "voter": voter.address}
    assert plain == batch_ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=2, voter=voter.address
    )
    reasoned = ballot_template(service, world.proposal_id, voter, 2, reason="why not")
    assert (reasoned["primaryType"], reasoned["message"]["nonce"]) == ("ExtendedBallot", "0")
    override = ballot_template(service, world.proposal_id, voter, 2, override="true")
    assert (override["primaryType"], override["message"]["nonce"]) == ("OverrideBallot", "0")


def test_batch_ballot_signed_by_ethers_is_relayed_through_the_app_and_counted(
    world: World, service: Service
) -> None:
    voter = world.citizens[2]
    typed = ballot_template(service, world.proposal_id, voter, 0)
    answer = service.post("/ballots", typed, sign_with_ethers(voter, typed))
    assert answer.status_code == 202, answer.text
    assert service.client.get(f"/nonces/{voter.address}").json()["ballot"] == 0  # it holds no nonce
    report = service.batcher.run_once()
    assert report.confirmed == (answer.json()["id"],) and report.ballots_per_tx == (1,)
    tx = world.suite.w3.eth.get_transaction(HexBytes(report.tx_hashes[0]))
    assert tx["to"] == world.suite.governor.address
    assert "0x" + bytes(tx["input"])[:4].hex() == selector(world, "castVotesBySig")
    assert tally(world) == (1, 0, 0)
    assert service.client.get(f"/submissions/{answer.json()['id']}").json()["status"] == "confirmed"
    assert call(world.suite.governor.functions.nonces(voter.address)) == 0  # no nonce used up


def test_batch_ballots_of_several_voters_land_in_one_cast_votes_by_sig(
    world: World, service: Service
) -> None:
    voters = world.citizens[1:5]
    ids = [
        service.post("/ballots", *signed_batch_ballot(world, v, i % 2)).json()["id"]
        for i, v in enumerate(voters)
    ]
    report = service.batcher.run_once()
    assert sorted(report.confirmed) == sorted(ids) and report.ballots_per_tx == (4,)
    [tx_hash] = report.tx_hashes
    data = sent_input(world, tx_hash)
    assert "0x" + data[:4].hex() == selector(world, "castVotesBySig")  # one call, no multicall wrapping
    proposal_id, ballots = world.suite.governor.decode_function_input(data)[1].values()
    assert proposal_id == world.proposal_id and [b["voter"] for b in ballots] == [v.address for v in voters]
    assert tally(world) == (2, 2, 0)
    batched_gas = int(world.suite.w3.eth.get_transaction_receipt(HexBytes(tx_hash))["gasUsed"])

    # the same four votes as nonce'd Ballots (castVoteBySig in a multicall) cost more per vote
    second = open_proposal(world.suite, world.control, world.citizens[0], "The same question, the old way")
    for i, voter in enumerate(voters):
        service.post("/ballots", *signed_ballot(world, voter, i % 2, proposal_id=second))
    old = service.batcher.run_once()
    assert old.ballots_per_tx == (4,)
    assert "0x" + sent_input(world, old.tx_hashes[0])[:4].hex() == selector(world, "multicall")
    assert batched_gas < old.gas_used


def test_mixed_batch_carries_batch_ballots_and_an_override_in_one_multicall(
    world: World, service: Service
) -> None:
    suite = world.suite
    delegator, delegatee, plain = world.citizens[4], world.citizens[3], world.citizens[2]
    transact(suite.w3, delegator, suite.registry.functions.delegate(delegatee.address))
    proposal_id = open_proposal(suite, world.control, world.citizens[0], "A mixed batch")
    answers = [
        service.post("/ballots", *signed_batch_ballot(world, delegatee, 1, proposal_id=proposal_id)),
        service.post("/ballots", *signed_ballot(world, delegator, 0, proposal_id=proposal_id, override=True)),
        service.post("/ballots", *signed_batch_ballot(world, plain, 1, proposal_id=proposal_id)),
    ]
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    report = service.batcher.run_once()
    assert sorted(report.confirmed) == sorted(a.json()["id"] for a in answers)
    assert report.ballots_per_tx == (3,) and len(report.tx_hashes) == 1
    data = sent_input(world, report.tx_hashes[0])
    assert "0x" + data[:4].hex() == selector(world, "multicall")
    [calls] = suite.governor.decode_function_input(data)[1].values()
    inner = ["0x" + bytes(c)[:4].hex() for c in calls]
    # both BatchBallots of the proposal travel in one castVotesBySig, in the place of the first
    assert inner == [selector(world, "castVotesBySig"), selector(world, "castOverrideVoteBySig")]
    assert tally(world, proposal_id) == (1, 2, 0)  # the delegatee's 2 for, less the delegator's override


def test_forged_or_altered_batch_ballot_is_refused_before_queuing(world: World, service: Service) -> None:
    voter, other = world.citizens[1], world.citizens[2]
    typed, signature = signed_batch_ballot(world, voter, 1)
    altered = {**typed, "message": {**typed["message"], "support": 0}}
    answer = service.post("/ballots", altered, signature)
    assert (answer.status_code, answer.json()["error"]) == (400, "InvalidSignatureError"), answer.text
    forged, _ = signed_batch_ballot(world, voter, 1)
    answer = service.post("/ballots", forged, sign_typed_data(other, forged))  # another key names the voter
    assert (answer.status_code, answer.json()["error"]) == (400, "InvalidSignatureError"), answer.text
    elsewhere = {**typed, "domain": {**typed["domain"], "chainId": 5}}
    answer = service.post("/ballots", elsewhere, sign_typed_data(voter, elsewhere))
    assert answer.json()["error"] == "WrongChainError", answer.text
    stranger = fresh_key()
    answer = service.post("/ballots", *signed_batch_ballot(world, stranger))
    assert (answer.status_code, answer.json()["error"]) == (403, "NotCitizenError")
    Governance.from_suite(world.suite).vote(other, world.proposal_id, "for")
    answer = service.post("/ballots", *signed_batch_ballot(world, other))
    assert (answer.status_code, answer.json()["error"]) == (409, "AlreadyVotedError")
    assert service.relayer.store.counts()["accepted"] == 0
    assert service.batcher.run_once().tx_hashes == ()


def test_batch_ballot_relayed_by_someone_else_is_confirmed_with_their_transaction(
    world: World, service: Service, deployer: NodeSigner
) -> None:
    voter = world.citizens[1]
    typed, signature = signed_batch_ballot(world, voter)
    answer = service.post("/ballots", typed, signature)
    theirs = Governance.from_suite(world.suite).cast_ballots(
        deployer, [SignedBallot(world.proposal_id, VoteType.FOR, voter.address, bytes.fromhex(signature[2:]))]
    )
    report = service.batcher.run_once()
    assert report.confirmed == (answer.json()["id"],) and report.tx_hashes == ()
    row = service.relayer.store.get(answer.json()["id"])
    assert row is not None and (row.reason, row.tx_hash) == ("already on chain", theirs.tx.tx_hash)
    assert tally(world) == (0, 1, 0)
