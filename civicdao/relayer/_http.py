"""uvicorn's HTTP/1.1 protocol, with its own refusals in the relayer's ``{"error", "detail"}`` JSON.

uvicorn answers a request it cannot parse (a malformed request line or header, a ``Content-Length`` that is
not a number, two different ``Content-Length`` headers) itself, before the application sees it, with a
plain-text 400. This subclass sends the same 400 as JSON, so every refusal a client gets has one shape.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["JsonErrorsH11Protocol"]

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
