"""Measure the gas a relayed vote costs: alone, in governor ``multicall`` batches of ``castVoteBySig``, and in
the governor's batched entry point ``castVotesBySig`` (what the relayer's batcher sends for plain votes).

Run on a fresh local chain: ``python -m civicdao.relayer.measure`` (prints a JSON table). Inside a test or a
session, call :func:`measure_vote_gas` on a deployed suite: it registers throwaway citizens, opens a
proposal, casts the batches, and reverts the chain to where it was.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from eth_account import Account
from web3 import Web3

from civicdao.accounts import LocalSigner, Signer, from_private_key
from civicdao.chain import ChainControl
from civicdao.deploy import Suite
from civicdao.errors import ConfigError
from civicdao.governance import Action, Governance
from civicdao.signing import ballot_typed_data, sign_typed_data
from civicdao.tokens import ETH
from civicdao.tx import call, calldata, transact

__all__ = ["VoteGas", "measure_vote_gas"]


@dataclass(frozen=True)
class VoteGas:
    """Gas of one way of casting ``votes`` votes: ``how`` is castVote, castVoteBySig, multicall (of
    castVoteBySig) or castVotesBySig."""

    how: str
    votes: int
    gas_used: int

    @property
    def gas_per_vote(self) -> int:
        return self.gas_used // self.votes


def measure_vote_gas(
    suite: Suite,
    control: ChainControl,
    *,
    registrar: Signer,
    payer: Signer,
    sizes: Sequence[int] = (1, 10, 100),
) -> list[VoteGas]:
    """Gas of a direct vote, of one relayed ``castVoteBySig``, and, for each of ``sizes``, of a multicall
    batch of that many ``castVoteBySig`` and of one ``castVotesBySig`` of that many batch ballots.

    ``registrar`` holds REGISTRAR_ROLE; ``payer`` pays every transaction (the relayer's account). The chain
    is reverted afterwards.
    """
    if not sizes or any(size < 1 for size in sizes):
        raise ConfigError(f"batch sizes must be 1 or more, got {list(sizes)}")
    w3 = suite.w3
    snapshot = control.snapshot()
    try:
        voters = [from_private_key(Account.create().key) for _ in range(2 * sum(sizes) + 2)]
        for index, voter in enumerate(voters):
            register = suite.registry.functions.register(voter.address, Web3.keccak(text=f"gas-{index}"))
            transact(w3, registrar, register)
        if not call(suite.registry.functions.isCitizen(payer.address)):
            transact(
                w3, registrar, suite.registry.functions.register(payer.address, Web3.keccak(text="payer"))
            )
        governance = Governance.from_suite(suite)
        control.increase_time(1)
        action = Action.call(suite.treasury.functions.setEpochCap(ETH, 1))
        proposal_id = governance.propose(payer, [action], "gas measurement").proposal_id
        control.increase_time(governance.voting_delay() + 1)
        # The proposal's first vote initialises its tally (and here reaches quorum): not a typical vote.
        governance.vote(payer, proposal_id, "for")

        direct = voters[0]  # a citizen who pays for their own vote
        control.set_balance(direct.address, 10**18)
        results = [VoteGas("castVote", 1, governance.vote(direct, proposal_id, "for").tx.gas_used)]
        multicall_voters, batch_voters = voters[1 : sum(sizes) + 2], voters[sum(sizes) + 2 :]
        calls = [_ballot_call(suite, proposal_id, voter) for voter in multicall_voters]
        single = transact(w3, payer, suite.governor.functions.castVoteBySig(*calls[0]))
        results.append(VoteGas("castVoteBySig", 1, single.gas_used))
        start = 1
        for size in sizes:
            batch = [
                calldata(suite.governor.functions.castVoteBySig(*args))
                for args in calls[start : start + size]
            ]
            start += size
            record = transact(w3, payer, suite.governor.functions.multicall(batch))
            results.append(VoteGas("multicall", size, record.gas_used))
        start = 0
        for size in sizes:
            ballots = [
                governance.sign_batch_ballot(voter, proposal_id, "for")
                for voter in batch_voters[start : start + size]
            ]
            start += size
            relayed = governance.cast_ballots(payer, ballots)
            results.append(VoteGas("castVotesBySig", size, relayed.tx.gas_used))
        return results
    finally:
        control.revert(snapshot)


def _ballot_call(suite: Suite, proposal_id: int, voter: LocalSigner) -> tuple[int, int, str, bytes]:
    typed = ballot_typed_data(
        suite.governor, proposal_id=proposal_id, support=1, voter=voter.address, nonce=0
    )
    signature = sign_typed_data(voter, typed)
    return proposal_id, 1, voter.address, bytes.fromhex(signature[2:])


def main() -> int:
    """Measure on a fresh Anvil chain with the pilot preset and print the numbers as JSON."""
    from civicdao.accounts import node_signers
    from civicdao.chain import LocalChain
    from civicdao.config import load_config
    from civicdao.deploy import deploy_suite

    with LocalChain("anvil") as chain:
        deployer = node_signers(chain.w3)[0]
        suite = deploy_suite(chain.w3, deployer, load_config("pilot"))
        rows = measure_vote_gas(suite, chain.control, registrar=deployer, payer=node_signers(chain.w3)[1])
    table = [{**asdict(row), "gas_per_vote": row.gas_per_vote} for row in rows]
    sys.stdout.write(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
