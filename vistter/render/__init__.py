"""Offline render: the program on its virtual clock, every source read in lock-step.

``vistter render TIMELINE.json --out FILE.mp4`` builds the program state (the show engine arms
it), one render source per configured source, and calls :func:`render_program`. Two renders
of the same timeline with deterministic sources (simulated ``lavfi:`` cameras, video files,
stills, the slate) are identical frame for frame: see :mod:`vistter.render.lockstep`.
"""

from vistter.render.lockstep import (
    DEFAULT_SOURCE_TIMEOUT,
    Delivery,
    FrameHook,
    LockStep,
    RenderSource,
    RenderSourceError,
    SourceEndedError,
    SourceStalledError,
)
from vistter.render.render_sources import (
    IngestRenderSource,
    StaticRenderSource,
    camera_render_source,
    slate_render_source,
    still_render_source,
    video_file_render_source,
)
from vistter.render.session import RenderFailedError, render_program
from vistter.render.writer import LosslessFrameQueue, Mp4Writer, RenderedFile, RenderWriteError

__all__ = [
    "DEFAULT_SOURCE_TIMEOUT",
    "Delivery",
    "FrameHook",
    "IngestRenderSource",
    "LockStep",
    "LosslessFrameQueue",
    "Mp4Writer",
    "RenderFailedError",
    "RenderSource",
    "RenderSourceError",
    "RenderWriteError",
    "RenderedFile",
    "SourceEndedError",
    "SourceStalledError",
    "StaticRenderSource",
    "camera_render_source",
    "render_program",
    "slate_render_source",
    "still_render_source",
    "video_file_render_source",
]
