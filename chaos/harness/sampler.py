"""What the harness sees of a running rig, sampled every ``interval`` seconds in one thread.

Each :class:`Sample` holds, at one harness-monotonic time: the program's on-air source and
late/dropped tick counters and every source's and destination's state (``/api/status``), the
supervision tree's restart total (``/api/supervision``, every few samples), the CPU (% of one
core) and RSS of the Vistter process tree, the bytes nginx accepted per key, and the size of
every recording file (so each decoded frame can be given the time it reached the server).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from chaos.harness.appliance import ApiError, VistterProcess, total_restarts

__all__ = ["Sample", "Sampler"]


@dataclass
class Sample:
    """One look at the rig; ``ok`` is False when the API did not answer this time."""

    t: float
    ok: bool = False
    on_air: str = ""
    late_ticks: int = 0
    dropped: int = 0
    sources: dict[str, str] = field(default_factory=dict)
    destinations: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    restarts: int | None = None
    cpu_pct: float = 0.0
    rss_mb: float = 0.0
    bytes_in: dict[str, int] = field(default_factory=dict)
    api_ms: float = 0.0
    encoder_kbps: float = 0.0


class Sampler:
    """Samples in a daemon thread from :meth:`start` to :meth:`stop`.

    The thread never raises: an API or process error becomes a sample with ``ok=False``.
    ``tracked`` CPU: descendants whose command line contains a given text (for example a
    destination's proxy port) have their CPU seconds kept per PID, so short-lived publishers
    are counted too (up to the last sample each was seen in).
    """

    def __init__(
        self,
        app: VistterProcess,
        bytes_in: Callable[[], dict[str, int]],
        recording_dirs: list[Path],
        t0: float,
        interval: float = 0.2,
    ) -> None:
        self.app = app
        self.bytes_in = bytes_in
        self.recording_dirs = recording_dirs
        self.t0 = t0
        self.interval = interval
        self.samples: list[Sample] = []
        self.file_sizes: dict[Path, list[tuple[float, int]]] = {}
        self.tracked: dict[str, str] = {}
        self.tracked_cpu: dict[str, dict[int, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu_last: tuple[float, float] | None = None
        self._tick = 0

    def now(self) -> float:
        """Seconds since the rig's t0 (the time axis of every report)."""
        return time.monotonic() - self.t0

    def track(self, name: str, cmdline_text: str) -> None:
        """Keep the CPU seconds of every descendant whose command line contains the text."""
        self.tracked[name] = cmdline_text
        self.tracked_cpu.setdefault(name, {})

    def tracked_cpu_seconds(self, name: str) -> float:
        return sum(self.tracked_cpu.get(name, {}).values())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def latest(self) -> Sample | None:
        return next((s for s in reversed(self.samples) if s.ok), None)

    def wait_for(self, predicate: Callable[[Sample], bool], timeout: float) -> float | None:
        """Harness time of the first NEW sample satisfying ``predicate``; None on timeout."""
        seen = len(self.samples)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for sample in self.samples[seen:]:
                if sample.ok and predicate(sample):
                    return sample.t
            seen = len(self.samples)
            time.sleep(self.interval / 2)
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.samples.append(self._sample())
            self._tick += 1
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def _sample(self) -> Sample:
        sample = Sample(t=self.now())
        begin = time.monotonic()
        try:
            status: dict[str, Any] = self.app.get("/api/status", timeout=3.0)
            sample.api_ms = (time.monotonic() - begin) * 1000
            mixer = status.get("program", {}).get("mixer", {})
            sample.on_air = str(mixer.get("on_air") or "")
            sample.late_ticks = int(mixer.get("late_ticks") or 0)
            sample.dropped = int(mixer.get("dropped") or 0)
            progress = status.get("program", {}).get("encoder", {}).get("progress") or {}
            sample.encoder_kbps = float(progress.get("bitrate_kbps") or 0.0)
            sample.sources = {k: str(v.get("state")) for k, v in status.get("sources", {}).items()}
            for destination in status.get("destinations", []):
                key = str(destination.get("id") or destination.get("child"))
                sample.destinations[key] = str(destination.get("state"))
                sample.errors[key] = str(destination.get("last_error") or "")
            if self._tick % 5 == 0:
                sample.restarts = total_restarts(self.app.get("/api/supervision", timeout=3.0))
            sample.ok = True
        except (ApiError, AttributeError, TypeError, ValueError):
            sample.api_ms = (time.monotonic() - begin) * 1000
        self._measure_processes(sample)
        sample.bytes_in = self.bytes_in()
        for directory in self.recording_dirs:
            for path in directory.glob("*.*"):
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                history = self.file_sizes.setdefault(path, [])
                if not history or history[-1][1] != size:
                    history.append((sample.t, size))
        return sample

    def _measure_processes(self, sample: Sample) -> None:
        root = self.app.process()
        if root is None:
            return
        total = 0.0
        try:
            times = root.cpu_times()
            total = times.user + times.system + times.children_user + times.children_system
            sample.rss_mb = root.memory_info().rss / 2**20
            for child in self.app.descendants():
                try:
                    child_times = child.cpu_times()
                    seconds = child_times.user + child_times.system
                    total += seconds
                    sample.rss_mb += child.memory_info().rss / 2**20
                    if self.tracked:
                        line = " ".join(child.cmdline())
                        for name, text in self.tracked.items():
                            if text in line:
                                self.tracked_cpu[name][child.pid] = seconds
                except psutil.Error:
                    continue
        except psutil.Error:
            return
        now = time.monotonic()
        if self._cpu_last is not None and now > self._cpu_last[0]:
            sample.cpu_pct = max(0.0, 100 * (total - self._cpu_last[1]) / (now - self._cpu_last[0]))
        self._cpu_last = (now, total)
