"""STREAM_METRICS: every field on the bus each second, as gauges, and in /metrics' format."""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
from prometheus_client.parser import text_string_to_metric_families

from vistter.clock import FakeClock
from vistter.supervisors.link import Link
from vistter.telemetry import Metrics, TelemetryBus
from vistter.telemetry.stream import STREAM_FIELDS, StreamInputs, StreamSampler, StreamTargets
from vistter.telemetry.topics import DESTINATION_TOPIC, PROGRAM_METRICS_TOPIC, STREAM_METRICS_TOPIC

pytestmark = pytest.mark.timeout(60)

SPEC_FIELDS = {
    "bitrate_current", "bitrate_target", "framerate_actual", "framerate_target",
    "dropped_frames", "encoding_cpu", "encoding_time_ms", "buffer_fullness", "uptime_seconds",
    "total_bytes_sent", "destinations",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.fixture
def busy_encoder() -> Iterator[int]:
    """A process that burns CPU, standing in for the encoder ffmpeg; ended by its PID."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait(10)


def readings(bus: TelemetryBus) -> queue.Queue[dict[str, Any]]:
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    def listen(topic: str, payload: dict[str, Any]) -> None:
        if topic == STREAM_METRICS_TOPIC and payload.get("component") == "stream":
            received.put(payload)

    bus.add_listener(listen)
    return received


def encoder(pid: int, frames: int, written: int, dropped: int = 0) -> dict[str, Any]:
    return {"component": "encoder", "pid": pid, "frames_written": frames, "bytes_out": written,
            "frames_dropped": dropped, "drop_frames": 0}  # fmt: skip


def fanout(**bytes_out: int) -> dict[str, Any]:
    return {"component": "fanout",
            "destinations": {k: {"bytes_out": v} for k, v in bytes_out.items()}}


def test_every_field_each_second_on_the_bus_as_gauges_and_in_prometheus(busy_encoder: int) -> None:
    fake, bus, metrics, inputs = FakeClock(), TelemetryBus(), Metrics(), StreamInputs()
    bus.add_listener(inputs)
    got = readings(bus)
    fullness = [55.0]
    link = Link("telemetry/stream", clock=fake)
    StreamSampler.start(link, bus, inputs, StreamTargets(bitrate_mbps=4.5, fps=30.0),
                        started_at=fake.monotonic() - 100, metrics=metrics,
                        buffer_fullness=lambda: fullness[0])  # fmt: skip
    assert link.ready.wait(10)
    assert inputs.health()["state"] == "unknown"

    bus.publish(DESTINATION_TOPIC, {"id": "youtube", "state": "live"})
    bus.publish(DESTINATION_TOPIC, {"id": "facebook", "state": "retrying"})
    bus.publish(STREAM_METRICS_TOPIC, encoder(busy_encoder, 1000, 10_000_000))
    bus.publish(STREAM_METRICS_TOPIC, fanout(youtube=5_000_000, facebook=0, preview=7_000))
    bus.publish(PROGRAM_METRICS_TOPIC, {"fps": 30.0, "dropped": 2})
    fake.advance(1.0)
    first = got.get(timeout=10)
    assert set(first) >= SPEC_FIELDS

    time.sleep(0.5)  # real time for the busy process to use CPU between two readings
    bus.publish(STREAM_METRICS_TOPIC, encoder(busy_encoder, 1030, 10_562_500, dropped=3))
    bus.publish(STREAM_METRICS_TOPIC, fanout(youtube=5_562_500, facebook=0, preview=9_000))
    bus.publish(PROGRAM_METRICS_TOPIC, {"fps": 30.0, "dropped": 10})
    fake.advance(1.0)
    second = got.get(timeout=10)
    assert second["bitrate_current"] == pytest.approx(4.5)
    assert (second["bitrate_target"], second["framerate_target"]) == (4.5, 30.0)
    assert second["framerate_actual"] == pytest.approx(30.0)
    assert second["dropped_frames"] == 2 + 8 + 3
    assert second["dropped_frames_per_second"] == pytest.approx(11.0)
    assert 5.0 < second["encoding_cpu"] <= 100.0
    assert second["encoding_time_ms"] > 0
    assert second["buffer_fullness"] == 55.0
    assert second["uptime_seconds"] == 102
    assert second["total_bytes_sent"] == 5_562_500  # the preview's queue is not an output
    assert second["destinations"] == {
        "facebook": {"status": "retrying", "bitrate": 0.0},
        "youtube": {"status": "active", "bitrate": pytest.approx(4.5)},
    }
    assert second["health"]["state"] == "unhealthy"
    assert "facebook disconnected (retrying)" in second["health"]["errors"]
    assert inputs.health() == second["health"]

    text = metrics.prometheus_text()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for field in STREAM_FIELDS:
        [sample] = families[f"vistter_stream_{field}"].samples
        assert sample.value == pytest.approx(second[field]), field
    bitrates = {s.labels["destination"]: s.value
                for s in families["vistter_stream_destination_bitrate"].samples}
    assert bitrates == {"facebook": 0.0, "youtube": pytest.approx(4.5)}
    states = {s.labels["state"]: s.value for s in families["vistter_stream_health"].samples}
    assert states == {"healthy": 0.0, "degraded": 0.0, "unhealthy": 1.0}

    # A stopped output leaves the reading; an encoder restart does not count bytes twice.
    bus.publish(DESTINATION_TOPIC, {"id": "facebook", "state": "stopped"})
    # real time again: psutil's CPU share over a few microseconds is noise (it read > 90 %)
    time.sleep(0.5)
    bus.publish(STREAM_METRICS_TOPIC, encoder(busy_encoder, 30, 562_500))
    fullness[0] = 5.0
    fake.advance(1.0)
    third = got.get(timeout=10)
    assert set(third["destinations"]) == {"youtube"}
    assert third["bitrate_current"] == pytest.approx(4.5)
    assert third["dropped_frames"] == 13
    assert third["health"]["state"] == "healthy"
    assert third["health"]["warnings"][-1] == "Low buffer: 5 % (less than 10 %)"


def test_without_an_encoder_yet_the_reading_is_zero_not_a_crash() -> None:
    fake, bus, inputs = FakeClock(), TelemetryBus(), StreamInputs()
    bus.add_listener(inputs)
    got = readings(bus)
    link = Link("telemetry/stream", clock=fake)
    StreamSampler.start(link, bus, inputs, StreamTargets(bitrate_mbps=2.5, fps=25.0),
                        started_at=fake.monotonic())  # fmt: skip
    assert link.ready.wait(10)
    bus.publish(STREAM_METRICS_TOPIC, {"component": "encoder", "pid": 2**22 + 12345})
    fake.advance(1.0)
    reading = got.get(timeout=10)
    assert (reading["encoding_cpu"], reading["framerate_actual"]) == (0.0, 0.0)
    assert reading["buffer_fullness"] == 100.0  # no show: nothing to arm ahead
    assert reading["health"] == {"state": "healthy", "reasons": [], "warnings": [],
                                 "errors": []}  # fmt: skip
    assert link.exit is None
