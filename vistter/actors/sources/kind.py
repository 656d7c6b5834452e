"""What a source kind tells the tree: an entry of the source registry.

A source kind (camera, still, video file, slate) is one module that defines its actor and
one :class:`SourceKind` value, plus its model; :mod:`vistter.actors.sources.registry` lists
the kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vistter.actors.sources.table import SourceTable
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.supervisors.spec import StartFunction

__all__ = ["SourceContext", "SourceKind"]

M = TypeVar("M")


@dataclass(frozen=True)
class SourceContext:
    """What every source actor is started with: the program's frame format, the source
    table it publishes into, and ffmpeg (None: no ingest possible, stills only)."""

    fmt: FrameFormat
    sources: SourceTable
    ffmpeg: FfmpegBinary | None


@dataclass(frozen=True)
class SourceKind(Generic[M]):
    """One kind of source.

    ``name``: the registry key (the model's ``kind``); ``model``: its model type;
    ``child_id``: its child id under ``sources``; ``start``: the start function of its actor
    for one model (called where the child spec is made; the function it returns runs in
    the supervisor's thread on every (re)start). ``start`` raises
    :class:`~vistter.errors.ConfigError` when the context cannot run the kind (a video
    without ffmpeg).
    """

    name: str
    model: type[M]
    child_id: Callable[[M], str]
    start: Callable[[M, SourceContext], StartFunction]


AnySourceKind = SourceKind[Any]
