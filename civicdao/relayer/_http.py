"""Every HTTP refusal in one shape, ``{"error": name, "detail": text}``: the relayer's and the web app's.

:func:`json_error` builds one; :func:`install_node_failures` answers a node that cannot be reached (a
:class:`~civicdao.errors.NetworkError`, a web3 error, a connection's ``OSError``) with a 503
``NodeUnavailable``, for both apps.

uvicorn answers a request it cannot parse (a malformed request line or header, a ``Content-Length`` that is
not a number, two different ``Content-Length`` headers) itself, before the application sees it, with a
plain-text 400. This subclass sends the same 400 as JSON, so every refusal a client gets has one shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import h11
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol
from web3.exceptions import Web3Exception

from civicdao.errors import NetworkError

__all__ = ["JsonErrorsH11Protocol", "install_node_failures", "json_error"]

logger = logging.getLogger(__name__)


def json_error(status: int, name: str, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The refusal every endpoint sends: ``{"error": name, "detail": detail}`` with ``status``."""
    return JSONResponse({"error": name, "detail": detail}, status_code=status, headers=headers)


def install_node_failures(app: FastAPI, *, who: str) -> None:
    """Answer a node that cannot be reached with 503 ``NodeUnavailable`` (``who`` names the server in the
    detail, e.g. ``"the relayer"``), logged as a warning."""

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("node error while serving %s: %s", request.url.path[:200], exc)
        return json_error(503, "NodeUnavailable", f"{who} cannot reach the chain right now: {exc}")

    for failure in (NetworkError, Web3Exception, OSError):  # requests' connection errors are OSErrors
        app.add_exception_handler(failure, unavailable)


_BODY = json.dumps(
    {
        "error": "MalformedHTTP",
        "detail": "the HTTP request could not be parsed (request line, headers or Content-Length)",
    }
).encode()


class JsonErrorsH11Protocol(H11Protocol):
    """:class:`H11Protocol` whose parse-error 400 is ``{"error": "MalformedHTTP", "detail": …}``."""

    def send_400_response(self, msg: str) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_BODY)).encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(
            self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request"))
        )
        self.transport.write(self.conn.send(h11.Data(data=_BODY)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
