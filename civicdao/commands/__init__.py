"""The operator's write commands, attached to the read-side groups of :mod:`civicdao.index.cli`.

``citizens register|import|revoke|rotate|delegate``, ``proposals propose|vote|queue|execute``,
``listings book|cancel|settle|withdraw``, ``treasury donate|epoch`` and the top-level ``status``. Each
signs with ``--keystore``, ``--key-env`` or ``--unlocked N`` (:func:`civicdao.cli_options.signer_options`),
prints one readable line (or JSON with full ids and transaction hashes under ``--json``), and goes through
the library classes (:class:`~civicdao.citizens.Citizens`, :class:`~civicdao.governance.Governance`,
:class:`~civicdao.exchange.Exchange`, :class:`~civicdao.treasury.Treasury`).
"""

from __future__ import annotations

import click

from civicdao.commands import citizens, listings, proposals, status, treasury
from civicdao.index.cli import citizens_group, listings_group, proposals_group, treasury_group

__all__ = ["register"]


def register(root: click.Group) -> None:
    """Attach every write command to its group, and ``status`` to the root group."""
    for command in citizens.COMMANDS:
        citizens_group.add_command(command)
    for command in proposals.COMMANDS:
        proposals_group.add_command(command)
    for command in listings.COMMANDS:
        listings_group.add_command(command)
    for command in treasury.COMMANDS:
        treasury_group.add_command(command)
    root.add_command(status.status_command)
