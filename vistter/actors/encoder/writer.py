"""The encoder's writer thread: program frames into the running encode's stdin.

It takes frames from the :class:`~vistter.actors.program.frame_queue.FrameQueue` and writes
them to the current :class:`~vistter.actors.encoder.run.EncodeRun`: the queue keeps dropping
the oldest while it waits; the last frame is written again for each missing one, so later
frames keep their time. At a planned :class:`~vistter.actors.encoder.handover.Handover`'s
frame it closes the old run's stdin (it drains) and goes on with the new run.

:class:`FrameWriter` also keeps the counters the actor reports (frames written, bytes out,
when the last output came) under its lock; the actor's thread reads them, the writer and
the runs' reader threads update them. Messages for the actor go through ``post``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from vistter.actors.encoder.handover import Handover
from vistter.actors.encoder.run import EncodeRun
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.clock import Clock
from vistter.media.frames import FrameFormat

__all__ = ["EncoderExited", "FrameWriter", "RunEnded"]

SPAWN_TIMEOUT = 5.0
"""Seconds the writer waits at a handover frame for the next run's ffmpeg to be started."""
MAX_REPEAT_SECONDS = 2
"""The longest run of missing program frames the writer fills with the last frame; a longer
one is no queue drop but a break (the encoder is stalled or restarting) and is not filled."""


@dataclass(frozen=True)
class EncoderExited:
    """From a reader or the writer thread: ffmpeg is gone (stdout EOF or stdin broken)."""

    pid: int | None
    where: str
    code: int | None
    stderr: str


@dataclass(frozen=True)
class RunEnded:
    """From a reader thread: a run drained on purpose (a handover) and ended."""

    run: EncodeRun


class FrameWriter:
    """The writer thread's loop and the counters around it (see the module doc)."""

    def __init__(self, frames: FrameQueue, fmt: FrameFormat, clock: Clock,
                 post: Callable[[object], None], stopping: threading.Event) -> None:  # fmt: skip
        self.frames = frames
        self.fmt = fmt
        self.clock = clock
        self.post = post
        self.stopping = stopping
        self.lock = threading.Lock()
        self.handover: Handover | None = None
        self.last_index = -1
        self.frames_written = 0
        self.frames_repeated = 0
        self.bytes_out = 0
        self.write_since: float | None = None
        self.last_output = clock.monotonic()
        self.written_at_last_output = 0
        self.awaiting_output: EncodeRun | None = None

    def output(self, run: EncodeRun, size: int) -> None:
        """A reader thread: ``size`` bytes came out of ``run``'s ffmpeg (it encodes)."""
        now = self.clock.monotonic()
        with self.lock:
            self.bytes_out += size
            self.last_output = now
            self.written_at_last_output = self.frames_written
            started = run is self.awaiting_output
            if started:
                self.awaiting_output = None
        if started:
            self.frames.release()  # the new encode runs: the kept backlog drains

    def run(self, first: EncodeRun) -> None:
        """Writer thread: frames -> the current run's stdin, until stopping or the pipe
        breaks; switches runs at a handover frame."""
        run = first
        previous: ProgramFrame | None = None
        expected = run.first_frame
        try:
            while not self.stopping.is_set():
                item = self.frames.get(0.2)
                if item is None:
                    continue
                if item.nbytes != self.fmt.frame_bytes:
                    raise ValueError(
                        f"program frame {item.index} has {item.nbytes} bytes, "
                        f"not the {self.fmt.frame_bytes} of a {self.fmt.size} yuv420p frame"
                    )
                with self.lock:
                    handover = self.handover
                    self.last_index = max(self.last_index, item.index)
                if handover is not None and item.index >= handover.first_frame:
                    run = self._switch(run, handover)
                    previous, expected = None, handover.first_frame
                if item.index < expected:
                    continue  # a frame the previous run already encoded
                # ffmpeg times raw frames by their count: a frame the queue dropped (or a
                # tick the mixer skipped) would pull every later frame, cue and the audio
                # one frame early. The last frame written stands in for each missing one.
                missing = item.index - expected
                stand_in = previous if previous is not None else item
                if 0 < missing <= self.fmt.fps * MAX_REPEAT_SECONDS:
                    self._write(run, stand_in, repeats=missing)
                self._write(run, item)
                previous, expected = item, item.index + 1
        except (BrokenPipeError, ValueError, OSError):
            if not self.stopping.is_set():
                self.frames.hold()  # keep what the mixer makes until the next encoder
                self.post(EncoderExited(run.pid, "its stdin closed", run.process.popen.poll(),
                                        run.stderr.text()))
            return
        finally:
            with self.lock:
                self.write_since = None
        run.close_stdin()

    def _switch(self, run: EncodeRun, handover: Handover) -> EncodeRun:
        """Writer thread: end ``run`` (it drains) and go on with ``handover``'s run."""
        self.frames.hold()  # until the new ffmpeg encodes (it takes a moment to open)
        if not handover.ready.wait(SPAWN_TIMEOUT) or handover.run is None:
            raise OSError(f"the next encode was not started within {SPAWN_TIMEOUT:g} s "
                          f"({handover.error or 'no answer'})")
        run.on_drained(lambda: self.post(RunEnded(run)))
        run.close_stdin()
        if handover.go_live:
            run.yield_cpu()  # its tail is for the recorder; the platforms wait for the new run
        with self.lock:
            self.handover = None
            self.awaiting_output = handover.run
        self.post(handover)
        return handover.run

    def _write(self, run: EncodeRun, item: ProgramFrame, *, repeats: int = 0) -> None:
        """Writer thread: ``item`` to ``run``'s stdin once, or ``repeats`` times in place of
        frames that never came; raises ``OSError`` when the pipe breaks."""
        with self.lock:
            self.write_since = self.clock.monotonic()
        run.write(item, item.segments(self.fmt), write_all, times=max(1, repeats))
        with self.lock:
            self.write_since = None
            self.frames_written += max(1, repeats)
            self.frames_repeated += repeats


def write_all(stdin: IO[bytes], segments: list[memoryview]) -> None:
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
