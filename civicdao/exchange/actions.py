"""The DAO's levers on the exchange: builders of the :class:`~civicdao.governance.Action` a proposal carries.

Nothing here sends a transaction: each method returns the call the Timelock makes when the proposal
executes (fees per kind, roles, windows, housing rules, pausing, sweeping). Propose them with
``dao.governance.propose`` or, on a local chain, ``dao.pass_proposal``::

    dao.pass_proposal(alice, voters, [dao.exchange.fee_action(Kind.TOOL, 0)], "Free tool lending")
"""

from __future__ import annotations

import functools
from typing import Any

from web3.contract import Contract

from civicdao._validate import UINT64_MAX
from civicdao.accounts import checksum
from civicdao.client import ContractClient
from civicdao.contracts import bind
from civicdao.exchange.types import (
    GUARDIAN_ROLE,
    LISTER_ROLE,
    MAX_FEE_BPS,
    MAX_WINDOW,
    MIN_DISPUTE_WINDOW,
    RESOLVER_ROLE,
    ExchangeInputError,
    Kind,
    _check_amount,
    _check_id,
    _check_uint,
    _iso,
)
from civicdao.governance import Action
from civicdao.tokens import ETH
from civicdao.tx import call

__all__ = ["ExchangeActions"]


class ExchangeActions(ContractClient):
    """The exchange's DAO action builders (the base of :class:`~civicdao.exchange.Exchange`)."""

    ARTIFACT = "CommonsExchange"
    SUITE_KEY = "exchange"

    @functools.cached_property
    def settings(self) -> Contract:
        """The exchange's DAO settings contract (``ExchangeSettings``, created by the exchange): proposals
        that change fees, windows, housing limits, accepted tokens, the fee sink, the registry or the
        guardians' expiry call it."""
        return bind(self.w3, "ExchangeSettings", call(self.contract.functions.settings()))

    def allow_token_action(self, token: str, *, allowed: bool = True) -> Action:
        """Allow (or withdraw) an ERC-20 as payment for new listings and bookings."""
        address = checksum(token, what="token")
        if address == ETH:
            raise ExchangeInputError("ETH is always allowed: give an ERC-20 address")
        verb = "Allow" if allowed else "Disallow"
        return self._action(
            self.settings.functions.setTokenAllowed(address, bool(allowed)), f"{verb} {address}"
        )

    def fee_action(self, kind: Kind | str | int, bps: int) -> Action:
        """Set the fee for listings of ``kind`` (0 to 1000 basis points of the price)."""
        chosen = Kind.parse(kind)
        _check_uint("fee bps", bps, MAX_FEE_BPS)
        return self._action(
            self.settings.functions.setFeeBps(int(chosen), bps), f"Set the {chosen.name} fee to {bps} bps"
        )

    def role_action(self, role: bytes, account: str, *, granted: bool = True) -> Action:
        """Grant (or revoke) ``role`` (:data:`RESOLVER_ROLE`, :data:`LISTER_ROLE`, :data:`GUARDIAN_ROLE`)."""
        names = {RESOLVER_ROLE: "resolver", LISTER_ROLE: "lister", GUARDIAN_ROLE: "guardian"}
        role = bytes(role)
        if role not in names:
            raise ExchangeInputError("role must be RESOLVER_ROLE, LISTER_ROLE or GUARDIAN_ROLE")
        who = checksum(account, what="account")
        name = names[role]
        fn = self.contract.functions.grantRole if granted else self.contract.functions.revokeRole
        return self._action(fn(role, who), f"{'Appoint' if granted else 'Remove'} {who} as exchange {name}")

    def windows_actions(
        self, *, claim: int | None = None, dispute: int | None = None, delivery: int | None = None
    ) -> tuple[Action, ...]:
        """Set the claim, dispute and/or delivery windows (seconds) of future bookings."""
        actions = []
        for name, value, low, setter in (
            ("claim", claim, 0, self.settings.functions.setClaimWindow),
            ("dispute", dispute, MIN_DISPUTE_WINDOW, self.settings.functions.setDisputeWindow),
            ("delivery", delivery, 0, self.settings.functions.setDeliveryWindow),
        ):
            if value is None:
                continue
            _check_uint(f"{name} window", value, MAX_WINDOW)
            if value < low:
                raise ExchangeInputError(f"the {name} window must be at least {low} s, got {value}")
            actions.append(self._action(setter(value), f"Set the {name} window to {value} s"))
        if not actions:
            raise ExchangeInputError("give at least one of claim, dispute, delivery")
        return tuple(actions)

    def housing_actions(
        self, *, price_ceiling: int | None = None, listing_cap: int | None = None, token: str = ETH
    ) -> tuple[Action, ...]:
        """Set the per-night housing price ceiling in ``token`` and/or the active housing listings per
        lister (0 = none)."""
        actions = []
        if price_ceiling is not None:
            _check_amount("price_ceiling", price_ceiling)
            address = checksum(token, what="token")
            actions.append(
                self._action(
                    self.settings.functions.setHousingPriceCeiling(address, price_ceiling),
                    f"Set the housing ceiling to {price_ceiling} per night in {address}",
                )
            )
        if listing_cap is not None:
            _check_amount("listing_cap", listing_cap)
            actions.append(
                self._action(
                    self.settings.functions.setHousingListingCap(listing_cap),
                    f"Allow {listing_cap} active housing listings per lister",
                )
            )
        if not actions:
            raise ExchangeInputError("give price_ceiling and/or listing_cap")
        return tuple(actions)

    def close_listing_action(self, listing_id: int) -> Action:
        """Close a listing that breaks the community's rules."""
        _check_id("listing_id", listing_id)
        return self._action(self.contract.functions.closeListing(listing_id), f"Close listing {listing_id}")

    def unpause_action(self) -> Action:
        """Resume new listings and bookings after a guardian's pause (only the DAO can)."""
        return self._action(self.contract.functions.unpause(), "Unpause the commons exchange")

    def guardian_expiry_action(self, expiry: int) -> Action:
        """Set when the exchange guardians' power to pause ends (unix seconds; 0 = never)."""
        _check_uint("guardian expiry", expiry, UINT64_MAX)
        until = f"until {_iso(expiry)}" if expiry else "with no expiry"
        return self._action(
            self.settings.functions.setGuardianExpiry(expiry), f"Exchange guardians may pause {until}"
        )

    def sweep_surplus_action(self, token: str, to: str) -> Action:
        """Send the ``token`` the exchange holds above :meth:`total_owed` (sent by mistake) to ``to``. Tokens
        only: the exchange keeps no running ETH total, so forced-in ETH cannot be told apart from what it
        owes."""
        address, recipient = checksum(token, what="token"), checksum(to, what="recipient")
        if address == ETH:
            raise ExchangeInputError(
                "only a token's surplus can be swept: the exchange keeps no running ETH total"
            )
        return self._action(
            self.contract.functions.sweepSurplus(address, recipient),
            f"Sweep {address} surplus to {recipient}",
        )

    def reclaim_revoked_credit_action(self, membership: int, token: str, to: str) -> Action:
        """Pay what the exchange owes a revoked citizen membership (no key can withdraw it now) to ``to``:
        the former resident's new address, or the treasury, as the citizens vote."""
        _check_id("membership", membership)
        address = checksum(token, what="token")
        recipient = checksum(to, what="recipient")
        return self._action(
            self.contract.functions.reclaimRevokedCredit(membership, address, recipient),
            f"Pay revoked membership {membership}'s {address} credit to {recipient}",
        )

    def _action(self, fn: Any, description: str) -> Action:
        return Action.call(fn, description=description)
