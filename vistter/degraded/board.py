"""The latest measured figures degraded mode reads, as the telemetry bus carries them.

:class:`SignalBoard` is a telemetry bus listener: :meth:`on_publish` runs in the publishing
thread (the encoder's, the mixer's, the system sampler's, a destination's actor thread), only
stores numbers under a short lock and never raises for a payload it does not expect (a
listener that raises is removed from the bus). :meth:`snapshot` may be called from any
thread.

What it keeps, each with the time it arrived on the injected clock:

* the encoder's ffmpeg progress (``metrics.stream``, ``component: encoder``): ``out_time``
  (seconds of output) and ``speed``, its pid;
* the mixer's counters (``metrics.program``): ``frames`` and the program clock's
  ``late_ticks``;
* the machine's CPU (``metrics.system``): ``cpu_percent``;
* every output's state, kind and publisher pid (``event.destination``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from vistter.clock import Clock
from vistter.telemetry.topics import (
    DESTINATION_TOPIC,
    PROGRAM_METRICS_TOPIC,
    STREAM_METRICS_TOPIC,
    SYSTEM_METRICS_TOPIC,
)

__all__ = ["BoardSnapshot", "EncoderFigures", "MixerFigures", "OutputFigures", "SignalBoard"]


@dataclass(frozen=True, slots=True)
class EncoderFigures:
    at: float
    out_time: float | None
    speed: float | None
    pid: int | None


@dataclass(frozen=True, slots=True)
class MixerFigures:
    at: float
    frames: int
    late_ticks: int


@dataclass(frozen=True, slots=True)
class OutputFigures:
    at: float
    kind: str
    state: str
    pid: int | None = None
    """The publisher process (its TCP send queue is part of the destination's backlog)."""


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    """The latest figures (None: never received)."""

    encoder: EncoderFigures | None = None
    mixer: MixerFigures | None = None
    cpu: tuple[float, float] | None = None
    """(arrived at, machine CPU busy in %)."""
    outputs: dict[str, OutputFigures] = field(default_factory=dict)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class SignalBoard:
    """Stores the figures degraded mode needs from the telemetry bus (see the module doc)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._encoder: EncoderFigures | None = None
        self._mixer: MixerFigures | None = None
        self._cpu: tuple[float, float] | None = None
        self._outputs: dict[str, OutputFigures] = {}

    def on_publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Bus listener (publishing thread): keep what is of use, ignore the rest."""
        if topic == STREAM_METRICS_TOPIC and payload.get("component") == "encoder":
            pid = payload.get("pid")
            figures = EncoderFigures(
                self._clock.monotonic(), _number(payload.get("out_time")),
                _number(payload.get("speed")), pid if isinstance(pid, int) else None,
            )  # fmt: skip
            with self._lock:
                self._encoder = figures
        elif topic == PROGRAM_METRICS_TOPIC:
            frames, late = _number(payload.get("frames")), _number(payload.get("late_ticks"))
            if frames is not None and late is not None:
                mixer = MixerFigures(self._clock.monotonic(), int(frames), int(late))
                with self._lock:
                    self._mixer = mixer
        elif topic == SYSTEM_METRICS_TOPIC:
            cpu = _number(payload.get("cpu_percent"))
            if cpu is not None:
                with self._lock:
                    self._cpu = (self._clock.monotonic(), cpu)
        elif topic == DESTINATION_TOPIC:
            output_id, state = payload.get("id"), payload.get("state")
            if isinstance(output_id, str) and isinstance(state, str):
                pid = payload.get("pid")
                output = OutputFigures(self._clock.monotonic(), str(payload.get("kind", "")),
                                       state, pid if isinstance(pid, int) else None)
                with self._lock:
                    self._outputs[output_id] = output

    def snapshot(self) -> BoardSnapshot:
        """The latest figures. Any thread."""
        with self._lock:
            return BoardSnapshot(self._encoder, self._mixer, self._cpu, dict(self._outputs))
