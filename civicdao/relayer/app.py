"""The relayer's HTTP JSON API (FastAPI). OpenAPI docs at ``/docs`` and ``/openapi.json``.

Citizens POST what their wallet signed (``{"typed_data": …, "signature": "0x…"}``) and get ``202`` with a
submission id (the message's EIP-712 digest) to poll. Every refusal is a 4xx with
``{"error": "<Name>", "detail": "<what is wrong>"}`` and changes nothing; bodies over the size limit get
``413`` before they are read in full.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from web3.exceptions import Web3Exception

from civicdao.errors import ConfigError, ContractRevert, NetworkError
from civicdao.governance import Proposal
from civicdao.relayer.batcher import Batcher
from civicdao.relayer.service import RateLimitedError, Relayer
from civicdao.relayer.store import DuplicateSubmissionError, Submission
from civicdao.signing import (
    AlreadyCitizenError,
    AlreadyVotedError,
    DomainMismatchError,
    InvalidSignatureError,
    MalformedMessageError,
    NonceMismatchError,
    NotCitizenError,
    NotRegistrarError,
    NoVotingPowerError,
    ProposalNotActiveError,
    SignatureExpiredError,
    SigningError,
    UnknownProposalError,
)

__all__ = ["create_app", "serve"]

logger = logging.getLogger(__name__)

#: HTTP status per refusal, most specific first.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (DuplicateSubmissionError, 409),
    (RateLimitedError, 429),
    (UnknownProposalError, 404),
    (NotCitizenError, 403),
    (NotRegistrarError, 403),
    (NoVotingPowerError, 403),
    (AlreadyVotedError, 409),
    (AlreadyCitizenError, 409),
    (NonceMismatchError, 409),
    (ProposalNotActiveError, 409),
    (SignatureExpiredError, 400),
    (DomainMismatchError, 400),
    (InvalidSignatureError, 400),
    (MalformedMessageError, 400),
    (SigningError, 400),
    (ConfigError, 400),
)


class SignedMessage(BaseModel):
    """A message exactly as the wallet signed it, and the signature."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "typed_data": {
                    "types": {"EIP712Domain": ["…"], "Ballot": ["…"]},
                    "primaryType": "Ballot",
                    "domain": {"name": "CivicDAO Governor", "version": "1", "chainId": 31337},
                    "message": {"proposalId": "…", "support": 1, "voter": "0x…", "nonce": "0"},
                },
                "signature": "0x…65 bytes…",
            }
        },
    )

    typed_data: dict[str, Any] = Field(description="The eth_signTypedData_v4 JSON the wallet signed.")
    signature: str = Field(description="The 65-byte signature as 0x-prefixed hex.", max_length=200)


class SubmissionOut(BaseModel):
    """Where a submitted message stands: accepted → submitted(tx) → confirmed, or dropped(reason)."""

    id: str
    kind: str
    signer: str
    subject: str | None
    status: str
    tx_hash: str | None
    reason: str | None
    attempts: int
    created_at: int
    updated_at: int


class ErrorOut(BaseModel):
    error: str
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 403, 404, 409, 413, 422, 429, 503)
}


def create_app(relayer: Relayer, *, run_batcher: bool = False, poll_seconds: float = 0.5) -> FastAPI:
    """The FastAPI app for ``relayer``; with ``run_batcher`` a background thread submits batches."""
    batcher = Batcher(relayer)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if run_batcher:
            thread = threading.Thread(
                target=batcher.run_forever, args=(stop,), kwargs={"poll": poll_seconds}, daemon=True
            )
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=30)

    app = FastAPI(
        title="CivicDAO relayer",
        version="1",
        description=(
            "Citizens sign ballots and delegations in their own wallet (EIP-712); the relayer verifies them, "
            "stores them durably and submits them in batches, paying the gas."
        ),
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app.state.relayer = relayer
    app.state.batcher = batcher
    app.add_middleware(_BodyLimit, max_bytes=relayer.settings.max_body_bytes)
    _install_error_handlers(app)

    @app.get("/health", summary="Chain, funding account, gas budget and queue")
    def health() -> dict[str, Any]:
        return relayer.health().as_dict()

    @app.get("/proposals", summary="Every proposal with its state and tally")
    def proposals() -> list[dict[str, Any]]:
        return [_proposal(p) for p in relayer.proposals()]

    @app.get("/proposals/{proposal_id}", summary="One proposal")
    def proposal(proposal_id: str) -> dict[str, Any]:
        return _proposal(relayer.proposal(_parse_uint(proposal_id, "proposal id")))

    @app.get("/nonces/{address}", summary="The nonces the account's next ballot and delegation must carry")
    def nonces(address: str) -> dict[str, int]:
        return relayer.next_nonces(address)

    @app.get("/typed-data/ballot", summary="The typed data to sign for a ballot (eth_signTypedData_v4)")
    def ballot_template(
        proposal_id: str = Query(description="Proposal id (decimal)."),
        voter: str = Query(description="The voter's address."),
        support: int = Query(description="0 against, 1 for, 2 abstain."),
        reason: str | None = Query(default=None, max_length=1000, description="Optional reason."),
        override: bool = Query(default=False, description="Vote yourself despite a delegation."),
    ) -> dict[str, Any]:
        return relayer.ballot_template(
            proposal_id=_parse_uint(proposal_id, "proposal id"),
            support=support,
            voter=voter,
            reason=reason,
            override=override,
        )

    @app.get("/typed-data/delegation", summary="The typed data to sign for a delegation")
    def delegation_template(
        delegator: str = Query(description="Who delegates (signs)."),
        delegatee: str = Query(description="Who receives the vote."),
        expiry: int = Query(ge=0, description="Unix time after which the signature is void."),
    ) -> dict[str, Any]:
        return relayer.delegation_template(delegator=delegator, delegatee=delegatee, expiry=expiry)

    @app.post("/ballots", status_code=202, summary="Submit a signed ballot")
    def post_ballot(body: SignedMessage) -> SubmissionOut:
        return _out(relayer.accept_ballot(body.typed_data, body.signature))

    @app.post("/delegations", status_code=202, summary="Submit a signed delegation")
    def post_delegation(body: SignedMessage) -> SubmissionOut:
        return _out(relayer.accept_delegation(body.typed_data, body.signature))

    @app.post("/attestations", status_code=202, summary="Submit a registrar-signed attestation")
    def post_attestation(body: SignedMessage) -> SubmissionOut:
        return _out(relayer.accept_attestation(body.typed_data, body.signature))

    @app.get("/submissions/{submission_id}", summary="A submission's status")
    def submission(submission_id: str) -> SubmissionOut:
        found = relayer.submission(submission_id)
        if found is None:
            raise _NotFound(f"no submission {submission_id}")
        return _out(found)

    return app


def serve(relayer: Relayer, *, host: str = "127.0.0.1", port: int = 8600, poll_seconds: float = 0.5) -> None:
    """Run the relayer (API and batcher) until interrupted."""
    import uvicorn

    app = create_app(relayer, run_batcher=True, poll_seconds=poll_seconds)
    uvicorn.run(app, host=host, port=port, log_level="info")


# -- internals ---------------------------------------------------------------------------------------


class _NotFound(LookupError):
    pass


def _out(submission: Submission) -> SubmissionOut:
    return SubmissionOut(**submission.public())


def _proposal(p: Proposal) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "proposer": p.proposer,
        "description": p.description,
        "state": p.state.name.lower(),
        "snapshot": p.snapshot,
        "deadline": p.deadline,
        "tally": {"for": p.tally.for_, "against": p.tally.against, "abstain": p.tally.abstain},
    }


def _parse_uint(text: str, what: str) -> int:
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise ConfigError(f"{what} must be a whole number, got {text[:80]!r}") from None
    if not 0 <= value < 2**256:
        raise ConfigError(f"{what} must be between 0 and 2**256-1")
    return value


def _error(status: int, name: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": name, "detail": detail}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    async def refused(_: Request, exc: Exception) -> JSONResponse:
        for cls, status in _STATUS:
            if isinstance(exc, cls):
                headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
                return _error(status, type(exc).__name__, str(exc), headers)
        return _error(400, type(exc).__name__, str(exc))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                return _error(400, "MalformedJSON", f"the body is not valid JSON: {error.get('msg')}")
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            problems.append(f"{where}: {error.get('msg')}")
        return _error(422, "InvalidRequest", "; ".join(problems))

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return _error(404, "NotFound", str(exc))

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        logger.warning("node error while serving a request: %s", exc)
        return _error(503, "NodeUnavailable", f"the relayer cannot reach the chain right now: {exc}")

    async def reverted(_: Request, exc: Exception) -> JSONResponse:
        return _error(400, type(exc).__name__, f"the contract refused the query: {exc}")

    app.add_exception_handler(SigningError, refused)
    app.add_exception_handler(ConfigError, refused)
    app.add_exception_handler(DuplicateSubmissionError, refused)
    app.add_exception_handler(RateLimitedError, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(_NotFound, not_found)
    app.add_exception_handler(ContractRevert, reverted)
    app.add_exception_handler(NetworkError, unavailable)
    app.add_exception_handler(Web3Exception, unavailable)
    app.add_exception_handler(OSError, unavailable)  # requests' connection errors are OSErrors


_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]


class _BodyLimit:
    """Answer 413 to a request body over ``max_bytes``, by its Content-Length or while it streams in."""

    def __init__(self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]], *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        delivered = False

        async def replay() -> _Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        response = _error(
            413,
            "RequestTooLarge",
            f"the request body is larger than {self.max_bytes} bytes, the relayer's limit",
        )
        await response(scope, receive, send)
