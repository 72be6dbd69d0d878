"""The one shape every contract client shares.

:class:`ContractClient` is the base of :class:`~civicdao.citizens.Citizens`,
:class:`~civicdao.governance.Governance`, :class:`~civicdao.exchange.Exchange`,
:class:`~civicdao.treasury.Treasury` and :class:`~civicdao.budget.ParticipatoryBudget`. Each is built the
same three ways::

    client = Exchange(w3, contract)                  # a bound web3 contract
    client = Exchange.at(w3, "0x…", index=reader)    # an address
    client = Exchange.from_suite(suite)              # a deployed suite (usually through ``CivicDAO``)

and each has ``.w3``, ``.contract``, ``.address``, ``.index`` (the event index its lists read, or None)
and ``.from_block`` (where its events start). Sending goes through :meth:`_send`; the events a
transaction emitted from this contract come from :meth:`_event` / :meth:`_events`; past events from
:meth:`_past_events` (the index when one is loaded, else the node's logs in adaptive ranges). What a DAO
proposal's execution created (a grant, a round) comes from :func:`executed_event`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from civicdao.accounts import Signer, checksum
from civicdao.contracts import bind
from civicdao.errors import ConfigError
from civicdao.tx import Event, TxRecord, transact

if TYPE_CHECKING:
    from civicdao.deploy import Suite
    from civicdao.index.queries import IndexReader
    from civicdao.local import PassedProposal

__all__ = ["ContractClient", "executed_event"]

_C = TypeVar("_C", bound="ContractClient")


class ContractClient:
    """Typed access to one deployed contract: the base every CivicDAO client extends.

    Subclasses name their artifact (``ARTIFACT``) and the suite manifest key they bind (``SUITE_KEY``).
    """

    #: The compiled contract's name (its ABI comes from the shipped artifacts).
    ARTIFACT: ClassVar[str]
    #: The key of this contract in a suite's manifest (``"exchange"``, ``"treasury"``, …).
    SUITE_KEY: ClassVar[str]

    def __init__(
        self,
        w3: Web3,
        contract: Contract,
        *,
        index: IndexReader | None = None,
        from_block: int = 0,
    ) -> None:
        if not isinstance(contract, Contract):
            raise ConfigError(f"expected the bound {self.ARTIFACT} contract, got {type(contract).__name__}")
        if isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0:
            raise ConfigError(f"from_block must be a block number (int >= 0), got {from_block!r}")
        self.w3 = w3
        self.contract = contract
        #: The event index the lists read (None: the node's logs, in adaptive ranges).
        self.index = index
        #: First block to search for this contract's events (its deployment block when known).
        self.from_block = from_block

    @classmethod
    def at(
        cls: type[_C], w3: Web3, address: str, *, index: IndexReader | None = None, from_block: int = 0
    ) -> _C:
        """The contract deployed at ``address``."""
        return cls(w3, bind(w3, cls.ARTIFACT, address), index=index, from_block=from_block)

    @classmethod
    def from_suite(cls: type[_C], suite: Suite, *, index: IndexReader | None = None) -> _C:
        """This system's contract in a suite (events read from its deployment block, or ``index``)."""
        from civicdao.deploy import Suite

        if not isinstance(suite, Suite):
            raise ConfigError(f"expected a deployed Suite, got {type(suite).__name__}")
        entry = suite.manifest.contracts.get(cls.SUITE_KEY)
        contract = getattr(suite, cls.SUITE_KEY)
        return cls(suite.w3, contract, index=index, from_block=entry.block if entry else 0)

    @property
    def address(self) -> ChecksumAddress:
        """The contract's address."""
        return checksum(self.contract.address, what=f"{self.ARTIFACT} address")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    # -- sending and events ---------------------------------------------------------------------------

    def _send(self, signer: Signer, fn: ContractFunction, *, value: int = 0) -> TxRecord:
        """Send ``fn`` from ``signer`` and wait for its receipt (a revert becomes a named error)."""
        return transact(self.w3, signer, fn, value=value)

    def _events(self, record: TxRecord, name: str, *, emitter: str | None = None) -> builtins.list[Event]:
        """The ``name`` events ``record``'s transaction emitted from this contract (or from ``emitter``)."""
        source = checksum(emitter) if emitter is not None else self.address
        return [e for e in record.events_named(name) if e.address == source]

    def _event(self, record: TxRecord, name: str, *, emitter: str | None = None) -> Event:
        """The first ``name`` event ``record``'s transaction emitted from this contract (or ``emitter``)."""
        events = self._events(record, name, emitter=emitter)
        if not events:
            raise LookupError(f"transaction {record.tx_hash} emitted no {name} event from {self.ARTIFACT}")
        return events[0]

    def _past_events(self, names: builtins.list[str]) -> builtins.list[dict[str, Any]]:
        """Every past ``names`` event of this contract in chain order: ``{"event", "args", "block", "tx"}``.

        Read from the index when one is loaded, else from the node's logs since :attr:`from_block`.
        Integers from the index are decimal strings: read them with ``int``.
        """
        if self.index is not None:
            return [
                {"event": ev.event, "args": dict(ev.args), "block": ev.block_number, "tx": ev.tx_hash}
                for ev in self.index.contract_events(self.address, names)
            ]
        from civicdao.logs import event_logs

        return [
            {
                "event": log["event"],
                "args": dict(log["args"]),
                "block": int(log["blockNumber"]),
                "tx": log["transactionHash"].to_0x_hex(),
            }
            for log in event_logs(self.contract, names, self.from_block)  # one pass, in chain order
        ]


def executed_event(
    execution: TxRecord | PassedProposal, names: Sequence[str], *, emitter: str | None, what: str
) -> tuple[Event, TxRecord, int | None]:
    """The one ``names`` event an executed proposal emitted (from ``emitter`` only, when given), with the
    execution's record and the proposal id (None when given the execution alone).

    ``execution`` is the ``execute`` transaction's record or a :class:`~civicdao.local.PassedProposal`.

    Raises:
        ConfigError: no such event, or more than one.
    """
    record, proposal_id = (
        (execution, None) if isinstance(execution, TxRecord) else (execution.execution, execution.proposal_id)
    )
    source = checksum(emitter) if emitter is not None else None
    events = [e for e in record.events if e.name in names and (source is None or e.address == source)]
    if len(events) != 1:
        raise ConfigError(
            f"transaction {record.tx_hash} created {len(events)} {what}s, expected exactly one: "
            f"read them with execution.events_named({names[0]!r})"
        )
    return events[0], record, proposal_id
