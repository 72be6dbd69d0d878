"""One home for reading logs: ``eth_getLogs`` in block ranges that adapt to what the provider accepts.

Public RPC providers cap ``eth_getLogs`` ("block range too large", "query returned more than 10000
results", "Log response size exceeded … this block range should work: [0x…, 0x…]"), so a scan from the
deployment block in one call fails at once on a real network. :func:`get_logs` and :func:`iter_logs` read
a range in pieces instead: a refused piece is halved (or narrowed to the range the provider suggests) and
the width grows back while the provider accepts it (never to a width it refused). The event index's sync
(:class:`civicdao.index.Indexer`) uses the same :class:`RangeWindow` and :func:`read_range`.

Every library list that reads logs without an index (``Governance.proposals``, ``Exchange.bookings``,
``Treasury.treasury_report``, ``ParticipatoryBudget.ballots``, the relayer's search for the transaction
that carried a message) goes through here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eth_utils.abi import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception
from web3.types import BlockIdentifier, EventData, LogReceipt

from civicdao.errors import NetworkError

__all__ = [
    "LogReadError",
    "RangeWindow",
    "event_logs",
    "get_logs",
    "is_range_error",
    "iter_logs",
    "read_range",
]

logger = logging.getLogger(__name__)

_RANGE_ERROR = re.compile(
    r"block range|range (is )?too (large|wide|big)|more than \d+ (results|logs)"
    r"|too many (results|logs|blocks)"
    r"|limit exceeded|exceeds? (the )?(max|limit)|response size|query timeout|max(imum)? (block )?range"
    r"|range limit|10000 results|logs? (response|limit)",
    re.IGNORECASE,
)
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")

#: ``fetch(low, high)``: the logs of blocks ``low..high`` (inclusive) in one request.
Fetch = Callable[[int, int], list[Any]]


class LogReadError(NetworkError):
    """The node refused ``eth_getLogs`` even for a single block, or failed it for another reason."""


def is_range_error(exc: BaseException) -> bool:
    """True when a provider refused ``eth_getLogs`` for the size of its range or result."""
    return bool(_RANGE_ERROR.search(str(exc)))


class RangeWindow:
    """How many blocks the next ``eth_getLogs`` asks for, learnt from the provider's answers.

    The width starts at ``initial`` and doubles after each accepted range up to ``max_range``. A refusal for
    size halves it (or takes the width the provider's message suggests); after a refusal the width grows
    back only after 8 accepted ranges in a row, and never to a width that was refused.
    """

    def __init__(self, initial: int = 2_000, max_range: int = 50_000) -> None:
        if not 1 <= initial <= max_range:
            raise ValueError(f"need 1 <= initial <= max_range, got {initial} and {max_range}")
        self.span = initial
        self.max_range = max_range
        self.ceiling = max_range  # below the narrowest range the provider refused
        self.streak = 0  # ranges accepted in a row at the current span

    def refused(self, exc: BaseException, tried: int) -> None:
        """The provider refused a range of ``tried`` blocks for its size."""
        self.ceiling = min(self.ceiling, tried - 1)
        self.span = _smaller_span(exc, tried)
        self.streak = 0

    def accepted(self, width: int) -> None:
        """The provider answered a range of ``width`` blocks: grow when that was a full-width range."""
        if width < self.span:
            return
        self.streak += 1
        patience = 1 if self.ceiling >= self.max_range else 8
        if self.streak >= patience and self.span < self.ceiling:
            self.span = min(self.ceiling, self.span * 2)
            self.streak = 0


def read_range(
    fetch: Fetch, low: int, high: int, window: RangeWindow, *, newest_first: bool = False
) -> tuple[list[Any], int, int]:
    """The logs of the widest part of ``low..high`` the provider accepts; returns ``(logs, low', high')``.

    Reading forward the part starts at ``low`` (``high' <= high``); ``newest_first`` keeps ``high`` and
    moves ``low`` up instead. A refusal for size narrows ``window`` and tries again.

    Raises:
        LogReadError: the node refused even one block, or failed for another reason than the range.
    """
    while True:
        try:
            logs = fetch(low, high)
        except (Web3Exception, ValueError, OSError) as exc:
            if not is_range_error(exc):
                raise LogReadError(f"eth_getLogs {low}..{high} failed: {exc}") from None
            if high == low:
                raise LogReadError(
                    f"the node refuses eth_getLogs even for block {low} alone ({exc}): "
                    "use a node without that limit"
                ) from None
            window.refused(exc, high - low + 1)
            logger.info("provider refused %s blocks; trying %s", high - low + 1, window.span)
            if newest_first:
                low = high - window.span + 1
            else:
                high = low + window.span - 1
            continue
        window.accepted(high - low + 1)
        return logs, low, high


def iter_logs(
    w3: Web3,
    address: str | Sequence[str],
    topics: Sequence[Any] | None = None,
    from_block: int = 0,
    to_block: BlockIdentifier = "latest",
    *,
    newest_first: bool = False,
    window: RangeWindow | None = None,
) -> Iterator[list[LogReceipt]]:
    """The logs of ``address`` (one or several) matching ``topics``, range by range.

    Each yielded list is one accepted range's logs in chain order; ranges come oldest first, or newest
    first with ``newest_first`` (a search that stops at the first match reads only the recent blocks).
    """
    end = _block_number(w3, to_block)
    window = window or RangeWindow()
    addresses: Any = address if isinstance(address, str) else list(address)

    def fetch(low: int, high: int) -> list[Any]:
        params: dict[str, Any] = {"address": addresses, "fromBlock": low, "toBlock": high}
        if topics:
            params["topics"] = list(topics)
        return [log for log in w3.eth.get_logs(params) if not log.get("removed")]  # type: ignore[arg-type]

    if newest_first:
        high = end
        while high >= from_block:
            logs, low, _ = read_range(
                fetch, max(from_block, high - window.span + 1), high, window, newest_first=True
            )
            yield logs
            high = low - 1
    else:
        low = from_block
        while low <= end:
            logs, _, high = read_range(fetch, low, min(low + window.span - 1, end), window)
            yield logs
            low = high + 1


def get_logs(
    w3: Web3,
    address: str | Sequence[str],
    topics: Sequence[Any] | None = None,
    from_block: int = 0,
    to_block: BlockIdentifier = "latest",
    *,
    window: RangeWindow | None = None,
) -> list[LogReceipt]:
    """Every log of ``address`` matching ``topics`` in ``from_block..to_block``, in chain order.

    Read in adaptive ranges (see :class:`RangeWindow`): works behind providers that cap ``eth_getLogs``.

    Raises:
        LogReadError: the node refused even a single block, or failed for another reason.
    """
    logs: list[LogReceipt] = []
    for part in iter_logs(w3, address, topics, from_block, to_block, window=window):
        logs.extend(part)
    return logs


def event_logs(
    contract: Contract,
    events: str | Sequence[str],
    from_block: int = 0,
    to_block: BlockIdentifier = "latest",
    *,
    window: RangeWindow | None = None,
) -> list[EventData]:
    """The decoded logs of ``contract`` in ``from_block..to_block`` for ``events`` (one event name, or several
    read in one pass over the range), in chain order."""
    names = [events] if isinstance(events, str) else list(events)
    bound = [getattr(contract.events, name) for name in names]
    by_topic = {HexBytes(event_abi_to_log_topic(event.abi)).to_0x_hex(): event for event in bound}
    topic0 = list(by_topic)  # a list of topics matches any of them
    logs = get_logs(contract.w3, contract.address, [topic0], from_block, to_block, window=window)
    return [by_topic[HexBytes(log["topics"][0]).to_0x_hex()]().process_log(log) for log in logs]


def _block_number(w3: Web3, block: BlockIdentifier) -> int:
    if isinstance(block, int) and not isinstance(block, bool):
        return block
    return int(w3.eth.get_block(block)["number"])


def _smaller_span(exc: BaseException, tried: int) -> int:
    suggested = _SUGGESTED.search(str(exc))
    if suggested:
        span = int(suggested.group(2), 16) - int(suggested.group(1), 16) + 1
        if 1 <= span < tried:
            return span
    return max(1, tried // 2)
