"""The preview render process: ``python -m vistter.render.previews`` runs :func:`main`.

A preview is rendered by the same code as ``vistter render``
(:func:`vistter.render.command.render_timeline`), but in a child process of the appliance, so
that it cannot disturb the live show's actors (a render builds and stops its own actor tree)
and can be stopped at any time by its PID. The process:

1. lowers its own priority first (``nice`` 19 and the idle I/O class), so the ffmpegs it
   starts inherit it;
2. reads one pickled :class:`RenderOrder` from stdin (written by the appliance, never by a
   client: it carries the appliance configuration, camera credentials included, which must not
   go into argv or the environment);
3. renders, writing one JSON line per event to stdout: ``{"frames": n}`` after every frame
   written, then ``{"done": frames}`` or ``{"failed": problem, "hint": hint}``;
4. on SIGTERM (a cancelled preview), or when the appliance that started it is gone, stops the
   render: :func:`render_timeline` then ends its ffmpegs by PID and removes the partial file.

Exit codes: 0 rendered, 1 failed, 3 cancelled. Logging (warnings and up) goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

import psutil

from vistter.errors import VistterError
from vistter.models.config import ApplianceConfig

__all__ = ["EXIT_CANCELLED", "EXIT_FAILED", "RenderOrder", "main", "parse_event"]

EXIT_FAILED, EXIT_CANCELLED = 1, 3
PARENT_CHECK_SECONDS = 1.0

logger = logging.getLogger("vistter.render.previews.child")


@dataclass(frozen=True)
class RenderOrder:
    """What one preview process renders: ``duration`` seconds of the timeline file
    ``timeline`` from its time ``timeline_start``, into ``out``, with ``config`` (already at
    the preview's size)."""

    config: ApplianceConfig
    timeline: Path
    out: Path
    timeline_start: float
    duration: float
    niceness: int = 19


class RenderCancelledError(BaseException):
    """SIGTERM reached the render (a BaseException, like Ctrl-C: nothing catches it by
    accident on its way out, and every ``finally`` on the way ends what it started)."""


def parse_event(line: bytes) -> dict[str, Any] | None:
    """One event line of the child's stdout, or None for a line that is not one (never
    raises)."""
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) else None


def _lower_priority(niceness: int) -> None:
    with contextlib.suppress(OSError):
        os.nice(max(0, niceness - os.nice(0)))
    with contextlib.suppress(OSError, AttributeError, psutil.Error):
        psutil.Process().ionice(psutil.IOPRIO_CLASS_IDLE)


def _stop_on_sigterm() -> None:
    """SIGTERM raises :class:`RenderCancelledError` in the main thread, once (a second one
    during the clean-up is ignored, so the clean-up completes)."""
    raised = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if not raised.is_set():
            raised.set()
            raise RenderCancelledError()

    signal.signal(signal.SIGTERM, handler)


def _watch_parent() -> None:
    """A daemon thread: when the appliance that started this process is gone (this process
    was re-parented), SIGTERM ourselves so the render stops and ends its ffmpegs."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(PARENT_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="vistter-preview-parent-watch", daemon=True).start()


def _emitter(out: IO[bytes]) -> Callable[..., None]:
    def emit(**event: Any) -> None:
        out.write(json.dumps(event).encode() + b"\n")
        out.flush()

    return emit


def main(stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> int:
    """Run one preview render (see module doc). Main thread of the child process."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(threadName)s %(name)s: %(message)s")
    emit = _emitter(stdout if stdout is not None else sys.stdout.buffer)
    # the appliance that started this process wrote it; nothing a client sends is unpickled
    order = pickle.load(stdin if stdin is not None else sys.stdin.buffer)  # noqa: S301
    if not isinstance(order, RenderOrder):
        emit(failed="the preview process was given no render order.", hint="This is a bug.")
        return EXIT_FAILED
    _lower_priority(order.niceness)
    _stop_on_sigterm()
    _watch_parent()
    # after nice: numpy's and the render's threads start at this import and inherit it
    from vistter.render.command import render_timeline  # noqa: PLC0415

    try:
        result = render_timeline(
            order.timeline, order.out, order.config, duration=order.duration,
            timeline_start=order.timeline_start, progress=lambda n: emit(frames=n),
        )
    except RenderCancelledError:
        emit(cancelled=True)
        return EXIT_CANCELLED
    except VistterError as error:
        emit(failed=error.problem, hint=error.hint)
        return EXIT_FAILED
    except Exception as error:  # a bug: say so, with the traceback on stderr
        logger.exception("the preview render failed")
        emit(failed=f"the preview render failed unexpectedly: {type(error).__name__}.",
             hint="See the appliance log; please report it with the timeline.")
        return EXIT_FAILED
    emit(done=result.frames, encode_seconds=round(result.encode_seconds, 3))
    return 0

