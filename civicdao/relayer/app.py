"""The relayer's HTTP JSON API (FastAPI). OpenAPI docs at ``/docs`` and ``/openapi.json``.

Citizens POST what their wallet signed (``{"typed_data": …, "signature": "0x…"}``) and get ``202`` with a
submission id to poll (the message's EIP-712 digest; for a delegation or budget ballot, which do not name
their signer, keccak256(digest ‖ signer)). Every refusal is a 4xx with
``{"error": "<Name>", "detail": "<what is wrong>"}`` and changes nothing — including what the framework or
the HTTP server refuses itself (unknown path, wrong method, a body that is not UTF-8 JSON or nests too
deeply, a bad ``Content-Length``); bodies over the size limit get ``413`` before they are read in full.
The OpenAPI schema states the formats the relayer accepts (addresses, uint256 decimal strings, signatures).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from civicdao.budget.types import BallotRejectedError, BudgetError
from civicdao.errors import (
    AlreadyCitizenError,
    AlreadyVotedError,
    ConfigError,
    ContractRevert,
    CredentialUsedError,
    DomainMismatchError,
    InvalidSignatureError,
    MalformedMessageError,
    NonceMismatchError,
    NotCitizenError,
    NotRegistrarError,
    NoVotingPowerError,
    ProposalNotActiveError,
    RefusedError,
    SignatureExpiredError,
    SigningError,
    UnknownProposalError,
)
from civicdao.governance import Proposal
from civicdao.relayer._http import JsonErrorsH11Protocol, install_node_failures, json_error
from civicdao.relayer.batcher import Batcher
from civicdao.relayer.service import (
    RateLimitedError,
    Relayer,
    RoundNotOpenError,
    UnknownRoundError,
    parse_uint,
)
from civicdao.relayer.store import DuplicateSubmissionError, Submission

__all__ = ["ADDRESS_PATTERN", "BYTES32_PATTERN", "MAX_JSON_DEPTH", "UINT256_PATTERN", "create_app", "serve"]

logger = logging.getLogger(__name__)

#: An address as the API takes it: 0x and 40 hex digits, any letter case (the checksum is not required).
ADDRESS_PATTERN = "^0x[0-9a-fA-F]{40}$"
#: A uint256 as a decimal string of ASCII digits (78 digits hold 2**256-1; a larger id names no proposal).
UINT256_PATTERN = "^[0-9]{1,78}$"
#: A submission id: 32 bytes (the message's EIP-712 digest, or keccak256(digest ‖ signer)).
DIGEST_PATTERN = "^0x[0-9a-fA-F]{64}$"
#: A bytes32 value (a salted credential hash) as 0x and 64 hex digits.
BYTES32_PATTERN = "^0x[0-9a-fA-F]{64}$"
#: A 65-byte signature as hex.
SIGNATURE_PATTERN = "^0x[0-9a-fA-F]{130}$"
#: Request bodies nest at most this deep (a signed message needs 4 levels).
MAX_JSON_DEPTH = 32

#: HTTP status per refusal, most specific first.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (DuplicateSubmissionError, 409),
    (RateLimitedError, 429),
    (UnknownProposalError, 404),
    (UnknownRoundError, 404),
    (NotCitizenError, 403),
    (NotRegistrarError, 403),
    (NoVotingPowerError, 403),
    (AlreadyVotedError, 409),
    (CredentialUsedError, 409),
    (AlreadyCitizenError, 409),
    (NonceMismatchError, 409),
    (ProposalNotActiveError, 409),
    (RoundNotOpenError, 409),
    (SignatureExpiredError, 400),
    (DomainMismatchError, 400),
    (InvalidSignatureError, 400),
    (MalformedMessageError, 400),
    (SigningError, 400),
    (RefusedError, 409),
    (BallotRejectedError, 400),
    (ConfigError, 400),
    (BudgetError, 400),
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
    signature: str = Field(
        description="The 65-byte signature (r, s, v) as 0x-prefixed hex.",
        max_length=200,
        json_schema_extra={"pattern": SIGNATURE_PATTERN},
    )


class SignedBudgetBallotIn(SignedMessage):
    """A participatory-budget ApprovalBallot as the wallet signed it; ``voter`` (optional) is the account
    the client expects signed it: a signature by any other account is refused."""

    voter: str | None = Field(
        default=None,
        description="The voter the client asked the template for (the signer must be this account).",
        max_length=42,
        json_schema_extra={"pattern": ADDRESS_PATTERN},
    )


class SubmissionOut(BaseModel):
    """Where a submitted message stands: accepted → submitted(tx) → confirmed, superseded(reason) (another
    message used its nonce first) or dropped(reason)."""

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
    code: {"model": ErrorOut} for code in (400, 403, 404, 405, 409, 413, 422, 429, 503)
}


def _text(description: str, pattern: str, *, max_length: int | None = None, default: Any = ...) -> Any:
    """A text query parameter that the OpenAPI schema describes with its ``pattern``."""
    schema = {"pattern": pattern}
    return Query(default=default, max_length=max_length, description=description, json_schema_extra=schema)


def _address(description: str) -> Any:
    return _text(description, ADDRESS_PATTERN)


def _uint_text(description: str) -> Any:
    """A uint256 query parameter in decimal text (JavaScript numbers cannot hold one)."""
    return _text(description, UINT256_PATTERN)


def _expiry() -> Any:
    return Query(ge=0, le=2**256 - 1, description="Unix time after which the signature is void.")


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
    def proposal(
        proposal_id: str = Path(
            description="Proposal id (decimal; 0x hex is accepted too).",
            json_schema_extra={"pattern": UINT256_PATTERN},
        ),
    ) -> dict[str, Any]:
        return _proposal(relayer.proposal(_proposal_id(proposal_id)))

    @app.get("/nonces/{address}", summary="The nonces the account's next ballot and delegation must carry")
    def nonces(
        address: str = Path(description="The account.", json_schema_extra={"pattern": ADDRESS_PATTERN}),
    ) -> dict[str, int]:
        return relayer.next_nonces(address)

    @app.get("/typed-data/ballot", summary="The typed data to sign for a ballot (eth_signTypedData_v4)")
    def ballot_template(
        proposal_id: str = _uint_text("Proposal id (decimal)."),
        voter: str = _address("The voter's address."),
        support: int = Query(ge=0, le=2, description="0 against, 1 for, 2 abstain."),
        reason: str | None = Query(default=None, max_length=1000, description="Optional reason."),
        override: bool = Query(default=False, description="Vote yourself despite a delegation."),
    ) -> dict[str, Any]:
        return relayer.ballot_template(
            proposal_id=_proposal_id(proposal_id),
            support=support,
            voter=voter,
            reason=reason,
            override=override,
        )

    @app.get("/typed-data/delegation", summary="The typed data to sign for a delegation")
    def delegation_template(
        delegator: str = _address("Who delegates (signs)."),
        delegatee: str = _address("Who receives the vote."),
        expiry: int = _expiry(),
    ) -> dict[str, Any]:
        return relayer.delegation_template(delegator=delegator, delegatee=delegatee, expiry=expiry)

    @app.get(
        "/typed-data/attestation",
        summary="The typed data a registrar signs to register a resident (eth_signTypedData_v4)",
    )
    def attestation_template(
        citizen: str = _address("The resident to register (a fresh address; it needs no ETH)."),
        credential_hash: str = _text(
            "The salted credential hash the registrar computed off-line (32 bytes as 0x hex).",
            BYTES32_PATTERN,
            max_length=66,
        ),
        expiry: int = _expiry(),
    ) -> dict[str, Any]:
        return relayer.attestation_template(citizen=citizen, credential_hash=credential_hash, expiry=expiry)

    @app.get(
        "/typed-data/budget-ballot",
        summary="The typed data to sign for a participatory-budget approval ballot (eth_signTypedData_v4)",
    )
    def budget_ballot_template(
        round_id: str = _uint_text("Round id (decimal)."),
        voter: str = _address("The voter's address (a resident)."),
        approvals: str = _text(
            "The approved project indexes, comma-separated (e.g. 0,3,4).",
            "^([0-9]{1,3}(,[0-9]{1,3})*)?$",
            max_length=1200,
            default="",
        ),
    ) -> dict[str, Any]:
        return relayer.budget_ballot_template(
            round_id=_round_id(round_id), voter=voter, approvals=_indexes(approvals)
        )

    @app.post("/ballots", status_code=202, summary="Submit a signed ballot")
    def post_ballot(body: SignedMessage) -> SubmissionOut:
        return _out(relayer.accept_ballot(body.typed_data, body.signature))

    @app.post("/delegations", status_code=202, summary="Submit a signed delegation")
    def post_delegation(body: SignedMessage) -> SubmissionOut:
        return _out(relayer.accept_delegation(body.typed_data, body.signature))

    @app.post("/budget-ballots", status_code=202, summary="Submit a signed participatory-budget ballot")
    def post_budget_ballot(body: SignedBudgetBallotIn) -> SubmissionOut:
        return _out(relayer.accept_budget_ballot(body.typed_data, body.signature, voter=body.voter))

    @app.post("/attestations", status_code=202, summary="Submit a registrar-signed attestation")
    def post_attestation(body: SignedMessage) -> SubmissionOut:
        return _out(relayer.accept_attestation(body.typed_data, body.signature))

    @app.get("/submissions/{submission_id}", summary="A submission's status")
    def submission(
        submission_id: str = Path(
            description="The submission id the POST answered (32 bytes, 0x-hex).",
            json_schema_extra={"pattern": DIGEST_PATTERN},
        ),
    ) -> SubmissionOut:
        found = relayer.submission(submission_id)
        if found is None:
            raise _NotFound(f"no submission {submission_id}")
        return _out(found)

    return app


def serve(relayer: Relayer, *, host: str = "127.0.0.1", port: int = 8600, poll_seconds: float = 0.5) -> None:
    """Run the relayer (API and batcher) until interrupted."""
    server(create_app(relayer, run_batcher=True, poll_seconds=poll_seconds), host=host, port=port).run()


def server(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8600) -> Any:
    """A uvicorn server for ``app`` whose own HTTP-level refusals (a malformed request line or header, a
    bad ``Content-Length``) also answer ``{"error", "detail"}`` JSON."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="info", http=JsonErrorsH11Protocol)
    return uvicorn.Server(config)


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


def _proposal_id(text: str) -> int:
    """A proposal id in ASCII digits (or 0x hex); one beyond uint256 names no proposal (404)."""
    value = parse_uint(text, "proposal id", ConfigError, bounded=False)
    if value >= 2**256:
        raise UnknownProposalError(f"the governor has no proposal {text[:80]}: ids are below 2**256")
    return value


def _round_id(text: str) -> int:
    """A round id in ASCII digits; one beyond uint256 names no round (404)."""
    value = parse_uint(text, "round id", ConfigError, bounded=False)
    if value >= 2**256:
        raise UnknownRoundError(f"the participatory budget has no round {text[:80]}")
    return value


def _indexes(text: str) -> list[int]:
    """Project indexes from ``"0,3,4"`` (an empty string: none)."""
    if not text:
        return []
    return [parse_uint(part, "project index", ConfigError) for part in text.split(",")]


def _install_error_handlers(app: FastAPI) -> None:
    async def refused(_: Request, exc: Exception) -> JSONResponse:
        for cls, status in _STATUS:
            if isinstance(exc, cls):
                headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
                return json_error(status, type(exc).__name__, str(exc), headers)
        return json_error(400, type(exc).__name__, str(exc))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                return json_error(400, "MalformedJSON", f"the body is not valid JSON: {error.get('msg')}")
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            problems.append(f"{where}: {error.get('msg')}")
        return json_error(422, "InvalidRequest", "; ".join(problems))

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return json_error(404, "NotFound", str(exc))

    async def http_refusal(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            detail = f"no such path {request.url.path[:200]}: the API is described at /docs"
            return json_error(404, "NotFound", detail)
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            detail = f"{request.method} is not allowed on {request.url.path[:200]} (allowed: {allowed})"
            return json_error(405, "MethodNotAllowed", detail, dict(exc.headers or {}))
        if exc.status_code == 400:  # FastAPI could not parse the body (not UTF-8, too deep for the parser)
            return json_error(400, "MalformedJSON", "the body is not valid UTF-8 JSON")
        return json_error(exc.status_code, "HTTPError", str(exc.detail))

    async def internal(_: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error while serving a request", exc_info=exc)
        return json_error(500, "InternalError", "the relayer failed unexpectedly; the error is in its log")

    async def reverted(_: Request, exc: Exception) -> JSONResponse:
        return json_error(400, type(exc).__name__, f"the contract refused the query: {exc}")

    app.add_exception_handler(SigningError, refused)
    app.add_exception_handler(RefusedError, refused)
    app.add_exception_handler(ConfigError, refused)
    app.add_exception_handler(BudgetError, refused)
    app.add_exception_handler(DuplicateSubmissionError, refused)
    app.add_exception_handler(RateLimitedError, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(_NotFound, not_found)
    app.add_exception_handler(HTTPException, http_refusal)
    app.add_exception_handler(ContractRevert, reverted)
    install_node_failures(app, who="the relayer")
    app.add_exception_handler(Exception, internal)  # a bug: still the documented body, never a bare 500


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
        if length is not None and not length.isdigit():  # bytes.isdigit: ASCII digits only
            response = json_error(
                400, "BadContentLength", "Content-Length must be the body's size in bytes (ASCII digits)"
            )
            await response(scope, receive, send)
            return
        if length is not None and int(length) > self.max_bytes:
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
        problem = _body_problem(body) if body else None
        if problem is not None:
            await json_error(400, "MalformedJSON", problem)(scope, receive, send)
            return
        delivered = False

        async def replay() -> _Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        response = json_error(
            413,
            "RequestTooLarge",
            f"the request body is larger than {self.max_bytes} bytes, the relayer's limit",
        )
        await response(scope, receive, send)


def _body_problem(body: bytes) -> str | None:
    """Why a request body cannot be a message: not UTF-8, or JSON nested deeper than MAX_JSON_DEPTH."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not valid UTF-8 (byte {exc.start})"
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"the body nests deeper than {MAX_JSON_DEPTH} levels"
        elif char in "]}":
            depth -= 1
    return None
