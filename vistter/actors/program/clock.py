"""The program's frame clock: frame n is due at t0 + n / fps, for ever, without drift.

The mixer asks :meth:`ProgramClock.wait_next` for each frame. Due times are computed from the
frame index, never accumulated, so a late wake-up delays one frame and not the rest of the
stream. The mixer emits exactly one frame per index: the encoder reads raw frames at a
constant rate and stamps them ``index / fps``, so a frame that is skipped would shift every
later timestamp. When the mixer falls behind by more than ``max_behind`` seconds (the box
was overloaded or paused), ticks come back with ``catch_up=True``: the mixer should write its
previous output again without composing, which is cheap, until it is back within one frame of
the schedule.

In *virtual* mode (the deterministic offline render) the clock never waits: each call returns
the next index at once, with its due time on the virtual time line.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from vistter.clock import Clock


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
    """A fixed-rate frame clock on an injected :class:`~vistter.clock.Clock`.

    Threads: :meth:`start` and :meth:`wait_next` are called by the mixer thread only;
    :meth:`stop` and the counters may be read from any thread.
    """

    def __init__(
        self,
        fps: int,
        clock: Clock,
        *,
        virtual: bool = False,
        max_behind: float = 1.0,
        stop_event: threading.Event | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if max_behind <= 0:
            raise ValueError(f"max_behind must be positive, got {max_behind}")
        self.fps = fps
        self.virtual = virtual
        self.max_behind = max_behind
        self._clock = clock
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._t0: float | None = None
        self._next_index = 0
        self._catching_up = False
        self._late_ticks = 0
        self._dropped = 0

    @property
    def frame_duration(self) -> float:
        return 1.0 / self.fps

    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def t0(self) -> float:
        """The clock time frame 0 is due at. Raises ``RuntimeError`` before :meth:`start`."""
        if self._t0 is None:
            raise RuntimeError("ProgramClock.start() has not been called")
        return self._t0

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
        """Anchor the schedule: frame ``first_index`` is due at ``at`` (default: now)."""
        start_time = self._clock.monotonic() if at is None else at
        self._t0 = start_time - first_index / self.fps
        self._next_index = first_index

    def due(self, index: int) -> float:
        """The clock time frame ``index`` is due at: ``t0 + index / fps``."""
        return self.t0 + index / self.fps

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
