"""One FastAPI process for residents: the pages, their read API (``/api``) and the relayer (``/relay``).

The static app (plain ES modules, CSS, translations) ships inside the package under
``civicdao/web/static``; nothing is fetched from anywhere else. A Content-Security-Policy of
``'self'`` makes the browser itself refuse any third-party request.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from civicdao.errors import CivicDAOError
from civicdao.relayer._http import install_node_failures, json_error
from civicdao.web.data import WebData

__all__ = ["STATIC_DIR", "create_web_app"]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

#: Every asset and request comes from this origin; the chain is reached through the wallet and /api.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class BookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    listingId: str = Field(max_length=80)
    start: int = Field(ge=0, lt=2**64)
    units: int = Field(ge=1, lt=2**32)


class BookingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bookingId: str = Field(max_length=80)


class DonateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amountWei: str = Field(max_length=80)
    note: str = Field(default="", max_length=64)


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grantId: str = Field(max_length=80)


def create_web_app(data: WebData, relayer_app: FastAPI | None = None) -> FastAPI:
    """The residents' app over ``data``; ``relayer_app`` (from :func:`civicdao.relayer.create_app`) is
    mounted at ``/relay`` and its lifespan (the batcher thread) runs with this app's."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if relayer_app is None:
            yield
            return
        async with relayer_app.router.lifespan_context(relayer_app):
            yield

    app = FastAPI(
        title="CivicDAO for residents",
        version="1",
        description="Pages and read API of the residents' app; the relayer is mounted at /relay.",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.data = data
    _install_headers(app)
    _install_error_handlers(app)
    _add_read_routes(app, data)
    _add_tx_routes(app, data)

    @app.get("/api/relayer", summary="Whether votes and delegations can be relayed by this server")
    def relayer_status() -> dict[str, Any]:
        return {"mounted": relayer_app is not None, "path": "/relay"}

    if relayer_app is not None:
        app.mount("/relay", relayer_app)
    else:

        @app.api_route("/relay/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
        def no_relayer(rest: str) -> JSONResponse:
            return json_error(
                503,
                "NoRelayer",
                "this server runs without a relayer account: start `civicdao serve` with --key-env, "
                "--keystore or --unlocked to relay signed votes",
            )

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _add_read_routes(app: FastAPI, data: WebData) -> None:
    @app.get("/api/config", summary="Chain id, contract addresses, listing kinds, budget availability")
    def config() -> dict[str, Any]:
        return data.config()

    @app.get("/api/proposals", summary="Every proposal, newest first")
    def proposals() -> list[dict[str, Any]]:
        return data.proposals()

    @app.get("/api/proposals/{proposal_id}", summary="One proposal with decoded actions and timeline")
    def proposal(
        proposal_id: str, account: str | None = Query(default=None, max_length=42)
    ) -> dict[str, Any]:
        return data.proposal(proposal_id, account=account)

    @app.get("/api/membership/{address}", summary="Citizenship, votes, delegate and delegators")
    def membership(address: str) -> dict[str, Any]:
        return data.membership(address)

    @app.get("/api/listings", summary="Open listings by kind and date")
    def listings(
        kind: str | None = Query(default=None, max_length=20),
        on: int | None = Query(default=None, ge=0, lt=2**64),
    ) -> list[dict[str, Any]]:
        return data.listings(kind=kind, on=on)

    @app.get("/api/listings/{listing_id}", summary="One listing")
    def listing(listing_id: str) -> dict[str, Any]:
        return data.listing(listing_id)

    @app.get("/api/listings/{listing_id}/calendar", summary="Free and taken slots")
    def calendar(listing_id: str, start: int | None = Query(default=None, ge=0, lt=2**64)) -> dict[str, Any]:
        return data.calendar(listing_id, start=start)

    @app.get("/api/bookings/{address}", summary="An account's bookings")
    def bookings(address: str) -> list[dict[str, Any]]:
        return data.bookings(address)

    @app.get("/api/credits/{address}", summary="ETH the exchange owes an account")
    def credits(address: str) -> dict[str, str]:
        return data.credits(address)

    @app.get("/api/treasury", summary="Balances, inflows by category, grants, balance history")
    def treasury() -> dict[str, Any]:
        return data.treasury_overview()

    @app.get("/api/budget", summary="Participatory budget rounds, or available: false")
    def budget() -> dict[str, Any]:
        return data.budget()

    @app.get("/api/budget/{round_id}/ballot/{address}", summary="An account's current ballot in a round")
    def budget_ballot(round_id: str, address: str) -> dict[str, Any]:
        return data.budget_ballot(round_id, address)


def _add_tx_routes(app: FastAPI, data: WebData) -> None:
    """Transactions the wallet sends: the server encodes the calldata from the shipped ABI."""

    @app.post("/api/tx/book", summary="Calldata and value to book a listing")
    def book(body: BookBody) -> dict[str, str]:
        return data.book_tx(body.listingId, start=body.start, units=body.units).as_dict()

    @app.post("/api/tx/cancel", summary="Calldata to cancel a booking as its renter")
    def cancel(body: BookingBody) -> dict[str, str]:
        return data.cancel_tx(body.bookingId).as_dict()

    @app.post("/api/tx/settle", summary="Calldata to settle a booking")
    def settle(body: BookingBody) -> dict[str, str]:
        return data.settle_tx(body.bookingId).as_dict()

    @app.post("/api/tx/withdraw-deposit", summary="Calldata for a renter to take back a returned deposit")
    def withdraw_deposit(body: BookingBody) -> dict[str, str]:
        return data.withdraw_deposit_tx(body.bookingId).as_dict()

    @app.post("/api/tx/withdraw", summary="Calldata to withdraw ETH the exchange owes")
    def withdraw() -> dict[str, str]:
        return data.withdraw_tx().as_dict()

    @app.post("/api/tx/donate", summary="Calldata and value to donate to the treasury")
    def donate(body: DonateBody) -> dict[str, str]:
        return data.donate_tx(body.amountWei, body.note).as_dict()

    @app.post("/api/tx/claim-grant", summary="Calldata for a grant recipient's claim")
    def claim_grant(body: GrantBody) -> dict[str, str]:
        return data.claim_grant_tx(body.grantId).as_dict()


def _install_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _install_error_handlers(app: FastAPI) -> None:
    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return json_error(404, "NotFound", str(exc).strip("'\""))

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        return json_error(400, type(exc).__name__, str(exc))

    app.add_exception_handler(LookupError, not_found)
    app.add_exception_handler(CivicDAOError, refused)  # ContractRevert included
    install_node_failures(app, who="the app")
