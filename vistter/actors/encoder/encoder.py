"""The encoder actor: program frames in, one MPEG-TS stream out.

It owns one ffmpeg (see :mod:`vistter.actors.encoder.command`) and four daemon threads:

* ``writer``: takes frames from the :class:`~vistter.actors.program.frame_queue.FrameQueue` and
  writes them to ffmpeg's stdin (the queue keeps dropping the oldest while it waits; the
  last frame is written again for each missing one, so later frames keep their time);
* ``reader``: reads ffmpeg's stdout in chunks into the
:class:`~vistter.actors.encoder.ts_pipe.TsPipe`;
* ``stderr``: keeps the last lines of ffmpeg's stderr for error reports (a
  :class:`~vistter.media.stderr_tail.StderrTail`);
* ``progress``: parses ffmpeg's ``-progress`` blocks (fps, bitrate, speed...).

While the actor runs, ffmpeg never has a reason to exit. Any exit (even code 0), a broken
stdin pipe, a writer blocked for ``stall_timeout`` seconds, an ffmpeg that takes frames but
writes nothing for ``stall_timeout`` seconds (a hardware encoder that failed to open leaves
ffmpeg running, silent), or a thread dying of an unexpected error crashes the actor, so
that its supervisor restarts it (in the program's ``rest_for_one`` subtree, the fanout
after it restarts too; the mixer does not).

A restarted encoder continues the program timeline: its output timestamps are offset by
the number of frames the mixer has produced so far (``FrameQueue.frames_put``), so a
destination sees time move forward across the restart, never backward.

On a normal stop the encode is drained: stdin is closed, ffmpeg flushes what its encoder
still holds and exits, and the reader passes the tail on before the process is ended.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from vistter.actors.encoder.command import encoder_command
from vistter.actors.encoder.failures import EncoderFailedError, encoder_exited, encoder_stalled
from vistter.actors.encoder.hwaccel import EncoderChoice
from vistter.actors.encoder.payloads import EncoderMetrics, EncoderStatus
from vistter.actors.encoder.progress import EncoderProgress, ProgressParser
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.clock import Clock, Timer
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.media.stderr_tail import StderrTail
from vistter.models.settings import EncodingConfig
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.supervisors.processes import OwnedProcess
from vistter.telemetry.topics import STREAM_METRICS_TOPIC

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 65536
STDERR_LINES = 20
DRAIN_TIMEOUT = 3.0
"""Seconds a stopping encoder waits for ffmpeg to flush and exit after stdin closes."""
JOIN_TIMEOUT = 2.0
MAX_REPEAT_SECONDS = 2
"""The longest run of missing program frames the writer fills with the last frame; a longer
one is no queue drop but a break (the encoder is stalled or restarting) and is not filled."""


@dataclass(frozen=True)
class _EncoderExited:
    """From the reader or writer thread: ffmpeg is gone (stdout EOF or stdin broken)."""

    where: str
    code: int | None


class _Tick:
    """Time to publish metrics and check for a stalled writer."""


class EncoderActor(SupervisedActor):
    """One ffmpeg encode from the program's frame queue to the TS pipe.

    ``status()`` (through the proxy) says which encoder runs and why it was chosen, with
    the latest progress. Metrics go on the bus as ``metrics.stream`` every
    ``metrics_interval`` seconds of the link's clock.
    """

    def __init__(  # noqa: PLR0917 - the positional order is the media path's contract
        self,
        link: Link,
        fmt: FrameFormat,
        encoding: EncodingConfig,
        choice: EncoderChoice,
        ffmpeg: FfmpegBinary,
        frames: FrameQueue,
        output: TsPipe,
        *,
        audio_bed: Path | None = None,
        metrics_interval: float = 1.0,
        stall_timeout: float = 10.0,
    ) -> None:
        super().__init__(link)
        self.fmt = fmt
        self.encoding = encoding
        self.choice = choice
        self.ffmpeg = ffmpeg
        self.frames = frames
        self.output = output
        self.audio_bed = audio_bed
        self.metrics_interval = metrics_interval
        self.stall_timeout = stall_timeout
        self._stopping = threading.Event()
        self._stream_ended = threading.Event()
        self._lock = threading.Lock()
        self._process: OwnedProcess | None = None
        self._progress_file: IO[str] | None = None
        self._threads: list[threading.Thread] = []
        self._timer: Timer | None = None
        self._stderr: StderrTail | None = None
        self._progress: EncoderProgress | None = None
        self._frames_written = 0
        self._frames_repeated = 0  # written again in place of frames that never came
        self._bytes_out = 0
        self._write_since: float | None = None
        self._last_output = 0.0
        self._written_at_last_output = 0
        self._ts_offset = 0.0
        self._command_for_log = ""

    # -- lifecycle (actor thread) ------------------------------------------------------

    def setup(self) -> None:
        """Start ffmpeg and the threads. Runs in the actor thread; if it raises (ffmpeg
        cannot be started), the actor fails to start and its supervisor is told."""
        self._ts_offset = max(0, self.frames.frames_put - len(self.frames)) / self.fmt.fps
        self._last_output = self.link.clock.monotonic()
        progress_read, progress_write = os.pipe()
        try:
            command = encoder_command(
                self.ffmpeg,
                self.fmt,
                self.encoding,
                self.choice,
                audio_bed=self.audio_bed,
                progress_fd=progress_write,
                ts_offset=self._ts_offset,
            )
            self._command_for_log = command.for_log
            self.output.begin_stream()
            self._process = self.processes.spawn(
                "encoder",
                command.argv,
                args_for_log=command.for_log,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                pass_fds=(progress_write,),
            )
        except BaseException:
            os.close(progress_read)
            raise
        finally:
            os.close(progress_write)
        self._progress_file = open(  # noqa: SIM115 - closed in teardown
            progress_read, encoding="utf-8", errors="replace"
        )
        logger.info(
            "%s: encoding with %s (timestamps from %.3f s)",
            self.link.path,
            self.choice.describe(),
            self._ts_offset,
        )
        assert self._process.popen.stderr is not None
        path = self.link.path
        self._stderr = StderrTail(
            self._process.popen.stderr, STDERR_LINES, name="vistter-encoder-stderr",
            on_line=lambda line: logger.info("%s: ffmpeg: %s", path, line),
        )  # fmt: skip
        for name, body in (
            ("writer", self._write_frames),
            ("reader", self._read_stream),
            ("progress", self._read_progress),
        ):
            # A worker that raises while the encoder stops was closed under: not a death.
            thread = self.start_worker(
                name, body, thread_name=f"vistter-encoder-{name}",
                ended_normally=lambda _: self._stopping.is_set(),
            )  # fmt: skip
            self._threads.append(thread)
        self._arm_tick()

    def teardown(self) -> None:
        """Drain and end ffmpeg, stop the threads. Runs in the actor thread; bounded by
        :data:`DRAIN_TIMEOUT` plus the process grace period."""
        self._stopping.set()
        if self._timer is not None:
            self._timer.cancel()
        writer = self._threads[0] if self._threads else None  # started first, see setup
        process = self._process
        if writer is not None and process is not None:
            writer.join(JOIN_TIMEOUT)  # on its way out it closes stdin: ffmpeg drains
            if writer.is_alive():  # stuck in a write: ffmpeg is hung and will not drain
                self.processes.end(process, grace=1.0)
            else:
                self._stream_ended.wait(DRAIN_TIMEOUT)
                self.processes.end(process)
        for thread in self._threads:
            thread.join(JOIN_TIMEOUT)
        if self._stderr is not None:
            self._stderr.join(JOIN_TIMEOUT)
        if self._progress_file is not None:
            with contextlib.suppress(OSError):
                self._progress_file.close()

    # -- messages (actor thread) -------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Handles thread reports and ticks. Raising here crashes the actor (on purpose);
        a dead worker thread crashes it through ``worker_died`` (see the actor base)."""
        if isinstance(message, _Tick):
            self._on_tick()
        elif isinstance(message, _EncoderExited):
            raise self._exited_error(message)
        return None

    def status(self) -> EncoderStatus:
        """Which encoder runs, why, and how it is doing. Actor thread (proxy call)."""
        process = self._process
        stderr = self._stderr.lines() if self._stderr is not None else []
        with self._lock:
            progress = self._progress
            frames_written = self._frames_written
            frames_repeated = self._frames_repeated
            bytes_out = self._bytes_out
        return {
            "state": "running",
            "encoder": self.choice.encoder,
            "hardware": self.choice.hardware,
            "encoder_reason": self.choice.describe(),
            "command": self._command_for_log,
            "pid": process.pid if process is not None else None,
            "ts_offset": self._ts_offset,
            "frames_written": frames_written,
            "frames_repeated": frames_repeated,
            "frames_dropped": self.frames.dropped,
            "bytes_out": bytes_out,
            "progress": progress.to_dict() if progress is not None else None,
            "stderr_tail": stderr,
        }

    def _on_tick(self) -> None:
        now = self.link.clock.monotonic()
        with self._lock:
            write_since = self._write_since
            silent_for = now - self._last_output
            unanswered = self._frames_written - self._written_at_last_output
        if write_since is not None and now - write_since > self.stall_timeout:
            raise self._stalled(f"has not taken a frame for {now - write_since:.1f} s")
        if unanswered > 0 and silent_for > self.stall_timeout:
            raise self._stalled(
                f"has written nothing for {silent_for:.1f} s although it was given "
                f"{unanswered} frames"
            )
        self.link.events.publish(STREAM_METRICS_TOPIC, dict(self._metrics()))
        self._arm_tick()

    def _stalled(self, what: str) -> EncoderFailedError:
        return encoder_stalled(self._pid(), what, self._stderr_text())

    def _metrics(self) -> EncoderMetrics:
        with self._lock:
            progress = self._progress
            frames_written = self._frames_written
            bytes_out = self._bytes_out
        payload: EncoderMetrics = {
            "component": "encoder",
            "pid": self._pid(),  # the stream sampler reads its CPU (vistter.telemetry.stream)
            "encoder": self.choice.encoder,
            "hardware": self.choice.hardware,
            "frames_written": frames_written,
            "frames_dropped": self.frames.dropped,
            "bytes_out": bytes_out,
            "pipe_dropped_bytes": self.output.stats().dropped_bytes,
        }
        if progress is not None:
            return {**payload, **progress.to_dict()}
        return payload

    def _arm_tick(self) -> None:
        self._timer = self.post_later(self.metrics_interval, _Tick())

    def _exited_error(self, message: _EncoderExited) -> EncoderFailedError:
        process = self._process
        code = message.code
        if code is None and process is not None:
            code = process.popen.poll()
        return encoder_exited(self._pid(), code, message.where, self._stderr_text())

    def _pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _stderr_text(self) -> str:
        return self._stderr.text() if self._stderr is not None else ""

    # -- threads -----------------------------------------------------------------------

    def _write_frames(self) -> None:
        """Writer thread: frames -> ffmpeg stdin, until stopping or the pipe breaks.

        Each frame goes out as its byte segments (base rows and band rows, see
        ``ProgramFrame.segments``) in ``os.writev`` calls, so a banded frame is never
        assembled in memory."""
        process = self._require_process()
        stdin = process.popen.stdin
        assert stdin is not None
        clock = self.link.clock
        previous: ProgramFrame | None = None
        try:
            while not self._stopping.is_set():
                item = self.frames.get(0.2)
                if item is None:
                    continue
                if item.nbytes != self.fmt.frame_bytes:
                    raise ValueError(
                        f"program frame {item.index} has {item.nbytes} bytes, "
                        f"not the {self.fmt.frame_bytes} of a {self.fmt.size} yuv420p frame"
                    )
                # ffmpeg times raw frames by their count: a frame the queue dropped (or a
                # tick the mixer skipped) would pull every later frame, cue and the audio
                # one frame early. The last frame written stands in for each missing one.
                missing = 0 if previous is None else item.index - previous.index - 1
                if previous is not None and 0 < missing <= self.fmt.fps * MAX_REPEAT_SECONDS:
                    self._write_frame(stdin, previous, clock, repeats=missing)
                self._write_frame(stdin, item, clock)
                previous = item
        except (BrokenPipeError, ValueError, OSError):
            if not self._stopping.is_set():
                self.post(_EncoderExited("its stdin closed", process.popen.poll()))
            return
        finally:
            with self._lock:
                self._write_since = None
        self._close_stdin(process)

    def _write_frame(self, stdin: IO[bytes], item: ProgramFrame, clock: Clock, *,
                     repeats: int = 0) -> None:
        """Writer thread: ``item`` to ffmpeg's stdin once, or ``repeats`` times in place of
        frames that never came; raises ``OSError`` when the pipe breaks."""
        segments = item.segments(self.fmt)
        for _ in range(max(1, repeats)):
            with self._lock:
                self._write_since = clock.monotonic()
            _write_all(stdin, segments)
            with self._lock:
                self._write_since = None
                self._frames_written += 1
                self._frames_repeated += 1 if repeats else 0

    def _read_stream(self) -> None:
        """Reader thread: ffmpeg stdout -> TS pipe, until EOF (ffmpeg exited)."""
        process = self._require_process()
        stdout = process.popen.stdout
        assert stdout is not None
        clock = self.link.clock
        try:
            while True:
                chunk = stdout.read(READ_CHUNK_BYTES)
                if not chunk:
                    break
                self.output.put(chunk)
                now = clock.monotonic()
                with self._lock:
                    self._bytes_out += len(chunk)
                    self._last_output = now
                    self._written_at_last_output = self._frames_written
        except (OSError, ValueError):
            if self._stopping.is_set():
                return  # closed under us by teardown
            raise
        finally:
            self._stream_ended.set()
        if not self._stopping.is_set():
            try:
                code: int | None = process.popen.wait(timeout=JOIN_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
            if self._stderr is not None:  # so the report has ffmpeg's last words
                self._stderr.finished.wait(JOIN_TIMEOUT)
            self.post(_EncoderExited("its output ended", code))

    def _read_progress(self) -> None:
        """Progress thread: parse ``-progress`` blocks until ffmpeg closes the descriptor."""
        source = self._progress_file
        assert source is not None
        parser = ProgressParser()
        with contextlib.suppress(OSError, ValueError):
            for line in source:
                block = parser.feed(line)
                if block is not None:
                    with self._lock:
                        self._progress = block

    def _require_process(self) -> OwnedProcess:
        process = self._process
        if process is None:
            raise RuntimeError("the encoder process is not running")
        return process

    @staticmethod
    def _close_stdin(process: OwnedProcess) -> None:
        stdin = process.popen.stdin
        if stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()


def _write_all(stdin: IO[bytes], segments: list[memoryview]) -> None:
    """Write every byte of ``segments``, in order, to ``stdin``'s descriptor with ``os.writev``,
    looping over short writes (a blocking pipe still returns short when a signal interrupts a
    large write). Runs in the writer thread and blocks while the pipe is full. Raises
    ``ValueError`` when ``stdin`` was closed, ``OSError`` (``BrokenPipeError``) when ffmpeg
    closed its end, or when the pipe accepts nothing."""
    pending = [segment for segment in segments if segment.nbytes]
    while pending:
        written = os.writev(stdin.fileno(), pending)  # fileno() raises once stdin is closed
        if written <= 0:
            raise OSError("the encoder's stdin accepted no bytes")
        while pending and written >= pending[0].nbytes:
            written -= pending.pop(0).nbytes
        if written:
            pending[0] = pending[0][written:]
