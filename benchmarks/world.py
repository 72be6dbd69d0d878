"""The chain state a gas measurement runs in: CivicDAO, its anchors, and a city of N citizens.

Large states are built quickly and honestly: automine off, many real transactions per block, then
``evm_mine`` (one-transaction blocks over a large state are slow on Anvil, see DESIGN.md). Every citizen is a
real registration through ``CitizenRegistry.register``; every prior booking, grant and stream is a real
transaction. Nothing is written with ``anvil_setStorageAt``. The Timelock's own calls (creating grants,
opening rounds, allowing a token) are sent from the Timelock's address with ``anvil_impersonateAccount``:
the same call the Timelock makes when it executes a proposal, without the governor around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from benchmarks import anchors
from civicdao.accounts import (
    KeySigner,
    LocalSigner,
    NodeSigner,
    Signer,
    from_private_key,
    node_signers,
    sign_raw_transaction,
)
from civicdao.build import use_mock_contracts
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens
from civicdao.config import load_config
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite, deploy_suite
from civicdao.exchange import Exchange, Kind, ListingSpec, Unit
from civicdao.governance import Governance
from civicdao.tokens import ETH
from civicdao.treasury import UNCAPPED, Treasury
from civicdao.tx import TxRecord, calldata, transact

#: The benchmark's governance settings: the pilot preset with a 30 % quorum, so that with 10 citizens a
#: second vote is still "before quorum" (the stock governor gets the same quorum fraction).
QUORUM_PERCENT = 30
DAY = 86_400
PRICE = 10**15
DEPOSIT = 10**15
GRANT = 10**15
BULK_GAS_LIMIT = 2_000_000_000
#: Citizens with a private key in the benchmark (they sign ballots); the others act through
#: ``anvil_autoImpersonateAccount`` (real transactions from their address, without a signature).
KEYED = 120
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Gas:
    """One measured transaction: receipt gasUsed (21,000 base included) and its storage writes."""

    gas: int
    tx_hash: str
    fresh_slots: int | None = None  # storage slots written from zero to non-zero
    changed_slots: int | None = None  # storage slots whose value changed
    per: int = 1  # a batch row: ``gas`` is per item, the slots are the whole transaction's
    breakdown: dict[str, int] | None = None  # gas by opcode family (traced), for transactions under 2M gas


def citizen_key(index: int) -> bytes:
    return Web3.keccak(text=f"civicdao-bench-citizen-{index}")


class Bulk:
    """Send many transactions without waiting, mine them in few big blocks (automine off meanwhile)."""

    def __init__(self, w3: Web3, control: ChainControl) -> None:
        self.w3 = w3
        self.control = control
        self.hashes: list[str] = []
        self._nonces: dict[str, int] = {}
        self._fees = {"maxFeePerGas": 10**12, "maxPriorityFeePerGas": 0}
        self._chain_id = w3.eth.chain_id

    def send(self, sender: Signer, fn: Any, *, value: int = 0, gas: int = 1_500_000) -> None:
        tx: dict[str, Any] = {
            "from": sender.address,
            "to": fn.address,
            "data": calldata(fn),
            "value": value,
            "gas": gas,
            "chainId": self._chain_id,
            **self._fees,
        }
        if isinstance(sender, KeySigner):
            nonce = self._nonces.get(sender.address)
            if nonce is None:
                nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
            tx["nonce"] = nonce
            self._nonces[sender.address] = nonce + 1
            raw = sign_raw_transaction(sender, tx)
            response = rpc(self.w3, "eth_sendRawTransaction", ["0x" + raw.hex()])
        else:
            self._nonces.setdefault(sender.address, -1)
            tx = {k: (hex(v) if isinstance(v, int) else v) for k, v in tx.items()}
            response = rpc(self.w3, "eth_sendTransaction", [tx])
        if "error" in response:
            raise RuntimeError(f"bulk send failed: {response['error']}")
        self.hashes.append(response["result"])

    def mine(self) -> None:
        """Mine until the pool is empty; raise if any transaction reverted."""
        for _ in range(10_000):
            status = rpc(self.w3, "txpool_status", [])
            pending = int(status["result"]["pending"], 16) + int(status["result"]["queued"], 16)
            if not pending:
                break
            self.control.mine()
        failed = []
        if self.hashes:
            # the last transaction of each block is enough to see that blocks were mined; check them all
            for tx_hash in self.hashes:
                receipt = rpc(self.w3, "eth_getTransactionReceipt", [tx_hash])
                result = receipt.get("result")
                if result is None or int(result["status"], 16) != 1:
                    failed.append(tx_hash)
                    break
        self.hashes.clear()
        if failed:
            raise RuntimeError(f"a bulk transaction failed or was not mined: {failed[0]}")


@contextmanager
def bulk(w3: Web3, control: ChainControl) -> Iterator[Bulk]:
    control._rpc("evm_setAutomine", [False])
    sender = Bulk(w3, control)
    try:
        yield sender
        sender.mine()
    finally:
        control._rpc("evm_setAutomine", [True])


@dataclass
class World:
    """Everything the measuring functions need, on one chain."""

    w3: Web3
    control: ChainControl
    citizens_count: int
    deployer: NodeSigner
    suite: Suite
    citizens: Citizens
    governance: Governance
    exchange: Exchange
    treasury: Treasury
    token: Contract
    timelock: NodeSigner
    people: dict[str, Signer]
    keyed: list[LocalSigner]
    members: list[str] = field(default_factory=list)  # every citizen's address, named people first
    listings: dict[str, int] = field(default_factory=dict)
    next_slot: dict[str, int] = field(default_factory=dict)
    stock_token: Contract | None = None
    stock_governor: Contract | None = None
    stock_holders: list[Signer] = field(default_factory=list)
    sablier: Contract | None = None
    trace: bool = True
    _counter: int = 0

    # -- helpers the measuring functions share ------------------------------------------------------------

    def unique(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter}"

    def fresh_account(self) -> LocalSigner:
        return from_private_key(Web3.keccak(text=self.unique("bench-fresh")))

    def gas(self, record: TxRecord) -> Gas:
        """The receipt's gas and, traced with Anvil's prestateTracer (diffMode), the storage writes."""
        if not self.trace:
            return Gas(record.gas_used, record.tx_hash)
        fresh, changed = storage_writes(self.w3, record.tx_hash)
        breakdown = opcode_breakdown(self.w3, record.tx_hash) if record.gas_used < 2_000_000 else None
        return Gas(record.gas_used, record.tx_hash, fresh, changed, breakdown=breakdown)

    @contextmanager
    def isolated(self) -> Iterator[None]:
        snapshot = self.control.snapshot()
        try:
            yield
        finally:
            self.control.revert(snapshot)

    def as_timelock(self, fn: Any, *, value: int = 0) -> TxRecord:
        return transact(self.w3, self.timelock, fn, value=value)

    def now(self) -> int:
        return self.control.time()

    def release(self) -> None:
        """Stop the impersonations the world started (for a chain shared with other tests)."""
        self.control._rpc("anvil_autoImpersonateAccount", [False])
        self.control._rpc("anvil_stopImpersonatingAccount", [self.timelock.address])


def rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    """A raw JSON-RPC request (no middleware: bulk set-up sends thousands)."""
    return w3.provider.make_request(RPCEndpoint(method), params)


def storage_writes(w3: Web3, tx_hash: str) -> tuple[int | None, int | None]:
    options = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}
    response = rpc(w3, "debug_traceTransaction", [tx_hash, options])
    if "error" in response:
        return None, None
    pre, post = response["result"].get("pre", {}), response["result"].get("post", {})
    fresh = changed = 0
    for address, after in post.items():
        before = pre.get(address, {}).get("storage", {})
        for slot, value in after.get("storage", {}).items():
            old = int(before.get(slot, "0x0"), 16)
            new = int(value, 16)
            if old != new:
                changed += 1
                if old == 0:
                    fresh += 1
    return fresh, changed


_FAMILIES = {
    "SSTORE": "SSTORE",
    "SLOAD": "SLOAD",
    "KECCAK256": "KECCAK256",
    "LOG0": "LOG",
    "LOG1": "LOG",
    "LOG2": "LOG",
    "LOG3": "LOG",
    "LOG4": "LOG",
    "EXTCODESIZE": "account access",
    "EXTCODEHASH": "account access",
    "BALANCE": "account access",
}
_CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE", "CREATE", "CREATE2"}


def opcode_breakdown(w3: Web3, tx_hash: str) -> dict[str, int] | None:
    """Gas by opcode family from Anvil's opcode tracer (needs ``--steps-tracing``), across every call frame.

    A call opcode's reported cost includes the gas it forwards, so calls are not summed: "rest" is gasUsed
    minus the families, i.e. the 21,000 base, calldata, the calls' own costs, minus refunds."""
    options = {"disableStack": True, "disableMemory": True, "disableStorage": True}
    response = rpc(w3, "debug_traceTransaction", [tx_hash, options])
    logs = response.get("result", {}).get("structLogs", []) if "error" not in response else []
    if not logs:
        return None
    totals: dict[str, int] = {}
    for step in logs:
        if step["op"] in _CALLS:
            continue
        family = _FAMILIES.get(step["op"], "other opcodes")
        totals[family] = totals.get(family, 0) + int(step["gasCost"])
    receipt = w3.eth.get_transaction_receipt(HexStr(tx_hash))
    totals["rest (base, calldata, calls, refunds)"] = int(receipt["gasUsed"]) - sum(totals.values())
    return totals


def replay_supply_history(world: World, contract: str, probe: Any, sender: Signer, *, clock: str) -> None:
    """Write, with ``anvil_setStorageAt``, the total-supply checkpoint history that one registration (or mint)
    per block would have left: one checkpoint per member, the n-th holding n units, at consecutive timepoints
    ending at the latest one. Bulk set-up mines thousands of registrations per block, which leaves only a
    few checkpoints; the quorum lookup's cost depends on how many there are.

    The array's slot is found, not assumed: ``probe`` (a registration or mint) runs in a snapshot and the
    storage diff names the slot whose value is the total supply and whose array element moved with it."""
    with world.isolated():
        world.control.increase_time(1)  # a new timepoint, so the probe appends a checkpoint
        record = transact(world.w3, sender, probe)
        block = world.w3.eth.get_block(record.block_number)
        timepoint = int(block["timestamp"]) if clock == "timestamp" else record.block_number
        response = rpc(world.w3, "debug_traceTransaction", [record.tx_hash, _DIFF])
        post_all = {k.lower(): v for k, v in response["result"]["post"].items()}
        pre_all = {k.lower(): v for k, v in response["result"]["pre"].items()}
        post = post_all.get(contract.lower(), {}).get("storage", {})
        pre = pre_all.get(contract.lower(), {}).get("storage", {})
    length_slot, supply_after_probe = _checkpoint_length_slot(pre, post, timepoint)
    history = _checkpoint_count(world, contract, length_slot)
    head = int.from_bytes(Web3.keccak(length_slot.to_bytes(32, "big")), "big")
    last = int(_storage(world, contract, head + history - 1), 16)
    latest_key, supply = last & (2**48 - 1), last >> 48
    units = supply_after_probe - supply  # one member's units (1 membership, or one minted token)
    members = supply // units
    if latest_key < members:
        raise ValueError("a block-number clock cannot hold the history without mining as many blocks")
    for index in range(members):
        key = latest_key - (members - 1 - index)
        value = ((index + 1) * units << 48) | key
        _set_storage(world, contract, head + index, value)
    _set_storage(world, contract, length_slot, members)


_DIFF = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}


def _checkpoint_length_slot(pre: dict[str, str], post: dict[str, str], timepoint: int) -> tuple[int, int]:
    """The slot of the checkpoint array the probe appended to at ``timepoint``, and the supply it wrote."""
    before = {int(k, 16): int(v, 16) for k, v in pre.items()}
    after = {int(k, 16): int(v, 16) for k, v in post.items()}
    for slot, new in after.items():
        old = before.get(slot, 0)
        if new != old + 1 or old == 0:
            continue  # a total-supply history already has entries; a new member's own history starts at 0
        head = int.from_bytes(Web3.keccak(slot.to_bytes(32, "big")), "big")
        element = after.get(head + new - 1)
        if element is not None and element & (2**48 - 1) == timepoint:
            return slot, element >> 48
    raise LookupError("no total-supply checkpoint array found in the probe's storage diff")


def _storage(world: World, contract: str, slot: int) -> str:
    return str(rpc(world.w3, "eth_getStorageAt", [contract, hex(slot), "latest"])["result"])


def _checkpoint_count(world: World, contract: str, slot: int) -> int:
    return int(_storage(world, contract, slot), 16)


def _set_storage(world: World, contract: str, slot: int, value: int) -> None:
    world.control._rpc("anvil_setStorageAt", [contract, hex(slot), "0x" + f"{value:064x}"])


# -- building a world ---------------------------------------------------------------------------------------


def build_world(
    w3: Web3,
    control: ChainControl,
    *,
    citizens: int,
    bookings: int = 1,
    grants: int = 1,
    anchors_too: bool = True,
    progress: Progress = _quiet,
) -> World:
    """Deploy everything and grow the city to ``citizens`` members, ``bookings`` prior bookings on each
    listing and ``grants`` prior stream grants (and as many Sablier streams)."""
    started = time.monotonic()
    if max(citizens, bookings, grants) > 20:
        control._rpc("evm_setBlockGasLimit", [hex(BULK_GAS_LIMIT)])
    accounts = node_signers(w3)
    deployer = accounts[0]
    config = load_config("pilot", {"quorum_percent": QUORUM_PERCENT})
    suite = deploy_suite(w3, deployer, config)
    use_mock_contracts()  # the test-only ERC-20 is built apart from the shipped artifacts
    token, _ = deploy_contract(w3, deployer, "MockERC20", "Bench Token", "BENCH", 18)
    timelock = NodeSigner(suite.timelock.address)
    control._rpc("anvil_impersonateAccount", [timelock.address])
    control.set_balance(timelock.address, 10**22)
    people: dict[str, Signer] = {
        name: accounts[i]
        for i, name in enumerate(("lister", "renter", "resolver", "relayer", "proposer", "donor"), start=1)
    }
    world = World(
        w3=w3,
        control=control,
        citizens_count=citizens,
        deployer=deployer,
        suite=suite,
        citizens=Citizens.from_suite(suite),
        governance=Governance.from_suite(suite),
        exchange=Exchange.from_suite(suite),
        treasury=Treasury.from_suite(suite),
        token=token,
        timelock=timelock,
        people=people,
        keyed=[],
    )
    _wire(world)
    progress(f"deployed CivicDAO ({time.monotonic() - started:.0f} s)")
    _grow_city(world, citizens, progress)
    probe = world.suite.registry.functions.register(world.fresh_account().address, Web3.keccak(text="probe"))
    replay_supply_history(world, world.suite.registry.address, probe, world.deployer, clock="timestamp")
    progress(f"total-supply history: {citizens:,} checkpoints, one per registration")
    _fund(world)
    _exchange_state(world, bookings, progress)
    _treasury_state(world, grants, progress)
    if anchors_too:
        _stock_state(world, citizens, progress)
        _sablier_state(world, grants, progress)
    control.increase_time(1)
    progress(f"world of {citizens:,} citizens ready ({time.monotonic() - started:.0f} s)")
    return world


def _wire(world: World) -> None:
    ex, tr = world.suite.exchange, world.suite.treasury
    world.as_timelock(Exchange(world.w3, ex).settings.functions.setTokenAllowed(world.token.address, True))
    world.as_timelock(
        ex.functions.grantRole(Web3.keccak(text="RESOLVER_ROLE"), world.people["resolver"].address)
    )
    for token in (ETH, world.token.address):
        world.as_timelock(tr.functions.setEpochCap(token, UNCAPPED))
    # a raised cap applies from the next epoch
    world.control.increase_time(int(tr.functions.epochClock().call()[0]) + 1)


def _grow_city(world: World, citizens: int, progress: Progress) -> None:
    named = list(world.people.values())[: min(6, citizens)]
    keyed_count = min(KEYED, citizens - len(named))
    world.keyed = [from_private_key(citizen_key(i)) for i in range(keyed_count)]
    registry = world.suite.registry
    keyless: list[str] = [
        Web3.to_checksum_address(Web3.keccak(text=f"civicdao-bench-resident-{i}")[12:])
        for i in range(citizens - len(named) - keyed_count)
    ]
    members: list[str] = [s.address for s in named] + [s.address for s in world.keyed] + keyless
    world.members = members
    for start in range(0, len(members), 2000):
        with bulk(world.w3, world.control) as sender:
            for index in range(start, min(start + 2000, len(members))):
                digest = Web3.keccak(text=f"bench-credential-{index}")
                sender.send(world.deployer, registry.functions.register(members[index], digest))
        progress(f"registered {min(start + 2000, len(members)):,} / {len(members):,} citizens")
    assert world.citizens.citizen_count() == citizens, "registration count mismatch"


def _fund(world: World) -> None:
    if len(world.members) > len(world.keyed) + len(world.people):
        # keyless citizens act through impersonation (the large world's stock delegations, bulk votes)
        world.control._rpc("anvil_autoImpersonateAccount", [True])
    for address in world.members:
        world.control.set_balance(address, 10**24)
    for signer in [*world.people.values(), world.deployer]:
        transact(world.w3, world.deployer, world.token.functions.mint(signer.address, 10**30))


def listing_spec(world: World, token: str) -> ListingSpec:
    start = (world.now() // DAY + 2) * DAY
    return ListingSpec(
        kind=Kind.SPACE,
        unit=Unit.DAY,
        price=PRICE,
        deposit=DEPOSIT,
        available_from=start,
        available_until=start + 5000 * DAY,
        metadata_uri="ipfs://bench-hall",
        token=token,
    )


def _exchange_state(world: World, bookings: int, progress: Progress) -> None:
    lister, renter = world.people["lister"], world.people["renter"]
    ex = world.suite.exchange
    transact(world.w3, renter, world.token.functions.approve(ex.address, 2**255))
    for name, token in (("ETH", ETH), ("ERC-20", world.token.address)):
        listed = world.exchange.list(lister, listing_spec(world, token))
        world.listings[name] = listed.listing_id
        listing = world.exchange.get_listing(listed.listing_id)
        value = PRICE + DEPOSIT + 0 if token == ETH else 0
        quote = world.exchange.quote(listed.listing_id, 1)
        value = quote.total if token == ETH else 0
        for first in range(0, bookings, 500):
            with bulk(world.w3, world.control) as sender:
                for slot in range(first, min(first + 500, bookings)):
                    start = listing.available_from + slot * DAY
                    fn = ex.functions.book(listed.listing_id, start, 1, quote.terms_version)
                    sender.send(renter, fn, value=value)
        world.next_slot[name] = listing.available_from + bookings * DAY
    progress(f"{bookings:,} prior bookings on each listing")


def stream_grant_fn(world: World, token: str, recipient: str, amount: int = GRANT) -> Any:
    start = world.now()
    return world.suite.treasury.functions.createStreamGrant(token, recipient, amount, start, 0, 100 * DAY)


def _treasury_state(world: World, grants: int, progress: Progress) -> None:
    donor = world.people["donor"]
    world.treasury.donate(donor, 10**21, note="bench")
    world.treasury.donate(donor, 10**24, token=world.token.address, note="bench")
    recipient = world.people["lister"].address
    for first in range(0, grants, 500):
        with bulk(world.w3, world.control) as sender:
            for _ in range(first, min(first + 500, grants)):
                sender.send(world.timelock, stream_grant_fn(world, ETH, recipient))
    progress(f"{grants:,} prior stream grants")


def _stock_state(world: World, holders: int, progress: Progress) -> None:
    stock = anchors.deploy_stock_governor(
        world.w3, world.deployer, voting_delay=1, voting_period=1_000_000, quorum_percent=QUORUM_PERCENT
    )
    world.stock_token, world.stock_governor = stock.token, stock.governor
    # the same holders as citizens: one token each, each delegating to itself (as registration does)
    world.stock_holders = [NodeSigner(Web3.to_checksum_address(a)) for a in world.members[:holders]]
    world.control._rpc("anvil_autoImpersonateAccount", [True])  # each holder delegates from its own address
    token = stock.token
    for first in range(0, len(world.stock_holders), 2000):
        batch = world.stock_holders[first : first + 2000]
        with bulk(world.w3, world.control) as sender:
            for holder in batch:
                sender.send(world.deployer, token.functions.mint(holder.address, 10**18))
        with bulk(world.w3, world.control) as sender:
            for holder in batch:
                sender.send(holder, token.functions.delegate(holder.address))
        progress(
            f"stock governor: {min(first + 2000, len(world.stock_holders)):,} holders minted and delegated"
        )
    probe = token.functions.mint(world.deployer.address, 10**18)
    replay_supply_history(world, token.address, probe, world.deployer, clock="timestamp")
    world.control.increase_time(2)


def _sablier_state(world: World, streams: int, progress: Progress) -> None:
    lockup = anchors.deploy_sablier(world.w3, world.deployer)
    world.sablier = lockup
    transact(world.w3, world.deployer, world.token.functions.approve(lockup.address, 2**255))
    recipient = world.people["lister"].address
    for first in range(0, streams, 500):
        with bulk(world.w3, world.control) as sender:
            for _ in range(first, min(first + 500, streams)):
                params = (world.deployer.address, recipient, GRANT, world.token.address, True, True, "linear")
                fn = lockup.functions.createWithDurationsLL(params, (0, 0), 1, (0, 100 * DAY))
                sender.send(world.deployer, fn)
    progress(f"Sablier Lockup {anchors.sablier_version()}: {streams:,} prior streams")


__all__ = ["Gas", "World", "build_world", "bulk", "rpc"]
