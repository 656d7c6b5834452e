"""Media sources on demand: the appliance's :class:`~vistter.show.controls.SourceControl`.

:class:`SupervisedMedia` starts a :class:`~vistter.actors.sources.files.StillSource` (PNG,
JPEG...) or a looping :class:`~vistter.actors.sources.files.VideoFileSource` for a video
cue's ``media_url`` as a child of the appliance's ``sources`` supervisor, ahead of the cue,
and stops it when the show no longer needs it. Source ids are ``media:<location>``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from vistter.actors.sources.registry import SourceContext, source_child
from vistter.actors.sources.table import SourceTable, media_source_id
from vistter.errors import OperatorError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.assets import AssetPathError, resolve_asset
from vistter.models.sources import StillMedia, VideoMedia, media_child_id
from vistter.show.tracks import CRASH_BACKOFF
from vistter.supervisors import ChildSpec, SupervisorHandle

__all__ = ["MediaError", "SupervisedMedia", "media_child_id"]

_IMAGES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


class MediaError(OperatorError):
    """A video cue's media cannot be played (outside the assets folder, remote, missing)."""


class SupervisedMedia:
    """Starts and stops media sources under a supervisor. Thread-safe (one call at a time).

    ``supervisor`` gives the current handle of the supervisor to start them under (the
    appliance's ``sources``); ``ffmpeg`` plays video files (None: stills only).
    """

    def __init__(
        self,
        supervisor: Callable[[], SupervisorHandle],
        fmt: FrameFormat,
        sources: SourceTable,
        assets_dir: Path,
        ffmpeg: FfmpegBinary | None = None,
    ) -> None:
        self._supervisor = supervisor
        self._fmt = fmt
        self._sources = sources
        self._assets_dir = assets_dir
        self._ffmpeg = ffmpeg
        self._lock = threading.Lock()

    def ensure_media(self, location: str) -> str:
        """Start the source for ``location`` unless it runs; return its source id. Blocks the
        caller while the source starts. Raises :class:`MediaError` (or the supervisor's
        :class:`~vistter.errors.ChildStartError`) when it cannot play."""
        with self._lock:
            handle = self._supervisor()
            child_id = media_child_id(location)
            if any(child.id == child_id for child in handle.which_children()):
                return media_source_id(location)
            handle.start_child(self._spec(location, child_id))
            return media_source_id(location)

    def release_media(self, source_id: str) -> None:
        """Stop and forget the source ``source_id`` (``media:<location>``); no-op if gone."""
        location = source_id.removeprefix("media:")
        with self._lock:
            handle = self._supervisor()
            child_id = media_child_id(location)
            if not any(child.id == child_id for child in handle.which_children()):
                return
            handle.terminate_child(child_id)
            handle.delete_child(child_id)

    def _spec(self, location: str, child_id: str) -> ChildSpec:
        try:
            path = resolve_asset(location, self._assets_dir)
        except AssetPathError as exc:
            raise MediaError(f"media {location!r}: {exc}.",
                             hint="Keep media inside the assets folder.") from None
        if path is None:
            raise MediaError(
                f"media {location!r} is not a local file.",
                hint="Upload it to the assets folder and name it /assets/<file>.",
            )
        source_id = media_source_id(location)
        still = PurePosixPath(path.name).suffix.lower() in _IMAGES
        if not still and self._ffmpeg is None:
            raise MediaError(f"media {location!r} is a video and no ffmpeg is configured.",
                             hint="Use a still image, or run with ffmpeg.")
        media = StillMedia if still else VideoMedia
        context = SourceContext(self._fmt, self._sources, self._ffmpeg)
        return source_child(media(location, source_id, path), context, restart_delay=CRASH_BACKOFF)
