"""What each destination received, read back from the server's recordings with PyAV.

Every decoded frame gets: its presentation time in its session (``pts``), a **label** read from
its pixels (which camera's colour, the slate, black, or other), and the harness time it was
live at the server (``wall``). ``wall`` comes from the sampler's history of the file's size:
the byte position of each packet tells in which sample it had arrived; per session, the median
of (arrival - pts) over all frames anchors ``wall = pts + offset`` (steady state, not bursts).
So ``wall`` includes the path mixer -> encoder -> publisher -> server (a constant latency) and
is as precise as the sampling interval (0.2 s). Within a session the pts is exact, so a
missing frame is counted exactly; between sessions the gap comes from ``wall``. A third view,
``arrival_gap``, is the longest time the server received nothing at all (frames held up and
delivered late are not missing, but the server still starved meanwhile).
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image

from chaos.harness.rig import CAMERA_COLOURS, FPS, SLATE_ASSET

__all__ = ["DestinationTrace", "Frame", "decode_session", "trace"]

_RGB = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 255, 0), "black": (0, 0, 0)}
_MATCH_DISTANCE = 60.0
CADENCE_STEPS = 15
"""PTS steps whose median is a stream's cadence around a step (half a second at 30 fps)."""
MIN_FPS = 10
"""The lowest frame rate taken for a cadence: a longer median step is a gap, not a rate."""


@cache
def _references() -> dict[str, np.ndarray]:
    refs = {
        f"camera:{camera}": np.array(_RGB[colour], float)
        for camera, colour in CAMERA_COLOURS.items()
    }
    refs["black"] = np.array(_RGB["black"], float)
    with Image.open(SLATE_ASSET) as slate:
        small = slate.convert("RGB").resize((16, 9))
        refs["slate"] = np.asarray(small, float)[3:6, 4:12].reshape(-1, 3).mean(axis=0)
    return refs


def classify(rgb: np.ndarray) -> str:
    """Label of a 16x9 RGB thumbnail: the nearest reference colour of its centre, or other."""
    centre = rgb[3:6, 4:12].reshape(-1, 3).astype(float).mean(axis=0)
    best, distance = "other", _MATCH_DISTANCE
    for label, reference in _references().items():
        d = float(np.linalg.norm(centre - reference))
        if d < distance:
            best, distance = label, d
    return best


@dataclass(frozen=True)
class Frame:
    pts: float
    wall: float
    label: str


@dataclass
class Session:
    path: Path
    frames: list[Frame] = field(default_factory=list)
    truncated: bool = False

    def missing_runs(self, start: float = -math.inf, end: float = math.inf) -> list[int]:
        """For each pts jump inside the session whose last frame before it was live between
        ``start`` and ``end`` (harness time), the frames missing there (exact).

        A jump is judged against the stream's own cadence around it (the median step of the
        :data:`CADENCE_STEPS` steps centred on it), not the rig's nominal rate: degraded mode
        may lower the output's frame rate on purpose, and a deliberate 15 fps is no loss."""
        steps = [b - a for a, b in itertools.pairwise(f.pts for f in self.frames)]
        half = CADENCE_STEPS // 2
        runs: list[int] = []
        for index, step in enumerate(steps):
            if not start <= self.frames[index].wall <= end:
                continue
            window = [s for s in steps[max(0, index - half):index + half + 1] if s > 0]
            cadence = min(statistics.median(window), 1 / MIN_FPS) if window else 1 / FPS
            if step > 1.5 * cadence:
                runs.append(round(step / cadence) - 1)
        return runs

    def lost_frames(self, start: float = -math.inf, end: float = math.inf) -> int:
        """Frames missing inside the session between ``start`` and ``end``, from pts jumps."""
        return sum(self.missing_runs(start, end))

    def worst_run(self, start: float = -math.inf, end: float = math.inf) -> int:
        """The longest run of missing frames between ``start`` and ``end`` (0: none)."""
        return max(self.missing_runs(start, end), default=0)

    def longest_pts_gap(self) -> float:
        return max((b.pts - a.pts for a, b in itertools.pairwise(self.frames)), default=0.0)


def _arrival(history: list[tuple[float, int]], end_byte: int, interval: float) -> float | None:
    sizes = [size for _, size in history]
    index = bisect.bisect_left(sizes, end_byte)
    if index >= len(history):
        return None
    return history[index][0] - interval / 2


def decode_session(path: Path, history: list[tuple[float, int]], interval: float = 0.2) -> Session:
    """Decode ``path`` and place each frame on the harness time axis (see the module doc)."""
    session = Session(path)
    raw: list[tuple[float, float | None, str]] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return session
            stream = container.streams.video[0]
            try:
                for packet in container.demux(stream):
                    end = (packet.pos or 0) + packet.size
                    for frame in packet.decode():
                        if frame.time is None:
                            continue
                        thumb = frame.reformat(width=16, height=9, format="rgb24").to_ndarray()
                        raw.append((frame.time, _arrival(history, end, interval), classify(thumb)))
            except (av.error.InvalidDataError, av.error.EOFError, EOFError):
                session.truncated = True
    except (av.error.InvalidDataError, av.error.FileNotFoundError, OSError):
        return session
    offsets = [arrived - pts for pts, arrived, _ in raw if arrived is not None]
    if not offsets:
        return session
    offset = statistics.median(offsets)
    session.frames = [Frame(pts, pts + offset, label) for pts, _, label in sorted(raw)]
    return session


@dataclass
class DestinationTrace:
    """Every session one destination received, on the harness time axis."""

    key: str
    sessions: list[Session]
    #: harness times at which one of its files was seen to grow (bytes reached the server)
    arrivals: list[float] = field(default_factory=list)

    @property
    def frames(self) -> list[Frame]:
        return sorted((f for s in self.sessions for f in s.frames), key=lambda f: f.wall)

    def count(self, start: float, end: float) -> int:
        return sum(1 for f in self.frames if start <= f.wall <= end)

    def longest_gap(self, start: float, end: float) -> float:
        """Longest time without a frame between ``start`` and ``end`` (edges included)."""
        walls = [f.wall for f in self.frames if start <= f.wall <= end]
        edges = [start, *walls, end]
        return max((b - a for a, b in itertools.pairwise(edges)), default=end - start)

    def frame_gap(self, start: float, end: float) -> float:
        """Longest time between two consecutive frames that both lie between ``start`` and
        ``end`` (edges excluded: 0 with fewer than two frames there). Unlike
        :meth:`longest_gap`, the time before the first frame and after the last is not a gap:
        a soak's window begins before the servers have their first frame."""
        walls = [f.wall for f in self.frames if start <= f.wall <= end]
        return max((b - a for a, b in itertools.pairwise(walls)), default=0.0)

    def arrival_gap(self, start: float, end: float) -> float:
        """Longest time the server got no new bytes between ``start`` and ``end`` (edges
        included), at the sampling interval's resolution: frames that arrive late but all
        arrive (a connection that stalled, then flushed) show here, not in pts."""
        inside = [t for t in self.arrivals if start <= t <= end]
        return max((b - a for a, b in itertools.pairwise([start, *inside, end])), default=0.0)

    def lost_frames(self, start: float, end: float) -> int:
        """Frames missing between ``start`` and ``end``: pts jumps inside sessions plus time
        between sessions, in frames."""
        lost = sum(s.lost_frames(start, end) for s in self.sessions)
        ordered = [s for s in self.sessions if s.frames]
        ordered.sort(key=lambda s: s.frames[0].wall)
        for previous, following in itertools.pairwise(ordered):
            between = following.frames[0].wall - previous.frames[-1].wall
            if start <= previous.frames[-1].wall <= end and between > 1.5 / FPS:
                lost += round(between * FPS) - 1
        return lost

    def segments(self) -> list[tuple[float, float, str]]:
        """Runs of one label: (start wall, end wall, label), in time order."""
        runs: list[tuple[float, float, str]] = []
        for frame in self.frames:
            if runs and runs[-1][2] == frame.label and frame.wall - runs[-1][1] < 0.5:
                runs[-1] = (runs[-1][0], frame.wall, frame.label)
            else:
                runs.append((frame.wall, frame.wall, frame.label))
        return runs

    def first(self, label: str, after: float) -> float | None:
        """Harness time of the first frame with ``label`` at or after ``after``."""
        return next((f.wall for f in self.frames if f.wall >= after and f.label == label), None)

    def labels(self, start: float, end: float) -> dict[str, int]:
        counts: dict[str, int] = {}
        for frame in self.frames:
            if start <= frame.wall <= end:
                counts[frame.label] = counts.get(frame.label, 0) + 1
        return counts


def trace(
    key: str, paths: list[Path], sizes: dict[Path, list[tuple[float, int]]], interval: float = 0.2
) -> DestinationTrace:
    """Decode every session file of one destination."""
    arrivals = sorted(t for p in paths for t, _ in sizes.get(p, []))
    sessions = [decode_session(p, sizes.get(p, []), interval) for p in paths]
    return DestinationTrace(key, sessions, arrivals)
