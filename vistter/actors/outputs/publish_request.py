"""What the RTMP(S) publisher process is told to do, handed over on its stdin, never its argv.

The stream key is part of the RTMP URL, and ``/proc/<pid>/cmdline`` is readable by every
local user, so the publisher (:mod:`vistter.actors.outputs.flv_publisher`) is started with an
argv that holds no secret. Its stdin starts with a :class:`PublishRequest` (a decimal length,
a newline, then that many bytes of JSON), written by the parent before the first byte of the
program's MPEG-TS; the rest of stdin is the program. Nothing is ever written to disk or
to the child's environment.

This module is shared by both sides and imports neither PyAV nor any actor code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from vistter.actors.outputs.command import ANALYZE_MICROSECONDS
from vistter.supervisors.secret_input import MAX_SECRET_INPUT, SecretInput

__all__ = ["PublishRequest", "PublishRequestError", "probe_bytes_for"]

_MAX_LENGTH_DIGITS = len(str(MAX_SECRET_INPUT))
DEFAULT_PROBE_BYTES = 5_000_000
"""ffmpeg's own ``probesize``."""
MIN_PROBE_BYTES = 1_000_000


def probe_bytes_for(bitrate_kbps: int, seconds: float = 2.0) -> int:
    """``probe_bytes`` for a program of ``bitrate_kbps``: ``seconds`` of it (at least 1 MB,
    room for a large keyframe)."""
    return max(MIN_PROBE_BYTES, int(bitrate_kbps * 1000 / 8 * seconds))


class PublishRequestError(ValueError):
    """The request on stdin is missing, cut short or malformed."""


@dataclass(frozen=True)
class PublishRequest:
    """Where and how one publisher sends the program.

    ``url`` holds the stream key (never in ``repr``); ``shown_as`` is the redacted URL the
    publisher uses in everything it says; ``secrets`` are further strings it masks (the key
    itself). ``rw_timeout``: seconds a blocked connect or write may last before the publisher
    gives up (ffmpeg's ``-rw_timeout``); ``analyze_us``: stream time analysed before the
    output starts (ffmpeg's ``-analyzeduration``); ``probe_bytes``: the most bytes of program
    analysed (ffmpeg's ``-probesize``): a stream whose parameters are not found within
    ``analyze_us`` (audio missing for a while) is otherwise read up to 5 MB, 16 s of a
    2.5 Mbit/s program, before the publisher connects.
    """

    url: str = field(repr=False)
    shown_as: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    rw_timeout: float = 5.0
    analyze_us: int = ANALYZE_MICROSECONDS
    probe_bytes: int = DEFAULT_PROBE_BYTES

    def secret_input(self) -> SecretInput:
        """The bytes that start the publisher's stdin. Raises ``ValueError`` when too large."""
        body = json.dumps({
            "url": self.url, "shown_as": self.shown_as, "secrets": list(self.secrets),
            "rw_timeout": self.rw_timeout, "analyze_us": self.analyze_us,
            "probe_bytes": self.probe_bytes,
        }).encode("utf-8")  # fmt: skip
        return SecretInput(f"{len(body)}\n".encode("ascii") + body)

    def mask(self, text: str) -> str:
        """``text`` with the URL shown as :attr:`shown_as` and every secret as ``***``."""
        text = text.replace(self.url, self.shown_as)
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    @classmethod
    def read(cls, fd: int) -> PublishRequest:
        """Read exactly one request from ``fd`` (no byte of what follows it).

        Runs in the publisher's main thread; raises :class:`PublishRequestError` for a
        missing, short or malformed request and ``OSError`` when ``fd`` cannot be read.
        """
        digits = b""
        while not digits.endswith(b"\n"):
            if len(digits) > _MAX_LENGTH_DIGITS:
                raise PublishRequestError("the request's length line is too long")
            byte = os.read(fd, 1)
            if not byte:
                raise PublishRequestError(f"stdin ended after {len(digits)} bytes of the length")
            digits += byte
        try:
            length = int(digits)
        except ValueError:
            raise PublishRequestError("the request does not start with its length") from None
        if not 0 < length <= MAX_SECRET_INPUT:
            raise PublishRequestError(f"a request of {length} bytes is out of range")
        body = _read_exactly(fd, length)
        try:
            raw = json.loads(body)
            return cls(
                url=str(raw["url"]), shown_as=str(raw["shown_as"]),
                secrets=tuple(str(s) for s in raw.get("secrets", ())),
                rw_timeout=float(raw["rw_timeout"]), analyze_us=int(raw["analyze_us"]),
                probe_bytes=int(raw.get("probe_bytes", DEFAULT_PROBE_BYTES)),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishRequestError(f"the request is malformed ({type(exc).__name__})") from None


def _read_exactly(fd: int, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = os.read(fd, count - len(data))
        if not chunk:
            raise PublishRequestError(
                f"stdin ended after {len(data)} of the request's {count} bytes"
            )
        data += chunk
    return data
