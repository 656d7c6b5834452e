"""The body size limit is enforced while the body streams in, called as a raw ASGI app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from vistter.api import ApiDeps, create_app
from vistter.api.body import is_json_media_type, parse_json
from vistter.api.errors import MalformedJsonError
from vistter.clock import FakeClock

LIMIT = 10_000
CHUNK = 1_000


def make_app(validated: list[object]) -> Any:
    def validate(document: object) -> list[Any]:
        validated.append(document)
        return []

    deps = ApiDeps(
        tree=lambda: {"id": "root", "state": "running", "children": []},
        validate_timeline=validate, started_at=0.0, version="t",
        max_body_bytes=LIMIT, clock=FakeClock(),
    )
    return create_app(deps)


def run_request(
    app: Any, headers: list[tuple[bytes, bytes]], endless: bool
) -> tuple[int, dict[str, Any], int]:
    """POST a body far past the limit (endless) or a small one.

    Returns the status, the JSON body and how many chunks the app pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if endless:  # far past the limit, but finite so a broken limit fails, not hangs
            more = pulled < 100 * LIMIT // CHUNK
            return {"type": "http.request", "body": b" " * CHUNK, "more_body": more}
        return {"type": "http.request", "body": b'{"timeline": {}}', "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/timelines/validate", "raw_path": b"/api/timelines/validate",
        "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


@pytest.mark.timeout(30)
def test_endless_chunked_body_is_cut_off_just_past_the_limit() -> None:
    validated: list[object] = []
    status, body, pulled = run_request(
        make_app(validated), [(b"content-type", b"application/json")], endless=True
    )
    assert status == 413
    assert body["error"] == "PayloadTooLargeError"
    assert f"{LIMIT} bytes" in body["problem"]
    # Reading stops at the first chunk that passes the limit: limit/chunk + 1 chunks.
    assert pulled == LIMIT // CHUNK + 1
    assert validated == []


@pytest.mark.timeout(30)
def test_declared_length_over_limit_reads_nothing() -> None:
    validated: list[object] = []
    headers = [(b"content-type", b"application/json"), (b"content-length", b"10000000")]
    status, body, pulled = run_request(make_app(validated), headers, endless=True)
    assert status == 413
    assert body["error"] == "PayloadTooLargeError"
    assert pulled == 0
    assert validated == []


@pytest.mark.timeout(30)
def test_small_body_passes() -> None:
    validated: list[object] = []
    status, body, _ = run_request(
        make_app(validated), [(b"content-type", b"application/json")], endless=False
    )
    assert (status, body) == (200, {"valid": True, "problems": []})
    assert validated == [{"timeline": {}}]


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ("application/vnd.vistter.timeline+json", True),
        ("text/json", False),
        ("text/plain", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types(content_type: str | None, ok: bool) -> None:
    assert is_json_media_type(content_type) is ok


def test_parse_json_reports_position() -> None:
    with pytest.raises(MalformedJsonError, match=r"line 2, column 5") as info:
        parse_json(b'{"a": 1,\n    }')
    assert info.value.status_code == 422
    assert parse_json(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
