"""Everything a show actor is built with: the shared state, folders, settings and controls."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vistter.actors.program.state import ProgramState
from vistter.clock import Clock
from vistter.media.frames import FrameFormat
from vistter.models.network import NetworkConfig
from vistter.show.controls import Calendar, LiveCalendar, PtzControl, SourceControl
from vistter.show.show_state import ShowState

__all__ = ["ShowContext", "ShowSettings"]


@dataclass(frozen=True)
class ShowSettings:
    """Timing of the show engine.

    ``lookahead``: seconds ahead of the program that cues are armed (and overlays rendered);
    ``tick``: seconds between an executor's arming rounds; ``ptz_margin``: seconds added to a
    camera's settle time before its cue, for the move itself; ``switch_lead``: seconds between
    a resume or jump and the program frame it lands on, so every track has armed it by then;
    ``loop``: whether a timeline that does not say ``loop`` starts over at its end;
    ``media_linger``: seconds a media source is kept after its cue (for transitions);
    ``status_interval``: seconds between the orchestrator's checks (end of show, loop);
    ``starting_soon``: an image (a media location) the program shows during a GO LIVE
    countdown, when the platforms already receive it (None: no slate, platforms wait for
    the show's first frame).
    """

    lookahead: float = 3.0
    tick: float = 0.2
    ptz_margin: float = 1.0
    switch_lead: float = 0.1
    loop: bool = True
    media_linger: float = 2.0
    status_interval: float = 0.5
    starting_soon: str | None = None

    def __post_init__(self) -> None:
        if self.lookahead <= 0 or self.tick <= 0 or self.status_interval <= 0:
            raise ValueError("lookahead, tick and status_interval must be positive seconds")
        if self.ptz_margin < 0 or self.switch_lead < 0 or self.media_linger < 0:
            raise ValueError("ptz_margin, switch_lead and media_linger must be >= 0 seconds")


@dataclass(frozen=True)
class ShowContext:
    """Shared by the orchestrator and every track executor (outlives their restarts).

    ``sources`` None: media cues take ``media:<location>`` and someone else feeds it (a
    render); ``ptz`` None: pre-rolls are skipped; ``network``: which data feed URLs may be
    fetched (the ``[network]`` settings; default https to public hosts only); ``on_air``:
    which source is really on air for a wanted one, after the fallback (a backup camera,
    the slate; any thread; None: the wanted source itself).
    """

    show: ShowState
    assets_dir: Path
    calendar: Calendar
    settings: ShowSettings = field(default_factory=ShowSettings)
    sources: SourceControl | None = None
    ptz: PtzControl | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    on_air: Callable[[str], str | None] | None = None

    @classmethod
    def build(
        cls,
        program: ProgramState,
        assets_dir: Path,
        *,
        clock: Clock,
        settings: ShowSettings | None = None,
        sources: SourceControl | None = None,
        ptz: PtzControl | None = None,
        calendar: Calendar | None = None,
        network: NetworkConfig | None = None,
        on_air: Callable[[str], str | None] | None = None,
    ) -> ShowContext:
        """A context with a new :class:`ShowState` over ``program`` and, unless given, a
        :class:`~vistter.show.controls.LiveCalendar` on the program's epoch."""
        return cls(
            show=ShowState(program),
            assets_dir=assets_dir,
            calendar=calendar or LiveCalendar(program.epoch, clock),
            settings=settings or ShowSettings(),
            sources=sources,
            ptz=ptz,
            network=network or NetworkConfig(),
            on_air=on_air,
        )

    @property
    def program(self) -> ProgramState:
        return self.show.program

    @property
    def fmt(self) -> FrameFormat:
        return self.show.program.fmt

    def frames(self, seconds: float) -> int:
        """Seconds as program frames (rounded up, so a lead is never short)."""
        return max(0, math.ceil(float(seconds) * self.fmt.fps - 1e-9))
