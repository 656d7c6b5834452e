"""The publisher actor over real ZeroMQ on 127.0.0.1, read by TelemetrySubscriber."""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pykka
import pytest
import zmq

from vistter.errors import ConfigError
from vistter.supervisors.link import ExitReason, Link
from vistter.telemetry import (
    TelemetryBindError,
    TelemetryBus,
    TelemetryMessage,
    TelemetryPublisher,
    TelemetrySubscriber,
    encode,
)
from vistter.telemetry.publisher import bind_pub_socket

pytestmark = pytest.mark.timeout(60)

SYNC = "sync"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def start_publisher(
    bus: TelemetryBus, endpoint: str = "tcp://127.0.0.1:*"
) -> tuple[Link, pykka.ActorRef[TelemetryPublisher], str]:
    link = Link("test/telemetry/publisher")
    ref = TelemetryPublisher.start(link, bus, endpoint)
    assert link.ready.wait(10), f"publisher did not start: {link.exit}"
    bound: str = ref.proxy().endpoint().get(timeout=10)
    return link, ref, bound


def sync(bus: TelemetryBus, subscriber: TelemetrySubscriber, timeout: float = 10.0) -> None:
    """Beat ZeroMQ's slow joiner: publish probes until the subscriber sees one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bus.publish(SYNC, {})
        message = subscriber.receive(0.05)
        if message is not None and message.topic == SYNC:
            return
    raise AssertionError("subscriber never received a probe")


def receive(subscriber: TelemetrySubscriber, count: int, timeout: float = 10.0) -> list[
    TelemetryMessage
]:
    """The next ``count`` messages that are not probes."""
    deadline = time.monotonic() + timeout
    messages: list[TelemetryMessage] = []
    while len(messages) < count:
        remaining = deadline - time.monotonic()
        message = subscriber.receive(max(0.0, remaining))
        if message is None:
            raise AssertionError(f"got {len(messages)} of {count} messages")
        if message.topic != SYNC:
            messages.append(message)
    return messages


def test_round_trip_with_topic_filter_and_consecutive_seqs() -> None:
    bus = TelemetryBus()
    _, ref, endpoint = start_publisher(bus)
    assert endpoint.startswith("tcp://127.0.0.1:")
    assert not endpoint.endswith(":*")
    publisher_id = ref.proxy().publisher_id.get(timeout=10)
    with TelemetrySubscriber(endpoint, ["metrics.", SYNC]) as subscriber:
        sync(bus, subscriber)
        before = time.time()
        for i in range(30):
            bus.publish("metrics.stream", {"i": i})
            bus.publish("event.camera", {"i": i})
        messages = receive(subscriber, 30)
        assert {m.topic for m in messages} == {"metrics.stream"}
        assert [m.seq for m in messages] == list(range(30))
        assert [m.payload["i"] for m in messages] == list(range(30))
        assert {m.publisher for m in messages} == {publisher_id}
        assert all(before - 1 <= m.ts <= time.time() + 1 for m in messages)
        late = subscriber.receive(0.2)
        assert late is None or late.topic == SYNC
        assert subscriber.gaps.missed_total == 0
    stats = ref.proxy().stats().get(timeout=10)
    assert stats["sent"] >= 61
    assert stats["dropped"] == 0


class Mode(enum.StrEnum):
    LIVE = "live"


@dataclass
class Destination:
    name: str
    path: Path


def test_odd_payload_values_reach_the_subscriber() -> None:
    bus = TelemetryBus()
    _, _, endpoint = start_publisher(bus)
    with TelemetrySubscriber(endpoint) as subscriber:
        sync(bus, subscriber)
        bus.publish(
            "event.destination",
            {
                "mode": Mode.LIVE,
                "at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                "destination": Destination("yt", Path("/srv/rec")),
                "tags": frozenset({"b", "a"}),
                "thing": object(),
            },
        )
        (message,) = receive(subscriber, 1)
    assert message.topic == "event.destination"
    assert message.payload["mode"] == "live"
    assert message.payload["at"] == "2024-01-02T03:04:05+00:00"
    assert message.payload["destination"] == {"name": "yt", "path": "/srv/rec"}
    assert message.payload["tags"] == ["a", "b"]
    assert message.payload["thing"].startswith("<object object")


def test_backlog_is_flushed_through_a_late_publisher() -> None:
    bus = TelemetryBus()
    for i in range(7):
        bus.publish("event.camera", {"i": i})
    assert bus.stats()["backlog"] == 7
    _, ref, _ = start_publisher(bus)
    # The flush was told before this ask, so the actor has sent them by the time it answers.
    stats = ref.proxy().stats().get(timeout=10)
    assert stats["sent"] == 7
    assert bus.stats()["backlog"] == 0
    assert bus.attached


def test_restart_changes_publisher_id_and_is_not_a_gap() -> None:
    bus = TelemetryBus()
    first_link, first, endpoint = start_publisher(bus)
    first_id = first.proxy().publisher_id.get(timeout=10)
    with TelemetrySubscriber(endpoint, ["metrics.", SYNC]) as subscriber:
        sync(bus, subscriber)
        for i in range(5):
            bus.publish("metrics.stream", {"phase": "before", "i": i})
        assert [m.seq for m in receive(subscriber, 5)] == list(range(5))

        first.stop()
        assert first_link.exited.wait(10)
        assert first_link.exit is not None
        assert first_link.exit.reason is ExitReason.NORMAL
        assert not bus.attached
        bus.publish("metrics.stream", {"phase": "between"})  # kept in the backlog

        _, second, second_endpoint = start_publisher(bus, endpoint)
        assert second_endpoint == endpoint
        second_id = second.proxy().publisher_id.get(timeout=10)
        assert second_id != first_id
        sync(bus, subscriber)
        for i in range(5):
            bus.publish("metrics.stream", {"phase": "after", "i": i})
        after: list[TelemetryMessage] = []
        while len(after) < 5:
            (message,) = receive(subscriber, 1)
            if message.payload.get("phase") == "after":
                after.append(message)
        assert {m.publisher for m in after} == {second_id}
        seqs = [m.seq for m in after]
        assert seqs == list(range(seqs[0], seqs[0] + 5))
        assert seqs[0] in (0, 1)  # 1 when the backlogged message went first
        assert subscriber.gaps.missed_total == 0
        assert set(subscriber.gaps.publishers) == {first_id, second_id}


def test_subscriber_counts_a_forced_gap_and_skips_garbage() -> None:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        socket = bind_pub_socket(context, "tcp://127.0.0.1:*")
        endpoint = socket.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
        with TelemetrySubscriber(endpoint) as subscriber:
            deadline = time.monotonic() + 10
            first = None
            while first is None and time.monotonic() < deadline:
                socket.send_multipart(encode(TelemetryMessage(SYNC, 0, time.time(), "raw", {})))
                first = subscriber.receive(0.05)
            assert first is not None
            while subscriber.receive(0.1) is not None:
                pass
            for seq in (0, 1, 2, 6, 7, 9):
                socket.send_multipart(encode(TelemetryMessage("alert", seq, time.time(),
                                                              "raw", {"seq": seq})))
            socket.send_multipart([b"alert", b"\xc1 not msgpack"])
            socket.send_multipart(encode(TelemetryMessage("alert", 10, time.time(), "raw", {})))
            seqs: list[int] = []
            while len(seqs) < 7:
                message = subscriber.receive(5)
                assert message is not None
                seqs.append(message.seq)
        assert seqs == [0, 1, 2, 6, 7, 9, 10]
        assert subscriber.gaps.missed == {"raw": 4}
        assert subscriber.undecodable == 1
    finally:
        context.destroy(linger=0)


def test_bind_conflict_is_a_typed_error_naming_the_endpoint() -> None:
    bus = TelemetryBus()
    _, _, endpoint = start_publisher(bus)

    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        with pytest.raises(TelemetryBindError) as caught:
            bind_pub_socket(context, endpoint)
    finally:
        context.destroy(linger=0)
    assert isinstance(caught.value, ConfigError)
    assert endpoint in str(caught.value)
    assert "already in use" in caught.value.problem
    assert "[telemetry]" in caught.value.hint

    link = Link("test/telemetry/publisher2")
    TelemetryPublisher.start(link, bus, endpoint)
    assert link.exited.wait(10)
    exit_ = link.exit
    assert exit_ is not None
    assert exit_.reason is ExitReason.START_FAILED
    assert exit_.error is not None
    assert "TelemetryBindError" in exit_.error
    assert endpoint in exit_.error
    assert bus.attached  # the first publisher is still the one attached


def test_malformed_endpoint_is_a_typed_error() -> None:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        with pytest.raises(TelemetryBindError) as caught:
            bind_pub_socket(context, "tcp://nowhere-at-all")
    finally:
        context.destroy(linger=0)
    assert "tcp://nowhere-at-all" in str(caught.value)


def test_teardown_detaches_and_frees_the_port() -> None:
    bus = TelemetryBus()
    link, ref, endpoint = start_publisher(bus)
    ref.stop()
    assert link.exited.wait(10)
    assert not bus.attached
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        socket: Any = bind_pub_socket(context, endpoint)
        socket.close(linger=0)
    finally:
        context.destroy(linger=0)
