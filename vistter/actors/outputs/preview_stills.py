"""Still images of the program for the operator console: the program frame and camera
thumbnails as JPEG, made from frames the appliance already has (no extra ffmpeg, no decode).

The program JPEG is the newest program frame the mixer handed to the encoder (overlays and
transitions included); a camera thumbnail is the newest frame of the camera's slot in the
source table. Both are yuv420p in limited-range BT.601, which JPEG (JFIF) stores as
full-range BT.601 YCbCr: the planes are scaled and range-expanded with Pillow and written
as they are, without a round trip through RGB.

:class:`JpegCache` makes sure many viewers cost one encode per ``interval`` per image: the
first request after the interval encodes (others asking meanwhile wait for it), everyone
else gets the cached bytes. Encoding runs in the calling thread (the API's worker pool),
never in the mixer's or the event loop's.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vistter.actors.program.frame_queue import FrameQueue
from vistter.actors.sources.table import SourceTable, camera_source_id
from vistter.clock import Clock
from vistter.media.frames import Frame, FrameFormat, planes

__all__ = ["JpegCache", "PreviewStills", "Still", "yuv420_jpeg"]

JPEG_QUALITY = 80

# limited range (Y 16..235, C 16..240) -> full range (0..255), as Pillow point tables
_LUMA = [int(min(255, max(0, round((i - 16) * 255 / 219)))) for i in range(256)]
_CHROMA = [int(min(255, max(0, round((i - 128) * 255 / 224 + 128)))) for i in range(256)]


def scaled_size(fmt: FrameFormat, width: int | None) -> tuple[int, int]:
    """``(width, height)`` of a still ``width`` pixels wide (None: the program's size),
    keeping the program's aspect ratio; never wider than the program, both even."""
    if width is None or width >= fmt.width:
        return fmt.width, fmt.height
    height = max(2, round(width * fmt.height / fmt.width / 2) * 2)
    return width, height


def yuv420_jpeg(frame: Frame, fmt: FrameFormat, width: int | None = None) -> bytes:
    """A JPEG of a yuv420p ``frame`` of format ``fmt``, ``width`` pixels wide (None: the
    program's size). About 10 ms for 720p, 2 ms for a 320-pixel thumbnail."""
    size = scaled_size(fmt, width)
    y, u, v = planes(frame, fmt)
    luma = Image.fromarray(np.ascontiguousarray(y))
    if size != (fmt.width, fmt.height):
        luma = luma.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    chroma = [
        Image.fromarray(np.ascontiguousarray(plane)).resize(size, Image.Resampling.BILINEAR)
        for plane in (u, v)
    ]
    image = Image.merge(
        "YCbCr", (luma.point(_LUMA), chroma[0].point(_CHROMA), chroma[1].point(_CHROMA))
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Still:
    """One encoded image: its JPEG bytes, size, and when it was made (``made_at``, the
    cache's clock) from a frame how old (``frame_age``, seconds; None when unknown)."""

    jpeg: bytes
    width: int
    height: int
    made_at: float
    frame_age: float | None = None


class JpegCache:
    """The latest :class:`Still` per key, remade at most once per ``interval`` seconds.
    Thread-safe; at most ``max_keys`` images are kept (the oldest made is forgotten)."""

    def __init__(self, clock: Clock, interval: float, *, max_keys: int = 64) -> None:
        self._clock = clock
        self.interval = interval
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._stills: dict[str, Still] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self.encodes = 0

    def get(self, key: str, make: Callable[[], Still | None]) -> Still | None:
        """The cached still of ``key`` if younger than ``interval``, else ``make()``'s
        (cached; ``None``, for "nothing to show yet", is not cached). ``make`` runs in the
        calling thread, one at a time per key; what it raises reaches the caller."""
        still = self._fresh(key)
        if still is not None:
            return still
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            still = self._fresh(key)  # made by another thread while this one waited
            if still is not None:
                return still
            still = make()
            if still is None:
                return None
            with self._lock:
                self.encodes += 1
                self._stills[key] = still
                while len(self._stills) > self.max_keys:
                    oldest = min(self._stills, key=lambda k: self._stills[k].made_at)
                    del self._stills[oldest]
                    self._key_locks.pop(oldest, None)
            return still

    def _fresh(self, key: str) -> Still | None:
        with self._lock:
            still = self._stills.get(key)
        if still is not None and self._clock.monotonic() - still.made_at < self.interval:
            return still
        return None


class PreviewStills:
    """The program JPEG and the camera thumbnails of one appliance.

    ``frames``: the mixer-to-encoder queue (its newest frame is the program's);
    ``sources``: the source table; ``camera_ids``: the configured cameras. Methods run in
    the caller's thread (the API's worker pool) and never block the mixer: they take a
    reference to a frame under a short lock and encode outside it.
    """

    def __init__(
        self, fmt: FrameFormat, frames: FrameQueue, sources: SourceTable,
        camera_ids: Callable[[], Collection[int]], *, clock: Clock, interval: float,
        thumbnail_width: int,
    ) -> None:
        self.fmt = fmt
        self._frames = frames
        self._sources = sources
        self._camera_ids = camera_ids
        self._clock = clock
        self.thumbnail_width = thumbnail_width
        self.cache = JpegCache(clock, interval)

    def has_camera(self, camera_id: int) -> bool:
        return camera_id in self._camera_ids()

    def camera_ids(self) -> list[int]:
        return sorted(self._camera_ids())

    def program(self) -> Still | None:
        """The newest program frame as a JPEG at the program's size; None before the mixer
        produced any frame."""
        return self.cache.get("program", self._make_program)

    def thumbnail(self, camera_id: int) -> Still | None:
        """Camera ``camera_id``'s newest frame, ``thumbnail_width`` wide; None while it has
        delivered no frame. The caller checks :meth:`has_camera` first."""
        return self.cache.get(f"camera-{camera_id}", lambda: self._make_thumbnail(camera_id))

    def _make_program(self) -> Still | None:
        latest = self._frames.latest()
        if latest is None:
            return None
        jpeg = yuv420_jpeg(latest.pixels(), self.fmt)
        return Still(jpeg, self.fmt.width, self.fmt.height, self._clock.monotonic())

    def _make_thumbnail(self, camera_id: int) -> Still | None:
        latest = self._sources.slot(camera_source_id(camera_id)).latest()
        if latest is None:
            return None
        width, height = scaled_size(self.fmt, self.thumbnail_width)
        jpeg = yuv420_jpeg(latest.frame, self.fmt, width)
        now = self._clock.monotonic()
        return Still(jpeg, width, height, now, frame_age=max(0.0, now - latest.arrived))
