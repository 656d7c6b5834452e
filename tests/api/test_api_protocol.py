"""Requests that are not valid HTTP get the API's JSON error, not uvicorn's plain text.

A real ApiServer on 127.0.0.1 and raw sockets, since no HTTP client sends these.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pykka
import pytest
from test_api_server import make_app, start

from vistter.api.server import ApiServer

HOST = b"Host: 127.0.0.1\r\n"


@pytest.fixture
def port() -> Iterator[int]:
    ref: pykka.ActorRef[ApiServer]
    ref, _ = start(make_app())
    try:
        yield ref.proxy().bound_port().get(timeout=15)
    finally:
        ref.stop(timeout=15)
        pykka.ActorRegistry.stop_all(timeout=10)


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer until the server closes or it is complete."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        data = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split(" ")[1]), headers, body


BAD_REQUESTS = {
    "Content-Length not a number":
        b"POST /api/timelines/validate HTTP/1.1\r\n" + HOST
        + b"Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    "two Content-Lengths that disagree":
        b"POST /api/timelines/validate HTTP/1.1\r\n" + HOST
        + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "a negative Content-Length":
        b"POST /api/timelines/validate HTTP/1.1\r\n" + HOST + b"Content-Length: -5\r\n\r\n",
    "a header line without a colon":
        b"GET /api/health HTTP/1.1\r\n" + HOST + b"Broken header\r\n\r\n",
    "no Host header": b"GET /api/health HTTP/1.1\r\n\r\n",
    "a space in the target": b"GET /api/he alth HTTP/1.1\r\n" + HOST + b"\r\n",
    "a transfer coding not supported":
        b"POST /api/timelines/validate HTTP/1.1\r\n" + HOST
        + b"Transfer-Encoding: gzip\r\n\r\n",
    "a bad chunk size":
        b"POST /api/timelines/validate HTTP/1.1\r\n" + HOST
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "a TLS handshake on the plain port":
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(40),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("what", sorted(BAD_REQUESTS))
def test_invalid_http_gets_the_json_error(port: int, what: str) -> None:
    status, headers, body = exchange(port, BAD_REQUESTS[what])
    assert status == 400, (what, body)
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    answer = json.loads(body)
    assert set(answer) == {"error", "problem", "hint"}
    assert answer["error"] == "BadRequestError"
    assert "not valid HTTP/1.1" in answer["problem"]


@pytest.mark.timeout(60)
def test_headers_too_large_is_431_json(port: int) -> None:
    request = b"GET /api/health HTTP/1.1\r\n" + HOST
    request += b"".join(b"X-Filler-%d: %s\r\n" % (n, b"a" * 1000) for n in range(100))
    # 100 kB of headers and no end to them yet: refused as soon as they pass h11's limit
    status, headers, body = exchange(port, request)
    assert status == 431, body
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"] == "RequestHeadersTooLargeError"


@pytest.mark.timeout(60)
def test_the_server_keeps_serving_after_bad_requests(port: int) -> None:
    for request in BAD_REQUESTS.values():
        exchange(port, request)
    status, _, body = exchange(port, b"GET /api/health HTTP/1.1\r\n" + HOST + b"\r\n")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
