"""The commons exchange: list idle capacity, book it, settle, and get paid.

Residents list what sits idle (a spare room, a workshop, a drill, an hour of tutoring, a garden plot),
priced per hour, day or item in ether or an allowed ERC-20; others book it, the price and a deposit wait in
escrow, and settlement credits the lister, makes the deposit returnable to the renter unless a damage claim
was raised in time, and keeps the DAO's fee until anyone flushes the kept fees to the treasury in one payment.

The package is laid out as the system is:

- :mod:`civicdao.exchange.types`: :class:`Kind`, :class:`Unit`, :class:`ListingSpec`, the records calls
  return (:class:`Listed`, :class:`BookingMade`, :class:`Settlement`, …) and the input errors;
- :mod:`civicdao.exchange.client`: :class:`Exchange`, the typed client (``dao.exchange``);
- :mod:`civicdao.exchange.actions`: the DAO's action builders (fees, roles, windows, housing rules).

Example::

    with CivicDAO.local() as dao:
        listed = dao.exchange.list(alice, ListingSpec(kind=Kind.TOOL, unit=Unit.DAY, price=10**15,
                                                      available_from=t0, available_until=t0 + 30 * DAY,
                                                      metadata_uri="ipfs://drill"))
        made = dao.exchange.book(bob, listed.listing_id, start=t0 + DAY, units=2)

See docs/exchange.md for a walk-through.
"""

from civicdao.exchange import types as _types
from civicdao.exchange.actions import ExchangeActions
from civicdao.exchange.client import Exchange
from civicdao.exchange.types import *  # noqa: F403 - the types' public names are the package's
from civicdao.tokens import ETH

__all__ = ["ETH", "Exchange", "ExchangeActions"]
__all__ += _types.__all__
