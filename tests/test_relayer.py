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
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from civicdao.accounts import LocalSigner, NodeSigner, from_private_key
from civicdao.chain import ChainControl, LocalChain
from civicdao.deploy import ETH, Suite
from civicdao.governance import Action, Governance
from civicdao.relayer import Batcher, Relayer, RelayerSettings, Store, create_app
from civicdao.signing import attestation_typed_data, ballot_typed_data, delegation_typed_data, sign_typed_data
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


def open_proposal(suite: Suite, control: ChainControl, proposer: LocalSigner, text: str) -> int:
    governance = Governance.from_suite(suite)
    control.increase_time(1)  # the proposal threshold reads votes one second in the past
    action = Action.call(suite.treasury.functions.setEpochCap(ETH, 10**18))
    proposal_id, _ = governance.propose(proposer, [action], text)
    control.increase_time(governance.voting_delay() + 1)
    return proposal_id


@pytest.fixture(scope="module")
def world(
    suite: Suite, control: ChainControl, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> Iterator[World]:
    snapshot = control.snapshot()
    citizens = tuple(local_signers[1:6])
    for index, citizen in enumerate(citizens):
        register = suite.registry.functions.register(citizen.address, Web3.keccak(text=f"relay-{index}"))
        transact(suite.w3, deployer, register)
    proposal_id = open_proposal(suite, control, citizens[0], "Relayed vote")
    yield World(suite, control, local_signers[0], citizens, local_signers[9], proposal_id)
    control.revert(snapshot)


@dataclass
class Service:
    relayer: Relayer
    batcher: Batcher
    client: TestClient
    db: Path

    def post(self, path: str, typed: dict[str, Any], signature: str) -> httpx.Response:
        return self.client.post(path, json={"typed_data": typed, "signature": signature})


def start(world: World, db: Path, **options: Any) -> Service:
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


def sign_with_ethers(signer: LocalSigner, typed: dict[str, Any]) -> str:
    key = "0x" + signer._account.key.hex().removeprefix("0x")
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
    typed = service.client.get(
        "/typed-data/ballot",
        params={"proposal_id": str(world.proposal_id), "voter": ann.address, "support": 1},
    ).json()
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
    key = "0x" + citizen._account.key.hex().removeprefix("0x")
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
    assert answer.json()["id"] == signed["digest"]  # ethers' EIP-712 digest is the relayer's submission id
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
    template = service.client.get(
        "/typed-data/ballot", params={"proposal_id": str(second), "voter": voter.address, "support": 0}
    ).json()
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


def test_batch_drops_only_the_ballot_that_would_revert_and_says_why(world: World, service: Service) -> None:
    voters = world.citizens[1:4]
    answers = [service.post("/ballots", *signed_ballot(world, voter)) for voter in voters]
    Governance.from_suite(world.suite).vote(voters[1], world.proposal_id, "against")  # votes itself meanwhile
    report = service.batcher.run_once()
    dropped_id = answers[1].json()["id"]
    assert [digest for digest, _ in report.dropped] == [dropped_id]
    assert report.ballots_per_tx == (2,)
    status = service.client.get(f"/submissions/{dropped_id}").json()
    assert status["status"] == "dropped"
    assert status["reason"].startswith("GovernorAlreadyCastVote(voter=")
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
    env = {**os.environ, "RELAYER_KEY": "0x" + world.funder._account.key.hex().removeprefix("0x")}
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
    assert set(by) == {("castVote", 1), ("castVoteBySig", 1), ("multicall", 1), ("multicall", 4)}
    assert by[("multicall", 4)].gas_per_vote < by[("castVoteBySig", 1)].gas_per_vote
    assert by[("multicall", 1)].gas_used > by[("castVoteBySig", 1)].gas_used  # the wrapping costs a little
    assert world.suite.w3.eth.block_number == block  # the chain was put back
