"""The show's small value types: phases, segments, overrides, positions, arming outcomes."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vistter.show.payloads import OverridesPayload, PositionPayload

__all__ = ["NO_LIMIT", "ArmOutcome", "Overrides", "Position", "Segment", "ShowPhase"]

NO_LIMIT = 2**62
"""``armed_through`` when nothing needs arming (no show running, or paused)."""

class ShowPhase(enum.StrEnum):
    """The orchestrator's states."""

    IDLE = "idle"
    PREFLIGHT = "preflight"
    STARTING = "starting"
    LIVE = "live"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ERROR = "error"


class ArmOutcome(enum.StrEnum):
    """What :meth:`ShowState.arm` did."""

    ARMED = "armed"
    ALREADY = "already"
    """Armed before in this generation: nothing done."""
    STALE = "stale"
    """The segment changed since the caller placed the cue: nothing done, place it again."""
    HELD = "held"
    """An override (or a pause) holds this track: nothing done, try again later."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Show frames on the program from program frame ``start`` on.

    ``anchor`` is the program frame of show frame 0; ``held_at`` is the show frame a paused
    show stands still at (None while running).
    """

    generation: int
    start: int
    anchor: int
    held_at: int | None = None

    @property
    def paused(self) -> bool:
        return self.held_at is not None

    def show_frame(self, frame: int) -> int:
        """The show frame at program ``frame`` (the held one while paused)."""
        if self.held_at is not None:
            return self.held_at
        return max(frame, self.start) - self.anchor


@dataclass(frozen=True, slots=True)
class Overrides:
    """Manual overrides; they win over the timeline until released."""

    slate: bool = False
    forced_camera: int | None = None
    pinned_source: str | None = None
    overlays_cleared: bool = False
    slate_frame: int | None = None
    """The program frame the emergency slate took effect on (None: no slate)."""

    @property
    def holds_video(self) -> bool:
        """Whether video cues are ignored now."""
        return self.slate or self.forced_camera is not None or self.pinned_source is not None

    @property
    def active(self) -> bool:
        return self.holds_video or self.overlays_cleared

    def to_dict(self) -> OverridesPayload:
        return OverridesPayload(
            slate=self.slate,
            forced_camera=self.forced_camera,
            pinned_source=self.pinned_source,
            overlays_cleared=self.overlays_cleared,
            slate_frame=self.slate_frame,
        )


@dataclass(frozen=True, slots=True)
class Position:
    """Where the show stands: show frame, loop iteration and timeline frame and seconds."""

    show_frame: int
    iteration: int
    frame: int
    seconds: float
    ended: bool

    def to_dict(self) -> PositionPayload:
        return PositionPayload(
            show_frame=self.show_frame,
            iteration=self.iteration,
            frame=self.frame,
            seconds=self.seconds,
            ended=self.ended,
        )
