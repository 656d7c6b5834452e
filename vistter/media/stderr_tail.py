"""Draining a child process's stderr and keeping its last lines.

A pipe that nobody reads fills up (64 KiB on Linux) and then blocks the writer: an ffmpeg
whose stderr is not drained stops dead. :class:`StderrTail` starts a daemon thread that
reads the pipe until end of file and keeps the last ``lines`` lines in a ring buffer, for
status pages and error messages ("ffmpeg exited: Connection refused").

Lines may carry secrets (ffmpeg prints its input or output URL, with a camera password or
a stream key, in many errors). Pass ``redact`` (see :func:`secret_scrubber`: every URL in a
line masked by :func:`vistter.models.redact.redact_url`, plus the literal secrets it is
given) and only scrubbed text is ever kept or handed to ``on_line``.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Protocol
from urllib.parse import quote

from vistter.models.redact import MASK, scrub_urls

logger = logging.getLogger(__name__)

MAX_LINE_CHARS = 1000
"""Longer lines are cut (a binary blob on stderr must not grow memory without bound)."""

_READ_SIZE = 4096
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes | None: ...


def scrub_url_credentials(line: str) -> str:
    """``line`` with the secrets of every URL in it masked: ``user:password@``, an RTMP
    stream key, secret query options (:func:`vistter.models.redact.redact_url`)."""
    line = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", line)
    return scrub_urls(line)


def secret_scrubber(secrets: Iterable[str]) -> Callable[[str], str]:
    """A ``redact`` function: masks the secrets of every URL in a line
    (:func:`scrub_url_credentials`) and every literal secret given.

    Each secret is also removed in its URL-encoded form (as it appears inside a URL).
    Empty secrets are ignored. The returned function never raises.
    """
    words: set[str] = set()
    for secret in secrets:
        if secret:
            words.add(secret)
            words.add(quote(secret, safe=""))
    ordered = sorted(words, key=len, reverse=True)

    def redact(line: str) -> str:
        line = scrub_url_credentials(line)
        for word in ordered:
            line = line.replace(word, MASK)
        return line

    return redact


class StderrTail:
    """A daemon thread that drains ``stream`` and keeps its last ``lines`` lines.

    ``stream`` is a binary pipe (``popen.stderr``); the thread reads it until end of file
    (the process exited or the pipe was closed) and then ends. Lines are split on ``\\n``
    and ``\\r`` (ffmpeg's progress uses carriage returns), decoded as UTF-8 with
    replacement, stripped, and empty lines are dropped.

    ``redact`` runs on every line before it is stored; ``on_line`` runs after, in the tail
    thread, for callers that want to log or parse lines. If ``on_line`` raises, the error is
    logged and the callback is not called again; draining goes on (the pipe must never fill
    up). If ``redact`` raises, the line is replaced by ``***``.

    Thread-safety: :meth:`lines`, :meth:`last_line` and :meth:`text` may be called from
    any thread at any time.
    """

    def __init__(
        self,
        stream: _Readable,
        lines: int = 20,
        *,
        name: str = "stderr-tail",
        redact: Callable[[str], str] | None = None,
        on_line: Callable[[str], None] | None = None,
        start: bool = True,
    ) -> None:
        if lines < 1:
            raise ValueError(f"lines must be at least 1, got {lines}")
        self._stream = stream
        self._redact = redact
        self._on_line = on_line
        self._lock = threading.Lock()
        self._lines: collections.deque[str] = collections.deque(maxlen=lines)
        self._count = 0
        self.finished = threading.Event()
        """Set once the stream reached end of file (or failed) and the thread is ending."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Start the draining thread (done by the constructor unless ``start=False``)."""
        self._thread.start()

    def lines(self) -> list[str]:
        """The last lines, oldest first."""
        with self._lock:
            return list(self._lines)

    def last_line(self) -> str:
        """The newest line, or ``""`` if there was none."""
        with self._lock:
            return self._lines[-1] if self._lines else ""

    def text(self) -> str:
        """The last lines joined by newlines."""
        return "\n".join(self.lines())

    @property
    def line_count(self) -> int:
        """How many lines were read in total (not only the ones kept)."""
        with self._lock:
            return self._count

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for end of file; returns whether it was reached."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the tail thread ---------------------------------------------------------------

    def _read(self) -> bytes:
        read1 = getattr(self._stream, "read1", None)
        if read1 is not None:
            data: bytes = read1(_READ_SIZE)
            return data
        chunk = self._stream.read(_READ_SIZE)
        return chunk or b""

    def _run(self) -> None:
        """Runs in the tail thread until end of file. Never raises: a read error (the pipe was
        closed under it) ends the thread like end of file does."""
        pending = b""
        try:
            while True:
                try:
                    chunk = self._read()
                except (OSError, ValueError):
                    break
                if not chunk:
                    break
                pending += chunk
                *complete, pending = re.split(rb"[\r\n]", pending)
                for raw in complete:
                    self._add(raw)
                if len(pending) > MAX_LINE_CHARS * 4:
                    self._add(pending)
                    pending = b""
            if pending:
                self._add(pending)
        finally:
            self.finished.set()

    def _add(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            return
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + "..."
        if self._redact is not None:
            try:
                line = self._redact(line)
            except Exception:
                line = MASK
        with self._lock:
            self._lines.append(line)
            self._count += 1
        callback = self._on_line
        if callback is not None:
            try:
                callback(line)
            except Exception:
                logger.exception("stderr line callback %r raised; not calling it again", callback)
                self._on_line = None
