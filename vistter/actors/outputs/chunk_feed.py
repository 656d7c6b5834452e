"""One ffmpeg fed with MPEG-TS chunks from a queue: the engine of destinations and recorders.

A :class:`ChunkFeed` starts an ffmpeg (through its actor's :class:`ProcessSet`) that reads
MPEG-TS on stdin, and runs three daemon threads for it:

* the **writer** moves chunks from the :class:`ChunkSource` to ffmpeg's stdin;
* the **progress reader** parses ffmpeg's ``-progress pipe:1`` blocks (``total_size``,
  ``out_time_us``), so the owner can judge the output by bytes actually accepted, and
  reports the process's exit when stdout closes;
* the **stderr reader** keeps the last lines of ffmpeg's log (redacted) in a small ring, so
  the pipe never fills up and the owner can say why ffmpeg stopped.

Expected ends (ffmpeg exits, the pipe breaks) are reported through ``on_exit``; anything
else that goes wrong in a thread (a bug, a broken chunk source) goes to ``on_error(worker,
exc)``, which must crash the owning actor (pass its ``worker_died``): a dead thread must
never go unnoticed.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

from vistter.clock import Clock
from vistter.supervisors.processes import OwnedProcess, ProcessSet
from vistter.supervisors.secret_input import SecretInput
from vistter.supervisors.worker import WorkerDeathCallback, run_worker

__all__ = ["ChunkFeed", "ChunkSource", "FeedProgress"]

logger = logging.getLogger(__name__)

STDERR_LINES = 20
_JOIN_SECONDS = 2.0
_EXIT_WAIT_SECONDS = 10.0


class ChunkSource(Protocol):
    """Where a destination takes its MPEG-TS from (the fanout's per-destination queue).

    ``get`` is called from the feed's writer thread only; ``resync`` from the owning actor's
    thread before each (re)start of its ffmpeg.
    """

    def get(self, timeout: float) -> bytes | None:
        """The next TS-aligned chunk, or None after ``timeout`` seconds without one."""

    def resync(self) -> None:
        """Make the next chunk start at a video keyframe, preceded by PAT and PMT."""


@dataclass(frozen=True)
class FeedProgress:
    """What a feed has moved so far (times on the owner's clock).

    ``output_bytes`` is ffmpeg's ``total_size`` (None when the muxer does not know it, as
    for the segment muxer); ``last_output_at`` is when the output last moved forward (bytes,
    or media time when there is no byte count); ``writing_since`` is set while the writer is
    blocked handing a chunk to ffmpeg.
    """

    started_at: float
    input_bytes: int
    output_bytes: int | None
    out_time_us: int | None
    last_output_at: float
    last_input_at: float | None
    writing_since: float | None

    def input_waiting(self, now: float, within: float) -> bool:
        """True when input was there for ffmpeg in the last ``within`` seconds (or is being
        written now): an output that does not move is then the output's fault."""
        if self.writing_since is not None:
            return True
        return self.last_input_at is not None and now - self.last_input_at <= within


class ChunkFeed:
    """One ffmpeg process fed from a :class:`ChunkSource`. Used from its actor's thread.

    ``on_exit(code)`` and ``on_error(worker, exc)`` run in a feed thread and should only post a
    message to the actor. ``redact`` is applied to every stderr line before it is stored
    or logged (strip stream keys and credentials there). ``preamble``: bytes holding a secret
    written to the process's stdin before the first chunk (the RTMP publisher's request,
    :mod:`~vistter.actors.outputs.publish_request`), never in its argv. ``spare``: that
    process already started with ``argv`` (by :func:`spawn_feed_process`) and waiting for
    its preamble, so its start-up (for the PyAV publisher, Python and ``import av``: 1-2 s on
    a loaded box) is paid before it is needed; taken by :meth:`start` when still alive.
    """

    def __init__(
        self,
        *,
        name: str,
        argv: Sequence[str],
        args_for_log: str,
        source: ChunkSource,
        processes: ProcessSet,
        clock: Clock,
        on_exit: Callable[[int | None], None],
        on_error: WorkerDeathCallback,
        redact: Callable[[str], str] = lambda line: line,
        read_timeout: float = 0.25,
        preamble: SecretInput | None = None,
        spare: OwnedProcess | None = None,
    ) -> None:
        self.name = name
        self._argv = list(argv)
        self._args_for_log = args_for_log
        self._source = source
        self._processes = processes
        self._clock = clock
        self._on_exit = on_exit
        self._on_error = on_error
        self._redact = redact
        self._read_timeout = read_timeout
        self._preamble = preamble
        self._spare = spare
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._process: OwnedProcess | None = None
        self._threads: list[threading.Thread] = []
        self._stderr_thread: threading.Thread | None = None
        now = clock.monotonic()
        self._started_at = now
        self._input_bytes = 0
        self._output_bytes: int | None = None
        self._out_time_us: int | None = None
        self._last_output_at = now
        self._last_input_at: float | None = None
        self._writing_since: float | None = None

    # -- owner's thread ----------------------------------------------------------------

    def start(self) -> None:
        """Spawn the process (or take the spare) and its threads; its stdin starts with the
        preamble (if any).

        Raises OSError if the process cannot be started.
        """
        spare, self._spare = self._spare, None
        self._process = spare if spare is not None and spare.alive() else spawn_feed_process(
            self._processes, self.name, self._argv, self._args_for_log
        )
        if spare is not None and self._process is not spare:
            self._processes.end(spare, 0.5)  # it died waiting: a new one took its place
        self._started_at = self._last_output_at = self._clock.monotonic()
        popen = self._process.popen
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        if self._preamble is not None:
            _write_preamble(popen.stdin, self._preamble)
        # stderr's reader starts first: the progress reader joins it once ffmpeg has exited,
        # and an ffmpeg that exits at once (a refused connection) must not find it unstarted
        for role, target, stream in (
            ("stderr", self._stderr_loop, popen.stderr),
            ("writer", self._write_loop, popen.stdin),
            ("progress", self._progress_loop, popen.stdout),
        ):
            thread = threading.Thread(
                target=self._guarded, args=(role, target, stream),
                name=f"vistter-{self.name}-{role}", daemon=True,
            )  # fmt: skip
            self._threads.append(thread)
            if role == "stderr":
                self._stderr_thread = thread
        for thread in self._threads:
            thread.start()

    def stop(self, grace: float = 3.0, *, drain: bool = False) -> int | None:
        """End ffmpeg and join the threads. Idempotent.

        The writer stops first and ffmpeg's stdin is closed, so ffmpeg sees the end of its
        input and finishes its output cleanly; then it is ended by PID (terminate, wait up
        to ``grace`` s, kill) in case it hangs on a dead server. With ``drain``, ffmpeg
        first gets up to ``grace`` s to exit by itself after the end of its input (a clean
        end of stream: the RTMP server sees the stream unpublished).
        """
        self._stop.set()
        current = threading.current_thread()
        writer = self._threads[0] if self._threads else None
        if writer is not None and writer is not current:
            writer.join(self._read_timeout + 0.5)
        code = None
        if self._process is not None:
            stdin = self._process.popen.stdin
            if stdin is not None:
                with contextlib.suppress(OSError, ValueError):
                    stdin.close()
            if drain:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.popen.wait(grace)
            code = self._processes.end(self._process, grace)
        for thread in self._threads:
            if thread is not current:
                thread.join(_JOIN_SECONDS)
        return code

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def progress(self) -> FeedProgress:
        with self._lock:
            return FeedProgress(
                started_at=self._started_at,
                input_bytes=self._input_bytes,
                output_bytes=self._output_bytes,
                out_time_us=self._out_time_us,
                last_output_at=self._last_output_at,
                last_input_at=self._last_input_at,
                writing_since=self._writing_since,
            )

    def stderr_tail(self) -> list[str]:
        """The last lines ffmpeg logged (already redacted)."""
        with self._lock:
            return list(self._stderr)

    def last_error(self) -> str:
        """The last line ffmpeg logged, or an empty string."""
        with self._lock:
            return self._stderr[-1] if self._stderr else ""

    # -- feed threads ------------------------------------------------------------------

    def _guarded(self, role: str, target: Callable[[IO[bytes]], None], stream: IO[bytes]) -> None:
        def closed_by_stop(exc: BaseException) -> bool:
            """The stream was closed under the thread by stop(): a normal end."""
            return self._stop.is_set() and isinstance(exc, (OSError, ValueError))

        run_worker(
            role, lambda: target(stream), self._on_error, owner=self.name,
            ended_normally=closed_by_stop,
        )  # fmt: skip

    def _write_loop(self, stdin: IO[bytes]) -> None:
        """Writer thread: source -> ffmpeg stdin, until stopped or the pipe breaks."""
        while not self._stop.is_set():
            chunk = self._source.get(self._read_timeout)
            if not chunk:
                continue
            now = self._clock.monotonic()
            with self._lock:
                self._last_input_at = now
                self._writing_since = now
            try:
                view = memoryview(chunk)
                while view:
                    written = stdin.write(view)
                    if written is None:  # pragma: no cover - only for non-blocking pipes
                        continue
                    view = view[written:]
            except (OSError, ValueError):
                return  # ffmpeg is gone or stopping; the progress reader reports its exit
            finally:
                with self._lock:
                    self._writing_since = None
            with self._lock:
                self._input_bytes += len(chunk)

    def _progress_loop(self, stdout: IO[bytes]) -> None:
        """Progress reader thread: parse ``key=value`` blocks; report the exit at EOF."""
        block: dict[str, str] = {}
        try:
            for raw in stdout:
                key, sep, value = raw.decode("ascii", "replace").strip().partition("=")
                if not sep:
                    continue
                block[key] = value
                if key == "progress":
                    self._commit(block)
                    block = {}
        except (OSError, ValueError):
            pass  # closed by stop(), or the process is gone: both end the feed
        code: int | None = None
        if self._process is not None:
            try:
                code = self._process.popen.wait(_EXIT_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
        if self._stderr_thread is not None:
            self._stderr_thread.join(_JOIN_SECONDS)  # so that last_error() has the last words
        if not self._stop.is_set():
            self._on_exit(code)

    def _commit(self, block: dict[str, str]) -> None:
        size = _as_int(block.get("total_size"))
        out_time = _as_int(block.get("out_time_us"))
        now = self._clock.monotonic()
        with self._lock:
            if size is not None:
                if self._output_bytes is None or size > self._output_bytes:
                    self._last_output_at = now
                self._output_bytes = max(size, self._output_bytes or 0)
            elif out_time is not None and out_time > (self._out_time_us or -1):
                self._last_output_at = now
            if out_time is not None:
                self._out_time_us = out_time

    def _stderr_loop(self, stderr: IO[bytes]) -> None:
        """Stderr reader thread: keep the last lines, redacted; never let the pipe fill."""
        try:
            for raw in stderr:
                line = self._redact(raw.decode("utf-8", "replace").strip())
                if not line:
                    continue
                with self._lock:
                    self._stderr.append(line)
                logger.debug("%s: %s", self.name, line)
        except (OSError, ValueError):
            return


def spawn_feed_process(
    processes: ProcessSet, name: str, argv: Sequence[str], args_for_log: str
) -> OwnedProcess:
    """Spawn the process of a feed (all three pipes, unbuffered); raises OSError. Also used
    to start a spare ahead of time (a process whose argv holds no secret and that waits for
    its preamble on stdin, see :class:`ChunkFeed`'s ``spare``)."""
    return processes.spawn(
        name, list(argv), args_for_log=args_for_log,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
    )  # fmt: skip


def _write_preamble(stdin: IO[bytes], preamble: SecretInput) -> None:
    """Write the whole preamble before any chunk. It is smaller than a pipe's buffer
    (:data:`~vistter.supervisors.secret_input.MAX_SECRET_INPUT`), so this never blocks; a
    process that died at once shows up as its exit, reported by the progress reader."""
    view = memoryview(preamble.payload)
    with contextlib.suppress(OSError, ValueError):
        while view:
            written = stdin.write(view)
            view = view[written or 0 :]


def _as_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # "N/A"
