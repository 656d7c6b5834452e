"""The take line: which source each program frame shows, and the transitions between them.

A :class:`TakeLine` is a sorted list of armed :class:`~vistter.actors.program.changes.Take`\\ s,
one per frame at most. It is not thread-safe on its own: the
:class:`~vistter.actors.program.state.ProgramState` owns one and calls it under its lock.
Frames before the take on air minus one are forgotten as the mixer plans on, so the line stays
a few takes long.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from vistter.actors.program.changes import ChangeEffect, Take, TransitionKind
from vistter.actors.program.frame_plan import ramp

__all__ = ["SourcePlan", "TakeLine"]


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """The source part of a :class:`~vistter.actors.program.frame_plan.FramePlan`."""

    source: str | None
    previous: str | None = None
    transition: TransitionKind = "cut"
    progress: float = 1.0


class TakeLine:
    """Armed takes in frame order (see the module doc). Caller holds the program lock."""

    def __init__(self) -> None:
        self._takes: list[Take] = []
        self._frames: list[int] = []
        self._pending: dict[int, tuple[int | None, str | None]] = {}
        """Frame -> (frame requested, tag) of takes not seen on a planned frame yet."""

    def __len__(self) -> int:
        """How many takes are kept (the one on air, the one before it, and later ones)."""
        return len(self._takes)

    def arm(self, take: Take, at: int) -> Take:
        """Arm ``take`` for frame ``at`` (its effective frame), replacing one armed for the
        same frame. Returns the take as armed."""
        duration = take.duration_frames if take.transition != "cut" else 0
        armed = Take(take.source_id, at, take.transition, duration, take.tag)
        index = bisect.bisect_left(self._frames, at)
        if index < len(self._frames) and self._frames[index] == at:
            self._takes[index] = armed
        else:
            self._takes.insert(index, armed)
            self._frames.insert(index, at)
        self._pending[at] = (take.at_frame, take.tag)
        return armed

    def cancel_from(self, at: int) -> int:
        """Drop the takes armed for ``at`` or later; returns how many."""
        index = bisect.bisect_left(self._frames, at)
        dropped = len(self._takes) - index
        for frame in self._frames[index:]:
            self._pending.pop(frame, None)
        del self._takes[index:]
        del self._frames[index:]
        return dropped

    def source_at(self, n: int) -> str | None:
        """The source taken for frame ``n`` (None: nothing taken)."""
        current = bisect.bisect_right(self._frames, n) - 1
        return self._takes[current].source_id if current >= 0 else None

    def take_at(self, n: int) -> Take | None:
        """The take on air at frame ``n`` as armed (``at_frame``: where it took effect)."""
        current = bisect.bisect_right(self._frames, n) - 1
        return self._takes[current] if current >= 0 else None

    def pending_after(self, n: int) -> int:
        """How many takes are armed after the one on air at ``n``."""
        return len(self._takes) - bisect.bisect_right(self._frames, n)

    def plan(self, n: int, effect: Callable[[ChangeEffect], None]) -> SourcePlan:
        """What frame ``n`` shows; reports each take reaching the program to ``effect`` and
        forgets takes that cannot affect frames from ``n`` on."""
        current = bisect.bisect_right(self._frames, n) - 1
        if current < 0:
            return SourcePlan(None)
        take = self._takes[current]
        at = self._frames[current]
        if self._pending:
            self._report(take, at, n, effect)
        result = SourcePlan(take.source_id)
        step = n - at
        if take.transition != "cut" and step < take.duration_frames:
            previous = self._takes[current - 1].source_id if current >= 1 else None
            result = SourcePlan(take.source_id, previous, take.transition,
                                ramp(step, take.duration_frames))
        if current >= 2:
            del self._takes[: current - 1]
            del self._frames[: current - 1]
        return result

    def _report(self, take: Take, at: int, n: int,
                effect: Callable[[ChangeEffect], None]) -> None:
        """Stamp the take on air at ``n`` with its effect; forget superseded ones."""
        for frame in [f for f in self._pending if f <= n]:
            requested, tag = self._pending.pop(frame)
            if frame == at:
                effect(ChangeEffect("take", take.source_id, tag, requested, frame, n))
