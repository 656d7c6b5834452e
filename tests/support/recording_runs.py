"""Where a look (the slate, a camera) starts and stops in a recording, by its timestamps.

:func:`runs_of` decodes a recording (nginx-rtmp's FLV, still being written: a truncated tail
is normal and ends the scan quietly) from the keyframe at or before a byte position, and
gives every run of consecutive frames that ``looks`` picks out: the timestamp of its first
frame and of the first frame after it (None while the run lasts to the end of what is
written). :func:`slate_like` tells the slate (its navy background) from the demo's cameras.
Pure computation in the caller's thread; PyAV errors other than a broken tail propagate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

__all__ = ["SLATE_NAVY", "Run", "runs_of", "slate_like"]

SLATE_NAVY = np.array([13.0, 25.0, 50.0])
"""The slate's background (``assets/technical_difficulties.png``), in RGB."""


def _middle_left(frame: av.VideoFrame) -> npt.NDArray[np.float64]:
    small = frame.reformat(width=64, height=36, format="rgb24").to_ndarray()
    block: npt.NDArray[np.float64] = small[12:16, 1:9].reshape(-1, 3).astype(np.float64)
    mean: npt.NDArray[np.float64] = block.mean(axis=0)
    return mean


def slate_like(frame: av.VideoFrame) -> bool:
    """Whether the frame's middle-left block is the slate's navy (no demo camera shows it)."""
    return bool(np.abs(_middle_left(frame) - SLATE_NAVY).max() < 25)


@dataclass(frozen=True)
class Run:
    """Frames from ``start`` (seconds, the first frame's timestamp) to ``last`` (the last
    one's), then ``end`` (the first frame after them; None: the recording ends inside the run).
    ``end`` is later than the frame after ``last`` where frames are missing in between."""

    start: float
    last: float
    end: float | None


def runs_of(recording: Path, looks: Callable[[av.VideoFrame], bool],
            from_byte: int = 0) -> tuple[list[Run], int]:
    """The runs of frames ``looks`` accepts, from the keyframe at or before ``from_byte`` on,
    and how many frames were decoded."""
    runs: list[Run] = []
    start: float | None = None
    last = 0.0
    decoded = 0
    with av.open(str(recording)) as container:
        stream = container.streams.video[0]
        waiting: list[av.Packet[av.VideoStream]] = []  # the group of pictures that holds from_byte
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if from_byte and (packet.pos is None or packet.pos < from_byte):
                    if packet.is_keyframe:
                        waiting = [packet]
                    elif waiting:  # nothing before the first keyframe is decodable
                        waiting.append(packet)
                    continue
                waiting.append(packet)
                for queued in waiting:
                    for frame in queued.decode():
                        if frame.time is None:
                            continue
                        decoded += 1
                        if looks(frame):
                            start = frame.time if start is None else start
                            last = frame.time
                        elif start is not None:
                            runs.append(Run(start, last, frame.time))
                            start = None
                waiting = []
        except (av.error.InvalidDataError, av.error.EOFError, EOFError):
            pass  # a recording still being written ends in a partial packet
    if start is not None:
        runs.append(Run(start, last, None))
    return runs, decoded
