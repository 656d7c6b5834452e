"""``GET /api/events``: the telemetry bus as Server-Sent Events, bounded for every client.

The app under test is the real control app (``create_app``) on a real uvicorn, fed by a real
:class:`TelemetryBus`; only the supervision tree behind it is a fixed snapshot.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from support.asgi_server import serving
from support.sse_client import SseReader

from vistter.api.app import ApiDeps, create_app
from vistter.api.errors import handle_operator_error
from vistter.console import EventHub, console_routes
from vistter.errors import OperatorError
from vistter.telemetry import TelemetryBus

pytestmark = pytest.mark.timeout(60)


def control_app(bus: TelemetryBus) -> Starlette:
    tree = {"id": "root", "path": "", "state": "running", "children": []}
    return create_app(ApiDeps(tree=lambda: tree, validate_timeline=lambda document: [],
                              started_at=0.0, version="test", events=bus))


@pytest.fixture
def bus() -> TelemetryBus:
    return TelemetryBus()


@pytest.fixture
def base_url(bus: TelemetryBus) -> Iterator[str]:
    with serving(control_app(bus)) as url:
        yield url


def wait_for_subscribers(url: str, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/api/telemetry/latest").json()["stream"]["subscribers"] == count:
            return
        time.sleep(0.02)
    raise AssertionError(f"the hub never had {count} subscriber(s)")


def test_bus_messages_reach_an_event_stream_client_within_a_second(
    bus: TelemetryBus, base_url: str, record_property: Any
) -> None:
    published: dict[int, float] = {}
    with SseReader(f"{base_url}/api/events?topics=test.latency") as reader:
        assert reader.next_of("hello").data == {"latest": []}
        for n in range(60):
            published[n] = time.perf_counter()
            bus.publish("test.latency", {"n": n})
            time.sleep(0.02)
        latencies = []
        for _ in range(60):
            event = reader.next_of("message")
            assert event.data["topic"] == "test.latency"
            latencies.append(event.received - published[event.data["payload"]["n"]])
    assert reader.status == 200
    median, worst = statistics.median(latencies), max(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    record_property("sse_latency_ms", f"median {median * 1e3:.1f}, p95 {p95 * 1e3:.1f}, "
                                      f"max {worst * 1e3:.1f}")
    print(f"SSE latency bus->client over 60 messages: median {median * 1e3:.1f} ms, "
          f"p95 {p95 * 1e3:.1f} ms, max {worst * 1e3:.1f} ms")
    assert worst < 1.0, f"a message took {worst:.3f} s from the bus to the client"


def test_the_stream_keeps_order_and_filters_by_topic_prefix(
    bus: TelemetryBus, base_url: str
) -> None:
    with SseReader(f"{base_url}/api/events?topics=event.show,alert") as reader:
        reader.next_of("hello")
        bus.publish("metrics.system", {"cpu_percent": 12.5})
        bus.publish("event.show", {"event": "live", "state": "live"})
        bus.publish("event.camera", {"state": "offline"})
        bus.publish("alert", {"severity": "warning", "message": "Camera 2 offline"})
        first, second = reader.next_of("message"), reader.next_of("message")
    assert [first.data["topic"], second.data["topic"]] == ["event.show", "alert"]
    assert int(str(first.event_id)) < int(str(second.event_id))
    assert second.data["payload"]["message"] == "Camera 2 offline"


def test_a_new_client_gets_the_latest_metrics_at_once(bus: TelemetryBus, base_url: str) -> None:
    bus.publish("metrics.system", {"cpu_percent": 41.0, "memory_percent": 7.0})
    bus.publish("metrics.stream", {"component": "encoder", "frames_written": 30})
    bus.publish("metrics.stream", {"component": "fanout", "packets": 90})
    bus.publish("metrics.system", {"cpu_percent": 42.0, "memory_percent": float("nan")})
    with SseReader(f"{base_url}/api/events") as reader:
        hello = reader.next_of("hello").data
    latest = {(m["topic"], m["payload"].get("component")): m["payload"] for m in hello["latest"]}
    assert latest[("metrics.system", None)] == {"cpu_percent": 42.0, "memory_percent": None}
    assert latest[("metrics.stream", "encoder")]["frames_written"] == 30
    assert latest[("metrics.stream", "fanout")]["packets"] == 90
    polled = httpx.get(f"{base_url}/api/telemetry/latest").json()
    assert [m["payload"] for m in polled["latest"]][-1]["cpu_percent"] == 42.0


def test_a_client_that_hangs_up_is_forgotten(bus: TelemetryBus, base_url: str) -> None:
    reader = SseReader(f"{base_url}/api/events")
    reader.next_of("hello")
    wait_for_subscribers(base_url, 1)
    reader.close()
    bus.publish("event.show", {"state": "live"})  # a write to the gone client, if any
    wait_for_subscribers(base_url, 0)


def test_the_event_stream_needs_the_token_when_one_is_set(bus: TelemetryBus) -> None:
    tree = {"id": "root", "path": "", "state": "running", "children": []}
    app = create_app(ApiDeps(tree=lambda: tree, validate_timeline=lambda document: [],
                             started_at=0.0, version="test", events=bus, token="s3cret-token"))
    with serving(app) as url:
        refused = httpx.get(f"{url}/api/events", timeout=5)
        assert refused.status_code == 401
        assert refused.json()["hint"]
        assert httpx.get(f"{url}/", timeout=5).status_code == 200  # the page itself is public
        bearer = {"Authorization": "Bearer s3cret-token"}
        with SseReader(f"{url}/api/events", headers=bearer) as reader:
            assert reader.next_of("hello").data == {"latest": []}
        assert reader.status == 200


# -- bounded: a slow client is dropped, never waited for ---------------------------------


def limited_app(bus: TelemetryBus, *, capacity: int, max_subscribers: int) -> Starlette:
    return Starlette(
        routes=console_routes(bus, capacity=capacity, max_subscribers=max_subscribers),
        exception_handlers={OperatorError: handle_operator_error},
    )


def test_a_client_that_falls_behind_is_told_and_dropped(bus: TelemetryBus) -> None:
    with serving(limited_app(bus, capacity=8, max_subscribers=4)) as url:
        with SseReader(f"{url}/api/events") as reader:
            reader.next_of("hello")
            for n in range(2000):  # a burst far faster than the loop drains 8 messages
                bus.publish("event.show", {"n": n})
            overflow = reader.next_of("overflow")
            assert overflow.data == {"reason": "too slow"}
            assert reader.ended.wait(5), "the stream did not end after the overflow"
        stats = httpx.get(f"{url}/api/telemetry/latest").json()["stream"]
    assert stats["dropped_clients"] == 1
    assert stats["subscribers"] == 0


def test_more_streams_than_slots_get_503_with_a_hint(bus: TelemetryBus) -> None:
    with (
        serving(limited_app(bus, capacity=8, max_subscribers=1)) as url,
        SseReader(f"{url}/api/events") as first,
    ):
        first.next_of("hello")
        refused = httpx.get(f"{url}/api/events", timeout=5)
        assert refused.status_code == 503
        body = refused.json()
        assert "event streams are open" in body["problem"]
        assert body["hint"]


def test_a_stuck_client_never_blocks_the_bus() -> None:
    """A subscription whose loop never runs (the worst reader) costs the publisher nothing:
    its queue stops at the capacity, it is dropped, and publishing stays fast."""
    bus = TelemetryBus()
    hub = EventHub(bus, capacity=16)
    loop = asyncio.new_event_loop()
    try:
        stuck = hub.subscribe(loop)
        started = time.perf_counter()
        for n in range(5000):
            bus.publish("event.show", {"n": n})
        elapsed = time.perf_counter() - started
        assert stuck.overflowed
        hub.unsubscribe(stuck)
        assert hub.stats() == {"subscribers": 0, "messages": 5000, "dropped_clients": 1}
    finally:
        loop.close()
        hub.close()
    assert elapsed < 2.0, f"5000 publishes took {elapsed:.2f} s with a stuck client"


def test_publishing_from_many_threads_keeps_every_message_for_a_reader() -> None:
    bus = TelemetryBus()
    hub = EventHub(bus, capacity=10_000)
    loop = asyncio.new_event_loop()
    try:
        subscription = hub.subscribe(loop, ("event.",))

        def publish(thread: int) -> None:
            for n in range(500):
                bus.publish("event.show", {"thread": thread, "n": n})

        threads = [threading.Thread(target=publish, args=(t,)) for t in range(4)]
        for worker in threads:
            worker.start()
        for worker in threads:
            worker.join(10)
        batch = loop.run_until_complete(subscription.next_batch(1.0))
        assert batch is not None and len(batch) == 2000
        for thread in range(4):
            assert [e.payload["n"] for e in batch if e.payload["thread"] == thread] == list(
                range(500)
            )
        subscription.close()
        assert loop.run_until_complete(subscription.next_batch(1.0)) is None
    finally:
        loop.close()
        hub.close()


def test_a_subscription_whose_server_loop_is_gone_frees_its_slot() -> None:
    """An API thread that was abandoned (its loop closed, its stream never unsubscribed)
    does not keep an event-stream slot forever."""
    bus = TelemetryBus()
    hub = EventHub(bus, max_subscribers=1)
    gone, fresh = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        orphan = hub.subscribe(gone)
        gone.close()
        bus.publish("event.show", {"state": "live"})  # the wake-up finds the loop closed
        assert orphan.closed
        replacement = hub.subscribe(fresh)
        assert hub.stats()["subscribers"] == 1
        hub.unsubscribe(replacement)
    finally:
        fresh.close()
        hub.close()
