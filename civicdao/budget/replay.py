"""Replay a real pabulib election on a local chain, through the same path residents use.

The replay deploys the suite, lets two founders pass the DAO proposal that funds and opens a round, submits
the file's projects (in the lexicographic order of their ids, which keeps pabutools' tie-breaking), registers
one synthetic resident per voter (many registrations per block: automine off, then ``evm_mine``), has each
resident sign their ballot (EIP-712) and relays them in batches from an account that pays the gas (the
residents hold zero ETH), closes voting, tallies from the chain's events, and posts the outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_keys.datatypes import PrivateKey
from web3 import Web3

from civicdao.accounts import Signer, node_signers
from civicdao.budget.client import DEFAULT_BATCH, ParticipatoryBudget
from civicdao.budget.pabulib import Election, read_pabulib
from civicdao.budget.signing import sign_ballot_with_key
from civicdao.budget.tally import TallyResult
from civicdao.budget.types import BudgetError, bitmap_of
from civicdao.chain import ChainControl, LocalChain
from civicdao.config import load_config
from civicdao.deploy import Suite, deploy_suite
from civicdao.governance import Governance
from civicdao.local import pass_proposal
from civicdao.treasury import Treasury
from civicdao.tx import call, fee_fields, transact

__all__ = ["ReplayResult", "register_many", "replay"]

logger = logging.getLogger(__name__)

#: progress(stage, done, total): stages are "register", "sign", "relay".
Progress = Callable[[str, int, int], None]

SUBMISSION_PERIOD = 86_400
VOTING_PERIOD = 7 * 86_400
CHALLENGE_PERIOD = 2 * 86_400
_REGISTRATIONS_PER_BLOCK = 150


@dataclass(frozen=True)
class ReplayResult:
    """What a replay selected, next to the file's official outcome, with its cost in gas and time."""

    file: str
    rule: str
    selected: tuple[str, ...]
    official: tuple[str, ...]
    voters: int
    skipped_empty: int
    projects: int
    ballot_gas: int
    batches: int
    batch_size: int
    tally: TallyResult
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return self.selected == self.official

    @property
    def gas_per_ballot(self) -> float:
        return self.ballot_gas / self.voters if self.voters else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "selected": list(self.selected),
            "official": list(self.official),
            "matches": self.matches,
            "rule": self.tally.label,
            "voters": self.voters,
            "skipped_empty_ballots": self.skipped_empty,
            "projects": self.projects,
            "ballot_digest": self.tally.ballot_digest,
            "gas": {
                "ballots_total": self.ballot_gas,
                "per_ballot": round(self.gas_per_ballot, 1),
                "batches": self.batches,
                "batch_size": self.batch_size,
            },
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def replay(
    path: str | Path,
    rule: str = "mes",
    *,
    chain: LocalChain | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ReplayResult:
    """Replay a pabulib approval election on a local chain (one it starts, or ``chain``) and tally it.

    Raises:
        BudgetError: the file cannot be replayed (not approval, > 256 projects, fractional costs…).
    """
    election = read_pabulib(path)
    if chain is not None:
        return _replay_on(chain, election, rule, batch_size, progress)
    with LocalChain() as started:
        return _replay_on(started, election, rule, batch_size, progress)


def _replay_on(
    chain: LocalChain, election: Election, rule: str, batch_size: int, progress: Progress | None
) -> ReplayResult:
    w3, control = chain.w3, chain.control
    seconds: dict[str, float] = {}
    clock = time.monotonic()
    deployer, founder, cofounder = node_signers(w3)[:3]
    suite = deploy_suite(w3, deployer, load_config("pilot"))
    budget = ParticipatoryBudget.from_suite(suite)
    round_id = _open_round(suite, control, budget, election, deployer, (founder, cofounder))
    projects = {p.project_id: i for i, p in enumerate(election.projects)}
    for project in election.projects:
        recipient = Web3.to_checksum_address(Web3.keccak(text=f"pabulib project {project.project_id}")[12:])
        budget.submit_project(
            founder,
            round_id,
            recipient=recipient,
            cost=project.cost,
            metadata_uri=f"pabulib:{project.project_id}",
        )
    seconds["setup"] = time.monotonic() - clock

    clock = time.monotonic()
    cast = [ballot for ballot in election.ballots if ballot]
    voters = [PrivateKey(Web3.keccak(text=f"civicdao replay voter {i}")) for i in range(len(cast))]
    addresses = [key.public_key.to_checksum_address() for key in voters]
    salt = Web3.keccak(text=str(election.path.name))
    register_many(
        w3, control, suite, deployer, addresses, lambda i: Web3.keccak(salt + i.to_bytes(32, "big")), progress
    )
    seconds["register"] = time.monotonic() - clock

    clock = time.monotonic()
    control.increase_time(SUBMISSION_PERIOD)
    domain = budget.domain()
    signed = []
    for i, (key, ballot) in enumerate(zip(voters, cast, strict=True)):
        approvals = bitmap_of(projects[pid] for pid in ballot)
        signed.append(sign_ballot_with_key(key, domain, round_id=round_id, approvals=approvals, nonce=0))
        if progress is not None and (i + 1) % 100 == 0:
            progress("sign", i + 1, len(cast))
    seconds["sign"] = time.monotonic() - clock

    clock = time.monotonic()
    done = 0

    def relayed(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress("relay", done, len(signed))

    batches = budget.relay(deployer, round_id, signed, batch_size=batch_size, progress=relayed)
    seconds["relay"] = time.monotonic() - clock

    control.increase_time(VOTING_PERIOD)
    clock = time.monotonic()
    result = budget.tally(round_id, rule)
    seconds["tally"] = time.monotonic() - clock
    budget.post_outcome(deployer, round_id, result)
    labels = [p.project_id for p in election.projects]
    return ReplayResult(
        file=str(election.path),
        rule=rule,
        selected=tuple(sorted(labels[i] for i in result.selected)),
        official=election.selected,
        voters=len(cast),
        skipped_empty=len(election.ballots) - len(cast),
        projects=len(election.projects),
        ballot_gas=sum(batch.tx.gas_used for batch in batches),
        batches=len(batches),
        batch_size=batch_size,
        tally=result,
        seconds=seconds,
    )


def _open_round(
    suite: Suite,
    control: ChainControl,
    budget: ParticipatoryBudget,
    election: Election,
    deployer: Signer,
    founders: Sequence[Signer],
) -> int:
    """Two founders register and pass the proposal that funds the round from the treasury and opens it."""
    for founder in founders:
        credential = Web3.keccak(text=f"founder {founder.address}")
        transact(suite.w3, deployer, suite.registry.functions.register(founder.address, credential))
    treasury = Treasury.from_suite(suite)
    treasury.donate(deployer, election.budget, note="pb replay")
    # the deployment's cap applies from the treasury's next epoch: wait for it
    control.increase_time(max(treasury.epoch_status().end - control.time(), 0) + 1)
    actions = budget.open_round_actions(
        treasury,
        budget=election.budget,
        submission_period=SUBMISSION_PERIOD,
        voting_period=VOTING_PERIOD,
        challenge_period=CHALLENGE_PERIOD,
        min_approvals=election.min_length,
        max_approvals=election.max_length,
    )
    governance = Governance.from_suite(suite)
    passed = pass_proposal(
        governance, control, founders[0], founders, actions, f"Replay {election.path.name}"
    )
    return budget.round_id_of(passed).round_id


def register_many(
    w3: Web3,
    control: ChainControl,
    suite: Suite,
    registrar: Signer,
    residents: Sequence[str],
    credential: Callable[[int], bytes],
    progress: Progress | None = None,
) -> None:
    """Register many residents quickly on a local chain: the registrar is a node-unlocked account whose
    transactions go out in JSON-RPC batches, many per block (automine off, then ``evm_mine`` until the
    pool is empty).

    Raises:
        BudgetError: the node refused a transaction, or not every registration landed (the registry's
            citizen count says how many did).
    """
    registry = suite.registry
    before = int(call(registry.functions.citizenCount()))
    if not residents:
        return
    estimate = registry.functions.register(residents[0], credential(0)).estimate_gas(
        {"from": registrar.address}
    )
    common = {"from": registrar.address, "to": registry.address, "gas": hex(int(estimate) * 5 // 4)}
    common |= {key: hex(value) for key, value in fee_fields(w3).items()}
    nonce = w3.eth.get_transaction_count(registrar.address, "pending")
    with _manual_mining(w3):
        for start in range(0, len(residents), _REGISTRATIONS_PER_BLOCK):
            chunk = range(start, min(start + _REGISTRATIONS_PER_BLOCK, len(residents)))
            txs = [_registration(registry, common, nonce + i, residents[i], credential(i)) for i in chunk]
            requests = [("eth_sendTransaction", [tx]) for tx in txs]
            answers = w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
            refused = [answer["error"] for answer in answers if "error" in answer]
            if refused:
                raise BudgetError(f"the node refused a registration: {refused[0]}")
            control.mine()
            if progress is not None:
                progress("register", chunk.stop, len(residents))
        while int(w3.provider.make_request("txpool_status", [])["result"]["pending"], 16):  # type: ignore[arg-type]
            control.mine()
    after = int(call(registry.functions.citizenCount()))
    if after - before != len(residents):
        raise BudgetError(f"only {after - before} of {len(residents)} registrations landed")


def _registration(
    registry: Any, common: dict[str, Any], nonce: int, resident: str, credential: bytes
) -> dict[str, Any]:
    data = registry.encode_abi("register", args=[resident, credential])
    return {**common, "nonce": hex(nonce), "data": data}


@contextmanager
def _manual_mining(w3: Web3) -> Iterator[None]:
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        yield
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
