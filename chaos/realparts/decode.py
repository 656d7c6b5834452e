"""Decode what a real component produced with PyAV, tolerating a truncated tail.

nginx-rtmp recordings (and files ffmpeg was stopped in the middle of writing) can end in a
truncated packet; that is normal and must not fail a test, so decoding stops quietly at the
first broken packet AFTER at least one good frame.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import av
import pytest


@dataclass
class DecodedVideo:
    """What the first video stream of a file held."""

    frames: int = 0
    width: int = 0
    height: int = 0
    #: presentation times in seconds of every decoded frame, in decode output order
    times: list[float] = field(default_factory=list)
    #: True when decoding stopped at a broken packet instead of the end of the file
    truncated: bool = False

    def largest_gap(self) -> float:
        """The longest time between two consecutive frames, in seconds (0 with < 2 frames)."""
        ordered = sorted(self.times)
        return max((b - a for a, b in itertools.pairwise(ordered)), default=0.0)


def decode_video(path: Path) -> DecodedVideo:
    """Decode every frame of the first video stream of ``path``.

    Fails the test when the file is missing, has no video stream or yields no frame at all.
    """
    if not path.is_file() or path.stat().st_size == 0:
        pytest.fail(f"{path} is missing or empty: nothing was received", pytrace=False)
    result = DecodedVideo()
    with av.open(str(path)) as container:
        if not container.streams.video:
            pytest.fail(f"{path} has no video stream", pytrace=False)
        stream = container.streams.video[0]
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    result.frames += 1
                    result.width, result.height = frame.width, frame.height
                    if frame.time is not None:
                        result.times.append(frame.time)
            for frame in stream.codec_context.decode(None):
                result.frames += 1
                if frame.time is not None:
                    result.times.append(frame.time)
        except (av.error.InvalidDataError, av.error.EOFError, EOFError):
            if result.frames == 0:
                raise
            result.truncated = True
    if result.frames == 0:
        pytest.fail(f"{path} holds no decodable video frame", pytrace=False)
    return result
