"""An open console tab does not hold the API server's stop: ``ApiServer.teardown`` ends every
event stream before asking uvicorn to exit (before, uvicorn waited out its graceful-shutdown
timeout for the endless stream: 4.6 s with one tab open)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
from support.sse_client import SseReader

from vistter.api import ApiDeps, ApiServer, create_app
from vistter.api.server import GRACEFUL_SHUTDOWN_SECONDS
from vistter.supervisors.link import ExitReason, Link
from vistter.telemetry import TelemetryBus

STOP_BUDGET_SECONDS = 1.0


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=10)


def tree() -> dict[str, Any]:
    return {"id": "root", "path": "root", "kind": "supervisor", "state": "running",
            "children": []}


@pytest.mark.timeout(60)
def test_an_open_event_stream_ends_when_the_server_stops_and_does_not_delay_it() -> None:
    bus = TelemetryBus()
    app = create_app(ApiDeps(tree=tree, validate_timeline=lambda d: [], started_at=0.0,
                             version="test", events=bus))
    link = Link("root/api")
    ref = ApiServer.start(link, app, "127.0.0.1", 0, None)
    port = ref.proxy().bound_port().get(timeout=15)
    with SseReader(f"http://127.0.0.1:{port}/api/events") as tab:
        assert tab.next_of("hello").event == "hello"
        bus.publish("event.show", {"state": "live"})
        assert tab.next_of("message").data["topic"] == "event.show"
        started = time.monotonic()
        ref.stop(timeout=15)
        stopped = time.monotonic() - started
        assert tab.ended.wait(2), "the event stream was left open after the server stopped"
    assert link.exit is not None and link.exit.reason == ExitReason.NORMAL
    print(f"API server stop with one console tab open: {stopped * 1e3:.0f} ms")
    assert stopped < STOP_BUDGET_SECONDS < GRACEFUL_SHUTDOWN_SECONDS, stopped


@pytest.mark.timeout(60)
def test_a_restarted_server_on_the_same_app_streams_events_again() -> None:
    bus = TelemetryBus()
    app = create_app(ApiDeps(tree=tree, validate_timeline=lambda d: [], started_at=0.0,
                             version="test", events=bus))
    for _ in range(2):
        link = Link("root/api")
        ref = ApiServer.start(link, app, "127.0.0.1", 0, None)
        port = ref.proxy().bound_port().get(timeout=15)
        with SseReader(f"http://127.0.0.1:{port}/api/events?topics=alert") as tab:
            tab.next_of("hello")
            bus.publish("alert", {"message": "camera 2 offline"})
            assert tab.next_of("message").data["payload"]["message"] == "camera 2 offline"
            ref.stop(timeout=15)
            assert tab.ended.wait(2)
