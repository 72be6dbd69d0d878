"""The treasury report: where the commons' money came from and went, folded from the treasury's events.

:meth:`Treasury.treasury_report <civicdao.treasury.Treasury.treasury_report>` reads the events (from the
event index when the treasury has one, else the node's logs in adaptive ranges) and folds them here into
inflows by source and category, outflows by grant and round, and the balance over time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from eth_typing import ChecksumAddress
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from civicdao.tokens import ETH
from civicdao.treasury._inputs import decode_note
from civicdao.treasury.types import CATEGORIES, TokenBalance
from civicdao.tx import call

if TYPE_CHECKING:
    from civicdao.index.store import EventRow
    from civicdao.treasury.client import Treasury

__all__ = [
    "BalancePoint",
    "GrantOutflow",
    "InflowRecord",
    "InflowTotal",
    "OutflowRecord",
    "RoundOutflow",
    "TreasuryReport",
]


@dataclass(frozen=True)
class _Movement:
    """Where and when money of ``token`` moved: the block, its time and the transaction."""

    block: int
    timestamp: int
    tx_hash: str
    token: ChecksumAddress


@dataclass(frozen=True)
class InflowRecord(_Movement):
    """One fee or donation, from the treasury's events."""

    source: Literal["fee", "donation"]
    category: str
    payer: ChecksumAddress
    amount: int
    note: str


@dataclass(frozen=True)
class OutflowRecord(_Movement):
    """Public money leaving the treasury: a transfer, a grant claim, or QF matching paid to a project.

    ``reference`` is the grant id or round id (None for a transfer); ``memo`` the transfer memo.
    """

    kind: Literal["transfer", "grant", "qf_matching"]
    recipient: ChecksumAddress
    amount: int
    reference: int | None
    memo: str


@dataclass(frozen=True)
class InflowTotal:
    """Inflows of one token summed by source and category."""

    token: ChecksumAddress
    source: Literal["fee", "donation"]
    category: str
    amount: int
    count: int


@dataclass(frozen=True)
class GrantOutflow:
    """One grant over the report's range: granted, claimed, returned on cancellation, still owed."""

    grant_id: int
    kind: Literal["stream", "milestone"]
    token: ChecksumAddress
    recipient: ChecksumAddress
    granted: int
    claimed: int
    returned: int
    cancelled: bool

    @property
    def outstanding(self) -> int:
        return self.granted - self.returned - self.claimed


@dataclass(frozen=True)
class RoundOutflow:
    """One QF round over the report's range."""

    round_id: int
    token: ChecksumAddress
    matching_pool: int
    contributions: int
    citizen_contributions: int
    total_matching: int
    leftover: int
    matching_paid: int
    contributions_paid: int
    finalized: bool
    #: Matching returned to the free balance when the DAO cancelled a revoked recipient's payout.
    matching_returned: int


@dataclass(frozen=True)
class BalancePoint:
    """The treasury's balance of ``token`` after block ``block``, as its events account for it."""

    block: int
    timestamp: int
    token: ChecksumAddress
    balance: int


@dataclass(frozen=True)
class TreasuryReport:
    """Where the commons' money came from and went, from the treasury's events.

    ``unrecorded`` lists, per token, the current balance the events do not explain (tokens sent straight to
    the contract, or ETH forced in without a call): it is spendable but appears in no inflow.
    """

    treasury: ChecksumAddress
    from_block: int
    to_block: int
    tokens: tuple[ChecksumAddress, ...]
    inflows: tuple[InflowRecord, ...]
    inflow_totals: tuple[InflowTotal, ...]
    outflows: tuple[OutflowRecord, ...]
    grants: tuple[GrantOutflow, ...]
    rounds: tuple[RoundOutflow, ...]
    balance_history: tuple[BalancePoint, ...]
    balances: tuple[TokenBalance, ...]
    unrecorded: tuple[tuple[ChecksumAddress, int], ...]

    def total_in(self, token: str = ETH) -> int:
        """Fees plus donations of ``token`` in the range."""
        wanted = to_checksum_address(token)
        return sum(t.amount for t in self.inflow_totals if t.token == wanted)

    def total_out(self, token: str = ETH) -> int:
        """Public money of ``token`` paid out in the range."""
        wanted = to_checksum_address(token)
        return sum(o.amount for o in self.outflows if o.token == wanted)


def _typed_args(abi: Any, args: Any) -> dict[str, Any]:
    """An indexed event's arguments (decimal strings, hex bytes) typed as a decoded log's are."""
    typed: dict[str, Any] = {}
    for item in abi["inputs"]:
        name, kind, value = item["name"], item["type"], args[item["name"]]
        if kind.endswith("]") or kind.startswith("("):
            typed[name] = value
        elif kind.startswith(("uint", "int")):
            typed[name] = int(value)
        elif kind.startswith("bytes"):
            typed[name] = bytes(HexBytes(value))
        else:
            typed[name] = value
    return typed


class ReportBuilder:
    """Folds decoded treasury events into the report's sections."""

    def __init__(self, treasury: Treasury, from_block: int, tokens: list[ChecksumAddress]) -> None:
        self.treasury = treasury
        self.contract = treasury.contract
        self.w3 = treasury.w3
        self.from_block = from_block
        #: topic0 → the event's ABI entry, for the events this report folds.
        self.abis: dict[bytes, Any] = {
            bytes(event_abi_to_log_topic(entry)): entry  # type: ignore[arg-type]
            for entry in treasury.contract.abi
            if entry.get("type") == "event" and hasattr(self, f"_on_{entry.get('name')}")
        }
        self.by_name: dict[str, Any] = {entry["name"]: entry for entry in self.abis.values()}
        self.tokens: list[ChecksumAddress] = list(dict.fromkeys(tokens))
        self.timestamps: dict[int, int] = {}
        self.inflows: list[InflowRecord] = []
        self.outflows: list[OutflowRecord] = []
        self.grants: dict[int, dict[str, Any]] = {}
        self.rounds: dict[int, dict[str, Any]] = {}
        self.grant_tokens: dict[int, ChecksumAddress] = {}
        self.round_tokens: dict[int, ChecksumAddress] = {}
        self.running: dict[ChecksumAddress, int] = {}
        self.history: list[BalancePoint] = []

    # -- folding ----------------------------------------------------------------------------------

    def add(self, log: Any) -> None:
        """Fold one raw log of the treasury."""
        abi = self.abis.get(bytes(log["topics"][0])) if log["topics"] else None
        if abi is None:
            return  # role or other events this report does not need
        event = getattr(self.contract.events, abi["name"])().process_log(log)
        getattr(self, f"_on_{event['event']}")(event["args"], log)

    def add_indexed(self, event: EventRow) -> None:
        """Fold one event of the index (the same event a raw log decodes to)."""
        abi = self.by_name.get(event.event)
        if abi is None:
            return
        log = {"blockNumber": event.block_number, "transactionHash": HexBytes(event.tx_hash)}
        getattr(self, f"_on_{event.event}")(_typed_args(abi, event.args), log)

    def _on_FeeReceived(self, args: Any, log: Any) -> None:
        self._inflow(
            log, args["token"], "fee", CATEGORIES[int(args["category"])], args["payer"], args["amount"], b""
        )

    def _on_DonationReceived(self, args: Any, log: Any) -> None:
        self._inflow(log, args["token"], "donation", "donation", args["donor"], args["amount"], args["note"])

    def _on_Transferred(self, args: Any, log: Any) -> None:
        token = to_checksum_address(args["token"])
        self._outflow(
            log, token, "transfer", args["to"], int(args["amount"]), None, decode_note(args["memo"])
        )
        self._move(log, token, -int(args["amount"]))

    def _on_StreamGrantCreated(self, args: Any, log: Any) -> None:
        self._new_grant(args, "stream")

    def _on_MilestoneGrantCreated(self, args: Any, log: Any) -> None:
        self._new_grant(args, "milestone")

    def _on_GrantClaimed(self, args: Any, log: Any) -> None:
        grant_id, amount = int(args["grantId"]), int(args["amount"])
        token = self._grant_token(grant_id)
        self._grant(grant_id)["claimed"] += amount
        self._outflow(log, token, "grant", args["recipient"], amount, grant_id, "")
        self._move(log, token, -amount)

    def _on_GrantCancelled(self, args: Any, log: Any) -> None:
        grant = self._grant(int(args["grantId"]))
        grant["returned"] += int(args["returned"])
        grant["cancelled"] = True

    def _on_RoundOpened(self, args: Any, log: Any) -> None:
        round_id = int(args["roundId"])
        token = self._seen(args["token"])
        self.round_tokens[round_id] = token
        self._round(round_id)["pool"] = int(args["matchingPool"])

    def _on_Contributed(self, args: Any, log: Any) -> None:
        round_id, amount = int(args["roundId"]), int(args["amount"])
        entry = self._round(round_id)
        entry["contributions"] += amount
        if args["matched"]:
            entry["citizen"] += amount
        self._move(log, self._round_token(round_id), amount)

    def _on_RoundFinalized(self, args: Any, log: Any) -> None:
        entry = self._round(int(args["roundId"]))
        entry["matching"] = int(args["totalMatching"])
        entry["leftover"] = int(args["leftover"])
        entry["finalized"] = True

    def _on_RoundClaimed(self, args: Any, log: Any) -> None:
        round_id = int(args["roundId"])
        token = self._round_token(round_id)
        matching, contributions = int(args["matching"]), int(args["contributions"])
        entry = self._round(round_id)
        entry["matching_paid"] += matching
        entry["contributions_paid"] += contributions
        if matching:
            self._outflow(log, token, "qf_matching", args["recipient"], matching, round_id, "")
        self._move(log, token, -(matching + contributions))

    def _on_ProjectPayoutCancelled(self, args: Any, log: Any) -> None:
        round_id = int(args["roundId"])
        token = self._round_token(round_id)
        contributions, matching = int(args["contributions"]), int(args["matching"])
        self._round(round_id)["matching_returned"] += matching
        if contributions:  # the contributions stay in the treasury as a donation: no balance moves
            block = int(log["blockNumber"])
            self.inflows.append(
                InflowRecord(
                    block=block,
                    timestamp=self._timestamp(block),
                    tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                    token=token,
                    source="donation",
                    category="donation",
                    payer=self.treasury.address,
                    amount=contributions,
                    note=f"qf-{round_id}-{int(args['projectIndex'])}-payout-cancelled",
                )
            )

    # -- helpers ----------------------------------------------------------------------------------

    def _inflow(
        self, log: Any, token: str, source: Any, category: str, payer: str, amount: int, note: bytes
    ) -> None:
        address = self._seen(token)
        block = int(log["blockNumber"])
        self.inflows.append(
            InflowRecord(
                block=block,
                timestamp=self._timestamp(block),
                tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                token=address,
                source=source,
                category=category,
                payer=to_checksum_address(payer),
                amount=int(amount),
                note=decode_note(note) if note else "",
            )
        )
        self._move(log, address, int(amount))

    def _outflow(
        self, log: Any, token: ChecksumAddress, kind: Any, to: str, amount: int, ref: int | None, memo: str
    ) -> None:
        block = int(log["blockNumber"])
        self.outflows.append(
            OutflowRecord(
                block=block,
                timestamp=self._timestamp(block),
                tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                token=token,
                kind=kind,
                recipient=to_checksum_address(to),
                amount=amount,
                reference=ref,
                memo=memo,
            )
        )

    def _new_grant(self, args: Any, kind: str) -> None:
        grant_id = int(args["grantId"])
        token = self._seen(args["token"])
        self.grant_tokens[grant_id] = token
        grant = self._grant(grant_id)
        grant.update(kind=kind, recipient=to_checksum_address(args["recipient"]), granted=int(args["amount"]))

    def _grant(self, grant_id: int) -> dict[str, Any]:
        if grant_id not in self.grants:
            self.grants[grant_id] = dict(
                kind=None, recipient=None, granted=None, claimed=0, returned=0, cancelled=False
            )
        return self.grants[grant_id]

    def _round(self, round_id: int) -> dict[str, Any]:
        if round_id not in self.rounds:
            self.rounds[round_id] = dict.fromkeys(
                (
                    "contributions",
                    "citizen",
                    "matching",
                    "leftover",
                    "matching_paid",
                    "contributions_paid",
                    "matching_returned",
                ),
                0,
            )
            self.rounds[round_id].update(pool=None, finalized=False)
        return self.rounds[round_id]

    def _grant_token(self, grant_id: int) -> ChecksumAddress:
        if grant_id not in self.grant_tokens:  # created before the range: ask the chain
            self.grant_tokens[grant_id] = self._seen(call(self.contract.functions.getGrant(grant_id))[0])
        return self.grant_tokens[grant_id]

    def _round_token(self, round_id: int) -> ChecksumAddress:
        if round_id not in self.round_tokens:
            self.round_tokens[round_id] = self._seen(call(self.contract.functions.getRound(round_id))[0])
        return self.round_tokens[round_id]

    def _seen(self, token: str) -> ChecksumAddress:
        address = to_checksum_address(token)
        if address not in self.tokens:
            self.tokens.append(address)
        return address

    def _timestamp(self, block: int) -> int:
        if block not in self.timestamps:
            self.timestamps[block] = int(self.w3.eth.get_block(block)["timestamp"])
        return self.timestamps[block]

    def _opening_balance(self, token: ChecksumAddress) -> int:
        if self.from_block == 0:
            return 0
        fn = self.contract.functions.treasuryBalance(token)
        return int(call(fn, block=self.from_block - 1))

    def _move(self, log: Any, token: ChecksumAddress, delta: int) -> None:
        if token not in self.running:
            self.running[token] = self._opening_balance(token)
        self.running[token] += delta
        block = int(log["blockNumber"])
        point = BalancePoint(block, self._timestamp(block), token, self.running[token])
        if self.history and self.history[-1].block == block and self.history[-1].token == token:
            self.history[-1] = point  # one point per token and block: the balance after it
        else:
            self.history.append(point)

    # -- result -----------------------------------------------------------------------------------

    def build(self, to_block: int) -> TreasuryReport:
        current = self.treasury.balances(self.tokens)
        unrecorded = tuple(
            (b.token, b.balance - self.running[b.token])
            for b in current
            if self.from_block == 0 and b.token in self.running and b.balance != self.running[b.token]
        )
        return TreasuryReport(
            treasury=self.treasury.address,
            from_block=self.from_block,
            to_block=to_block,
            tokens=tuple(self.tokens),
            inflows=tuple(self.inflows),
            inflow_totals=self._inflow_totals(),
            outflows=tuple(self.outflows),
            grants=self._grant_outflows(),
            rounds=self._round_outflows(),
            balance_history=tuple(self.history),
            balances=current,
            unrecorded=unrecorded,
        )

    def _inflow_totals(self) -> tuple[InflowTotal, ...]:
        sums: dict[tuple[ChecksumAddress, str, str], list[int]] = {}
        for record in self.inflows:
            entry = sums.setdefault((record.token, record.source, record.category), [0, 0])
            entry[0] += record.amount
            entry[1] += 1
        order = {name: i for i, name in enumerate(CATEGORIES)}
        keys = sorted(sums, key=lambda k: (self.tokens.index(k[0]), order[k[2]]))
        return tuple(
            InflowTotal(token=k[0], source=k[1], category=k[2], amount=sums[k][0], count=sums[k][1])  # type: ignore[arg-type]
            for k in keys
        )

    def _grant_outflows(self) -> tuple[GrantOutflow, ...]:
        result = []
        for grant_id in sorted(self.grants):
            entry = self.grants[grant_id]
            if entry["granted"] is None:  # created before the range: fill in from the chain
                info = self.treasury.get_grant(grant_id)
                original = info.amount + entry["returned"] if info.cancelled else info.amount
                entry.update(kind=info.kind, recipient=info.recipient, granted=original)
            result.append(
                GrantOutflow(
                    grant_id=grant_id,
                    kind=entry["kind"],
                    token=self._grant_token(grant_id),
                    recipient=entry["recipient"],
                    granted=entry["granted"],
                    claimed=entry["claimed"],
                    returned=entry["returned"],
                    cancelled=entry["cancelled"],
                )
            )
        return tuple(result)

    def _round_outflows(self) -> tuple[RoundOutflow, ...]:
        result = []
        for round_id in sorted(self.rounds):
            entry = self.rounds[round_id]
            pool = entry["pool"]
            if pool is None:
                pool = int(call(self.contract.functions.getRound(round_id))[5])
            result.append(
                RoundOutflow(
                    round_id=round_id,
                    token=self._round_token(round_id),
                    matching_pool=pool,
                    contributions=entry["contributions"],
                    citizen_contributions=entry["citizen"],
                    total_matching=entry["matching"],
                    leftover=entry["leftover"],
                    matching_paid=entry["matching_paid"],
                    contributions_paid=entry["contributions_paid"],
                    finalized=entry["finalized"],
                    matching_returned=entry["matching_returned"],
                )
            )
        return tuple(result)
