"""The residents' app in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright,
against a local chain, the relayer and ``civicdao serve``'s app on a free port.

A test EIP-1193 wallet is injected into every page (announced by EIP-6963, or as ``window.ethereum``); it
signs typed data and transactions with a local key in Python (``page.expose_function``), as a browser wallet
does, and sends transactions through the chain's RPC. Every request the browser makes is intercepted and
must go to 127.0.0.1. Screenshots of each page go to ``test-output/web/`` (git-ignored).

Without Chromium the tests skip; with ``CI=true`` a missing browser fails the run.

The participatory-budget test runs last: opening a round moves the chain's clock past every open proposal.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from budget_scenario import ETHER, open_budget_round
from eth_account import Account
from governance_scenario import open_proposal
from test_web import World, build_world, elm_street_projects, fresh, without_budget

from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.budget import ParticipatoryBudget
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens, credential_hash
from civicdao.deploy import Suite
from civicdao.exchange import Exchange
from civicdao.governance import Governance
from civicdao.relayer import Relayer, RelayerSettings, Store, create_app
from civicdao.toolchain import project_root
from civicdao.treasury import Treasury
from civicdao.web import WebData
from civicdao.web.app import create_web_app

CHROMIUM = Path(os.environ.get("CIVICDAO_CHROMIUM", "/usr/bin/chromium"))
#: axe-core from node_modules; CIVICDAO_AXE names another copy (e.g. unpacked from ``npm pack axe-core``).
AXE = Path(os.environ.get("CIVICDAO_AXE") or project_root() / "node_modules" / "axe-core" / "axe.min.js")
SHOTS = project_root() / "test-output" / "web"
PAGES = ("proposals", "membership", "budget", "exchange", "treasury")

try:
    from playwright.sync_api import Browser, Page, Route, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]


def _require_browser() -> None:
    missing = []
    if sync_playwright is None:
        missing.append("pip playwright (the dev extra)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if not AXE.exists():
        missing.append("node_modules/axe-core (npm ci)")
    if missing:
        message = "browser tests need " + ", ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


# -- the server ----------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    world: World
    data: WebData


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def world(
    suite: Suite, control: ChainControl, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> Iterator[World]:
    _require_browser()
    snapshot = control.snapshot()
    yield build_world(suite, control, deployer, local_signers)
    control.revert(snapshot)


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import uvicorn

    store = Store(tmp_path_factory.mktemp("web") / "relayer.sqlite")
    relayer = Relayer(world.suite, world.relayer, store, RelayerSettings(batch_size=1, batch_interval=0.2))
    data = WebData(world.suite)
    app = create_web_app(data, create_app(relayer, run_batcher=True, poll_seconds=0.1))
    port = _free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started:
        assert time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", world, data)
    running.should_exit = True
    thread.join(timeout=15)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


# -- the test wallet -----------------------------------------------------------------------------------

WALLET_JS = """
(announce6963) => {
  const listeners = {};
  const provider = {
    async request({ method, params }) {
      const reply = JSON.parse(await window.__testWallet(method, JSON.stringify(params ?? [])));
      if (reply.error) {
        const error = new Error(reply.error.message);
        error.code = reply.error.code;
        throw error;
      }
      return reply.result;
    },
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
  window.__walletEmit = (event, value) => (listeners[event] || []).forEach((fn) => fn(value));
  if (!announce6963) { window.ethereum = provider; return; }
  const info = Object.freeze({ uuid: "5e0cf1b6-5a8e-4d7e-9d2a-2f7c1b0e6a01", name: "Test Wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
    rdns: "org.civicdao.testwallet" });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider",
    { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
}
"""


@dataclass
class LocalWallet:
    """An EIP-1193 wallet backed by a local key: what MetaMask does, minus the prompts."""

    world: World
    signer: LocalSigner
    chain_id: int
    reject: bool = False
    calls: list[str] = field(default_factory=list)

    def handle(self, method: str, params_json: str) -> str:
        self.calls.append(method)
        try:
            return json.dumps({"result": self._answer(method, json.loads(params_json))})
        except _Rejected:
            return json.dumps({"error": {"code": 4001, "message": "User rejected the request."}})

    def _answer(self, method: str, params: list[Any]) -> Any:
        w3 = self.world.suite.w3
        account = Account.from_key(self.signer._account.key)
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [account.address]
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "wallet_switchEthereumChain":
            self.chain_id = int(params[0]["chainId"], 16)
            return None
        if method == "eth_signTypedData_v4":
            if self.reject:
                raise _Rejected
            assert params[0].lower() == account.address.lower()
            typed = json.loads(params[1])
            return "0x" + account.sign_typed_data(full_message=typed).signature.hex().removeprefix("0x")
        if method == "eth_sendTransaction":
            if self.reject:
                raise _Rejected
            tx = params[0]
            fields: dict[str, Any] = {"from": account.address, "to": tx["to"], "data": tx["data"]}
            fields["value"] = int(tx.get("value", "0x0"), 16)
            fields["gas"] = int(w3.eth.estimate_gas(fields) * 1.3)  # type: ignore[arg-type]
            del fields["from"]
            fields.update(
                nonce=w3.eth.get_transaction_count(account.address),
                chainId=w3.eth.chain_id,
                gasPrice=w3.eth.gas_price,
            )
            signed = account.sign_transaction(fields)
            return "0x" + w3.eth.send_raw_transaction(signed.raw_transaction).hex().removeprefix("0x")
        if method == "eth_getTransactionReceipt":
            try:
                receipt = w3.eth.get_transaction_receipt(params[0])
            except Exception:  # not mined yet
                return None
            return {"status": hex(receipt["status"]), "transactionHash": params[0]}
        raise AssertionError(f"the test wallet does not implement {method}")


class _Rejected(Exception):
    pass


@dataclass
class Session:
    page: Page
    wallet: LocalWallet | None
    foreign: list[str]
    url: str

    def open(self, route: str) -> None:
        """Load the page afresh, as a resident opening a link would."""
        self.page.goto("about:blank")
        self.page.goto(f"{self.url}/#/{route}")
        self.page.wait_for_selector("body[data-ready=true]")
        self.page.wait_for_selector("main:not([aria-busy])")

    def connect(self) -> None:
        self.page.click("#connect")
        self.page.wait_for_selector("#wallet-status:has-text('Connected')")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def open_session(server: Server, browser: Browser) -> Iterator[Callable[..., Session]]:
    contexts = []

    def make(
        signer: LocalSigner | None,
        *,
        chain_id: int | None = None,
        eip6963: bool = True,
        width: int = 1000,
        locale: str = "en-US",
    ) -> Session:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, locale=locale, service_workers="block"
        )
        contexts.append(context)
        foreign: list[str] = []

        def only_local(route: Route) -> None:
            host = urlparse(route.request.url).hostname
            if host != "127.0.0.1":
                foreign.append(route.request.url)
                route.abort()
                return
            route.continue_()

        context.route("**/*", only_local)
        wallet = None
        if signer is not None:
            wallet = LocalWallet(server.world, signer, chain_id or server.world.suite.chain_id)
            context.expose_function("__testWallet", wallet.handle)
            context.add_init_script(script=f"({WALLET_JS})({json.dumps(eip6963)})")
        return Session(context.new_page(), wallet, foreign, server.url)

    yield make
    for context in contexts:
        context.close()


# -- tests ---------------------------------------------------------------------------------------------


def test_zero_eth_resident_votes_and_has_voted_turns_true(
    open_session: Callable[..., Session], server: Server
) -> None:
    world = server.world
    assert world.suite.w3.eth.get_balance(world.zero.address) == 0
    session = open_session(world.zero)
    session.open(f"proposals/{world.proposal_id}")
    session.connect()
    session.open(f"proposals/{world.proposal_id}")
    assert session.page.locator("h1").inner_text() == "Free tool lending"
    assert "setEpochCap" in session.page.locator(".actions").inner_text()
    session.page.get_by_role("radio", name="Against").check()
    session.page.get_by_label("Reason (optional, public)").fill("Keep the cap where it is")
    session.page.get_by_role("button", name="Sign and send my vote").click()
    session.page.wait_for_selector("[data-testid=voted]", timeout=20_000)
    governance = Governance.from_suite(world.suite)
    assert governance.has_voted(world.proposal_id, world.zero.address)
    assert governance.tally(world.proposal_id).against == 1
    assert world.suite.w3.eth.get_balance(world.zero.address) == 0
    assert "eth_signTypedData_v4" in session.wallet.calls  # type: ignore[union-attr]
    session.shot("proposal-voted")
    assert session.foreign == []


def test_plain_vote_without_a_reason_lands_through_the_batched_cast_votes_by_sig(
    open_session: Callable[..., Session], server: Server
) -> None:
    """The app signs what the relayer's template gives: a plain ballot is a nonce-less BatchBallot, which the
    relayer casts through castVotesBySig (the cheap path), with no change to the JavaScript."""
    world = server.world
    voter = world.funded[2]
    proposal_id = open_proposal(world.suite, world.control, world.funded[1], "# A bench in the park")
    session = open_session(voter)
    session.open(f"proposals/{proposal_id}")
    session.connect()
    session.open(f"proposals/{proposal_id}")
    session.page.get_by_role("radio", name="For").check()
    session.page.get_by_role("button", name="Sign and send my vote").click()
    session.page.wait_for_selector("[data-testid=voted]", timeout=20_000)
    governor = world.suite.governor
    [cast] = governor.events.VoteCast.get_logs(from_block=0, argument_filters={"voter": voter.address})[-1:]
    assert int(cast["args"]["proposalId"]) == proposal_id and int(cast["args"]["support"]) == 1
    sent = world.suite.w3.eth.get_transaction(cast["transactionHash"])
    assert sent["from"] == world.relayer.address and sent["to"] == governor.address
    assert governor.get_function_by_selector(bytes(sent["input"])[:4]).fn_name == "castVotesBySig"
    assert "eth_signTypedData_v4" in session.wallet.calls  # type: ignore[union-attr]
    assert session.foreign == []


def test_resident_delegates_then_overrides(open_session: Callable[..., Session], server: Server) -> None:
    world = server.world
    delegate = world.funded[0]
    session = open_session(world.delegator)
    session.open("membership")
    session.connect()
    session.open("membership")
    session.page.get_by_label("Delegate to (address)").fill(delegate.address)
    session.page.get_by_role("button", name="Sign delegation").click()
    session.page.wait_for_selector(f"[data-testid=delegate]:has-text('{delegate.address}')", timeout=20_000)
    assert Citizens.from_suite(world.suite).delegate_of(world.delegator.address) == delegate.address
    session.shot("membership-delegated")
    proposal_id = open_proposal(world.suite, world.control, world.funded[1], "# Longer library hours")
    session.open(f"proposals/{proposal_id}")
    assert "overrides your delegate" in session.page.locator("main").inner_text()
    session.page.get_by_role("button", name="Sign and send my own vote (overrides my delegate)").click()
    session.page.wait_for_selector("[data-testid=voted]", timeout=20_000)
    assert world.suite.governor.functions.hasVotedOverride(proposal_id, world.delegator.address).call()
    assert session.foreign == []


def test_room_booked_by_wallet_transaction_appears_in_calendar(
    open_session: Callable[..., Session], server: Server
) -> None:
    world = server.world
    renter = world.funded[2]
    session = open_session(renter, width=375)
    session.open("exchange")
    session.connect()
    session.page.get_by_label("Kind").select_option("room_house")
    session.page.get_by_role("button", name="Search").click()
    card = session.page.locator(f"[data-listing='{world.room_id}']")
    card.get_by_role("button", name="Calendar and booking").click()
    first_free = card.locator(".calendar li.free").first
    start = int(first_free.get_attribute("data-start") or 0)
    card.get_by_role("button", name="Book with my wallet").click()
    card.locator(f".calendar li.taken[data-start='{start}']").wait_for(timeout=20_000)
    (booking,) = Exchange.from_suite(world.suite).bookings(renter=renter.address)
    assert (booking.listing_id, booking.start) == (world.room_id, start)
    session.open("exchange")
    assert f"#{world.room_id}" in session.page.locator("table").inner_text()
    # readable on a 375 px phone: nothing wider than the screen
    assert session.page.evaluate("document.documentElement.scrollWidth") <= 375
    session.shot("exchange-375px")
    assert "eth_sendTransaction" in session.wallet.calls  # type: ignore[union-attr]
    assert session.foreign == []


def test_treasury_page_shows_its_charts(open_session: Callable[..., Session], server: Server) -> None:
    session = open_session(None)
    session.open("treasury")
    inflows = session.page.locator("[data-testid=inflows-chart] svg[role=img]")
    assert inflows.locator("rect.chart-bar").count() == 6  # five kinds and donations
    assert "Donations: 2 ETH" in inflows.locator("desc").text_content()  # type: ignore[operator]
    assert session.page.locator("[data-testid=balance-chart] path.chart-line").count() == 1
    session.shot("treasury")
    # the grant's recipient claims what has vested, from the grants table, with a wallet transaction
    world = server.world
    recipient = open_session(world.funded[3])
    recipient.open("treasury")
    recipient.connect()
    recipient.open("treasury")
    recipient.page.get_by_role("button", name="Claim").click()
    recipient.page.get_by_role("button", name="Claim").wait_for(state="detached", timeout=20_000)
    assert Treasury.from_suite(world.suite).get_grant(world.grant_id).claimed > 0
    assert session.foreign == recipient.foreign == []


def test_rejected_signature_and_wrong_chain_show_their_messages(
    open_session: Callable[..., Session], server: Server
) -> None:
    world = server.world
    session = open_session(world.funded[3])
    session.wallet.reject = True  # type: ignore[union-attr]
    session.open(f"proposals/{world.proposal_id}")
    session.connect()
    session.open(f"proposals/{world.proposal_id}")
    session.page.get_by_role("button", name="Sign and send my vote").click()
    alert = session.page.locator("#alert")
    alert.wait_for()
    assert "You declined the request in your wallet" in alert.inner_text()
    assert not Governance.from_suite(world.suite).has_voted(world.proposal_id, world.funded[3].address)

    wrong = open_session(world.funded[3], chain_id=1, eip6963=False)  # window.ethereum fallback
    wrong.open(f"proposals/{world.proposal_id}")
    wrong.connect()
    assert "network 1" in wrong.page.locator("#wallet-status").inner_text()
    wrong.open(f"proposals/{world.proposal_id}")
    wrong.page.get_by_role("button", name="Sign and send my vote").click()
    wrong.page.locator("#alert").wait_for()
    assert f"this city runs on network {world.suite.chain_id}" in wrong.page.locator("#alert").inner_text()
    wrong.shot("wrong-chain")
    wrong.page.locator("#alert").get_by_role("button", name="Switch network").click()
    wrong.page.wait_for_function("() => document.getElementById('alert').hidden")
    assert wrong.wallet.chain_id == world.suite.chain_id  # type: ignore[union-attr]

    missing = open_session(None)
    missing.open("membership")
    missing.page.get_by_role("button", name="Connect wallet").first.click()
    missing.page.locator("#alert").wait_for()
    assert "No wallet found" in missing.page.locator("#alert").inner_text()
    assert session.foreign == wrong.foreign == missing.foreign == []


OTHER_WALLET_JS = """
(() => {
  const provider = { async request() { throw Object.assign(new Error("not this one"), { code: 4100 }); } };
  const info = Object.freeze({ uuid: "9d1c3a57-0000-4000-8000-000000000002", name: "Other Wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E", rdns: "org.example.other" });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider",
    { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""


def test_several_wallets_let_the_resident_choose(
    open_session: Callable[..., Session], server: Server
) -> None:
    session = open_session(server.world.funded[0])
    session.page.context.add_init_script(script=OTHER_WALLET_JS)
    session.open("proposals")
    session.page.click("#connect")
    choices = session.page.locator(".wallets button")
    assert sorted(text.strip() for text in choices.all_inner_texts()) == ["Other Wallet", "Test Wallet"]
    session.page.get_by_role("button", name="Test Wallet").click()
    session.page.wait_for_selector("#wallet-status:has-text('(Test Wallet)')")
    assert server.world.funded[0].address in session.page.locator("#wallet-status").inner_text()
    assert session.foreign == []


def test_language_follows_the_browser_and_the_keyboard_reaches_everything(
    open_session: Callable[..., Session], server: Server
) -> None:
    session = open_session(None, locale="ko-KR")
    session.open("proposals")
    page = session.page
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.locator("nav a[href='#/proposals']").inner_text() == "안건"
    # keyboard only: the skip link comes first, then the navigation leads to every page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#/proposals"
    for _ in range(4):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#/treasury"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=inflows-chart]")
    assert page.locator("nav a[aria-current=page]").get_attribute("href") == "#/treasury"
    assert session.foreign == []


def test_every_page_passes_axe_in_english_and_korean(
    open_session: Callable[..., Session], server: Server
) -> None:
    session = open_session(server.world.funded[0])
    session.open("proposals")
    session.connect()
    axe = AXE.read_text("utf-8")
    for language in ("en", "ko"):
        session.page.select_option("#lang", language)
        session.page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
        for name in (*PAGES, f"proposals/{server.world.proposal_id}"):
            session.open(name)
            if name == "exchange":
                session.page.locator(".listing-panel").first.evaluate("el => el.hidden = false")
            session.page.evaluate(axe)  # evaluated through DevTools: the page's CSP still forbids scripts
            found = session.page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
            )
            serious = [v for v in found if v["impact"] in ("serious", "critical")]
            assert serious == [], f"{name} ({language}): {serious}"
            session.shot(f"{name.replace('/', '-')}-{language}")
    assert session.page.locator("nav a[href='#/treasury']").inner_text() == "공공 기금"
    assert session.foreign == []


def _axe_violations(session: Session) -> list[dict[str, Any]]:
    """Serious or critical axe-core violations on the page as it is now."""
    session.page.evaluate(AXE.read_text("utf-8"))  # through DevTools: the page's CSP still forbids scripts
    found = session.page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_registrar_desk_attests_a_zero_eth_resident_and_is_hidden_from_others(
    open_session: Callable[..., Session], server: Server, local_signers: list[LocalSigner]
) -> None:
    """The pilot preset's deployer holds REGISTRAR_ROLE: on the membership page it enters a fresh address
    and a salted credential hash, signs the Attestation in its wallet, and the relayer registers the
    resident, who never holds ETH. A declined signature, a wrong chain, a citizen and a used credential each
    get their message; a resident without the role never sees the desk; axe passes with the desk shown."""
    world = server.world
    registry = Citizens.from_suite(world.suite)
    resident = fresh()
    salt = b"registrar-secret-salt-kept-offline"
    credential = "0x" + credential_hash("Residence permit AB 123456", salt=salt).hex()

    someone = open_session(world.funded[0])
    someone.open("membership")
    someone.connect()
    someone.open("membership")
    someone.page.wait_for_selector("[data-testid=citizen]")
    assert someone.page.locator("[data-testid=registrar-desk]").count() == 0
    assert "Registrar desk" not in someone.page.locator("main").inner_text()

    session = open_session(local_signers[0])
    session.open("membership")
    session.connect()
    session.open("membership")
    desk = session.page.locator("[data-testid=registrar-desk]")
    assert desk.get_by_role("heading", name="Registrar desk").is_visible()
    assert "Nothing personal is entered here" in desk.inner_text()
    assert desk.get_by_label("Signature valid for").input_value() == "86400"  # one day by default
    assert _axe_violations(session) == []

    def attest(address: str, hashed: str) -> None:
        desk.get_by_label("Resident's address").fill(address)
        desk.get_by_label("Salted credential hash").fill(hashed)
        desk.get_by_label("Salted credential hash").press("Enter")  # the keyboard submits the form

    session.wallet.reject = True  # type: ignore[union-attr]
    attest(resident.address, credential)
    session.page.locator("#alert").wait_for()
    assert "You declined the request in your wallet" in session.page.locator("#alert").inner_text()
    assert not registry.is_citizen(resident.address)

    session.wallet.reject = False  # type: ignore[union-attr]
    desk.get_by_role("button", name="Sign attestation").click()
    session.page.wait_for_selector("[data-testid=attest-status][data-done=true]", timeout=20_000)
    assert f"Registered: {resident.address} is now a citizen" in desk.inner_text()
    assert session.page.locator("#alert").is_hidden()
    assert registry.is_citizen(resident.address)
    assert registry.credential_used(bytes.fromhex(credential[2:]))
    assert world.suite.w3.eth.get_balance(resident.address) == 0
    assert "eth_signTypedData_v4" in session.wallet.calls  # type: ignore[union-attr]
    assert "eth_sendTransaction" not in session.wallet.calls  # type: ignore[union-attr]
    session.shot("membership-registrar-desk")

    other = "0x" + credential_hash("Residence permit ZZ 999", salt=salt).hex()
    attest(resident.address, other)
    session.page.locator("#alert").wait_for()
    assert "This address is already a citizen" in session.page.locator("#alert").inner_text()
    newcomer = fresh()
    attest(newcomer.address, credential)
    session.page.locator("#alert:has-text('already used')").wait_for()
    assert not registry.is_citizen(newcomer.address)

    wrong = open_session(local_signers[0], chain_id=1, eip6963=False)
    wrong.open("membership")
    wrong.connect()
    wrong.open("membership")
    wrong.page.get_by_label("Resident's address").fill(newcomer.address)
    wrong.page.get_by_label("Salted credential hash").fill(other)
    wrong.page.get_by_role("button", name="Sign attestation").click()
    wrong.page.locator("#alert").wait_for()
    assert f"this city runs on network {world.suite.chain_id}" in wrong.page.locator("#alert").inner_text()
    assert not registry.is_citizen(newcomer.address)

    session.page.select_option("#lang", "ko")
    session.page.wait_for_function("() => document.documentElement.lang === 'ko'")
    session.open("membership")
    assert session.page.get_by_role("heading", name="등록 담당자 창구").is_visible()
    assert _axe_violations(session) == []
    session.shot("membership-registrar-desk-ko")
    assert someone.foreign == session.foreign == wrong.foreign == []


# -- last: opening a budget round moves the clock past every open proposal ------------------------------


def test_budget_page_note_then_a_zero_eth_resident_approves_and_sees_the_results(
    open_session: Callable[..., Session], server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manifest without the budget contract: a polite note. Then a real round: the ballot's budget bar
    follows the boxes, a zero-ETH resident's signed ballot lands on chain through the relayer, and after
    the tally the results list the winners and who paid for what under Equal Shares."""
    world = server.world
    monkeypatch.setattr(server.data, "suite", without_budget(world.suite))
    session = open_session(None)
    session.open("budget")
    assert "has not set up participatory budgeting" in session.page.locator("main").inner_text()
    monkeypatch.undo()

    projects = elm_street_projects(world)
    round_id = open_budget_round(world.suite, world.control, world.funded, projects)
    assert world.suite.w3.eth.get_balance(world.zero.address) == 0
    resident = open_session(world.zero)
    resident.open("budget")
    resident.connect()
    resident.open("budget")
    ballot = resident.page.locator("section.round").first
    bar = ballot.locator("progress")
    assert bar.get_attribute("value") == "0"
    ballot.get_by_label("Benches on Elm Street — 0.4 ETH").check()
    assert "1 projects chosen: 0.4 ETH of 1 ETH" in ballot.inner_text()
    assert bar.evaluate("el => el.value") == 400
    ballot.get_by_label("Tree planting — 0.5 ETH").check()
    ballot.get_by_label("Longer library hours — 0.3 ETH").check()
    assert "3 projects chosen: 1.2 ETH of 1 ETH. That is 0.2 ETH more than the budget" in ballot.inner_text()
    assert bar.evaluate("el => el.value") == 1000 and "over" in (bar.get_attribute("class") or "")
    resident.shot("budget-ballot")
    ballot.get_by_label("Tree planting — 0.5 ETH").uncheck()
    ballot.get_by_role("button", name="Sign my ballot").click()
    ballot.locator("[role=status]:has-text('Your ballot is recorded on chain.')").wait_for(timeout=20_000)
    membership = world.suite.registry.functions.membershipOf(world.zero.address).call()
    assert world.suite.budget.functions.ballotOf(round_id, membership).call() == [0b101, 1]
    assert world.suite.w3.eth.get_balance(world.zero.address) == 0
    assert "eth_signTypedData_v4" in resident.wallet.calls  # type: ignore[union-attr]
    mine = "Your ballot on chain approves 2 projects"
    ballot.get_by_test_id("budget-mine").filter(has_text=mine).wait_for(timeout=10_000)
    resident.open("budget")  # a fresh page ticks the ballot the resident cast, ready to be changed
    again = resident.page.locator("section.round").first
    again.get_by_test_id("budget-mine").filter(has_text=mine).wait_for(timeout=10_000)
    assert again.get_by_label("Benches on Elm Street — 0.4 ETH").is_checked()
    assert again.get_by_label("Longer library hours — 0.3 ETH").is_checked()
    assert not again.get_by_label("Tree planting — 0.5 ETH").is_checked()
    assert "2 projects chosen: 0.7 ETH of 1 ETH" in again.inner_text()

    pb = ParticipatoryBudget.from_suite(world.suite)
    for voter, approvals in zip(world.funded, ([0], [1], [1], [2]), strict=True):
        pb.cast_ballot(voter, round_id, approvals)
    world.control.increase_time(pb.get_round(round_id).voting_end - world.control.time())
    result = pb.tally(round_id, unit=10**15)
    pb.post_outcome(world.funded[0], round_id, result)
    resident.open("budget")
    text = resident.page.locator("section.round").first.inner_text()
    assert "Results (equalshares/add1;unit=1000000000000000)" in text
    titles = [projects[i][0] for i in result.selected]
    assert titles and all(f"{title} — " in text for title in titles)
    assert "Who paid for what" in text
    for index in result.selected:
        supporters = sum(index in b for b in ([0, 2], [0], [1], [1], [2]))
        paid = projects[index][1] / ETHER
        assert f"{projects[index][0]}: paid by {supporters} voters, {paid:g} ETH" in text
    assert resident.page.locator("section.round").first.locator("form").count() == 0  # voting closed
    resident.shot("budget-results")
    assert session.foreign == resident.foreign == []
