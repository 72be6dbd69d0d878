"""Benchmark of the event index (issue 12's targets): not a test, run by ``make bench``.

Builds a busy city on a fresh Anvil quickly (automine off, transactions sent in JSON-RPC batches, then
``evm_mine``): 10,000 donations (treasury inflows), 10,000 bookings over 10 listings, 300 proposals.
Then measures:

- indexing every event from scratch (target: 10,000 events ≤ 10 s);
- listing 300 proposals from the index (≤ 0.2 s);
- the treasury report over 10,000 inflows, figures + HTML + 5 PNG charts (≤ 1 s);
- listing 10,000 bookings (≤ 1 s);
- ``follow`` seeing a new event within 2 blocks.

Writes ``benchmarks/index.json``. Run: ``python benchmarks/index_bench.py [--out benchmarks/index.json]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from web3 import Web3

from civicdao.accounts import node_signers
from civicdao.chain import LocalChain
from civicdao.config import load_config
from civicdao.deploy import Suite, deploy_suite
from civicdao.exchange import CancellationPolicy, Exchange, Kind, ListingSpec, Unit
from civicdao.index import Indexer, IndexReader, Store
from civicdao.tx import call, transact

DONATIONS = 10_000
BOOKINGS = 10_000
LISTINGS = 10
PROPOSALS = 300
BATCH = 500
HOUR = 3600
GAS_PRICE = 2 * 10**9  # above any base fee a fresh Anvil reaches here


def send_batched(w3: Web3, rpc_url: str, txs: list[dict[str, Any]]) -> None:
    """Send transactions in raw JSON-RPC batches with automine off, then mine until the pool is empty."""
    session = requests.Session()
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        for start in range(0, len(txs), BATCH):
            payload = [
                {"jsonrpc": "2.0", "id": n, "method": "eth_sendTransaction", "params": [_hexed(tx)]}
                for n, tx in enumerate(txs[start : start + BATCH])
            ]
            answers = session.post(rpc_url, json=payload, timeout=120).json()
            refused = [a for a in answers if "error" in a]
            if refused:
                raise RuntimeError(f"a transaction was refused: {refused[0]['error']}")
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        while int(w3.provider.make_request("txpool_status", [])["result"]["pending"], 16):  # type: ignore[arg-type]
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    last = w3.eth.get_block("latest", full_transactions=False)
    receipt = w3.eth.get_transaction_receipt(last["transactions"][-1])
    if receipt["status"] != 1:
        raise RuntimeError("the last transaction of a batch reverted")


def _hexed(tx: dict[str, Any]) -> dict[str, Any]:
    return {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}


def tx(
    w3: Web3, sender: str, to: str, data: str, nonce: int, *, value: int = 0, gas: int = 600_000
) -> dict[str, Any]:
    return {
        "from": sender,
        "to": to,
        "data": data,
        "value": value,
        "gas": gas,
        "nonce": nonce,
        "gasPrice": GAS_PRICE,
    }


def build_city(w3: Web3, rpc_url: str, suite: Suite) -> dict[str, Any]:
    signers = node_signers(w3)
    registrar, proposer, lister, donor, renter = signers[:5]
    w3.provider.make_request("evm_setBlockGasLimit", [hex(2_000_000_000)])  # type: ignore[arg-type]
    for index, person in enumerate((proposer, lister)):
        transact(
            w3, registrar, suite.registry.functions.register(person.address, Web3.keccak(text=f"b{index}"))
        )
    w3.provider.make_request("evm_increaseTime", [2])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    started = time.perf_counter()

    treasury = suite.treasury
    nonce = w3.eth.get_transaction_count(donor.address)
    data = treasury.encode_abi("donate", args=[b"\x00" * 32])
    donations = [
        tx(w3, donor.address, treasury.address, data, nonce + i, value=10**12 + i, gas=200_000)
        for i in range(DONATIONS)
    ]
    send_batched(w3, rpc_url, donations)

    now = int(w3.eth.get_block("latest")["timestamp"])
    begin = (now // HOUR + 1) * HOUR
    per_listing = BOOKINGS // LISTINGS
    specs = [
        ListingSpec(
            kind=Kind.SPACE,
            unit=Unit.HOUR,
            price=10**12,
            deposit=0,
            available_from=begin,
            available_until=begin + per_listing * HOUR,
            max_units=24,
            policy=CancellationPolicy(free_cancel_hours=1, late_refund_bps=0),
            metadata_uri=f"ipfs://hall-{n}",
        )
        for n in range(LISTINGS)
    ]
    exchange = suite.exchange
    nonce = w3.eth.get_transaction_count(lister.address)
    send_batched(
        w3,
        rpc_url,
        [
            tx(
                w3,
                lister.address,
                exchange.address,
                exchange.encode_abi("createListing", args=[s.as_params()]),
                nonce + i,
            )
            for i, s in enumerate(specs)
        ],
    )
    first_listing = int(call(exchange.functions.listingCount())) - LISTINGS + 1
    nonce = w3.eth.get_transaction_count(renter.address)
    bookings = []
    for i in range(BOOKINGS):
        listing, slot = first_listing + i // per_listing, i % per_listing
        data = exchange.encode_abi("book", args=[listing, begin + slot * HOUR, 1, 0])
        bookings.append(tx(w3, renter.address, exchange.address, data, nonce + i, value=10**12, gas=400_000))
    send_batched(w3, rpc_url, bookings)

    governor = suite.governor
    nonce = w3.eth.get_transaction_count(proposer.address)
    settings = Exchange.from_suite(suite).settings  # the DAO's exchange setters live there
    target = settings.address
    call_data = settings.encode_abi("setFeeBps", args=[2, 0])
    proposals = []
    for i in range(PROPOSALS):
        data = governor.encode_abi("propose", args=[[target], [0], [call_data], f"Proposal {i}: free tools"])
        proposals.append(tx(w3, proposer.address, governor.address, data, nonce + i, gas=1_000_000))
    send_batched(w3, rpc_url, proposals)
    return {"setup_s": round(time.perf_counter() - started, 2), "blocks": w3.eth.block_number}


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def follow_blocks(w3: Web3, suite: Suite, url: str) -> int:
    """Blocks mined after a new event's block until ``follow`` has it (one block every 0.5 s)."""
    with Store(url) as store:
        indexer = Indexer(w3, suite.manifest, store)
        indexer.sync()
        stop = threading.Event()
        thread = threading.Thread(target=indexer.follow, kwargs={"poll_interval": 0.1, "stop": stop})
        thread.start()
        try:
            donor = node_signers(w3)[5]
            transact(w3, donor, suite.treasury.functions.donate(b"\x01" * 32), value=12345)
            event_block = w3.eth.block_number
            for extra in range(0, 4):
                deadline = time.monotonic() + 0.5
                while time.monotonic() < deadline:
                    donations = store.events("PublicTreasury", ["DonationReceived"], from_block=event_block)
                    if any(e.args["amount"] == "12345" for e in donations):
                        return extra
                    time.sleep(0.02)
                w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            return -1
        finally:
            stop.set()
            thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("index.json")))
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with LocalChain("anvil") as chain, tempfile.TemporaryDirectory() as folder:
        w3 = chain.w3
        suite = deploy_suite(w3, node_signers(w3)[0], load_config("pilot"))
        results["city"] = build_city(w3, chain.rpc_url, suite)
        url = str(Path(folder) / "index.sqlite")
        with Store(url) as store:
            indexer = Indexer(w3, suite.manifest, store)
            report, seconds = timed(indexer.sync)
            reader = IndexReader(store, indexer.deployment)
            results["sync"] = {
                "events": report.events,
                "blocks": report.to_block - report.from_block + 1,
                "ranges": report.ranges,
                "seconds": round(seconds, 3),
                "seconds_per_10k_events": round(seconds * 10_000 / report.events, 3),
                "target_s_per_10k": 10,
            }
            proposals, seconds = timed(reader.proposals)
            results["proposals_list"] = {
                "proposals": len(proposals),
                "seconds": round(seconds, 3),
                "target_s": 0.2,
            }
            bookings, seconds = timed(reader.bookings)
            results["bookings_list"] = {
                "bookings": len(bookings),
                "seconds": round(seconds, 3),
                "target_s": 1,
            }

            _, import_seconds = timed(lambda: __import__("matplotlib.pyplot"))
            from civicdao.report import treasury_figures, write_report

            figures, figure_seconds = timed(lambda: treasury_figures(reader))
            _, render_seconds = timed(lambda: write_report(figures, Path(folder) / "report"))
            results["treasury_report"] = {
                "inflows": figures.inflow_count,
                "figures_s": round(figure_seconds, 3),
                "html_and_charts_s": round(render_seconds, 3),
                "seconds": round(figure_seconds + render_seconds, 3),
                "matplotlib_import_s_once_per_process": round(import_seconds, 3),
                "target_s": 1,
            }
        results["follow"] = {
            "blocks_after_event": follow_blocks(w3, suite, str(Path(folder) / "f.sqlite")),
            "target_blocks": 2,
        }
    results["met"] = {
        "sync": results["sync"]["seconds_per_10k_events"] <= 10,
        "proposals_list": results["proposals_list"]["seconds"] <= 0.2,
        "bookings_list": results["bookings_list"]["seconds"] <= 1,
        "treasury_report": results["treasury_report"]["seconds"] <= 1,
        "follow": 0 <= results["follow"]["blocks_after_event"] <= 2,
    }
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
