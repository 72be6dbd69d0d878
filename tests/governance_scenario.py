"""Helpers the signing and relayer tests share: register residents, open a proposal ready for ballots."""

from __future__ import annotations

from collections.abc import Sequence

from web3 import Web3

from civicdao.accounts import Signer
from civicdao.chain import ChainControl
from civicdao.deploy import Suite
from civicdao.governance import Action, Governance
from civicdao.tokens import ETH
from civicdao.tx import transact


def register(suite: Suite, registrar: Signer, who: str, salt: str) -> None:
    """Register ``who`` as a citizen with the credential hash of ``salt``."""
    transact(suite.w3, registrar, suite.registry.functions.register(who, Web3.keccak(text=salt)))


def open_proposal(suite: Suite, control: ChainControl, proposer: Signer, text: str) -> int:
    """A proposal by ``proposer`` (raise the treasury's ETH cap), moved into its voting period."""
    governance = Governance.from_suite(suite)
    action = Action.call(suite.treasury.functions.setEpochCap(ETH, 10**18))
    control.increase_time(1)  # the proposal threshold reads votes one second in the past
    proposal_id = governance.propose(proposer, [action], text).proposal_id
    control.increase_time(governance.voting_delay() + 1)
    return proposal_id


def citizens_vote_soon(
    suite: Suite,
    control: ChainControl,
    registrar: Signer,
    citizens: Sequence[Signer],
    *,
    salt: str,
    text: str,
) -> int:
    """Register ``citizens`` (salts ``<salt>-0``, ``<salt>-1``, …), then open a proposal by the first one."""
    for index, citizen in enumerate(citizens):
        register(suite, registrar, citizen.address, f"{salt}-{index}")
    return open_proposal(suite, control, citizens[0], text)
