"""Watching the live program: what each frame the mixer emitted really shows, and when cues
were armed.

- :class:`ProgramWatcher` stands where the encoder stands: a thread that takes every
  :class:`~vistter.actors.program.frame_queue.ProgramFrame` out of the mixer's ``FrameQueue`` and
  reads three probe pixels (Y, U and V): the picture centre (which camera is on air) and the
  centre of each overlay track's box (which of its pictures is on air, or none). It keeps
  one :class:`Observation` per frame index, with the time it got the frame, so the analysis
  can say on which frame each cue really appeared.
- :class:`ArmLog` is a ``ProgramState`` that also notes, for every take and overlay armed
  by the show engine, how many frames ahead of the program it was armed (the program's
  horizon at that moment). It changes nothing in what the state does.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from bench.cue_timeline import OVERLAY_TRACKS, Palette, Yuv
from vistter.actors.program.changes import Take, TransitionKind
from vistter.actors.program.clock import ProgramEpoch
from vistter.actors.program.frame_queue import FrameQueue
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.media.frames import Frame, FrameFormat

__all__ = ["ArmLog", "ArmRecord", "Observation", "ProgramWatcher"]

BLACK: Yuv = (16, 128, 128)
TOLERANCE = 8
"""Largest difference per channel between a probe and a palette colour (rounding of the
colour conversions is 1 or 2)."""
UNKNOWN = "?"


@dataclass(frozen=True, slots=True)
class Observation:
    """One program frame as the watcher saw it.

    ``video``: the source on air (``camera:1``, ``camera:2``, ``black`` or ``?``);
    ``overlays``: per overlay track, the picture on air (``upper:0``...), None for none, or
    ``?``; ``received``: monotonic time the watcher got it; ``due``: when it was due.
    """

    index: int
    video: str
    overlays: tuple[str | None, ...]
    received: float
    due: float


def _nearest(value: Yuv, candidates: dict[str, Yuv]) -> str:
    best, best_distance = UNKNOWN, TOLERANCE + 1
    for label, colour in candidates.items():
        distance = max(abs(a - b) for a, b in zip(value, colour, strict=True))
        if distance < best_distance:
            best, best_distance = label, distance
    return best


class _Reader:
    """Reads and classifies the probes of one frame (watcher thread)."""

    def __init__(self, fmt: FrameFormat, palette: Palette) -> None:
        self.fmt = fmt
        backgrounds = {**palette.cameras, "black": BLACK}
        self._video = (palette.video_probe, backgrounds)
        self._overlays = [
            (palette.boxes[track].probe, {**palette.overlays[track], **backgrounds})
            for track in OVERLAY_TRACKS
        ]
        self._backgrounds = set(backgrounds)

    def _sample(self, frame: Frame, point: tuple[int, int]) -> Yuv:
        fmt = self.fmt
        x, y = point
        cw = fmt.width // 2
        u_at = fmt.y_bytes + (y // 2) * cw + x // 2
        return int(frame[y * fmt.width + x]), int(frame[u_at]), \
            int(frame[u_at + fmt.chroma_bytes])

    def read(self, frame: Frame) -> tuple[str, tuple[str | None, ...]]:
        point, candidates = self._video
        video = _nearest(self._sample(frame, point), candidates)
        overlays: list[str | None] = []
        for point, candidates in self._overlays:
            label = _nearest(self._sample(frame, point), candidates)
            overlays.append(None if label in self._backgrounds else label)
        return video, tuple(overlays)


class ProgramWatcher:
    """Consumes the program's frame queue in its own thread (see the module doc).

    Start with :meth:`start`, end with :meth:`stop`. Frame indices must arrive in order; a
    missing index (the queue dropped it) is counted in :attr:`missing`. An exception in the
    thread is kept in :attr:`error` and ends the watching.
    """

    def __init__(self, fmt: FrameFormat, palette: Palette, queue: FrameQueue,
                 epoch: ProgramEpoch) -> None:
        self._reader = _Reader(fmt, palette)
        self._queue = queue
        self._epoch = epoch
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="cue-bench-watcher", daemon=True)
        self.observations: list[Observation] = []
        self.missing = 0
        self.error: BaseException | None = None
        self._last: int | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def wait_for(self, index: int, timeout: float) -> bool:
        """Block until frame ``index`` (or a later one) was seen; False after ``timeout`` s or
        when the watcher died."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._last is None or self._last < index:
                left = deadline - time.monotonic()
                if left <= 0 or self.error is not None or not self._thread.is_alive():
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._queue.get(timeout=0.2)
                if item is None:
                    continue
                received = time.monotonic()
                video, overlays = self._reader.read(item.pixels())
                due = self._epoch.due(item.index)
                with self._cond:
                    if self._last is not None and item.index > self._last + 1:
                        self.missing += item.index - self._last - 1
                    self.observations.append(
                        Observation(item.index, video, overlays, received, due))
                    self._last = item.index
                    self._cond.notify_all()
                del item
        except BaseException as exc:
            self.error = exc
            with self._cond:
                self._cond.notify_all()


@dataclass(frozen=True, slots=True)
class ArmRecord:
    """One change armed on the program: its tag (cue id), the frame asked for, and the
    program's horizon (first frame not yet planned) just before it was armed."""

    tag: str | None
    kind: str
    requested: int | None
    horizon: int
    at: float

    @property
    def lead_frames(self) -> int | None:
        """Frames between the first unplanned frame and the frame asked for (< 0: late)."""
        return None if self.requested is None else self.requested - self.horizon


class ArmLog(ProgramState):
    """A ``ProgramState`` that records every take and overlay showing armed (any thread)."""

    def __init__(self, fmt: FrameFormat) -> None:
        super().__init__(fmt)
        self._log_lock = threading.Lock()
        self.armed: list[ArmRecord] = []

    def _note(self, tag: str | None, kind: str, requested: int | None) -> None:
        record = ArmRecord(tag, kind, requested, self.horizon, time.monotonic())
        with self._log_lock:
            self.armed.append(record)

    def take(
        self,
        source_id: str,
        at_frame: int | None = None,
        transition: TransitionKind = "cut",
        duration_frames: int = 0,
        *,
        tag: str | None = None,
    ) -> Take:
        self._note(tag, "take", at_frame)
        return super().take(source_id, at_frame, transition, duration_frames, tag=tag)

    def show_overlay(
        self,
        layer_id: str,
        z: int,
        layer: OverlayLayer,
        at_frame: int | None = None,
        *,
        fade_in_frames: int = 0,
        fade_out_frames: int = 0,
        until_frame: int | None = None,
        opacity: float = 1.0,
        tag: str | None = None,
    ) -> bool:
        self._note(tag, "overlay", at_frame)
        return super().show_overlay(
            layer_id, z, layer, at_frame, fade_in_frames=fade_in_frames,
            fade_out_frames=fade_out_frames, until_frame=until_frame, opacity=opacity, tag=tag,
        )

    def records(self) -> list[ArmRecord]:
        with self._log_lock:
            return list(self.armed)
