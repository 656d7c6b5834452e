"""The spec's ``STREAM_METRICS``, every second, on the bus and as OpenTelemetry gauges.

```python
STREAM_METRICS = {
    'bitrate_current': float,   # Mbps, bytes the encoder wrote in the last interval
    'bitrate_target': float,    # Mbps, [encoding] bitrate_kbps
    'framerate_actual': float,  # frames the encoder took per second, last interval
    'framerate_target': float,  # the program's fps
    'dropped_frames': int,      # since start: mixer late drops + encoder queue drops + ffmpeg
    'encoding_cpu': float,      # % of the whole machine used by the encoder ffmpeg
    'encoding_time_ms': float,  # encoder CPU time per frame, last interval
    'buffer_fullness': float,   # % of the show's lookahead armed ahead (100 when no show runs)
    'uptime_seconds': int,      # since the appliance started
    'total_bytes_sent': int,    # since start: bytes handed to the destinations and recorders
    'destinations': {id: {'status': 'active' | state, 'bitrate': Mbps}},
}
```

:class:`StreamInputs` (a bus listener, owned by the appliance, so it outlives actor
restarts) keeps the latest encoder, fanout and mixer metrics and every output's state;
:class:`StreamSampler` (an actor under ``telemetry``) turns them into one reading per
``interval``, with its :func:`~vistter.telemetry.health.check_stream_health`, publishes it
on ``metrics.stream`` (``component: "stream"``), records the gauges and hands it to the
inputs, where ``/api/status`` and ``/metrics`` read it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]

from vistter.clock import Timer
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.health import HealthThresholds, StreamHealth, check_stream_health
from vistter.telemetry.metrics import Metrics
from vistter.telemetry.payloads import (
    DestinationReading,
    StreamHealthPayload,
    StreamMetricsPayload,
    StreamReading,
)
from vistter.telemetry.topics import (
    DESTINATION_TOPIC,
    PROGRAM_METRICS_TOPIC,
    STREAM_METRICS_TOPIC,
)

__all__ = ["STREAM_FIELDS", "StreamInputs", "StreamSampler", "StreamTargets"]

STREAM_FIELDS: dict[str, str] = {
    "bitrate_current": "Program bitrate written by the encoder, Mbit/s, last second.",
    "bitrate_target": "Program bitrate configured, Mbit/s.",
    "framerate_actual": "Frames the encoder took per second, last second.",
    "framerate_target": "The program's frame rate.",
    "dropped_frames": "Frames dropped since start (mixer, encoder queue, ffmpeg).",
    "encoding_cpu": "CPU used by the encoder ffmpeg, % of the whole machine.",
    "encoding_time_ms": "Encoder CPU time per frame, ms.",
    "buffer_fullness": "Share of the show's lookahead armed ahead, %.",
    "uptime_seconds": "Seconds since the appliance started.",
    "total_bytes_sent": "Bytes handed to the outputs (destinations, recorders) since start; "
                        "the console's preview is not counted.",
}
"""Every scalar field of ``STREAM_METRICS`` (``destinations`` is per output)."""

_STOPPED = "stopped"


@dataclass(frozen=True)
class StreamTargets:
    """What the stream should do: ``bitrate_mbps`` and ``fps`` from the configuration."""

    bitrate_mbps: float
    fps: float


class _Accumulator:
    """A running total fed with a counter that restarts from 0 when its process does."""

    def __init__(self) -> None:
        self.total = 0
        self._last: int | None = None

    def feed(self, current: int) -> int:
        """Add what ``current`` grew by since the last call; returns the growth."""
        grown = current if self._last is None or current < self._last else current - self._last
        self._last = current
        self.total += grown
        return grown


class StreamInputs:
    """The bus listener that keeps what a reading is made of, and the latest reading.

    Thread-safety: the listener runs in publishing threads, :meth:`take` in the sampler's,
    :meth:`latest` and :meth:`health` in the API's; one lock guards it all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._encoder: dict[str, Any] = {}
        self._fanout: dict[str, Any] = {}
        self._program: dict[str, Any] = {}
        self._outputs: dict[str, str] = {}
        self._latest: StreamMetricsPayload | None = None

    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        """Listener: keep the latest encoder, fanout and mixer figures, and output states."""
        if topic == STREAM_METRICS_TOPIC:
            component = payload.get("component")
            with self._lock:
                if component == "encoder":
                    self._encoder = payload
                elif component == "fanout":
                    self._fanout = payload
        elif topic == PROGRAM_METRICS_TOPIC:
            with self._lock:
                self._program = payload
        elif topic == DESTINATION_TOPIC:
            output_id, state = payload.get("id"), payload.get("state")
            if isinstance(output_id, str) and isinstance(state, str):
                with self._lock:
                    if state == _STOPPED:
                        self._outputs.pop(output_id, None)
                    else:
                        self._outputs[output_id] = state

    def take(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, str]]:
        """The latest encoder, fanout, mixer payloads and output states (shared: read only)."""
        with self._lock:
            return self._encoder, self._fanout, self._program, dict(self._outputs)

    def publish_reading(self, reading: StreamMetricsPayload) -> None:
        with self._lock:
            self._latest = reading

    def latest(self) -> StreamMetricsPayload | None:
        """The latest reading (``STREAM_METRICS`` plus ``health``), None before the first."""
        with self._lock:
            return self._latest

    def health(self) -> StreamHealthPayload:
        """The latest verdict, or ``unknown`` (with a reason) before the first reading."""
        latest = self.latest()
        if latest is None:
            return {"state": "unknown", "reasons": ["No stream metrics yet (the appliance is "
                    "starting)."], "warnings": [], "errors": []}  # fmt: skip
        health: StreamHealthPayload = latest["health"]
        return health


class _Tick:
    """Timer: time for a reading."""


class StreamSampler(SupervisedActor):
    """One ``STREAM_METRICS`` reading every ``interval`` seconds of the link's clock.

    ``buffer_fullness`` returns the armed share of the show's lookahead (None: no show).
    Runs in the actor's thread; reading the encoder's process with psutil may fail when it
    has just exited: that reading shows 0 % CPU, never a crash.
    """

    def __init__(
        self,
        link: Link,
        bus: TelemetryBus,
        inputs: StreamInputs,
        targets: StreamTargets,
        *,
        started_at: float,
        metrics: Metrics | None = None,
        buffer_fullness: Callable[[], float | None] | None = None,
        thresholds: HealthThresholds = HealthThresholds(),  # noqa: B008 - frozen, shared
        interval: float = 1.0,
    ) -> None:
        super().__init__(link)
        if interval <= 0:
            raise ValueError(f"the stream metrics interval must be positive, not {interval}")
        self._bus = bus
        self._inputs = inputs
        self._targets = targets
        self._started_at = started_at
        self._metrics = metrics
        self._buffer_fullness = buffer_fullness
        self._thresholds = thresholds
        self._interval = interval
        self._timer: Timer | None = None
        self._last_at: float | None = None
        self._dropped = {name: _Accumulator() for name in ("mixer", "queue", "ffmpeg")}
        self._sent_total = 0
        self._frames = _Accumulator()
        self._bytes = _Accumulator()
        self._per_output: dict[str, _Accumulator] = {}
        self._process: psutil.Process | None = None
        self._cpu_seconds: float | None = None

    def setup(self) -> None:
        """Arm the first tick. Actor thread."""
        self._last_at = self.link.clock.monotonic()
        self._arm()

    def teardown(self) -> None:
        """Cancel the pending tick. Actor thread (the supervisor's when hung)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_receive(self, message: Any) -> Any:
        """A tick: re-arm, then read and publish. Actor thread; a bug crashes the actor."""
        if isinstance(message, _Tick):
            self._arm()
            self.sample_now()
            return None
        return super().on_receive(message)

    def sample_now(self) -> StreamMetricsPayload:
        """Make, publish and record one reading; returns it."""
        now = self.link.clock.monotonic()
        elapsed = max(1e-6, now - (self._last_at if self._last_at is not None else now - 1))
        self._last_at = now
        encoder, fanout, program, outputs = self._inputs.take()
        frames = self._frames.feed(_int(encoder.get("frames_written")))
        written = self._bytes.feed(_int(encoder.get("bytes_out")))
        dropped = sum(  # each counter restarts with its own process: fed apart
            self._dropped[name].feed(_int(payload.get(field)))
            for name, payload, field in (("mixer", program, "dropped"),
                                         ("queue", encoder, "frames_dropped"),
                                         ("ffmpeg", encoder, "drop_frames"))
        )  # fmt: skip
        cpu_percent, cpu_seconds = self._encoder_cpu(encoder.get("pid"))
        queues = fanout.get("destinations") or {}
        destinations: dict[str, DestinationReading] = {}
        for output_id, state in sorted(outputs.items()):
            grown = self._per_output.setdefault(output_id, _Accumulator()).feed(
                _int((queues.get(output_id) or {}).get("bytes_out"))
            )
            self._sent_total += grown  # outputs only: the preview's queue publishes no state
            destinations[output_id] = {
                "status": "active" if state == "live" else state,
                "bitrate": round(grown * 8 / elapsed / 1e6, 3),
            }
        for gone in set(self._per_output) - set(outputs):
            del self._per_output[gone]
        fullness = self._buffer_fullness() if self._buffer_fullness is not None else None
        reading: StreamReading = {
            "bitrate_current": round(written * 8 / elapsed / 1e6, 3),
            "bitrate_target": self._targets.bitrate_mbps,
            "framerate_actual": round(frames / elapsed, 2),
            "framerate_target": self._targets.fps,
            "dropped_frames": sum(counter.total for counter in self._dropped.values()),
            "encoding_cpu": round(cpu_percent, 1),
            "encoding_time_ms": round(cpu_seconds * 1000 / frames, 2) if frames else 0.0,
            "buffer_fullness": round(100.0 if fullness is None else fullness, 1),
            "uptime_seconds": int(max(0.0, now - self._started_at)),
            "total_bytes_sent": self._sent_total,
            "destinations": destinations,
        }
        per_second = dropped / elapsed
        health = check_stream_health(reading, per_second, self._thresholds)
        payload: StreamMetricsPayload = {"component": "stream", **reading,
                   "dropped_frames_per_second": round(per_second, 2),
                   "health": health.to_dict()}  # fmt: skip
        self._inputs.publish_reading(payload)
        self._bus.publish(STREAM_METRICS_TOPIC, dict(payload))
        if self._metrics is not None:
            record_reading(self._metrics, reading, health)
        return payload

    def _encoder_cpu(self, pid: object) -> tuple[float, float]:
        """(% of the machine, CPU seconds) the encoder process used since the last tick."""
        if not isinstance(pid, int):
            self._process, self._cpu_seconds = None, None
            return 0.0, 0.0
        try:
            if self._process is None or self._process.pid != pid:
                self._process = psutil.Process(pid)
                self._process.cpu_percent(None)
                self._cpu_seconds = None
            percent = float(self._process.cpu_percent(None)) / (psutil.cpu_count() or 1)
            times = self._process.cpu_times()
        except psutil.Error:
            self._process, self._cpu_seconds = None, None
            return 0.0, 0.0
        seconds = float(times.user + times.system)
        used = 0.0 if self._cpu_seconds is None else max(0.0, seconds - self._cpu_seconds)
        self._cpu_seconds = seconds
        return percent, used

    def _arm(self) -> None:
        self._timer = self.post_later(self._interval, _Tick())


def record_reading(metrics: Metrics, reading: Mapping[str, Any], health: StreamHealth) -> None:
    """Set the ``vistter.stream.*`` gauges: one per field (Prometheus ``vistter_stream_<field>``),
    per output ``vistter.stream.destination.bitrate`` and ``.active``, and
    ``vistter.stream.health`` (1 for the current state, 0 for the others)."""
    for name, description in STREAM_FIELDS.items():
        metrics.gauge(f"vistter.stream.{name}", description=description).set(reading[name])
    bitrate = metrics.gauge("vistter.stream.destination.bitrate",
                            description="Bitrate handed to each output, Mbit/s.")  # fmt: skip
    active = metrics.gauge("vistter.stream.destination.active",
                           description="1 while the output is live (active), else 0.")
    for output_id, entry in reading["destinations"].items():
        bitrate.set(entry["bitrate"], {"destination": output_id})
        active.set(1 if entry["status"] == "active" else 0, {"destination": output_id})
    state = metrics.gauge("vistter.stream.health",
                          description="1 for the stream's health state (healthy, degraded, "
                          "unhealthy), 0 for the others.")  # fmt: skip
    for name in ("healthy", "degraded", "unhealthy"):
        state.set(1 if health.state == name else 0, {"state": name})


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)
