"""The :class:`Treasury` client: views, inflows and pulls, and the report over a ``PublicTreasury``.

A :class:`Treasury` is a :class:`~civicdao.client.ContractClient`: build it with :meth:`~Treasury.from_suite`
(usually through ``CivicDAO``'s ``dao.treasury``), :meth:`~Treasury.at`, or ``Treasury(w3, contract)``.
Its methods fall into four groups:

* **Views** — :meth:`~Treasury.token_balance`/:meth:`~Treasury.balances` (balance, free, committed,
  counters per token), :meth:`~Treasury.epoch_status` (epoch clock and cap),
  :meth:`~Treasury.get_grant`/:meth:`~Treasury.grants`, :meth:`~Treasury.get_round`,
  :meth:`~Treasury.matched_contribution_of`.
* **Inflows and pulls** — anyone: :meth:`~Treasury.donate`, :meth:`~Treasury.deposit_fee`,
  :meth:`~Treasury.contribute`, :meth:`~Treasury.finalize_round`; recipients: :meth:`~Treasury.claim_grant`,
  :meth:`~Treasury.claim_round_payout`; stewards: :meth:`~Treasury.release_tranche`. Each takes the acting
  :class:`~civicdao.accounts.Signer` first, sends one transaction (plus an ERC-20 approval when needed,
  through :func:`civicdao.tokens.ensure_allowance`) and returns a frozen record with the decoded outcome
  and the :class:`~civicdao.tx.TxRecord`.
* **Governance actions** (:mod:`civicdao.treasury.actions`) — ``*_action`` builders for the DAO's
  proposals, and :meth:`~Treasury.grant_id_of` / :meth:`~Treasury.qf_round_id_of` to read what an executed
  proposal created.
* **Report** (:mod:`civicdao.treasury.report`) — :meth:`~Treasury.treasury_report`.

The report and :meth:`~Treasury.grants` read an event index when the treasury has one
(``Treasury.from_suite(suite, index=reader)``): the report then makes no ``eth_getLogs`` call (only the
current balances come from the chain), and the grants list takes its ids from the index. Without an index
the report reads the node's logs in ranges that adapt to the provider's caps (:func:`civicdao.logs.get_logs`).

Example::

    treasury = Treasury.from_suite(suite)
    treasury.donate(donor, 2 * 10**18, note="spring-fair")
    grant = treasury.stream_grant_action(recipient=library, amount=10**18, start=t0, duration=30 * DAY)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import ClassVar

from eth_utils.address import to_checksum_address
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from civicdao._validate import whole_number
from civicdao.accounts import Signer, checksum
from civicdao.client import ContractClient
from civicdao.errors import ConfigError
from civicdao.logs import RangeWindow, get_logs
from civicdao.tokens import ETH, ensure_allowance
from civicdao.treasury._inputs import amount_of, claimant_of, decode_note, fee_category, note_bytes, token_of
from civicdao.treasury.actions import TreasuryActions
from civicdao.treasury.report import ReportBuilder, TreasuryReport
from civicdao.treasury.types import (
    CATEGORIES,
    MAX_TRANCHES,
    Contribution,
    Donation,
    EpochStatus,
    FeeDeposit,
    GrantClaim,
    GrantInfo,
    ProjectInfo,
    RoundFinalization,
    RoundInfo,
    RoundPayout,
    TokenBalance,
    TrancheRelease,
)
from civicdao.tx import Event, TxRecord, call

__all__ = ["Treasury"]

logger = logging.getLogger(__name__)


class Treasury(ContractClient, TreasuryActions):
    """Typed access to one deployed ``PublicTreasury``."""

    ARTIFACT: ClassVar[str] = "PublicTreasury"
    SUITE_KEY: ClassVar[str] = "treasury"

    # -- views -----------------------------------------------------------------------------------------------

    def token_balance(self, token: str = ETH) -> TokenBalance:
        """Balance, committed, free balance and lifetime counters of ``token``."""
        address = token_of(token)
        stats = call(self.contract.functions.tokenStats(address))
        balance = int(call(self.contract.functions.treasuryBalance(address)))
        total_in, total_out, committed, by_category = stats
        return TokenBalance(
            token=address,
            balance=balance,
            committed=int(committed),
            free=max(balance - int(committed), 0),
            total_in=int(total_in),
            total_out=int(total_out),
            inflow_by_category=tuple(zip(CATEGORIES, (int(v) for v in by_category), strict=True)),
        )

    def balances(self, tokens: Iterable[str] = (ETH,)) -> tuple[TokenBalance, ...]:
        """:meth:`token_balance` for each of ``tokens`` (ETH only by default)."""
        return tuple(self.token_balance(token) for token in tokens)

    def epoch_status(self, token: str = ETH) -> EpochStatus:
        """The current epoch and ``token``'s cap, pending raise, spending and remaining allowance."""
        address = token_of(token)
        length, _anchor, _at_anchor, epoch, start, end = call(self.contract.functions.epochClock())
        cap, pending_cap, pending_from = call(self.contract.functions.epochCap(address))
        pending_length, _starts_at, _from_epoch = call(self.contract.functions.pendingEpochLength())
        return EpochStatus(
            token=address,
            epoch=int(epoch),
            length=int(length),
            start=int(start),
            end=int(end),
            cap=int(cap),
            pending_cap=int(pending_cap),
            pending_from_epoch=int(pending_from),
            spent=int(call(self.contract.functions.epochSpent(address, epoch))),
            remaining=int(call(self.contract.functions.remainingEpochAllowance(address))),
            pending_length=int(pending_length),
        )

    def get_grant(self, grant_id: int) -> GrantInfo:
        """One grant, with what has vested and what its recipient can claim now."""
        grant_id = whole_number(grant_id, "grant id")
        raw = call(self.contract.functions.getGrant(grant_id))
        token, start, kind, cancelled, recipient, cliff, duration, amount, claimed, _released, mask = raw[:11]
        member = raw[12]  # raw[11] is the registry the membership is held in
        tranches = tuple(int(t) for t in call(self.contract.functions.grantTranches(grant_id)))
        return GrantInfo(
            grant_id=grant_id,
            kind="stream" if int(kind) == 0 else "milestone",
            token=to_checksum_address(token),
            recipient=to_checksum_address(recipient),
            amount=int(amount),
            claimed=int(claimed),
            vested=int(call(self.contract.functions.vestedAmount(grant_id))),
            claimable=int(call(self.contract.functions.claimableAmount(grant_id))),
            cancelled=bool(cancelled),
            start=int(start),
            cliff=int(cliff),
            duration=int(duration),
            tranches=tranches,
            released_tranches=tuple(i for i in range(len(tranches)) if int(mask) >> i & 1),
            membership=int(member),
            claimant=claimant_of(call(self.contract.functions.grantClaimant(grant_id))),
        )

    def grants(self) -> tuple[GrantInfo, ...]:
        """Every grant, by id, with its live state (vested, claimable, claimant) read from the chain.

        With an index the ids come from its ``StreamGrantCreated``/``MilestoneGrantCreated`` events (the
        grants up to its last block); without one from the treasury's ``grantCount``.
        """
        if self.index is not None:
            created = self._past_events(["StreamGrantCreated", "MilestoneGrantCreated"])
            ids = sorted({int(ev["args"]["grantId"]) for ev in created})
        else:
            ids = list(range(int(call(self.contract.functions.grantCount()))))
        return tuple(self.get_grant(i) for i in ids)

    def get_round(self, round_id: int) -> RoundInfo:
        """One QF round with each project's sums, raw match and (once finalized) normalised matching."""
        round_id = whole_number(round_id, "round id")
        token, start, end, finalized, registry, pool, total, total_matching, count = call(
            self.contract.functions.getRound(round_id)
        )
        projects = []
        for index in range(int(count)):
            recipient, claimed, member, contributions, citizen, sum_sqrt, matching = call(
                self.contract.functions.getProject(round_id, index)
            )
            projects.append(
                ProjectInfo(
                    index=index,
                    recipient=to_checksum_address(recipient),
                    contributions=int(contributions),
                    citizen_contributions=int(citizen),
                    sum_sqrt=int(sum_sqrt),
                    raw_matching=int(call(self.contract.functions.rawMatching(round_id, index))),
                    matching=int(matching),
                    claimed=bool(claimed),
                    membership=int(member),
                    claimant=claimant_of(call(self.contract.functions.projectClaimant(round_id, index))),
                )
            )
        return RoundInfo(
            round_id=round_id,
            token=to_checksum_address(token),
            start=int(start),
            end=int(end),
            finalized=bool(finalized),
            matching_pool=int(pool),
            total_contributions=int(total),
            total_matching=int(total_matching),
            projects=tuple(projects),
            registry=to_checksum_address(registry),
        )

    def matched_contribution_of(self, round_id: int, project_index: int, contributor: str) -> int:
        """The matched total c_i, to one project, of the membership ``contributor`` holds now.

        Matching is kept per membership, not per address: after a key rotation the new key reads what the
        membership gave from the old one too, and an address without a membership now (a rotated-away or
        revoked key, a non-citizen) reads 0.
        """
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        who = checksum(contributor, what="contributor")
        return int(call(self.contract.functions.matchedContributionOf(round_id, project_index, who)))

    # -- inflows and pulls -----------------------------------------------------------------------------------

    def donate(
        self,
        signer: Signer,
        amount: int,
        *,
        token: str = ETH,
        note: str | bytes = "",
        approve: bool = True,
    ) -> Donation:
        """Donate ``amount`` of ETH or an ERC-20 with a short non-personal ``note`` (≤ 32 bytes).

        For an ERC-20 the treasury pulls the amount; with ``approve`` (default) an approval is sent first when
        the allowance is short. Fee-on-transfer tokens are refused by the contract.
        """
        address = token_of(token)
        amount = amount_of(amount, "donation")
        tag = note_bytes(note)
        fns = self.contract.functions
        fn = fns.donate(tag) if address == ETH else fns.donateToken(address, amount, tag)
        event, record = self._pay(
            signer, fn, token=address, amount=amount, approve=approve, event="DonationReceived"
        )
        logger.info("donation of %d of %s from %s", amount, address, signer.address)
        return Donation(
            donor=to_checksum_address(event["donor"]),
            token=to_checksum_address(event["token"]),
            amount=int(event["amount"]),
            note=decode_note(event["note"]),
            tx=record,
        )

    def deposit_fee(
        self,
        signer: Signer,
        amount: int,
        *,
        category: str | int,
        token: str = ETH,
        approve: bool = True,
    ) -> FeeDeposit:
        """Pay an exchange fee tagged with a listing kind (what the exchange does on settlement).

        ``category`` is a kind name from :data:`civicdao.config.KINDS` or its index 0..4.
        """
        address = token_of(token)
        amount = amount_of(amount, "fee")
        fn = self.contract.functions.depositFee(address, amount, fee_category(category))
        event, record = self._pay(
            signer, fn, token=address, amount=amount, approve=approve, event="FeeReceived"
        )
        return FeeDeposit(
            payer=to_checksum_address(event["payer"]),
            token=to_checksum_address(event["token"]),
            amount=int(event["amount"]),
            category=CATEGORIES[int(event["category"])],
            tx=record,
        )

    def claim_grant(self, signer: Signer, grant_id: int) -> GrantClaim:
        """The grant's recipient pulls everything vested (stream) or released (milestone), not yet claimed.

        For a citizen recipient the signer must hold the grant's membership now (after a key rotation: the
        new key; the old one gets ``TreasuryNotGrantRecipient``); a revoked membership claims nothing
        (``TreasuryRecipientRevoked``).
        """
        grant_id = whole_number(grant_id, "grant id")
        event, record = self._sent(signer, self.contract.functions.claim(grant_id), "GrantClaimed")
        logger.info("grant %d: %s claimed %d", grant_id, signer.address, event["amount"])
        return GrantClaim(grant_id, to_checksum_address(event["recipient"]), int(event["amount"]), record)

    def release_tranche(self, signer: Signer, grant_id: int, index: int) -> TrancheRelease:
        """A steward (or the governor) releases tranche ``index`` of a milestone grant."""
        grant_id = whole_number(grant_id, "grant id")
        index = whole_number(index, "tranche index")
        if index >= MAX_TRANCHES:
            raise ConfigError(f"tranche index {index} is out of range: grants have at most {MAX_TRANCHES}")
        fn = self.contract.functions.releaseTranche(grant_id, index)
        event, record = self._sent(signer, fn, "TrancheReleased")
        releaser = to_checksum_address(event["releaser"])
        return TrancheRelease(grant_id, index, int(event["amount"]), releaser, record)

    def contribute(
        self,
        signer: Signer,
        round_id: int,
        project_index: int,
        amount: int,
        *,
        approve: bool = True,
    ) -> Contribution:
        """Contribute to a project of an open QF round, in the round's token (ETH sent as value)."""
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        amount = amount_of(amount, "contribution")
        token = to_checksum_address(call(self.contract.functions.getRound(round_id))[0])
        fn = self.contract.functions.contribute(round_id, project_index, amount)
        event, record = self._pay(
            signer, fn, token=token, amount=amount, approve=approve, event="Contributed"
        )
        return Contribution(
            round_id=round_id,
            project_index=project_index,
            contributor=to_checksum_address(event["contributor"]),
            amount=int(event["amount"]),
            matched=bool(event["matched"]),
            membership=int(event["membership"]),
            tx=record,
        )

    def finalize_round(self, signer: Signer, round_id: int) -> RoundFinalization:
        """Finalize a round after its end (anyone): fixes each project's matching, frees the leftover pool."""
        round_id = whole_number(round_id, "round id")
        event, record = self._sent(signer, self.contract.functions.finalizeRound(round_id), "RoundFinalized")
        return RoundFinalization(round_id, int(event["totalMatching"]), int(event["leftover"]), record)

    def claim_round_payout(self, signer: Signer, round_id: int, project_index: int) -> RoundPayout:
        """A project's recipient pulls its contributions plus matching from a finalized round.

        A citizen project is claimed by whoever holds its membership now (see :meth:`claim_grant`).
        """
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        fn = self.contract.functions.claimRound(round_id, project_index)
        event, record = self._sent(signer, fn, "RoundClaimed")
        recipient = to_checksum_address(event["recipient"])
        return RoundPayout(
            round_id, project_index, recipient, int(event["contributions"]), int(event["matching"]), record
        )

    # -- report ----------------------------------------------------------------------------------------------

    def treasury_report(
        self,
        *,
        from_block: int = 0,
        to_block: BlockIdentifier = "latest",
        tokens: Iterable[str] = (),
        chunk_size: int = 10_000,
    ) -> TreasuryReport:
        """Inflows by source and category, outflows by grant and round, and the balance over time.

        Read from the treasury's events between ``from_block`` and ``to_block``: from the index when the
        treasury has one (``"latest"`` is then the index's last block; sync it first), else with
        ``eth_getLogs`` in ranges starting at ``chunk_size`` blocks that adapt to the provider's caps.
        ``tokens`` adds tokens to the balance section even without events in the range. The balance history
        starts from the balance at ``from_block - 1`` (0 for a report from block 0); ``balances`` and
        ``unrecorded`` compare with the balances now.

        Raises:
            ConfigError: a bad range, or (with an index) a ``to_block`` the index has not reached yet.
        """
        start = whole_number(from_block, "from_block")
        end = self._index_end(to_block) if self.index is not None else self._block_number(to_block)
        if end < start:
            raise ConfigError(f"to_block {end} is before from_block {start}")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive whole number, got {chunk_size!r}")
        builder = ReportBuilder(self, start, [token_of(t) for t in tokens])
        if self.index is not None:
            builder.timestamps.update(self.index.timestamps())
            for event in self.index.contract_events(self.address, from_block=start):
                if event.block_number > end:
                    break
                builder.add_indexed(event)
        else:
            window = RangeWindow(chunk_size, max(chunk_size, 50_000))
            for log in get_logs(self.w3, self.address, None, start, end, window=window):
                builder.add(log)
        return builder.build(end)

    def _block_number(self, block: BlockIdentifier) -> int:
        return int(self.w3.eth.get_block(block)["number"])

    def _index_end(self, to_block: BlockIdentifier) -> int:
        """The report's last block when reading the index: at most the index's last block."""
        assert self.index is not None
        held = self.index.as_of_block
        if to_block == "latest":
            return held
        end = self._block_number(to_block)
        if end > held:
            raise ConfigError(
                f"the index holds blocks up to {held}, not {end}: sync it first (civicdao index sync)"
            )
        return end

    # -- internals -------------------------------------------------------------------------------------------

    def _pay(
        self, signer: Signer, fn: ContractFunction, *, token: str, amount: int, approve: bool, event: str
    ) -> tuple[Event, TxRecord]:
        """Send ``fn`` paying ``amount`` of ``token`` (ETH as value; an ERC-20 approved first when asked)."""
        if token == ETH:
            record = self._send(signer, fn, value=amount)
        else:
            if approve:
                ensure_allowance(self.w3, signer, token, self.address, amount)
            record = self._send(signer, fn)
        return self._event(record, event), record

    def _sent(self, signer: Signer, fn: ContractFunction, event: str) -> tuple[Event, TxRecord]:
        """Send ``fn`` and return the ``event`` it emitted here, with the transaction."""
        record = self._send(signer, fn)
        return self._event(record, event), record
