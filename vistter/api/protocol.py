"""The HTTP/1.1 protocol the control API is served with: uvicorn's h11 protocol, answering a
request that is not valid HTTP (a malformed request line, header or ``Content-Length``, bad
chunked framing, headers too large) with the API's JSON error instead of uvicorn's plain text.

uvicorn answers such a request itself, before any ASGI app runs, so no middleware can change
it; :class:`JsonErrorH11Protocol` replaces the one method that writes that answer. It is passed
to ``uvicorn.Config(http=...)``, which also pins the h11 implementation (not httptools, should
that be installed), so the behaviour does not depend on what else is in the environment.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from vistter.api.errors import BadRequestError, RequestHeadersTooLargeError
from vistter.errors import VistterError

__all__ = ["JsonErrorH11Protocol", "protocol_error_body"]

_HEADERS_TOO_LARGE = 431


class _RecordingConnection(h11.Connection):
    """An h11 connection that keeps the last protocol error it raised for the peer's data,
    so the answer can say what kind of error it was."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as error:
            self.last_error = error
            raise


def protocol_error_body(error: h11.RemoteProtocolError | None) -> tuple[int, VistterError]:
    """The status and the error to answer for an invalid request.

    h11's own message is not repeated: it may quote the client's bytes (a header value).
    A 501 hint (an unsupported transfer coding) is answered 400: it is the client's request.
    """
    if error is not None and error.error_status_hint == _HEADERS_TOO_LARGE:
        return _HEADERS_TOO_LARGE, RequestHeadersTooLargeError(
            "The request's headers are larger than the server accepts.",
            hint="Send fewer or shorter headers (cookies, long custom headers).",
        )
    return 400, BadRequestError(
        "The request is not valid HTTP/1.1: its request line, a header, the Content-Length "
        "or the chunked framing of the body is malformed.",
        hint="Check the client: send one well-formed Content-Length (digits only) or "
        "Transfer-Encoding: chunked, a Host header, and header lines of the form 'Name: value'.",
    )


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with JSON answers to invalid requests.

    Runs in uvicorn's event loop thread, one instance per connection. If writing the answer
    is not possible any more (the app's answer had already started), the connection is closed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _RecordingConnection(h11.SERVER, self.conn._max_incomplete_event_size)

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn when h11 refuses the peer's data (``msg`` is uvicorn's text)."""
        status, error = protocol_error_body(getattr(self.conn, "last_error", None))
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.close()
            return
        body = json.dumps(error.to_dict()).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"cache-control", b"no-store"),
            (b"connection", b"close"),
        ]
        try:
            reason = HTTPStatus(status).phrase.encode("ascii")
            answer = h11.Response(status_code=status, headers=headers, reason=reason)
            self.transport.write(self.conn.send(answer))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            pass  # h11 cannot frame an answer now (e.g. an HTTP/1.0 peer mid-body): just close
        self.transport.close()
