"""TelemetryBus: forwarding to the attached publisher, backlog, listeners."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from vistter.supervisors.link import EventSink
from vistter.telemetry import Publish, TelemetryBus


class Recorder(pykka.ThreadingActor):
    """Stands in for the publisher: records every Publish it is told."""

    def __init__(self) -> None:
        super().__init__()
        self.received: queue.Queue[Publish] = queue.Queue()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Publish):
            self.received.put(message)
        return None


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def start_recorder() -> tuple[pykka.ActorRef[Recorder], queue.Queue[Publish]]:
    ref = Recorder.start()
    received: queue.Queue[Publish] = ref.proxy().received.get(timeout=10)
    return ref, received


def drain(received: queue.Queue[Publish], count: int) -> list[Publish]:
    return [received.get(timeout=10) for _ in range(count)]


def test_bus_is_an_event_sink() -> None:
    sink: EventSink = TelemetryBus()
    sink.publish("event.camera", {"camera": "dock"})


def test_forwards_to_attached_publisher_in_order() -> None:
    bus = TelemetryBus()
    ref, received = start_recorder()
    bus.attach(ref)
    for i in range(50):
        bus.publish("metrics.stream", {"i": i})
    messages = drain(received, 50)
    assert [m.payload["i"] for m in messages] == list(range(50))
    assert bus.stats()["backlog"] == 0


def test_backlog_flushes_in_order_when_a_publisher_attaches_late() -> None:
    bus = TelemetryBus(backlog=10)
    for i in range(5):
        bus.publish("event.camera", {"i": i})
    assert bus.stats()["backlog"] == 5
    ref, received = start_recorder()
    bus.attach(ref)
    bus.publish("event.camera", {"i": 5})
    assert [m.payload["i"] for m in drain(received, 6)] == list(range(6))
    assert bus.dropped == 0


def test_backlog_drops_oldest_and_the_next_publisher_reports_it() -> None:
    bus = TelemetryBus(backlog=3)
    for i in range(8):
        bus.publish("event.camera", {"i": i})
    assert bus.dropped == 5
    ref, received = start_recorder()
    bus.attach(ref)
    messages = drain(received, 4)
    assert messages[0].topic == "event.telemetry"
    assert messages[0].payload == {"event": "backlog_overflow", "dropped": 5, "dropped_total": 5}
    assert [m.payload["i"] for m in messages[1:]] == [5, 6, 7]


def test_detach_sends_to_backlog_and_a_stale_detach_is_ignored() -> None:
    bus = TelemetryBus()
    old, _ = start_recorder()
    new, received_new = start_recorder()
    bus.attach(old)
    bus.attach(new)
    bus.detach(old)  # the old incarnation's teardown must not cut off its successor
    assert bus.attached
    bus.publish("alert", {"n": 1})
    assert received_new.get(timeout=10).payload == {"n": 1}
    bus.detach(new)
    assert not bus.attached
    bus.publish("alert", {"n": 2})
    assert bus.stats()["backlog"] == 1


def test_a_dead_publisher_that_did_not_detach_does_not_lose_messages() -> None:
    bus = TelemetryBus()
    ref, _ = start_recorder()
    bus.attach(ref)
    ref.stop()
    bus.publish("alert", {"n": 1})  # tell raises ActorDeadError inside; must not escape
    assert not bus.attached
    assert bus.stats()["backlog"] == 1
    fresh, received = start_recorder()
    bus.attach(fresh)
    assert received.get(timeout=10).payload == {"n": 1}


def test_listeners_see_every_message_and_can_be_removed() -> None:
    bus = TelemetryBus()
    seen: list[tuple[str, dict[str, Any]]] = []
    remove = bus.add_listener(lambda topic, payload: seen.append((topic, payload)))
    bus.publish("metrics.system", {"cpu": 1.5})
    remove()
    remove()
    bus.publish("metrics.system", {"cpu": 2.5})
    assert seen == [("metrics.system", {"cpu": 1.5})]


def test_a_raising_listener_is_removed_and_publish_goes_on() -> None:
    bus = TelemetryBus()
    calls: list[str] = []

    def broken(topic: str, payload: dict[str, Any]) -> None:
        calls.append(topic)
        raise RuntimeError("listener bug")

    good: list[str] = []
    bus.add_listener(broken)
    bus.add_listener(lambda topic, payload: good.append(topic))
    bus.publish("alert", {})
    bus.publish("alert", {})
    assert calls == ["alert"]
    assert good == ["alert", "alert"]
    assert bus.stats()["listeners"] == 1


def test_publish_never_raises_and_snapshots_the_payload() -> None:
    bus = TelemetryBus()
    seen: list[dict[str, Any]] = []
    bus.add_listener(lambda topic, payload: seen.append(payload))
    payload: dict[str, Any] = {"items": [1], "odd": object()}
    bus.publish("alert", payload)
    payload["items"].append(2)
    bus.publish("alert", "not a dict")  # type: ignore[arg-type]
    assert seen[0]["items"] == [1]
    assert isinstance(seen[0]["odd"], str)
    assert seen[1] == {"value": "not a dict"}


@pytest.mark.timeout(60)
def test_publish_from_many_threads_keeps_each_threads_order() -> None:
    bus = TelemetryBus(backlog=10_000)
    ref, received = start_recorder()
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        start.wait(timeout=10)
        for i in range(200):
            bus.publish("event.test", {"thread": name, "i": i})
            if name == "t0" and i == 100:
                bus.attach(ref)

    threads = [threading.Thread(target=worker, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    messages = drain(received, 800)
    for name in ("t0", "t1", "t2", "t3"):
        assert [m.payload["i"] for m in messages if m.payload["thread"] == name] == list(
            range(200)
        )
