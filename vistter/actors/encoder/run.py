"""One ffmpeg encode of the encoder actor: a *run*, from its first program frame to its end.

The encoder actor keeps one run going and, for a planned handover (a new keyframe, new
settings), starts the next one beside it (:mod:`vistter.actors.encoder.encoder`). A run owns
its ffmpeg (spawned through the actor, which kills it when it stops), and two daemon threads
started through the actor (a dead one crashes the actor):

* ``reader``: ffmpeg's stdout through an :class:`~vistter.actors.encoder.cut.OutputCut` into
  the :class:`~vistter.actors.encoder.ts_pipe.TsPipe`, once the run before it has ended (so the
  pipe carries one run after the other; meanwhile the same bytes go *ahead* for the queues
  that wait for this very run), confirming to the
  :class:`~vistter.actors.program.frame_queue.FrameQueue` the frames whose bytes went on;
* ``progress``: ffmpeg's ``-progress`` blocks.

The writer thread is the actor's: it calls :meth:`EncodeRun.write` and, to end the run on
purpose, :meth:`EncodeRun.close_stdin` (ffmpeg drains, its tail goes on whole). Any other end
of the output is reported through ``on_exit`` (in the reader thread); the held-back tail is
then thrown away and the frames in it are encoded again by the next run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from vistter.actors.encoder.command import EncodeCommand
from vistter.actors.encoder.cut import PTS_CLOCK, OutputCut
from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.encoder.progress import EncoderProgress, ProgressParser
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.media.stderr_tail import StderrTail
from vistter.supervisors.processes import OwnedProcess

__all__ = ["TS_BASE_SECONDS", "EncodeRun", "RunParts", "ts_offset"]

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 65536
STDERR_LINES = 20
JOIN_TIMEOUT = 2.0
MAX_UNCONFIRMED = 4096
"""Frames written but not yet confirmed that a run remembers (an output in which no clean cut
is ever found must not grow without end)."""
DRAIN_WAIT = 10.0
"""Seconds a drained run's tail waits for the run before it to end (it always does)."""
DRAIN_NICE = 10
"""Niceness of a run that drains after a handover (see :meth:`EncodeRun.yield_cpu`)."""
TS_BASE_SECONDS = 1.0
"""Program frame 0 is stamped at this time, so no run ever starts at a negative DTS (B-frames,
AAC priming) and ffmpeg never shifts a run's timestamps: frame ``n`` is at
``TS_BASE_SECONDS + n / fps`` in every run, so runs join without a jump."""

Spawn = Callable[[EncodeCommand, int], OwnedProcess]
StartThread = Callable[[str, Callable[[], None]], threading.Thread]


@dataclass(frozen=True)
class RunParts:
    """What every run of one encoder actor shares: the frame queue it confirms to, the pipe
    it writes to, the program's rate, and how to spawn ffmpeg and start a thread."""

    frames: FrameQueue
    output: TsPipe
    fps: int
    spawn: Spawn
    start_thread: StartThread
    on_exit: Callable[[EncodeRun, str, int | None], None]
    on_output: Callable[[EncodeRun, int], None]


class EncodeRun:
    """One ffmpeg encode whose first frame is program frame ``first_frame``.

    ``previous``: the run whose output must end before this one's goes on (a handover), or
    None. ``command`` is built for ``-output_ts_offset`` :func:`ts_offset` (``first_frame``)
    and output rate ``out_fps``.
    """

    def __init__(
        self,
        parts: RunParts,
        command: EncodeCommand,
        progress_fd: tuple[int, int],
        *,
        first_frame: int,
        overrides: EncodeOverrides,
        out_fps: int,
        previous: EncodeRun | None = None,
    ) -> None:
        self.parts = parts
        self.command = command
        self.first_frame = first_frame
        self.overrides = overrides
        self.previous = previous
        self.closing = threading.Event()
        self.ended = threading.Event()
        self.frames_written = 0
        self._lock = threading.Lock()
        self._written: deque[tuple[int, int]] = deque()  # (end position, program index)
        self._cut = OutputCut(round(ts_offset(first_frame, parts.fps) * PTS_CLOCK), out_fps)
        self._began = False
        self._drained: Callable[[], None] | None = None
        self._progress: EncoderProgress | None = None
        read_fd, write_fd = progress_fd
        try:
            self.process = parts.spawn(command, write_fd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._progress_file: IO[str] = open(  # noqa: SIM115 - closed in close()
            read_fd, encoding="utf-8", errors="replace"
        )
        assert self.process.popen.stderr is not None
        pid = self.process.pid
        self.stderr = StderrTail(
            self.process.popen.stderr, STDERR_LINES, name="vistter-encoder-stderr",
            on_line=lambda line: logger.info("encoder ffmpeg %d: %s", pid, line),
        )  # fmt: skip
        self.threads = [
            parts.start_thread("reader", self._read_stream),
            parts.start_thread("progress", self._read_progress),
        ]

    # -- the writer thread ---------------------------------------------------------------

    def write(self, item: ProgramFrame, segments: list[memoryview], write: Callable[
            [IO[bytes], list[memoryview]], None], *, times: int = 1) -> None:
        """Write ``item`` ``times`` times (in place of frames that never came). Writer
        thread; raises ``OSError``/``ValueError`` when the pipe breaks."""
        stdin = self.process.popen.stdin
        assert stdin is not None
        for _ in range(times):
            write(stdin, segments)
            with self._lock:
                self.frames_written += 1
        with self._lock:
            self._written.append((self.frames_written, item.index))
            if len(self._written) > MAX_UNCONFIRMED:  # an output never cut cleanly
                self._written.popleft()

    def on_drained(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the reader thread, or here if it already happened) once the
        run drained on purpose and its tail went on."""
        with self._lock:
            if not self.ended.is_set():
                self._drained = callback
                return
        callback()

    def close_stdin(self) -> None:
        """End the run on purpose: ffmpeg drains what it holds and exits. Writer thread."""
        self.closing.set()
        stdin = self.process.popen.stdin
        if stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

    def yield_cpu(self) -> None:
        """Lower the priority of every thread of this run's ffmpeg (:data:`DRAIN_NICE`), so
        that while it drains its tail the next run, whose output the platforms wait for,
        gets the cores first. Writer thread; best effort (an ffmpeg already gone, or a
        system that refuses, is left as it is)."""
        pid = self.process.pid
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            threads = [str(pid)]
        for tid in threads:
            with contextlib.suppress(OSError, ValueError):
                os.setpriority(os.PRIO_PROCESS, int(tid), DRAIN_NICE)

    # -- state (any thread) ----------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def progress(self) -> EncoderProgress | None:
        with self._lock:
            return self._progress

    def held_bytes(self) -> int:
        return self._cut.held_bytes

    def close(self) -> None:
        """After the process ended: join the threads, close the progress file. Actor
        thread."""
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT)
        self.stderr.join(JOIN_TIMEOUT)
        with contextlib.suppress(OSError):
            self._progress_file.close()

    # -- threads ---------------------------------------------------------------------------

    def _read_stream(self) -> None:
        """Reader thread: stdout -> cut -> pipe (after the previous run; ahead of its turn
        while that one drains, see :meth:`~vistter.actors.encoder.ts_pipe.TsPipe.put_ahead`),
        until EOF."""
        stdout = self.process.popen.stdout
        assert stdout is not None
        waiting: list[bytes] = []  # sent ahead, to go on in turn once the previous run ended
        try:
            while True:
                chunk = stdout.read(READ_CHUNK_BYTES)
                if not chunk:
                    break
                self.parts.on_output(self, len(chunk))
                ready = self._cut.feed(chunk)
                if not self._previous_done():
                    if ready:
                        self.parts.output.put_ahead(self.first_frame, ready)
                        waiting.append(ready)
                    continue
                if waiting:
                    self._pass_on(b"".join(waiting), replay=True)
                    waiting.clear()
                if ready:
                    self._pass_on(ready)
        except (OSError, ValueError):
            if not self.closing.is_set():
                raise
        if self.closing.is_set():  # drained on purpose: the tail is whole
            tail = self._cut.finish()
            if self.previous is not None and not self._previous_done():
                if tail:
                    self.parts.output.put_ahead(self.first_frame, tail)
                    waiting.append(tail)
                    tail = b""
                self.previous.ended.wait(DRAIN_WAIT)
            if waiting:
                self._pass_on(b"".join(waiting), replay=True)
            self._pass_on(tail)
            with self._lock:
                self.ended.set()
                drained, self._drained = self._drained, None
            if drained is not None:
                drained()
            return
        self._cut.discard()
        self.ended.set()
        try:
            code: int | None = self.process.popen.wait(timeout=JOIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
        self.stderr.finished.wait(JOIN_TIMEOUT)  # so the report has ffmpeg's last words
        self.parts.on_exit(self, "its output ended", code)

    def _previous_done(self) -> bool:
        previous = self.previous
        return previous is None or previous.ended.is_set()

    def _pass_on(self, data: bytes, *, replay: bool = False) -> None:
        if not self._began:
            self._began = True
            self.parts.output.begin_stream(self.first_frame)
        if data:
            self.parts.output.put(data, replay=replay)
        complete = self._cut.complete_seconds * self.parts.fps + 1e-6
        confirmed: int | None = None
        with self._lock:
            while self._written and self._written[0][0] <= complete:
                confirmed = self._written.popleft()[1]
        if confirmed is not None:
            self.parts.frames.confirm(confirmed)

    def _read_progress(self) -> None:
        """Progress thread: parse ``-progress`` blocks until ffmpeg closes the descriptor."""
        parser = ProgressParser()
        with contextlib.suppress(OSError, ValueError):
            for line in self._progress_file:
                block = parser.feed(line)
                if block is not None:
                    with self._lock:
                        self._progress = block


def ts_offset(first_frame: int, fps: int) -> float:
    """``-output_ts_offset`` of a run whose first frame is program frame ``first_frame``."""
    return TS_BASE_SECONDS + first_frame / fps
