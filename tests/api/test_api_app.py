"""Routes, errors and auth of the control API app, through Starlette's TestClient."""

from __future__ import annotations

import copy
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pykka
import pytest

with warnings.catch_warnings():
    # Starlette >= 1.x prefers httpx2 for its TestClient and warns when it falls back to
    # httpx (what the test extras install). Either client works for these tests.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.clock import FakeClock
from vistter.errors import ConfigError

TOKEN = "s3cr3t-token-for-tests"


def node(
    node_id: str, path: str, *, kind: str = "worker", state: str = "running",
    children: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": node_id, "path": path, "kind": kind, "actor": "Fake",
        "state": state, "restart_type": "permanent",
        "strategy": "one_for_one" if kind == "supervisor" else None,
        "restarts": 0, "history": [], "pids": [], "children": children or [],
    }


def healthy_tree() -> dict[str, Any]:
    return node("root", "root", kind="supervisor", children=[
        node("sources", "root/sources", kind="supervisor", children=[
            node("camera-1", "root/sources/camera-1"),
            node("camera-2", "root/sources/camera-2"),
        ]),
        node("api", "root/api"),
    ])


@dataclass(frozen=True)
class FakeProblem:
    path: str
    message: str
    hint: str


def no_problems(document: object) -> list[FakeProblem]:
    return []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=500.0)


def make_client(
    clock: FakeClock,
    *,
    tree: Callable[[], dict[str, Any]] = healthy_tree,
    validate: Callable[[object], list[FakeProblem]] = no_problems,
    token: str | None = None,
    max_body_bytes: int = 4096,
) -> TestClient:
    deps = ApiDeps(
        tree=tree, validate_timeline=validate, started_at=400.0, version="9.9.9",
        token=token, max_body_bytes=max_body_bytes, clock=clock,
    )
    return TestClient(create_app(deps), raise_server_exceptions=True)


@pytest.fixture
def client(clock: FakeClock) -> Iterator[TestClient]:
    with make_client(clock) as c:
        yield c


def assert_error(response: Any, status: int, kind: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "problem", "hint"}
    assert body["error"] == kind
    assert body["problem"]
    assert body["hint"]
    return dict(body)


# -- health ------------------------------------------------------------------------------


def test_health_ok_counts_every_node(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "version": "9.9.9", "uptime_seconds": 100.0,
        "actors": {"running": 5, "total": 5},
    }


def test_health_uptime_follows_the_clock(clock: FakeClock) -> None:
    with make_client(clock) as c:
        clock.advance(12.5)
        assert c.get("/api/health").json()["uptime_seconds"] == 112.5


@pytest.mark.parametrize("state", ["restarting", "starting", "stopped", "exited", "unresponsive"])
def test_health_degraded_when_a_nested_node_is_not_running(clock: FakeClock, state: str) -> None:
    tree = healthy_tree()
    tree["children"][0]["children"][1]["state"] = state
    with make_client(clock, tree=lambda: tree) as c:
        response = c.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["actors"] == {"running": 4, "total": 5}


@pytest.mark.parametrize("error", [TimeoutError("slow"), pykka.Timeout("slow")])
def test_tree_timeout_is_503(clock: FakeClock, error: Exception) -> None:
    def slow() -> dict[str, Any]:
        raise error

    with make_client(clock, tree=slow) as c:
        for route in ("/api/health", "/api/supervision"):
            response = c.get(route)
            body = assert_error(response, 503, "TreeUnavailableError")
            assert "did not answer in time" in body["problem"]
            assert response.headers["retry-after"] == "5"


def test_tree_dead_is_503(clock: FakeClock) -> None:
    def dead() -> dict[str, Any]:
        raise pykka.ActorDeadError("root is dead")

    with make_client(clock, tree=dead) as c:
        body = assert_error(c.get("/api/supervision"), 503, "TreeUnavailableError")
    assert "not running" in body["problem"]


# -- supervision -------------------------------------------------------------------------


def test_supervision_returns_the_tree(clock: FakeClock) -> None:
    tree = healthy_tree()
    tree["children"][0]["children"][0].update(
        state="restarting", restarts=2, pids=[4242],
        history=[{"at": 1700000000.5, "reason": "crash", "error": "RuntimeError: boom"}],
    )
    expected = copy.deepcopy(tree)
    with make_client(clock, tree=lambda: tree) as c:
        response = c.get("/api/supervision")
    assert response.status_code == 200
    assert response.json() == expected


# -- timeline validation -----------------------------------------------------------------


def test_validate_valid_timeline(clock: FakeClock) -> None:
    seen: list[object] = []

    def validate(document: object) -> list[FakeProblem]:
        seen.append(document)
        return []

    document = {"timeline": {"id": "t1", "tracks": {}}}
    with make_client(clock, validate=validate) as c:
        response = c.post("/api/timelines/validate", json=document)
    assert response.status_code == 200
    assert response.json() == {"valid": True, "problems": []}
    assert seen == [document]


def test_validate_invalid_timeline_lists_problems(clock: FakeClock) -> None:
    problems = [
        FakeProblem("timeline.tracks.video.cues[1].duration", "must be > 0", "set a duration"),
        FakeProblem("timeline.fps", "must be 1..60", "use 30"),
    ]
    with make_client(clock, validate=lambda document: problems) as c:
        response = c.post("/api/timelines/validate", json={"timeline": {}})
    assert response.status_code == 422
    assert response.json() == {
        "valid": False,
        "problems": [
            {"path": "timeline.tracks.video.cues[1].duration", "message": "must be > 0",
             "hint": "set a duration"},
            {"path": "timeline.fps", "message": "must be 1..60", "hint": "use 30"},
        ],
    }


def test_validate_accepts_json_with_charset(client: TestClient) -> None:
    response = client.post(
        "/api/timelines/validate", content=b'{"timeline": {}}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_malformed_json_is_422_with_line_and_column(client: TestClient) -> None:
    body = b'{\n  "timeline": {\n    "id": "t1",,\n  }\n}'
    response = client.post(
        "/api/timelines/validate", content=body, headers={"content-type": "application/json"}
    )
    error = assert_error(response, 422, "MalformedJsonError")
    assert "line 3, column 16" in error["problem"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "line 1, column 1"),
        (b'{"a": \xff}', "not UTF-8"),
        (b'{"fps": NaN}', "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_unparseable_bodies_are_422(clock: FakeClock, body: bytes, needle: str) -> None:
    with make_client(clock, max_body_bytes=1_000_000) as c:
        response = c.post(
            "/api/timelines/validate", content=body, headers={"content-type": "application/json"}
        )
    assert needle in assert_error(response, 422, "MalformedJsonError")["problem"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/api/timelines/validate", content=b'{"timeline": {}}', headers=headers)
    error = assert_error(response, 415, "UnsupportedMediaTypeError")
    assert "application/json" in error["hint"]


# -- body size limit ---------------------------------------------------------------------


def test_declared_body_over_limit_is_413(client: TestClient) -> None:
    payload = json.dumps({"timeline": {"name": "x" * 5000}}).encode()
    response = client.post(
        "/api/timelines/validate", content=payload, headers={"content-type": "application/json"}
    )
    error = assert_error(response, 413, "PayloadTooLargeError")
    assert "4096 bytes" in error["problem"]
    assert "max_body_bytes" in error["hint"]


def test_chunked_body_over_limit_is_413(clock: FakeClock) -> None:
    sent_headers: dict[str, str] = {}

    def chunks() -> Iterator[bytes]:
        yield b'{"timeline": {"name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    validated: list[object] = []

    def validate(document: object) -> list[FakeProblem]:
        validated.append(document)
        return []

    with make_client(clock, validate=validate) as c:
        response = c.post(
            "/api/timelines/validate", content=chunks(),
            headers={"content-type": "application/json"},
        )
        sent_headers.update(response.request.headers)
    assert "content-length" not in sent_headers
    assert sent_headers["transfer-encoding"] == "chunked"
    assert "4096 bytes" in assert_error(response, 413, "PayloadTooLargeError")["problem"]
    assert validated == []


def test_body_at_the_limit_is_accepted(clock: FakeClock) -> None:
    payload = b'{"name": "' + b"x" * (4096 - 12) + b'"}'
    assert len(payload) == 4096
    with make_client(clock) as c:
        response = c.post(
            "/api/timelines/validate", content=payload,
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 200


# -- routing errors ----------------------------------------------------------------------


# "/" is the operator console now (tests/console/test_page.py)
@pytest.mark.parametrize("path", ["/api/nope", "/index.html", "/api", "/static/nope.js"])
def test_unknown_route_is_404_json(client: TestClient, path: str) -> None:
    error = assert_error(client.get(path), 404, "NotFoundError")
    assert "/api/health" in error["hint"]


def test_wrong_method_is_405_json(client: TestClient) -> None:
    response = client.get("/api/timelines/validate")
    error = assert_error(response, 405, "MethodNotAllowedError")
    assert response.headers["allow"] == "POST"
    assert "POST" in error["hint"]
    assert_error(client.delete("/api/health"), 405, "MethodNotAllowedError")


def test_unexpected_exception_is_500_json_without_traceback(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("internal detail /etc/shadow")

    with make_client(clock, tree=broken) as c, caplog.at_level(logging.ERROR):
        response = c.get("/api/supervision")
    error = assert_error(response, 500, "InternalServerError")
    assert "internal detail" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    incident = error["problem"].split("incident ")[1].rstrip(").")
    logged = [r for r in caplog.records if r.name == "vistter.api.errors"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert incident in logged[0].getMessage()


def test_validator_crash_is_500(clock: FakeClock) -> None:
    def crash(document: object) -> list[FakeProblem]:
        raise KeyError("bug")

    with make_client(clock, validate=crash) as c:
        response = c.post("/api/timelines/validate", json={"timeline": {}})
    assert_error(response, 500, "InternalServerError")


# -- auth --------------------------------------------------------------------------------


@pytest.fixture
def secured(clock: FakeClock) -> Iterator[TestClient]:
    with make_client(clock, token=TOKEN) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/supervision"), ("POST", "/api/timelines/validate"), ("GET", "/api/nope")],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_token_required(
    secured: TestClient, caplog: pytest.LogCaptureFixture,
    method: str, path: str, authorization: str | None,
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    with caplog.at_level(logging.DEBUG):
        response = secured.request(method, path, headers=headers, json={"timeline": {}})
    error = assert_error(response, 401, "UnauthorizedError")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in error["hint"]
    assert TOKEN not in response.text
    assert TOKEN not in caplog.text


def test_token_accepted(secured: TestClient) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    assert secured.get("/api/supervision", headers=headers).status_code == 200
    response = secured.post("/api/timelines/validate", headers=headers, json={"timeline": {}})
    assert response.status_code == 200
    lowercase = {"authorization": f"bearer {TOKEN}"}
    assert secured.get("/api/supervision", headers=lowercase).status_code == 200
    assert_error(secured.get("/api/nope", headers=headers), 404, "NotFoundError")


def test_health_is_public_with_token(secured: TestClient) -> None:
    assert secured.get("/api/health").status_code == 200
    assert secured.head("/api/health").status_code == 200


def test_blank_token_is_a_config_error(clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="empty"):
        make_client(clock, token="  ")


def test_token_not_in_deps_repr() -> None:
    deps = ApiDeps(tree=healthy_tree, validate_timeline=no_problems, started_at=0.0,
                   version="1", token=TOKEN)
    assert TOKEN not in repr(deps)
