"""The rig's view of Vistter's telemetry bus: a ZeroMQ SUB in one daemon thread.

Keeps every ``event.*`` and ``alert`` message with the harness time it arrived, counts
messages the subscriber missed (by sequence number), and for every message (metrics too)
how far the publisher's wall clock is from the harness's (a clock jump shows there).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from vistter.telemetry.subscriber import TelemetrySubscriber

__all__ = ["BusEvent", "TelemetryTap"]


@dataclass(frozen=True)
class BusEvent:
    t: float  # harness seconds since the rig's t0
    topic: str
    payload: dict[str, Any]

    def text(self) -> str:
        """The payload flattened to lower-case text, for "does it mention X" checks."""
        return " ".join(f"{k}={v}" for k, v in self.payload.items()).lower()


class TelemetryTap:
    """Subscribes from :meth:`start` to :meth:`stop`; the thread never raises (a broken
    message is skipped by the subscriber, a closed socket ends the thread)."""

    def __init__(self, endpoint: str, t0: float) -> None:
        self.endpoint = endpoint
        self.t0 = t0
        self.events: list[BusEvent] = []
        self.missed = 0
        #: (harness time, publisher wall clock - harness wall clock) for every message
        self.clock_offsets: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-telemetry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def alerts(self, since: float = 0.0) -> list[BusEvent]:
        return [e for e in self.events if e.topic == "alert" and e.t >= since]

    def of(self, topic_prefix: str, since: float = 0.0) -> list[BusEvent]:
        return [e for e in self.events if e.topic.startswith(topic_prefix) and e.t >= since]

    def _run(self) -> None:
        with TelemetrySubscriber(self.endpoint, ["event", "alert", "metrics"]) as subscriber:
            while not self._stop.is_set():
                message = subscriber.receive(0.2)
                if message is None:
                    continue
                t = time.monotonic() - self.t0
                self.clock_offsets.append((t, message.ts - time.time()))
                if not message.topic.startswith("metrics"):
                    self.events.append(BusEvent(t, message.topic, dict(message.payload)))
            self.missed = subscriber.gaps.missed_total
