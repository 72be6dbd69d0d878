"""Participatory budgeting by the Method of Equal Shares on CivicDAO.

The DAO reserves a budget from the treasury and opens a round on the ``ParticipatoryBudget`` contract;
residents submit projects and approve the ones they want (one ballot per membership, signable in a wallet
and relayed in batches); :func:`tally` computes the winners from the chain's ballots with ``pabutools``
(MES with cost utilities completed by add1, or greedy for comparison); the outcome is posted with the
ballot digest, can be challenged, and after the window the winners are paid.

- :class:`ParticipatoryBudget` — the typed client (:mod:`civicdao.budget.client`), with the DAO's actions
  (:mod:`civicdao.budget.actions`); the records it returns (:mod:`civicdao.budget.types`)
- :func:`sign_ballot`, :func:`ballot_typed_data` — EIP-712 ballots (:mod:`civicdao.budget.signing`)
- :func:`tally`, :func:`ballot_digest` — the reproducible count (:mod:`civicdao.budget.tally`)
- :func:`read_pabulib`, :func:`write_pabulib`, :func:`replay` — the field's data format
- :func:`web_rounds` — what the web app shows (``/api/budget``)
"""

from civicdao.budget import types
from civicdao.budget.client import ParticipatoryBudget
from civicdao.budget.pabulib import Election, read_pabulib, write_pabulib
from civicdao.budget.replay import ReplayResult, replay
from civicdao.budget.signing import SignedBudgetBallot, ballot_typed_data, sign_ballot, sign_ballot_with_key
from civicdao.budget.tally import RULES, TallyResult, ballot_digest, rule_id, tally
from civicdao.budget.types import *  # noqa: F403  (the records, the errors, the ballot bitmaps)
from civicdao.budget.web import round_phase, web_rounds

__all__ = [
    "RULES",
    "Election",
    "ParticipatoryBudget",
    "ReplayResult",
    "SignedBudgetBallot",
    "TallyResult",
    "ballot_digest",
    "ballot_typed_data",
    "read_pabulib",
    "replay",
    "round_phase",
    "rule_id",
    "sign_ballot",
    "sign_ballot_with_key",
    "tally",
    "web_rounds",
    "write_pabulib",
]
__all__ += types.__all__
