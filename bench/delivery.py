"""Did a side deliver? nginx-rtmp's byte counters and what its recordings decode to.

A destination is judged by what the server accepted (``bytes_in`` of the publishing stream in
nginx's ``/stat``) and by the frames PyAV decodes from nginx's recording of it. nginx-rtmp
recordings can end in a truncated packet (DESIGN.md section 6): decoding stops quietly there.

Frames missing from a recording are counted from its timestamps (a constant-rate stream has
one frame every ``1/fps`` s) in two parts: *on air* (before the last :data:`STOP_TAIL`
seconds) and *at the stop* (the tail, where a stopping side may lose its last frames).

Runs in the caller's thread; the waits poll nginx every ``poll`` seconds.
"""

from __future__ import annotations

import itertools
import time
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import av

STOP_TAIL = 0.5
"""Seconds at the end of a recording counted as the stop, not as time on air."""


class StatSource(Protocol):
    """What the benchmark needs of ``chaos/realparts/nginx_rtmp.NginxRtmp``."""

    def stream_bytes_in(self, key: str, app: str = "live") -> int | None: ...


@dataclass(frozen=True)
class Recording:
    """What one recording held: decoded video frames and their time span."""

    key: str
    size_bytes: int
    frames: int
    width: int
    height: int
    span: float
    """Seconds from the first to the last frame's presentation time."""
    largest_gap: float
    truncated: bool
    error: str | None = None
    missing_on_air: int = 0
    """Frames a continuous stream would have before the stop tail, but this one lacks."""
    missing_at_stop: int = 0
    """Frames missing in the last :data:`STOP_TAIL` seconds."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bytes_in(nginx: StatSource, keys: Sequence[str]) -> dict[str, int | None]:
    """``bytes_in`` of every key now (``None``: not publishing, or the stat page failed)."""
    result: dict[str, int | None] = {}
    for key in keys:
        try:
            result[key] = nginx.stream_bytes_in(key)
        except (OSError, urllib.error.URLError):
            result[key] = None
    return result


def wait_publishing(
    nginx: StatSource,
    keys: Sequence[str],
    timeout: float,
    still_running: Callable[[], bool],
    poll: float = 0.2,
) -> bool:
    """Wait until every key is publishing with bytes accepted; False on timeout or exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and still_running():
        counts = bytes_in(nginx, keys)
        if all(count is not None and count > 0 for count in counts.values()):
            return True
        time.sleep(poll)
    return False


def wait_unpublished(
    nginx: StatSource, keys: Sequence[str], timeout: float, poll: float = 0.2
) -> bool:
    """Wait until no key is publishing (nginx has closed the recordings)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(count is None for count in bytes_in(nginx, keys).values()):
            return True
        time.sleep(poll)
    return False


def missing_frames(times: Sequence[float], fps: int) -> tuple[int, int]:
    """(missing on air, missing at the stop) in sorted presentation ``times``."""
    if len(times) < 2:
        return 0, 0
    cut = times[-1] - STOP_TAIL
    on_air = [t for t in times if t <= cut]
    expected_on_air = round((on_air[-1] - times[0]) * fps) + 1 if on_air else 0
    expected = round((times[-1] - times[0]) * fps) + 1
    missing_on_air = max(0, expected_on_air - len(on_air))
    return missing_on_air, max(0, expected - len(times) - missing_on_air)


def decode_recording(key: str, path: Path, fps: int) -> Recording:
    """Decode every video frame of ``path`` (tolerating a truncated tail)."""
    size = path.stat().st_size if path.is_file() else 0
    if size == 0:
        return Recording(key, 0, 0, 0, 0, 0.0, 0.0, False, error="missing or empty")
    frames = width = height = 0
    times: list[float] = []
    truncated = False
    error: str | None = None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return Recording(key, size, 0, 0, 0, 0.0, 0.0, False, error="no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        frames += 1
                        width, height = frame.width, frame.height
                        if frame.time is not None:
                            times.append(frame.time)
            except (av.error.InvalidDataError, av.error.EOFError, EOFError):
                truncated = True
    except av.error.FFmpegError as exc:
        error = f"{type(exc).__name__}: {exc}"
    ordered = sorted(times)
    span = ordered[-1] - ordered[0] if len(ordered) > 1 else 0.0
    gap = max((b - a for a, b in itertools.pairwise(ordered)), default=0.0)
    on_air, at_stop = missing_frames(ordered, fps)
    return Recording(
        key,
        size,
        frames,
        width,
        height,
        span,
        gap,
        truncated,
        error,
        missing_on_air=on_air,
        missing_at_stop=at_stop,
    )
