"""One live run of the cue-latency benchmark: the real show engine on the real live mixer.

:func:`run_live` builds, for one mode:

- a :class:`~vistter.actors.sources.table.SourceTable` whose ``camera:1`` and ``camera:2`` slots
  hold one solid frame each, published once (static slots: no ingest process competes with
  the show engine, so the figures are about the engine and the mixer; a camera's own latency
  is not a cue's);
- the real :class:`~vistter.actors.program.mixer.ProgramMixer` (live, real ``MonotonicClock``, its
own
  thread at the program's rate) and the real ``show`` subtree (orchestrator, ``tracks``, one
  executor per track) under one root supervisor, as the appliance runs them;
- a :class:`~bench.cue_probe.ProgramWatcher` in place of the encoder, reading every frame.

Then it loads the timeline, goes live ``lead_in`` seconds ahead, waits until the program has
played the whole timeline, and stops everything (actors, watcher, and in ``loaded`` mode
the CPU-burning processes, each by PID). It returns the analysis plus run facts: mixer
counters, how much CPU the burners took, the load average.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pykka

from bench.cue_analysis import analyse
from bench.cue_probe import ArmLog, ProgramWatcher
from bench.cue_timeline import ShowScript
from vistter.actors.program.frame_queue import FrameQueue
from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import MonotonicClock
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.validation import load_timeline
from vistter.show import ShowContext, ShowSettings
from vistter.supervisors import (
    ChildSpec,
    RootSupervisor,
    Strategy,
    SupervisorFlags,
    start_function_for,
)
from vistter.telemetry.topics import ALERT_TOPIC, SHOW_TOPIC
from vistter.tree import show_spec

__all__ = ["BURNER_CODE", "Burners", "run_live"]

logger = logging.getLogger(__name__)

BURNER_CODE = "while True: pass"
CALL_TIMEOUT = 30.0


class Burners:
    """``count`` processes running ``python -c 'while True: pass'``, ended by PID."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._processes: list[subprocess.Popen[bytes]] = []
        self.cpu_seconds = 0.0
        self.wall_seconds = 0.0
        self._started = 0.0

    def __enter__(self) -> Burners:
        self._started = time.monotonic()
        for _ in range(self.count):
            self._processes.append(subprocess.Popen([sys.executable, "-c", BURNER_CODE]))
        return self

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes]

    def __exit__(self, *exc: object) -> None:
        self.wall_seconds = time.monotonic() - self._started
        for process in self._processes:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(process.pid).cpu_times()
                self.cpu_seconds += times.user + times.system
            process.terminate()
        for process in self._processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


class _Sink:
    """Event sink keeping alerts and show events (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.alerts: list[dict[str, Any]] = []
        self.show_events: list[str] = []

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        with self._lock:
            if topic == ALERT_TOPIC:
                self.alerts.append(dict(payload))
            elif topic == SHOW_TOPIC:
                self.show_events.append(str(payload.get("event")))


def _sources(fmt: FrameFormat, script: ShowScript, clock: MonotonicClock) -> SourceTable:
    table = SourceTable(fmt, clock)
    for source, (y, u, v) in script.palette.cameras.items():
        table.slot(source).publish(solid_frame(fmt, y, u, v))
        table.set_health(source, SourceState.ONLINE)
    return table


def run_live(
    mode: str,
    script: ShowScript,
    fmt: FrameFormat,
    assets_dir: Path,
    *,
    settings: ShowSettings,
    burners: int = 0,
    lead_in: float = 1.0,
    queue_capacity: int = 64,
) -> dict[str, Any]:
    """Play ``script`` live once (see the module doc) and return its figures."""
    clock = MonotonicClock()
    state = ArmLog(fmt)
    sources = _sources(fmt, script, clock)
    queue = FrameQueue(queue_capacity)
    watcher = ProgramWatcher(fmt, script.palette, queue, state.epoch)
    sink = _Sink()
    context = ShowContext.build(state, assets_dir, clock=clock, settings=settings)
    document = load_timeline(script.document)
    load_before = os.getloadavg()
    cpu_before = time.process_time()
    root: RootSupervisor | None = None
    with Burners(burners) as burning:
        try:
            if burners:
                time.sleep(1.0)  # let the scheduler see them CPU-bound before the show starts
            watcher.start()
            root = RootSupervisor(
                SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=3, period=30),
                [
                    ChildSpec("mixer",
                              start_function_for(ProgramMixer, fmt, sources, state, queue)),
                    show_spec(context),
                ],
                name="cue-bench", clock=clock, events=sink,
            )
            if not watcher.wait_for(0, timeout=10):
                raise RuntimeError("the live mixer emitted no frame within 10 s")
            orchestrator = root.handle.child("show/orchestrator").proxy()
            orchestrator.load(document, None, loop=False).get(timeout=CALL_TIMEOUT)
            anchor = state.horizon + context.frames(lead_in)
            status = orchestrator.go_live(anchor).get(timeout=CALL_TIMEOUT)
            if status["state"] != "live":
                raise RuntimeError(f"the show did not go live: {status}")
            segment = context.show.segment
            assert segment is not None and segment.anchor == anchor, segment
            end = anchor + script.length + fmt.fps // 2
            waited = (end - state.horizon) / fmt.fps + 30
            if not watcher.wait_for(end, timeout=waited):
                raise RuntimeError(
                    f"the program did not reach frame {end} within {waited:.0f} s "
                    f"(watcher error: {watcher.error!r})")
            mixer_status = root.handle.child("mixer").proxy().status().get(timeout=CALL_TIMEOUT)
            load_after = os.getloadavg()
        finally:
            if root is not None:
                root.stop()
            watcher.stop()
            pykka.ActorRegistry.stop_all(timeout=10)
    cpu_seconds = time.process_time() - cpu_before
    if watcher.error is not None:
        raise RuntimeError(f"the program watcher died: {watcher.error!r}")
    figures = analyse(script, anchor, watcher.observations, state.effects(), state.records())
    figures.update({
        "mode": mode,
        "anchor_frame": anchor,
        "frames_watched": len(watcher.observations),
        "frames_missing": watcher.missing,
        "queue_dropped": queue.dropped,
        "mixer": {key: mixer_status.get(key) for key in (
            "frames", "composed", "repeated", "late_ticks", "dropped", "compose_ms_mean",
            "compose_ms_max", "buffers_allocated")},
        "alerts": [a.get("message") for a in sink.alerts][:10],
        "show_events": sink.show_events,
        "python_cpu_seconds": round(cpu_seconds, 2),
        "burners": {"count": burners, "pids": burning.pids,
                    "cpu_seconds": round(burning.cpu_seconds, 1),
                    "wall_seconds": round(burning.wall_seconds, 1)},
        "loadavg_1m": {"before": round(load_before[0], 2), "end": round(load_after[0], 2)},
    })
    return figures
