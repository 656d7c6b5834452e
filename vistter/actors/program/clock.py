"""Program time: frame n is due at t0 + n / fps, for ever, without drift.

Two objects, one formula. :class:`ProgramEpoch` *is* the program's time line: it owns ``t0``
(the clock time frame 0 is due at), answers "when is frame n due" (:meth:`ProgramEpoch.due`)
and "which frame is due now" (:meth:`ProgramEpoch.index_at`), and remembers the last frame
emitted. It is shared by every mixer incarnation, the track executors and the show's
calendar, so frame indices stay continuous across mixer restarts.

:class:`ProgramClock` is the mixer thread's metronome on that time line: the mixer asks
:meth:`ProgramClock.wait_next` for each frame, and the clock sleeps until the epoch says the
frame is due. Due times are computed from the frame index, never accumulated, so a late
wake-up delays one frame and not the rest of the stream. The mixer emits exactly one frame per
index: the encoder reads raw frames at a constant rate and stamps them ``index / fps``, so a
frame that is skipped would shift every later timestamp. When the mixer falls behind by more
than ``max_behind`` seconds (the box was overloaded or paused), ticks come back with
``catch_up=True``: the mixer should write its previous output again without composing, which
is cheap, until it is back within one frame of the schedule.

In *virtual* mode (the deterministic offline render) the clock never waits: each call returns
the next index at once, with its due time on the virtual time line.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from vistter.clock import Clock

__all__ = ["ProgramClock", "ProgramEpoch", "Tick"]


class ProgramEpoch:
    """The program's time line, shared by every mixer incarnation. Thread-safe.

    ``t0`` is the clock time frame 0 is (or was) due at, fixed by the first mixer that starts;
    ``last_index`` is the last frame any mixer emitted. A restarted mixer resumes with
    :meth:`resume_index`, so frame indices (and the encoder's timestamps) stay continuous.
    Every method may be called from any thread and holds one small lock.
    """

    def __init__(self, fps: int) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = fps
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._last: int | None = None

    @property
    def t0(self) -> float | None:
        with self._lock:
            return self._t0

    @property
    def last_index(self) -> int | None:
        with self._lock:
            return self._last

    def anchor(self, t0: float) -> float:
        """Fix ``t0`` unless it is fixed already; return the ``t0`` in force."""
        with self._lock:
            if self._t0 is None:
                self._t0 = t0
            return self._t0

    def due(self, index: int) -> float:
        """Clock time frame ``index`` is due at: ``t0 + index / fps``.

        The one place program time is computed. Raises ``RuntimeError`` before :meth:`anchor`.
        """
        with self._lock:
            t0 = self._t0
        if t0 is None:
            raise RuntimeError("the program epoch has not been anchored yet")
        return t0 + index / self.fps

    def index_at(self, now: float) -> int:
        """The first frame due at or after ``now`` (what a track executor arms for "now")."""
        with self._lock:
            t0, last = self._t0, self._last
        if t0 is None:
            return 0 if last is None else last + 1
        return self._first_due(t0, now)

    def record(self, index: int) -> None:
        """Called by the mixer thread for each frame it emits."""
        with self._lock:
            if self._last is None or index > self._last:
                self._last = index

    def resume_index(self, now: float, *, max_behind: float, virtual: bool = False) -> int:
        """The frame a (re)starting mixer begins with.

        The frame after the last one emitted, so the encoder sees consecutive indices: the
        few frames missed while the mixer restarted are due already and are emitted at once.
        If the mixer was down longer than ``max_behind`` seconds (or was never anchored) in a
        live program, it jumps to the wall-clock frame instead of replaying the gap. A virtual
        (offline) program always continues with the next frame.
        """
        with self._lock:
            following = 0 if self._last is None else self._last + 1
            t0 = self._t0
        if virtual or t0 is None:
            return following
        wall = self._first_due(t0, now)
        if wall - following <= max_behind * self.fps:
            return following
        return wall

    def _first_due(self, t0: float, now: float) -> int:
        """The inverse of :meth:`due`: the first index due at or after ``now``."""
        return max(0, math.ceil((now - t0) * self.fps - 1e-6))


@dataclass(frozen=True, slots=True)
class Tick:
    """One frame slot of the program.

    ``index`` counts frames from 0; ``due`` is the clock time the frame is due at; ``offset``
    is the program time of the frame (``index / fps``, its presentation timestamp);
    ``late_by`` is how many seconds after ``due`` the clock handed it out (0 when on time or
    virtual); ``catch_up`` tells the mixer to repeat its previous output instead of composing.
    """

    index: int
    due: float
    offset: float
    late_by: float
    catch_up: bool


class ProgramClock:
    """A fixed-rate frame clock on an injected :class:`~vistter.clock.Clock`, waiting for the
    due times of a :class:`ProgramEpoch` (its own one unless ``epoch`` is given).

    Threads: :meth:`start` and :meth:`wait_next` are called by the mixer thread only;
    :meth:`stop` and the counters may be read from any thread.
    """

    def __init__(
        self,
        fps: int,
        clock: Clock,
        *,
        epoch: ProgramEpoch | None = None,
        virtual: bool = False,
        max_behind: float = 1.0,
        stop_event: threading.Event | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if max_behind <= 0:
            raise ValueError(f"max_behind must be positive, got {max_behind}")
        if epoch is not None and epoch.fps != fps:
            raise ValueError(f"the program epoch runs at {epoch.fps} fps, the clock at {fps}")
        self.fps = fps
        self.virtual = virtual
        self.max_behind = max_behind
        self.epoch = epoch if epoch is not None else ProgramEpoch(fps)
        self._clock = clock
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._started = False
        self._next_index = 0
        self._catching_up = False
        self._late_ticks = 0
        self._dropped = 0

    @property
    def frame_duration(self) -> float:
        return 1.0 / self.fps

    @property
    def started(self) -> bool:
        return self._started

    @property
    def t0(self) -> float:
        """The clock time frame 0 is due at. Raises ``RuntimeError`` before :meth:`start`."""
        self._require_started()
        t0 = self.epoch.t0
        assert t0 is not None  # start() anchored the epoch
        return t0

    @property
    def next_index(self) -> int:
        """The index the next :meth:`wait_next` will return."""
        return self._next_index

    @property
    def late_ticks(self) -> int:
        """Ticks handed out more than half a frame after they were due."""
        return self._late_ticks

    @property
    def dropped(self) -> int:
        """Ticks handed out with ``catch_up=True`` (frames repeated instead of composed)."""
        return self._dropped

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def start(self, at: float | None = None, first_index: int = 0) -> None:
        """Begin with frame ``first_index``, due at ``at`` (default: now) unless the epoch is
        anchored already (a restarted mixer keeps the program's time line)."""
        start_time = self._clock.monotonic() if at is None else at
        self.epoch.anchor(start_time - first_index / self.fps)
        self._next_index = first_index
        self._started = True

    def due(self, index: int) -> float:
        """The clock time frame ``index`` is due at (``ProgramEpoch.due``)."""
        self._require_started()
        return self.epoch.due(index)

    def stop(self) -> None:
        """Wake a waiting :meth:`wait_next` (it returns None) and make later calls return None."""
        self._stop.set()

    def wait_next(self) -> Tick | None:
        """Sleep until the next frame is due and return its :class:`Tick`; None once stopped.

        Never sleeps in virtual mode, nor when the frame is already due. Runs in the mixer
        thread; raises ``RuntimeError`` before :meth:`start`.
        """
        index = self._next_index
        due = self.due(index)
        if self._stop.is_set():
            return None
        offset = index / self.fps
        if self.virtual:
            self._next_index = index + 1
            return Tick(index, due, offset, 0.0, False)
        now = self._clock.monotonic()
        while now < due:
            if self._clock.wait(self._stop, due - now):
                return None
            now = self._clock.monotonic()
        if self._stop.is_set():
            return None
        late_by = now - due
        if late_by > 0.5 / self.fps:
            self._late_ticks += 1
        if late_by > self.max_behind:
            self._catching_up = True
        elif late_by <= 1.0 / self.fps:
            self._catching_up = False
        if self._catching_up:
            self._dropped += 1
        self._next_index = index + 1
        return Tick(index, due, offset, late_by, self._catching_up)

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("ProgramClock.start() has not been called")
