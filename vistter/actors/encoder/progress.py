"""Parsing ffmpeg's ``-progress`` output: ``key=value`` lines in blocks ending ``progress=``.

ffmpeg writes a block every ``-stats_period`` seconds (and a last one with
``progress=end``)::

    frame=75
    fps=36.28
    stream_0_0_q=-1.0
    bitrate= 367.1kbits/s
    total_size=111672
    out_time_us=2433333
    out_time=00:00:02.433333
    dup_frames=0
    drop_frames=0
    speed=1.18x
    progress=continue

Values may be ``N/A`` (before the first packet) and may carry units and padding; unknown
keys are kept in :attr:`EncoderProgress.extra` so newer ffmpeg versions do not break us.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from vistter.actors.encoder.payloads import ProgressPayload

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_CLOCK = re.compile(r"^(-)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


@dataclass(frozen=True, slots=True)
class EncoderProgress:
    """One ``-progress`` block. A field is None when ffmpeg reported ``N/A`` or omitted it.

    ``bitrate_kbps`` is the average output bitrate so far; ``speed`` the encode speed as a
    multiple of real time; ``out_time`` the output position in seconds; ``ended`` is True
    for the last block (``progress=end``).
    """

    frame: int | None = None
    fps: float | None = None
    bitrate_kbps: float | None = None
    total_size: int | None = None
    out_time: float | None = None
    speed: float | None = None
    dup_frames: int | None = None
    drop_frames: int | None = None
    ended: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> ProgressPayload:
        """The block as the telemetry bus and the status API show it (no ``extra``)."""
        return {
            "frame": self.frame,
            "fps": self.fps,
            "bitrate_kbps": self.bitrate_kbps,
            "total_size": self.total_size,
            "out_time": self.out_time,
            "speed": self.speed,
            "dup_frames": self.dup_frames,
            "drop_frames": self.drop_frames,
            "ended": self.ended,
        }


def _number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return float(match.group(0)) if match else None


def _integer(text: str) -> int | None:
    value = _number(text)
    return None if value is None else int(value)


def _bitrate_kbps(text: str) -> float | None:
    """``" 367.1kbits/s"`` -> 367.1; also understands ``bits/s`` and ``Mbits/s``."""
    value = _number(text)
    if value is None:
        return None
    lowered = text.strip().lower()
    if "mbit" in lowered:
        return value * 1000.0
    if "kbit" in lowered:
        return value
    if "bit" in lowered:
        return value / 1000.0
    return value


def _clock_seconds(text: str) -> float | None:
    """``"00:00:02.433333"`` -> 2.433333 (also negative, as ffmpeg prints before 0)."""
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    sign, hours, minutes, seconds = match.groups()
    total = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return -total if sign else total


class ProgressParser:
    """Accumulates ``-progress`` lines and yields a block at each ``progress=`` line.

    Not thread-safe: owned by one reader thread.
    """

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def feed(self, line: str) -> EncoderProgress | None:
        """Take one line; return the finished block when the line ends one, else None."""
        key, sep, value = line.strip().partition("=")
        if not sep or not key:
            return None
        key = key.strip()
        if key != "progress":
            self._values[key] = value.strip()
            return None
        values, self._values = self._values, {}
        return _block(values, ended=value.strip() == "end")

    def feed_lines(self, lines: Iterable[str]) -> list[EncoderProgress]:
        """Every block completed by ``lines``."""
        blocks = []
        for line in lines:
            block = self.feed(line)
            if block is not None:
                blocks.append(block)
        return blocks


_KNOWN = {
    "frame",
    "fps",
    "bitrate",
    "total_size",
    "out_time_us",
    "out_time_ms",
    "out_time",
    "speed",
    "dup_frames",
    "drop_frames",
}


def _block(values: dict[str, str], *, ended: bool) -> EncoderProgress:
    def get(key: str) -> str:
        raw = values.get(key, "N/A")
        return "" if raw.upper() == "N/A" else raw

    out_time: float | None = None
    if get("out_time_us"):
        micros = _number(get("out_time_us"))
        out_time = None if micros is None else micros / 1e6
    elif get("out_time"):
        out_time = _clock_seconds(get("out_time"))
    return EncoderProgress(
        frame=_integer(get("frame")) if get("frame") else None,
        fps=_number(get("fps")) if get("fps") else None,
        bitrate_kbps=_bitrate_kbps(get("bitrate")) if get("bitrate") else None,
        total_size=_integer(get("total_size")) if get("total_size") else None,
        out_time=out_time,
        speed=_number(get("speed")) if get("speed") else None,
        dup_frames=_integer(get("dup_frames")) if get("dup_frames") else None,
        drop_frames=_integer(get("drop_frames")) if get("drop_frames") else None,
        ended=ended,
        extra={key: value for key, value in values.items() if key not in _KNOWN},
    )


def parse_progress(text: str) -> list[EncoderProgress]:
    """Every complete block in ``text`` (a trailing incomplete block is ignored)."""
    return ProgressParser().feed_lines(text.splitlines())
