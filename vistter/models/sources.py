"""What a program source is made from, for the source registry.

Cameras come from the configuration (:class:`~vistter.models.cameras.CameraConfig`); the
models here are made at run time: the slate (always there), and the stills and video files
the show starts ahead of their cues. Each model's ``kind`` names its entry in
:mod:`vistter.actors.sources.registry`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

__all__ = ["SlateImage", "StillMedia", "VideoMedia", "media_child_id"]


def media_child_id(location: str) -> str:
    """The ``sources`` child id of the source playing ``location`` (``media-<hash>``)."""
    return "media-" + hashlib.sha1(location.encode(), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True)
class SlateImage:
    """The slate: ``image`` with an optional ``message`` drawn on it (source ``slate``)."""

    kind: ClassVar[str] = "slate"
    image: Path
    message: str | None = None


@dataclass(frozen=True)
class _FileMedia:
    location: str
    """What the cue named (``/assets/...``)."""
    source_id: str
    path: Path


@dataclass(frozen=True)
class StillMedia(_FileMedia):
    """A still image played as source ``source_id``."""

    kind: ClassVar[str] = "still"
    fit: Literal["contain", "cover", "stretch"] = "contain"


@dataclass(frozen=True)
class VideoMedia(_FileMedia):
    """A video file looped as source ``source_id``."""

    kind: ClassVar[str] = "video"
