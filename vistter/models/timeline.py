"""The timeline document: a TV-show script of cues on one video track and overlay tracks.

The JSON shape is the one in the spec (``{"timeline": {...}}``). The models only check what
can be checked field by field (types, ranges, formats); rules that relate several fields
(overlaps, cues past the end, cameras that exist) live in :mod:`vistter.models.validation`,
which is the way to load a timeline from outside.

Times are seconds as the user wrote them (int or float, kept as written so a document
round-trips unchanged); :meth:`Timeline.frame_of` turns them into program frame numbers.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from vistter.models._types import (
    Flag,
    Identifier,
    Int,
    NonEmptyText,
    NonNegativeSeconds,
    Number,
    PositiveSeconds,
    StrictModel,
    Text,
)
from vistter.models.limits import (
    MAX_CUES_PER_TRACK,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_OVERLAY_TRACKS,
)
from vistter.models.overlays import (
    AssetReference,
    DataSource,
    DynamicTextOverlay,
    ImageOverlay,
    LogoOverlay,
    LowerThirdOverlay,
    OverlayParams,
    TextOverlay,
)
from vistter.models.problems import custom_error

__all__ = [
    "MAX_FPS",
    "MAX_HEIGHT",
    "MAX_TIMELINE_SECONDS",
    "MAX_WIDTH",
    "MIN_HEIGHT",
    "MIN_WIDTH",
    "CameraCue",
    "Cue",
    "Fallback",
    "MediaCue",
    "OverlayCue",
    "OverlayTrack",
    "ShowCameraParams",
    "ShowMediaParams",
    "Timeline",
    "TimelineDocument",
    "Track",
    "Tracks",
    "Transition",
    "VideoCue",
    "VideoTrack",
    "field_names",
    "parse_resolution",
]

MAX_TIMELINE_SECONDS = 7 * 24 * 3600
MIN_WIDTH, MIN_HEIGHT = 160, 90
MAX_WIDTH, MAX_HEIGHT = 3840, 2160
MAX_FPS = 60

Transition = Literal["cut", "fade", "dissolve"]

_DEFAULT_TRANSITION_SECONDS = {"cut": 0.0, "fade": 1.0, "dissolve": 1.0}
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_RESOLUTION = re.compile(r"^([0-9]{1,5})x([0-9]{1,5})$")


def parse_resolution(text: str) -> tuple[int, int]:
    """``"1920x1080"`` -> ``(1920, 1080)``; raises ``ValueError`` with the reason otherwise.

    Width and height must be even (yuv420p) and within 160x90 .. 3840x2160.
    """
    match = _RESOLUTION.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not WIDTHxHEIGHT")
    width, height = int(match.group(1)), int(match.group(2))
    if not (MIN_WIDTH <= width <= MAX_WIDTH and MIN_HEIGHT <= height <= MAX_HEIGHT):
        limits = f"{MIN_WIDTH}x{MIN_HEIGHT}..{MAX_WIDTH}x{MAX_HEIGHT}"
        raise ValueError(f"{width}x{height} is outside {limits}")
    if width % 2 or height % 2:
        raise ValueError(f"{width}x{height} has an odd width or height")
    return width, height


class _TransitionParams(StrictModel):
    """How the video track moves to this cue's source."""

    transition: Transition = "cut"
    transition_duration: NonNegativeSeconds | None = None

    @property
    def transition_seconds(self) -> float:
        """The transition's length: as given, else 1.0 s for fade/dissolve and 0 for a cut."""
        if self.transition_duration is not None:
            return float(self.transition_duration)
        return _DEFAULT_TRANSITION_SECONDS[self.transition]


class ShowCameraParams(_TransitionParams):
    """Put a camera on the program, optionally moving it to a PTZ preset first."""

    camera_id: Annotated[Int, Field(ge=1)]
    preset_id: Identifier | None = None


class ShowMediaParams(_TransitionParams):
    """Put a still image or a video file on the program (``loop`` repeats a video)."""

    media_url: AssetReference
    loop: Flag = False

    @property
    def is_image(self) -> bool:
        """True when the file name says it is a still image (png, jpg, ...)."""
        name = self.media_url.split("?", 1)[0]
        return PurePosixPath(name).suffix.lower() in _IMAGE_SUFFIXES


class _CueBase(StrictModel):
    id: Identifier
    start_time: Annotated[NonNegativeSeconds, Field(le=MAX_TIMELINE_SECONDS)]
    duration: Annotated[PositiveSeconds, Field(le=MAX_TIMELINE_SECONDS)]

    @property
    def end_time(self) -> float:
        """Seconds from the timeline start at which the cue ends (exclusive)."""
        return self.start_time + self.duration


class CameraCue(_CueBase):
    """A video cue that shows a camera."""

    action: Literal["show_camera"]
    params: ShowCameraParams


class MediaCue(_CueBase):
    """A video cue that shows a still image or a video file."""

    action: Literal["show_media"]
    params: ShowMediaParams


class OverlayCue(_CueBase):
    """An overlay cue: something drawn over the program for a while."""

    action: Literal["show_overlay"]
    params: OverlayParams


VideoCue = Annotated[CameraCue | MediaCue, Field(discriminator="action")]
Cue = CameraCue | MediaCue | OverlayCue


class VideoTrack(StrictModel):
    """The one track that chooses the program's picture; its cues must not overlap."""

    track_id: Identifier
    type: Literal["video"] = "video"
    cues: Annotated[tuple[VideoCue, ...], Field(max_length=MAX_CUES_PER_TRACK)] = ()


class OverlayTrack(StrictModel):
    """A track of overlays at one z-order ``layer`` (1 = bottom, higher = on top)."""

    track_id: Identifier
    type: Literal["overlay"] = "overlay"
    layer: Annotated[Int, Field(ge=1, le=1000)] = 1
    cues: Annotated[tuple[OverlayCue, ...], Field(max_length=MAX_CUES_PER_TRACK)] = ()


Track = VideoTrack | OverlayTrack


class Tracks(StrictModel):
    video: VideoTrack
    overlays: Annotated[tuple[OverlayTrack, ...], Field(max_length=MAX_OVERLAY_TRACKS)] = ()


class Fallback(StrictModel):
    """What goes on air when the scheduled source fails: a backup camera, else a slate."""

    test_pattern: AssetReference | None = None
    backup_camera_id: Annotated[Int, Field(ge=1)] | None = None


class Timeline(StrictModel):
    """A show: its length, frame rate, picture size, tracks of cues and fallback."""

    id: Identifier
    name: Annotated[NonEmptyText, Field(max_length=MAX_NAME_CHARS)]
    description: Annotated[Text, Field(max_length=MAX_DESCRIPTION_CHARS)] | None = None
    duration: Annotated[Number, Field(gt=0, le=MAX_TIMELINE_SECONDS)]
    fps: Annotated[Int, Field(ge=1, le=MAX_FPS)] = 30
    resolution: Text = "1920x1080"
    loop: Flag = False
    tracks: Tracks
    fallback: Fallback | None = None

    @field_validator("resolution")
    @classmethod
    def _valid_resolution(cls, value: str) -> str:
        try:
            parse_resolution(value)
        except ValueError as error:
            raise custom_error(
                str(error),
                f"Write WIDTHxHEIGHT with even numbers between {MIN_WIDTH}x{MIN_HEIGHT} "
                f"and {MAX_WIDTH}x{MAX_HEIGHT}, e.g. 1920x1080 or 1280x720.",
            ) from None
        return value

    @cached_property
    def width(self) -> int:
        """Picture width in pixels, from ``resolution``."""
        return parse_resolution(self.resolution)[0]

    @cached_property
    def height(self) -> int:
        """Picture height in pixels, from ``resolution``."""
        return parse_resolution(self.resolution)[1]

    @property
    def total_frames(self) -> int:
        """Frames in one pass of the timeline."""
        return self.frame_of(self.duration)

    def frame_of(self, seconds: float) -> int:
        """The program frame at ``seconds`` from the start: ``round(seconds * fps)``."""
        return round(seconds * self.fps)

    def cue_frames(self, cue: Cue) -> tuple[int, int]:
        """``(first frame, end frame)`` of a cue; the end frame is not part of it."""
        return self.frame_of(cue.start_time), self.frame_of(cue.end_time)

    @cached_property
    def video_cues(self) -> tuple[CameraCue | MediaCue, ...]:
        """The video track's cues in start order."""
        return tuple(sorted(self.tracks.video.cues, key=lambda cue: cue.start_time))

    @cached_property
    def _video_starts(self) -> tuple[int, ...]:
        return tuple(self.frame_of(cue.start_time) for cue in self.video_cues)

    @cached_property
    def overlay_tracks(self) -> tuple[OverlayTrack, ...]:
        """Overlay tracks bottom first (by ``layer``; equal layers keep document order)."""
        return tuple(sorted(self.tracks.overlays, key=lambda track: track.layer))

    @property
    def tracks_in_order(self) -> tuple[Track, ...]:
        """The video track, then the overlay tracks as written."""
        return (self.tracks.video, *self.tracks.overlays)

    def iter_cues(self) -> Iterator[tuple[Track, Cue]]:
        """Every ``(track, cue)`` pair, video track first, cues in document order."""
        for track in self.tracks_in_order:
            for cue in track.cues:
                yield track, cue

    def find_cue(self, cue_id: str) -> Cue | None:
        """The cue with this id, or ``None``."""
        return next((cue for _, cue in self.iter_cues() if cue.id == cue_id), None)

    def video_cue_at(self, frame: int) -> CameraCue | MediaCue | None:
        """The video cue on air at ``frame`` (``None`` in a gap or past the end).

        For a valid timeline (no overlaps) this is the last cue starting at or before
        ``frame``, if it has not ended yet.
        """
        index = bisect.bisect_right(self._video_starts, frame) - 1
        if index < 0:
            return None
        cue = self.video_cues[index]
        return cue if frame < self.frame_of(cue.end_time) else None


class TimelineDocument(StrictModel):
    """The whole JSON document: ``{"timeline": {...}}``."""

    timeline: Timeline

    def to_json_dict(self) -> dict[str, Any]:
        """The document as JSON-ready data, with only the fields the author wrote."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def field_names() -> frozenset[str]:
    """Every field name a timeline document may use (for "did you mean ...?" hints)."""
    models: list[type[StrictModel]] = [
        TimelineDocument, Timeline, Tracks, VideoTrack, OverlayTrack, Fallback,
        CameraCue, MediaCue, OverlayCue, ShowCameraParams, ShowMediaParams,
        LowerThirdOverlay, TextOverlay, LogoOverlay, ImageOverlay, DynamicTextOverlay,
        DataSource,
    ]  # fmt: skip
    return frozenset(name for model in models for name in model.model_fields)
