"""Lock-step: the offline render's source barrier, so a render never depends on thread timing.

The live mixer never waits for a source: it takes whatever frame a slot holds. That is right
on air and useless for a render that must come out identical twice. In render mode the
:class:`~vistter.actors.program.mixer.ProgramMixer` runs on its virtual clock with a
:class:`LockStep`
as its ``source_barrier``: before it composes program frame ``n`` it calls ``lockstep(n)``,
which

1. runs the frame hooks (e.g. the show engine arming the cues of frame ``n``), in order;
2. makes every registered :class:`RenderSource` publish its frame ``n - first_frame`` into its
   slot, one source after the other, waiting for each (the sources read ahead on their own
   threads, a frame or two at most, so their ffmpegs work in parallel with the mixer).

**Off-air sources advance too.** Every registered source moves on exactly one frame per
program frame, on air or not, like a real camera that keeps running while another one is on
air. So a source's frame ``k`` is always its ``k``-th frame, whatever the timeline does: a
cut to camera 2 at frame 30 shows camera 2's 30th frame, and a render does not depend on when
a source was first needed. (If the mixer asks for a frame further ahead than the next one,
e.g. after a restart, the sources skip the frames in between, so the rule still holds.)

**Bounded waits.** Waiting for a source is bounded by ``timeout`` seconds of *real* time (a
stalled ffmpeg is a real-world event, not program time). A source that does not deliver in
time raises :class:`SourceStalledError`; one whose stream ended or whose reader failed raises
:class:`SourceEndedError`, both naming the source. The barrier raises in the mixer thread, so
the mixer crashes (as :data:`~vistter.actors.program.mixer.SourceBarrier` says); the error is also
kept
in :attr:`LockStep.failure` so that the render driver can report it, and every later call
raises it again.

**Stopping.** :meth:`LockStep.close` (any thread) wakes a barrier that is waiting (it returns
without raising, the mixer then sees it must stop) and closes every source, which ends its
processes by PID. With ``end_frame`` set, the barrier does not let the sources run past the
end of the render: for ``n >= end_frame`` it parks for at most :data:`PARK_SECONDS` and
returns, so a mixer that is being stopped is never held up.

Determinism holds for sources that are deterministic themselves: simulated (``lavfi:``)
cameras, video files, stills and the slate. A live camera (RTSP) works in lock-step too, but
what it shows depends on when it is read.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from vistter.errors import OperatorError
from vistter.render.payloads import LockStepStatus, RenderSourceStatus

logger = logging.getLogger(__name__)

DEFAULT_SOURCE_TIMEOUT = 10.0
"""Real seconds the barrier waits for one program frame's source frames."""

PARK_SECONDS = 0.25
"""How long the barrier holds the mixer on a frame past ``end_frame`` before returning."""

WAIT_SLICE = 0.1
"""Longest single wait inside the barrier, so that :meth:`LockStep.close` is seen promptly."""

FrameHook = Callable[[int], None]
"""Called by the barrier, in the mixer thread, with ``n`` before the sources deliver frame
``n``. If it raises, the barrier records and re-raises the error (the mixer crashes)."""


class RenderSourceError(OperatorError):
    """A render source could not deliver the frame the program needed."""

    def __init__(self, problem: str, *, hint: str = "", source_id: str = "") -> None:
        super().__init__(problem, hint=hint)
        self.source_id = source_id


class SourceStalledError(RenderSourceError):
    """A render source did not deliver its frame within the barrier's timeout."""


class SourceEndedError(RenderSourceError):
    """A render source's stream ended (its ffmpeg exited) or its reader failed."""


class Delivery(enum.Enum):
    """What :meth:`RenderSource.advance_to` achieved before returning."""

    DELIVERED = "delivered"
    """The frame asked for is the latest in the source's slot."""
    TIMED_OUT = "timed_out"
    """The deadline passed first (the barrier raises :class:`SourceStalledError`)."""
    CANCELLED = "cancelled"
    """The barrier was closed while waiting (the render is stopping)."""


class RenderSource(Protocol):
    """A source read in lock-step with the program: one frame per program frame, in order.

    Threads: :meth:`start` and :meth:`close` run in the render driver's thread (``close`` may
    also run in any other thread, more than once); :meth:`advance_to` runs in the mixer thread
    (inside the barrier) and never concurrently with itself.
    """

    @property
    def source_id(self) -> str:
        """The id of the slot it publishes to (``camera:1``, ``media:...``, ``slate``)."""
        ...

    def describe(self) -> str:
        """A short, credential-free description for errors and logs."""
        ...

    def start(self) -> None:
        """Start producing (spawn processes, threads). Raises an ``OperatorError`` when the
        source cannot be used (a missing file)."""
        ...

    def advance_to(
        self, frame: int, *, deadline: float, cancelled: threading.Event
    ) -> Delivery:
        """Publish the source's frame number ``frame`` (0-based) into its slot, skipping the
        frames in between if it is further ahead than the next one; a frame already published
        is not published again. ``deadline`` is a ``time.monotonic()`` time. Raises
        :class:`SourceEndedError` when the stream ended or the reader failed."""
        ...

    def close(self) -> None:
        """Stop producing: end threads and processes (by PID). Idempotent; never raises."""
        ...

    def status(self) -> RenderSourceStatus:
        """Counters for the render's report (JSON-ready)."""
        ...


class LockStep:
    """The barrier the virtual mixer calls before composing each frame (see module doc).

    Thread-safety: configure (:meth:`add`, :meth:`add_hook`) and :meth:`start` from one
    thread before the mixer starts; the mixer thread calls the instance; :meth:`close`,
    :attr:`failure` and :meth:`status` from any thread.
    """

    def __init__(
        self,
        sources: Sequence[RenderSource] = (),
        *,
        timeout: float = DEFAULT_SOURCE_TIMEOUT,
        first_frame: int = 0,
        end_frame: int | None = None,
        hooks: Sequence[FrameHook] = (),
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"the source timeout must be positive, got {timeout}")
        if first_frame < 0:
            raise ValueError(f"first_frame must be >= 0, got {first_frame}")
        self.timeout = timeout
        self.first_frame = first_frame
        self.end_frame = end_frame
        self._sources: list[RenderSource] = []
        self._hooks: list[FrameHook] = list(hooks)
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._failed = threading.Event()
        self._failure: BaseException | None = None
        self._started = False
        self._last_frame: int | None = None
        self._wait_seconds = 0.0
        for source in sources:
            self.add(source)

    # -- configuration (driver thread, before the mixer starts) -----------------------------

    def add(self, source: RenderSource) -> None:
        """Register ``source``; it advances one frame per program frame from then on."""
        with self._lock:
            if self._started:
                raise RuntimeError("add render sources before LockStep.start()")
            if any(s.source_id == source.source_id for s in self._sources):
                raise ValueError(f"render source {source.source_id!r} is registered twice")
            self._sources.append(source)

    def add_hook(self, hook: FrameHook) -> None:
        """Run ``hook(n)`` in the barrier before the sources deliver frame ``n``."""
        with self._lock:
            self._hooks.append(hook)

    @property
    def source_ids(self) -> list[str]:
        with self._lock:
            return [s.source_id for s in self._sources]

    def start(self) -> None:
        """Start every source, in order (driver thread). If one fails to start, the ones
        already started are closed and its error is raised."""
        with self._lock:
            if self._started:
                raise RuntimeError("LockStep.start() called twice")
            self._started = True
            sources = list(self._sources)
        started: list[RenderSource] = []
        try:
            for source in sources:
                source.start()
                started.append(source)
        except BaseException:
            for source in reversed(started):
                source.close()
            raise

    # -- the barrier (mixer thread) ---------------------------------------------------------

    def __call__(self, n: int) -> None:
        """Block until every source published its frame for program frame ``n``.

        Runs in the mixer thread. Returns at once when closed; parks briefly past
        ``end_frame``. Raises :class:`SourceStalledError` / :class:`SourceEndedError` (or a
        hook's error), which is also kept in :attr:`failure`.
        """
        failure = self.failure
        if failure is not None:
            raise failure
        if self._cancelled.is_set():
            return
        if self.end_frame is not None and n >= self.end_frame:
            self._cancelled.wait(PARK_SECONDS)
            return
        frame = n - self.first_frame
        if frame < 0:
            raise self._fail(ValueError(
                f"the mixer asked for program frame {n}, before the render's first frame "
                f"{self.first_frame}"
            ))
        with self._lock:
            hooks = list(self._hooks)
            sources = list(self._sources)
        try:
            for hook in hooks:
                hook(n)
        except BaseException as exc:
            raise self._fail(exc) from None
        started = time.monotonic()
        deadline = started + self.timeout
        for source in sources:
            try:
                delivery = source.advance_to(frame, deadline=deadline, cancelled=self._cancelled)
            except BaseException as exc:
                raise self._fail(exc) from None
            if delivery is Delivery.CANCELLED:
                return
            if delivery is Delivery.TIMED_OUT:
                raise self._fail(SourceStalledError(
                    f"render source {source.source_id} ({source.describe()}) did not deliver "
                    f"its frame {frame} for program frame {n} within {self.timeout:g} s.",
                    hint="A live camera may be stalled or slower than the render; check it, "
                    "raise the render's source timeout, or render with simulated (lavfi) "
                    "cameras or files.",
                    source_id=source.source_id,
                ))
        with self._lock:
            self._last_frame = n
            self._wait_seconds += time.monotonic() - started

    def _fail(self, exc: BaseException) -> BaseException:
        with self._lock:
            if self._failure is None:
                self._failure = exc
            first = self._failure
        self._failed.set()
        logger.error("lock-step render stopped: %s", first)
        return first

    # -- any thread -------------------------------------------------------------------------

    @property
    def failure(self) -> BaseException | None:
        """The first error the barrier raised (a source that stalled or ended), if any."""
        with self._lock:
            return self._failure

    @property
    def failed(self) -> threading.Event:
        """Set when :attr:`failure` is set."""
        return self._failed

    @property
    def closed(self) -> bool:
        return self._cancelled.is_set()

    def close(self) -> None:
        """Wake a waiting barrier and close every source (their processes end, by PID).

        Any thread; idempotent; never raises (a source's close error is logged)."""
        self._cancelled.set()
        with self._lock:
            sources = list(self._sources)
        for source in reversed(sources):
            try:
                source.close()
            except Exception:
                logger.exception("closing render source %s failed", source.source_id)

    def status(self) -> LockStepStatus:
        """The last program frame delivered, time spent waiting for sources, each source."""
        with self._lock:
            sources = list(self._sources)
            payload: LockStepStatus = {
                "last_frame": self._last_frame,
                "source_wait_seconds": round(self._wait_seconds, 3),
                "failure": None if self._failure is None else str(self._failure),
            }
        payload["sources"] = [s.status() for s in sources]
        return payload
