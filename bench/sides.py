"""Running one side of the benchmark: start it, wait, measure a window, stop, check delivery.

Runs in the benchmark's main thread. Every process started here is ended by PID on the way
out, whatever happens (``launched``); what a side left behind is killed by PID as well.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from bench.delivery import (
    Recording,
    bytes_in,
    decode_recording,
    wait_publishing,
    wait_unpublished,
)
from bench.tree_meter import CpuWindow, MemoryPeaks, TreeMeter, cpu_window

REPO = Path(__file__).resolve().parents[1]
PUBLISH_TIMEOUT = 40.0
STOP_TIMEOUT = 30.0
MAX_MISSING_ON_AIR = 0.01
"""At most this share of a recording's frames may be missing before the stop tail."""


@dataclass
class SideResult:
    """What one side did and cost."""

    name: str
    command: str
    window: CpuWindow | None = None
    memory: MemoryPeaks = field(default_factory=MemoryPeaks)
    lifetime_cpu: float = 0.0
    exit_code: int | None = None
    bytes_in_window: dict[str, int] = field(default_factory=dict)
    bytes_in_end: dict[str, int | None] = field(default_factory=dict)
    published_seconds: float = 0.0
    recordings: list[Recording] = field(default_factory=list)
    threads: list[tuple[str, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Timing:
    """Where a side keeps its logs, and how long it warms up and is measured (s)."""

    workdir: Path
    warmup: float
    seconds: float


def classify(process: psutil.Process) -> str:
    """The role of a process in either tree, from its command line."""
    cmdline = process.cmdline()
    name = process.name()
    if "python" in name:
        if "vistter.actors.outputs.flv_publisher" in cmdline:
            return "publisher (PyAV)"  # Vistter's RTMP publisher: the key arrives on stdin
        return "python"
    if name == "tee":
        return "tee (floor)"
    if "flv" in cmdline or "tee" in cmdline:
        return "ffmpeg publisher" if "tee" not in cmdline else "ffmpeg (plain)"
    if "mpegts" in cmdline and "pipe:0" in cmdline:
        return "ffmpeg encoder"
    if "rawvideo" in cmdline and "pipe:1" in cmdline:
        return "ffmpeg ingest"
    if "segment" in cmdline:
        return "ffmpeg recorder"
    return f"other ({name})"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def launched(
    argv: Sequence[str], log: IO[bytes], stdout: IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv``; on the way out make sure it and anything it started are gone (by PID)."""
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=log,
        cwd=REPO,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            end_tree(process)


def end_tree(process: subprocess.Popen[bytes]) -> None:
    """Terminate, wait, kill: the process and the descendants it left, each by PID."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    _, alive = psutil.wait_procs(descendants, timeout=3)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def run_side(
    name: str,
    argv: Sequence[str],
    timing: Timing,
    nginx: Any,
    keys: Sequence[str],
    *,
    root_role: str,
    ready: Callable[[], bool] = lambda: True,
    profile_to: Path | None = None,
) -> SideResult:
    """Run one side: wait until it publishes, warm up, measure, stop, check delivery."""
    result = SideResult(name, " ".join(argv))
    log_path = timing.workdir / f"{name}.log"
    out_path = timing.workdir / f"{name}.out"
    before = children_cpu()
    with (
        log_path.open("wb") as log,
        out_path.open("wb") as out,
        launched(argv, log, out) as process,
    ):
        meter = TreeMeter(psutil.Process(process.pid), root_role, classify)
        publish_started = time.monotonic()
        running = lambda: process.poll() is None  # noqa: E731
        if not wait_publishing(nginx, keys, PUBLISH_TIMEOUT, running):
            result.problems.append(f"not publishing on every key within {PUBLISH_TIMEOUT:.0f} s")
            return _failed(result, process, log_path)
        if not ready():
            result.problems.append("did not report READY (overlay and camera on air)")
        time.sleep(timing.warmup)
        counts_start = bytes_in(nginx, keys)
        if profile_to is not None:
            process.send_signal(signal.SIGUSR1)
        meter.start_memory_sampling()
        start = meter.read_cpu()
        time.sleep(timing.seconds)
        end = meter.read_cpu()
        if profile_to is not None:
            process.send_signal(signal.SIGUSR2)
            result.profile = _wait_for_profile(profile_to)
        result.memory = meter.stop_memory_sampling()
        counts_end = bytes_in(nginx, keys)
        result.window = cpu_window(start, end, root_role)
        if process.poll() is not None:
            result.problems.append(f"exited during the window (code {process.returncode})")
        process.send_signal(signal.SIGTERM)
        try:
            result.exit_code = process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            result.problems.append(f"did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM")
        stopped = time.monotonic()
    result.lifetime_cpu = children_cpu() - before
    result.published_seconds = stopped - publish_started
    for key in keys:
        gained = (counts_end.get(key) or 0) - (counts_start.get(key) or 0)
        result.bytes_in_window[key] = gained
        if gained <= 0:
            result.problems.append(f"{key}: nginx accepted no bytes during the window")
    result.bytes_in_end = counts_end
    if not wait_unpublished(nginx, keys, 10.0):
        result.problems.append("nginx still shows a publisher 10 s after the stop")
    return result


def _wait_for_profile(path: Path, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file():
            return path.read_text().splitlines()
        time.sleep(0.2)
    return [f"(no profile written to {path} within {timeout:.0f} s)"]


def _failed(result: SideResult, process: subprocess.Popen[bytes], log: Path) -> SideResult:
    end_tree(process)
    result.exit_code = process.returncode
    tail = log.read_text(errors="replace")[-1500:]
    result.problems.append(f"log tail: {tail}")
    return result


def check_recordings(
    result: SideResult, nginx: Any, keys: Sequence[str], fps: int, min_seconds: float
) -> None:
    """Decode every key's recording. Problems: fewer frames than ``min_seconds`` of video, or
    more than :data:`MAX_MISSING_ON_AIR` of the frames on air missing. Frames lost at the
    stop are reported, not judged."""
    for key in keys:
        recording = decode_recording(key, nginx.recording(key), fps)
        result.recordings.append(recording)
        if recording.error is not None or recording.frames < fps * min_seconds:
            result.problems.append(
                f"{key}: recording has {recording.frames} frames "
                f"({recording.error or 'fewer than the window'})"
            )
        elif recording.missing_on_air > MAX_MISSING_ON_AIR * recording.frames:
            result.problems.append(
                f"{key}: {recording.missing_on_air} of {recording.frames} frames missing "
                f"while on air (more than {MAX_MISSING_ON_AIR:.0%})"
            )
