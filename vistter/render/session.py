"""One offline render: lock-step sources, a virtual mixer and the MP4 writer, wired and cleaned up.

:func:`render_program` is what ``vistter render`` calls once it has the program state (armed
by the show engine, or by a test) and the render sources. It runs in the caller's thread:

1. starts the sources (:meth:`LockStep.start`, which spawns their ffmpegs) and the encoder;
2. starts a :class:`~vistter.actors.program.mixer.ProgramMixer` with ``virtual=True``, the lock-step
   as its source barrier and a :class:`~vistter.render.writer.LosslessFrameQueue` as output,
   from program frame 0;
3. writes frames 0..``frames - 1`` to the file, checking between frames that no source failed
   and the mixer is alive;
4. always, even on error or Ctrl-C: closes the lock-step (sources and their processes end, by
   PID), closes the queue, stops the mixer actor and ends the encoder.

The mixer is not supervised here: a render has nothing to restart, and any failure ends it
with a typed error naming the cause (:class:`~vistter.render.lockstep.RenderSourceError`,
:class:`~vistter.render.writer.RenderWriteError` or :class:`RenderFailedError`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pykka

from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceTable
from vistter.clock import Clock, MonotonicClock
from vistter.errors import OperatorError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.render.lockstep import LockStep
from vistter.render.writer import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    LosslessFrameQueue,
    Mp4Writer,
    RenderedFile,
)
from vistter.supervisors.link import EventSink, Exit, Link
from vistter.supervisors.processes import ProcessSet

logger = logging.getLogger(__name__)

MIXER_START_TIMEOUT = 10.0
MIXER_STOP_TIMEOUT = 5.0


class RenderFailedError(OperatorError):
    """The render's mixer could not start or died during the render."""


def render_program(
    state: ProgramState,
    sources: SourceTable,
    lockstep: LockStep,
    *,
    out: str | os.PathLike[str],
    frames: int,
    ffmpeg: FfmpegBinary,
    audio: bool = False,
    preset: str = DEFAULT_PRESET,
    crf: int = DEFAULT_CRF,
    queue_capacity: int = 4,
    stall_timeout: float = 30.0,
    progress: Callable[[int], None] | None = None,
    processes: ProcessSet | None = None,
    clock: Clock | None = None,
    events: EventSink | None = None,
) -> RenderedFile:
    """Render program frames ``0 .. frames - 1`` to the MP4 ``out`` (see module doc), in the
    program state's format.

    ``state`` must be armed for the whole render before the call, or armed frame by frame from
    a lock-step hook (:meth:`LockStep.add_hook`), which runs in the mixer thread before frame
    ``n`` is composed. ``sources`` is the table the lock-step's sources publish to. Runs in
    the calling thread; ``progress(frames_written)`` is called there after every frame (if it
    raises, the render stops and the error propagates, like Ctrl-C does). The
    encoder is started in ``processes`` (a new set by default), ended by PID in every case.
    Raises the first error that stopped the render; the output file then does not exist.
    """
    fmt = state.fmt
    if frames < 1:
        raise ValueError(f"a render needs at least one frame, got {frames}")
    if lockstep.first_frame != 0:
        raise ValueError("render_program renders from program frame 0: use first_frame=0")
    lockstep.end_frame = frames
    queue = LosslessFrameQueue(queue_capacity)
    writer = Mp4Writer(out, fmt, frames, ffmpeg=ffmpeg, processes=processes, audio=audio,
                       preset=preset, crf=crf)
    exits: list[Exit] = []
    mixer_exited = threading.Event()

    def on_exit(_link: Link, exit_: Exit) -> None:  # runs in the dying mixer's thread
        exits.append(exit_)
        mixer_exited.set()

    def check() -> None:
        failure = lockstep.failure
        if failure is not None:
            raise failure
        if mixer_exited.is_set():
            raise RenderFailedError(
                f"the render's program mixer stopped: {exits[0].error or exits[0].reason}.",
                hint="See the log for the mixer's error.",
            )

    link = Link("render/mixer", on_exit=on_exit, clock=clock or MonotonicClock(), events=events)
    mixer: pykka.ActorRef[ProgramMixer] | None = None
    try:
        lockstep.start()
        writer.open()
        mixer = ProgramMixer.start(link, fmt, sources, state, queue, virtual=True,
                                   source_barrier=lockstep, start_index=0)
        if not link.settled.wait(MIXER_START_TIMEOUT) or not link.ready.is_set():
            check()
            raise RenderFailedError(
                f"the render's program mixer did not start within {MIXER_START_TIMEOUT:g} s.",
                hint="The machine may be overloaded; try again.",
            )
        writer.write_from(queue, stall_timeout=stall_timeout, check=check, progress=progress)
    except BaseException:
        writer.abort()
        raise
    finally:
        lockstep.close()
        queue.close()
        if mixer is not None:
            with contextlib.suppress(pykka.ActorDeadError, pykka.Timeout):
                mixer.stop(timeout=MIXER_STOP_TIMEOUT)
    result = writer.finish()
    logger.info("rendered %d frames (%s@%d) to %s in %.1f s", result.frames, fmt.size,
                fmt.fps, Path(result.path), result.encode_seconds)
    return result
