"""Media sources: stills, looped video files and the slate, each feeding its own slot.

* :class:`StillSource` shows a PNG/JPEG: loaded and converted once, published once.
* :class:`VideoFileSource` plays a video file in a loop through an ingest ffmpeg, with the
  same states, watchdog and restart backoff as a camera (an exit restarts it).
* :class:`SlateSource` is the "technical difficulties" slate (``slate`` in the source table),
  optionally with a message written on it; :meth:`SlateSource.set_message` re-renders it.

A still or slate image that is missing or unreadable is an operator error raised from
``setup``: the actor fails to start and its supervisor reports why.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from vistter.actors.sources.ingest import IngestCommand, file_ingest_command
from vistter.actors.sources.ingest_actor import DEFAULT_RECONNECT, IngestSourceActor
from vistter.actors.sources.kind import SourceContext, SourceKind
from vistter.actors.sources.payloads import SlateStatus, SourceEventFields, StillStatus
from vistter.actors.sources.table import SLATE_SOURCE_ID, SourceState, SourceTable
from vistter.errors import ConfigError, OperatorError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.media.yuv import Fit, fit_image, image_to_frame
from vistter.models.sources import SlateImage, StillMedia, VideoMedia, media_child_id
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link
from vistter.supervisors.spec import StartFunction, start_function_for
from vistter.telemetry.topics import SOURCE_TOPIC

logger = logging.getLogger(__name__)



class MediaSourceError(OperatorError):
    """A still, slate image or video file cannot be used as a source."""


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Read and decode an image file completely (in the calling thread).

    Raises :class:`MediaSourceError` saying what is wrong with the file and how to fix it.
    """
    location = Path(path)
    if not location.is_file():
        raise MediaSourceError(
            f"image file {str(location)!r} does not exist or is not a file.",
            hint="Check the path in the configuration or timeline (relative paths are "
            "resolved against the configuration file's folder).",
        )
    try:
        with Image.open(location) as image:
            image.load()
            return image.copy()
    except UnidentifiedImageError:
        raise MediaSourceError(
            f"{str(location)!r} is not an image Pillow can read.",
            hint="Use a PNG or JPEG file.",
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaSourceError(
            f"image file {str(location)!r} is damaged: {exc}.",
            hint="Export the image again as PNG or JPEG.",
        ) from None


def _require_file(path: str | os.PathLike[str], what: str) -> Path:
    location = Path(path)
    if not location.is_file():
        raise MediaSourceError(
            f"{what} {str(location)!r} does not exist or is not a file.",
            hint="Check the path in the configuration or timeline.",
        )
    return location


class _StaticSource(SupervisedActor):
    """A source whose frame changes only when told to: published from the actor thread."""

    def __init__(self, link: Link | None, source_id: str, fmt: FrameFormat,
                 sources: SourceTable) -> None:
        super().__init__(link)
        self.source_id = source_id
        self._fmt = fmt
        self._sources = sources
        self._published = 0

    def _publish(self, frame: Any, detail: str) -> None:
        self._sources.slot(self.source_id).publish(frame)
        self._published += 1
        self._set_health(SourceState.ONLINE, detail)

    def _set_health(self, state: SourceState, detail: str) -> None:
        self._sources.set_health(self.source_id, state, detail)
        self.link.events.publish(
            SOURCE_TOPIC, {"source_id": self.source_id, "state": state.value, "detail": detail}
        )

    def teardown(self) -> None:
        """Actor thread: the source is no longer kept up to date. The last frame stays in
        the slot (the mixer may keep showing it)."""
        self._set_health(SourceState.OFFLINE, "stopped")


class StillSource(_StaticSource):
    """A still image (PNG/JPEG), fitted to the program (``contain`` letterboxes in black)."""

    def __init__(
        self,
        link: Link | None,
        source_id: str,
        path: str | os.PathLike[str],
        fmt: FrameFormat,
        sources: SourceTable,
        *,
        fit: Fit = "contain",
    ) -> None:
        super().__init__(link, source_id, fmt, sources)
        self.path = Path(path)
        self._fit: Fit = fit

    def setup(self) -> None:
        """Actor thread: load, convert and publish the image once. Raises
        :class:`MediaSourceError` for a missing or unreadable file (the start fails)."""
        frame = image_to_frame(load_image(self.path), self._fmt, self._fit)
        self._publish(frame, f"showing {self.path.name}")

    def status(self) -> StillStatus:
        """Actor thread."""
        return {"source_id": self.source_id, "path": str(self.path), "state": "online",
                "frames_published": self._published}


class SlateSource(_StaticSource):
    """The slate: an image (``assets/technical_difficulties.png``) with an optional message.

    The message is drawn in white with Pillow's default font, centred in the lower part of
    the picture on a translucent dark band, wrapped to fit the width.
    """

    def __init__(
        self,
        link: Link | None,
        fmt: FrameFormat,
        sources: SourceTable,
        image_path: str | os.PathLike[str],
        message: str | None = None,
    ) -> None:
        super().__init__(link, SLATE_SOURCE_ID, fmt, sources)
        self.image_path = Path(image_path)
        self._message = message or None
        self._background: Image.Image | None = None

    def setup(self) -> None:
        """Actor thread: load the image once and publish the slate. Raises
        :class:`MediaSourceError` for a missing or unreadable image (the start fails)."""
        image = load_image(self.image_path)
        self._background = fit_image(image, self._fmt.width, self._fmt.height, "contain")
        self._render()

    def set_message(self, message: str | None) -> None:
        """Actor thread: show ``message`` on the slate (None or "" removes it)."""
        self._message = message or None
        self._render()

    def status(self) -> SlateStatus:
        """Actor thread."""
        return {"source_id": self.source_id, "image": str(self.image_path),
                "message": self._message, "state": "online",
                "frames_published": self._published}

    def _render(self) -> None:
        assert self._background is not None
        picture = render_slate(self._background, self._message)
        frame = image_to_frame(picture, self._fmt)
        detail = f"slate: {self._message}" if self._message else "slate"
        self._publish(frame, detail)


def render_slate(background: Image.Image, message: str | None) -> Image.Image:
    """``background`` (RGB, program size) with ``message`` written on it; a new image."""
    picture = background.convert("RGB")
    if not message:
        return picture
    width, height = picture.size
    size = max(10, height // 18)
    font = ImageFont.load_default(size=size)
    measure = ImageDraw.Draw(picture)
    lines = _wrap(message, font, measure, int(width * 0.9))
    line_height = round(size * 1.3)
    block = line_height * len(lines)
    top = int(height * 0.80) - block // 2
    margin = max(4, line_height // 3)
    band = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    ImageDraw.Draw(band).rectangle(
        (0, top - margin, width, top + block + margin), fill=(0, 0, 0, 160)
    )
    composed = Image.alpha_composite(picture.convert("RGBA"), band)
    draw = ImageDraw.Draw(composed)
    for index, line in enumerate(lines):
        text_width = draw.textlength(line, font=font)
        draw.text(
            ((width - text_width) / 2, top + index * line_height), line, font=font,
            fill=(255, 255, 255, 255),
        )
    return composed.convert("RGB")


def _wrap(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, draw: ImageDraw.ImageDraw,
    max_width: int,
) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and draw.textlength(candidate, font=font) > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines[:4]


class VideoFileSource(IngestSourceActor):
    """A video file played in real time and looped forever (``-re -stream_loop -1``).

    Like a camera, but a file: an exit (a damaged file, a read error) restarts the ingest
    with backoff, a stall is caught by the same watchdog. A missing file fails the start.
    """

    event_topic: ClassVar[str] = SOURCE_TOPIC

    def __init__(
        self,
        link: Link | None,
        source_id: str,
        path: str | os.PathLike[str],
        fmt: FrameFormat,
        sources: SourceTable,
        *,
        ffmpeg: FfmpegBinary,
        reconnect: Backoff = DEFAULT_RECONNECT,
        stall_timeout: float = 1.0,
        stall_restart_after: float = 5.0,
        connect_timeout: float = 15.0,
    ) -> None:
        self.path = Path(path)
        super().__init__(
            link,
            source_id=source_id,
            label=f"video {self.path.name}",
            fmt=fmt,
            sources=sources,
            ffmpeg=ffmpeg,
            reconnect=reconnect,
            stall_timeout=stall_timeout,
            stall_restart_after=stall_restart_after,
            connect_timeout=connect_timeout,
        )

    def setup(self) -> None:
        """Actor thread: check the file exists (else :class:`MediaSourceError`, the start
        fails), then start playing it."""
        _require_file(self.path, "video file")
        super().setup()

    def _ingest_command(self) -> IngestCommand:
        return file_ingest_command(self._ffmpeg.path, self.path, self._fmt, loop=True)

    def _event_fields(self) -> SourceEventFields:
        return {**super()._event_fields(), "path": str(self.path)}


# -- the registry entries (children ``slate`` and ``media-<hash>``) ----------------------


def _start_slate(slate: SlateImage, context: SourceContext) -> StartFunction:
    return start_function_for(SlateSource, context.fmt, context.sources, slate.image, slate.message)


def _start_still(still: StillMedia, context: SourceContext) -> StartFunction:
    return start_function_for(
        StillSource, still.source_id, still.path, context.fmt, context.sources, fit=still.fit
    )


def _start_video(video: VideoMedia, context: SourceContext) -> StartFunction:
    if context.ffmpeg is None:
        raise ConfigError(f"media {video.location!r} is a video and no ffmpeg is configured.",
                          hint="Use a still image, or run with ffmpeg.")
    return start_function_for(
        VideoFileSource, video.source_id, video.path, context.fmt, context.sources,
        ffmpeg=context.ffmpeg,
    )  # fmt: skip


SLATE = SourceKind(name="slate", model=SlateImage, child_id=lambda _: "slate", start=_start_slate)
STILL = SourceKind(
    name="still", model=StillMedia, child_id=lambda m: media_child_id(m.location),
    start=_start_still,
)  # fmt: skip
VIDEO = SourceKind(
    name="video", model=VideoMedia, child_id=lambda m: media_child_id(m.location),
    start=_start_video,
)  # fmt: skip
