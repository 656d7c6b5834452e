"""``vistter render``: a timeline rendered offline, as fast as the machine allows.

The same show engine as live (orchestrator and track executors arming the program state),
the same mixer in virtual mode, and render sources read in lock-step with the program
clock: two renders of the same timeline from simulated cameras, files and stills are
identical frame for frame. Dynamic text reads a fixed calendar (``start``), not the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pykka

from vistter.actors.bus import SLATE_IMAGE
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceTable, media_source_id
from vistter.clock import MonotonicClock
from vistter.errors import ConfigError
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat
from vistter.models.assets import resolve_asset
from vistter.models.config import ApplianceConfig
from vistter.models.timeline import CameraCue, MediaCue, TimelineDocument
from vistter.models.validation import load_timeline_file
from vistter.render.lockstep import LockStep
from vistter.render.render_sources import (
    camera_render_source,
    slate_render_source,
    still_render_source,
    video_file_render_source,
)
from vistter.render.session import render_program
from vistter.render.writer import RenderedFile
from vistter.show import FixedCalendar, ShowContext, ShowSettings
from vistter.supervisors import RootSupervisor, Strategy, SupervisorFlags
from vistter.supervisors.processes import ProcessSet
from vistter.tree import show_spec

DEFAULT_START = datetime(2000, 1, 1, 12, 0, 0)
SOURCE_TIMEOUT = 20.0
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def render_timeline(
    timeline: Path,
    out: Path,
    config: ApplianceConfig,
    *,
    duration: float | None = None,
    start: datetime = DEFAULT_START,
    progress: Callable[[int], None] | None = None,
    timeline_start: float = 0.0,
) -> RenderedFile:
    """Render ``timeline`` (validated against ``config``) to the MP4 ``out``.

    ``duration`` seconds (default: the timeline's own duration) from the timeline's time
    ``timeline_start`` (the render's frame 0 shows the timeline there, cues under way
    included; a source still starts from its own first frame). Runs in the calling thread;
    raises :class:`~vistter.errors.TimelineError` for an invalid timeline and the render's
    typed errors when a source or the encode fails (no file is left then).
    """
    document = load_timeline_file(timeline, config)
    encoding = config.encoding
    fmt = FrameFormat(encoding.width, encoding.height, encoding.fps)
    seconds = document.timeline.duration if duration is None else duration
    frames = round(seconds * fmt.fps)
    if frames < 1:
        raise ConfigError(f"--duration {seconds:g} s is less than one frame",
                          hint="give a duration of at least one frame, e.g. --duration 10")
    clock = MonotonicClock()
    ffmpeg = find_ffmpeg(str(encoding.ffmpeg_path) if encoding.ffmpeg_path else None)
    processes = ProcessSet()
    sources = SourceTable(fmt, clock)
    state = ProgramState(fmt)
    lockstep = LockStep([], timeout=SOURCE_TIMEOUT)
    _add_sources(lockstep, document, config=config, fmt=fmt, sources=sources, ffmpeg=ffmpeg,
                 processes=processes)
    context = ShowContext.build(
        state, config.paths.assets_dir, clock=clock,
        settings=ShowSettings(loop=config.show.loop), calendar=FixedCalendar(start, fmt.fps),
        network=config.network,
    )
    root = RootSupervisor(SupervisorFlags(Strategy.ONE_FOR_ONE), [show_spec(context)],
                          clock=clock)
    try:
        orchestrator: Any = root.handle.child("show/orchestrator").proxy()
        orchestrator.load(document).get(timeout=30)
        skipped = round(timeline_start * fmt.fps)  # timeline frame at program frame 0
        orchestrator.go_live(-skipped, force=True).get(timeout=30)
        lockstep.add_hook(context.show.frame_hook(SOURCE_TIMEOUT))
        return render_program(
            state, sources, lockstep, out=out, frames=frames, ffmpeg=ffmpeg,
            progress=progress, processes=processes,
        )
    finally:
        root.stop()
        processes.end_all()
        pykka.ActorRegistry.stop_all(timeout=10)


def _add_sources(
    lockstep: LockStep,
    document: TimelineDocument,
    *,
    config: ApplianceConfig,
    fmt: FrameFormat,
    sources: SourceTable,
    ffmpeg: Any,
    processes: ProcessSet,
) -> None:
    """A render source for the slate and every camera and media file the timeline shows."""
    assets = config.paths.assets_dir
    lockstep.add(slate_render_source(assets / SLATE_IMAGE, fmt, sources))
    cameras: set[int] = set()
    media: set[str] = set()
    for cue in document.timeline.video_cues:
        if isinstance(cue, CameraCue):
            cameras.add(cue.params.camera_id)
        elif isinstance(cue, MediaCue):
            media.add(cue.params.media_url)
    for camera_id in sorted(cameras):
        camera = config.find_camera(camera_id)
        if camera is None:  # validation has refused this already
            continue
        lockstep.add(camera_render_source(camera, fmt, sources, ffmpeg=ffmpeg,
                                          processes=processes))
    for location in sorted(media):
        path = resolve_asset(location, assets)
        if path is None:
            raise ConfigError(
                f"the render cannot play the network media {location}",
                hint="download it into the assets folder and refer to it as /assets/NAME",
            )
        source_id = media_source_id(location)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            lockstep.add(still_render_source(path, fmt, sources, source_id=source_id))
        else:
            lockstep.add(video_file_render_source(path, fmt, sources, ffmpeg=ffmpeg,
                                                  source_id=source_id, processes=processes))
