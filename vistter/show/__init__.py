"""The show engine: a timeline executed on the program, frame-exact.

- :class:`ShowState` (shared, outlives the actors): the loaded timeline, where it stands on
  the program, overrides, what each track armed;
- :class:`Orchestrator`: the state machine (load, preflight, go live, pause, resume, jump,
  skip, stop, overrides, live text);
- :class:`VideoTrackExecutor` / :class:`OverlayTrackExecutor`: arm each track's cues ahead
  of time on the ``ProgramState`` (PTZ pre-roll, media sources, overlay rendering);
- the ``show`` subtree itself is built with the rest of the tree in :mod:`vistter.tree`.
"""

from vistter.show.context import ShowContext, ShowSettings
from vistter.show.controls import (
    Calendar,
    ExecutionRecorder,
    FixedCalendar,
    LiveCalendar,
    PtzControl,
    PtzControllers,
    SourceControl,
)
from vistter.show.errors import ShowError, ShowStateError
from vistter.show.orchestrator import Orchestrator
from vistter.show.overlay_track import OverlayTrackExecutor, render_cue
from vistter.show.plan import CueSpan, Occurrence, ShowPlan
from vistter.show.preflight import PreflightChecks, PreflightItem, PreflightReport, assets_in
from vistter.show.show_state import (
    NO_LIMIT,
    ArmOutcome,
    Overrides,
    Position,
    Segment,
    ShowPhase,
    ShowState,
)
from vistter.show.video_track import VideoTrackExecutor

__all__ = [
    "NO_LIMIT",
    "ArmOutcome",
    "Calendar",
    "CueSpan",
    "ExecutionRecorder",
    "FixedCalendar",
    "LiveCalendar",
    "Occurrence",
    "Orchestrator",
    "OverlayTrackExecutor",
    "Overrides",
    "Position",
    "PreflightChecks",
    "PreflightItem",
    "PreflightReport",
    "PtzControl",
    "PtzControllers",
    "Segment",
    "ShowContext",
    "ShowError",
    "ShowPhase",
    "ShowPlan",
    "ShowSettings",
    "ShowState",
    "ShowStateError",
    "SourceControl",
    "VideoTrackExecutor",
    "assets_in",
    "render_cue",
]
