"""The civic demo: a neighbourhood deploys CivicDAO on a local chain and governs itself.

It starts its own chain, deploys the suite, onboards residents (the registrar records only a salted
credential hash), and walks one proposal from creation to execution through the Timelock. It stops the
chain when done, whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable

from web3 import Web3

from civicdao.accounts import node_signers
from civicdao.chain import ChainKind, LocalChain
from civicdao.config import KINDS, load_config
from civicdao.deploy import deploy_suite
from civicdao.governance import Action, Governance, VoteType
from civicdao.tx import call, transact

__all__ = ["run_demo"]

RESIDENTS = ("Amara", "Bo", "Chidi", "Dana")


def run_demo(kind: ChainKind = "anvil", *, preset: str = "pilot", say: Callable[[str], None] = print) -> None:
    """Run the demo end to end, narrating each step through ``say``."""
    config = load_config(preset)
    with LocalChain(kind) as chain:
        w3, control = chain.w3, chain.control
        say(f"[bold]1. A local {kind} chain[/bold] at {chain.rpc_url}")
        say(f"   chain id {chain.chain_id}, (pid {chain.pid})")
        registrar, *people = node_signers(w3)
        residents = dict(zip(RESIDENTS, people, strict=False))

        say(
            f"[bold]2. Deploy CivicDAO[/bold] ({config.preset} preset): "
            "registry, timelock, governor, treasury, exchange"
        )
        suite = deploy_suite(w3, registrar, config, progress=lambda m: say(f"   · {m}"))
        for key, address in suite.addresses().items():
            say(f"   {key:<9} {address}")

        say(
            "[bold]3. Residents join[/bold]: the registrar checks residency off-chain; "
            "the chain keeps only a salted hash"
        )
        for name, signer in residents.items():
            credential = Web3.keccak(text=f"demo-salt:{name}:residency-proof")
            transact(w3, registrar, suite.registry.functions.register(signer.address, credential))
            membership = call(suite.registry.functions.membershipOf(signer.address))
            say(f"   {name:<6} {signer.address} is citizen #{membership}")
        control.increase_time(1)

        governance = Governance.from_suite(suite)
        tool_kind = KINDS.index("tool")
        before = call(suite.exchange.functions.feeBps(tool_kind))
        action = Action.call(
            suite.exchange.functions.setFeeBps(tool_kind, 0), description="tool lending fee → 0"
        )
        say(f"[bold]4. Amara proposes[/bold]: make lending tools free of fees (now {before} bp)")
        proposal_id, _ = governance.propose(residents["Amara"], [action], "Tool lending should be free")
        control.increase_time(governance.voting_delay() + 1)

        say("[bold]5. Residents vote[/bold]: one resident, one vote")
        for name, support in (("Amara", VoteType.FOR), ("Bo", VoteType.FOR), ("Chidi", VoteType.AGAINST)):
            governance.vote(
                residents[name], proposal_id, support, reason=f"{name} votes {support.name.lower()}"
            )
            say(f"   {name} votes {support.name.lower()}")
        control.increase_time(governance.voting_period() + config.vote_extension + 1)
        tally = governance.tally(proposal_id)
        outcome = governance.state(proposal_id).name
        say(f"   tally: {tally.for_} for, {tally.against} against, {tally.abstain} abstain → {outcome}")

        say("[bold]6. Queue, wait out the timelock, execute[/bold]")
        governance.queue(residents["Dana"], proposal_id)
        control.increase_time(governance.timelock_delay() + 1)
        governance.execute(residents["Dana"], proposal_id)
        after = call(suite.exchange.functions.feeBps(tool_kind))
        say(f"   executed: the tool lending fee is now {after} bp ({governance.state(proposal_id).name})")
        say("[green]Done.[/green] The chain stops now; nothing is left running.")
