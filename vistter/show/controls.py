"""What the show engine needs from the rest of the appliance, as small protocols.

The orchestrator and the track executors never reach into other subtrees directly; the
appliance hands them these (the tests hand them fakes):

- :class:`SourceControl`: make a media source (still or video file) exist ahead of its cue;
- :class:`PtzControl`: pre-roll a camera to a preset (:class:`PtzControllers` wraps the real
  :class:`~vistter.ptz.PtzController` per camera);
- :class:`ExecutionRecorder`: the execution log (:class:`~vistter.store.ExecutionLog` fits);
- :class:`Calendar`: wall-clock time of a program frame, for dynamic texts such as
  ``{time:%H:%M}`` (:class:`LiveCalendar` on air, :class:`FixedCalendar` for a render).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from vistter.actors.program.clock import ProgramEpoch
from vistter.clock import Clock
from vistter.models.cameras import CameraConfig
from vistter.ptz import PtzController, PtzResult
from vistter.supervisors.link import EventSink

__all__ = [
    "Calendar",
    "ExecutionRecorder",
    "FinalStatus",
    "FixedCalendar",
    "LiveCalendar",
    "PtzControl",
    "PtzControllers",
    "SourceControl",
]

FinalStatus = Literal["completed", "stopped", "error"]


class SourceControl(Protocol):
    """Media sources on demand. Called from a track executor's thread; may block a while
    (starting a source actor). Raises an :class:`~vistter.errors.OperatorError` when the
    media cannot be used (missing file): the executor alerts and the show goes on."""

    def ensure_media(self, location: str) -> str:
        """Make sure a source for ``location`` (``/assets/x.png``, a video file) is running;
        return its source id (e.g. ``media:/assets/x.png``). Idempotent."""

    def release_media(self, source_id: str) -> None:
        """The show no longer needs ``source_id``; its actor may be stopped."""


class PtzControl(Protocol):
    """PTZ pre-roll by camera id. ``preroll`` blocks the calling thread (a worker thread of
    the video track executor) for the move and the settle time; it never raises for a camera
    failure (the result says so and an alert is published)."""

    def settle_time(self, camera_id: int) -> float | None:
        """Seconds the camera needs after a move, or None when it has no PTZ."""

    def preroll(self, camera_id: int, preset: str, *, on_air: bool) -> PtzResult:
        """Move ``camera_id`` to ``preset`` and wait for it to settle."""


class ExecutionRecorder(Protocol):
    """Where every run of a timeline is recorded (start, end, status, error, metrics)."""

    def start(self, timeline_id: int) -> int:
        """Record a run of stored timeline ``timeline_id`` starting now; return its id."""

    def finish(
        self,
        execution_id: int,
        status: FinalStatus,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> object:
        """Close run ``execution_id``."""


class Calendar(Protocol):
    """Wall-clock time of program frames (for ``{time}`` in dynamic texts). Any thread."""

    def datetime_at(self, frame: int) -> datetime:
        """The wall-clock time program frame ``frame`` is shown at."""

    def frame_at(self, moment: datetime) -> int:
        """The first program frame shown at or after ``moment``."""


class LiveCalendar:
    """Wall-clock times of a live program: frame ``n`` is due at ``epoch.due(n)`` on the
    clock, and the clock's "now" is ``now()`` on the wall (local time by default)."""

    def __init__(
        self, epoch: ProgramEpoch, clock: Clock, now: Callable[[], datetime] = datetime.now
    ) -> None:
        self._epoch = epoch
        self._clock = clock
        self._now = now

    def _reference(self) -> tuple[float, datetime, float | None]:
        return self._clock.monotonic(), self._now(), self._epoch.t0

    def datetime_at(self, frame: int) -> datetime:
        mono, wall, t0 = self._reference()
        if t0 is None:  # no mixer yet: frame 0 is now
            return wall + timedelta(seconds=frame / self._epoch.fps)
        return wall + timedelta(seconds=self._epoch.due(frame) - mono)

    def frame_at(self, moment: datetime) -> int:
        mono, wall, t0 = self._reference()
        offset = (moment - wall).total_seconds()
        if t0 is None:
            return max(0, math.ceil(offset * self._epoch.fps - 1e-6))
        return self._epoch.index_at(mono + offset)


class FixedCalendar:
    """Wall-clock times for an offline render: frame 0 is ``start``, one frame per 1/fps."""

    def __init__(self, start: datetime, fps: int) -> None:
        self.start = start
        self.fps = fps

    def datetime_at(self, frame: int) -> datetime:
        return self.start + timedelta(seconds=frame / self.fps)

    def frame_at(self, moment: datetime) -> int:
        seconds = (moment - self.start).total_seconds()
        return max(0, math.ceil(seconds * self.fps - 1e-6))


class PtzControllers:
    """:class:`PtzControl` over one :class:`~vistter.ptz.PtzController` per camera.

    Built once by the appliance (shared, it outlives executor restarts); :meth:`set_cameras`
    follows the cameras added, edited and removed while live; :meth:`close` at shutdown ends
    any settle wait.

    Threads: :meth:`preroll` runs in a track executor's thread, :meth:`set_cameras` in the
    API's worker thread; the controllers are swapped as a whole (a pre-roll uses the set it
    looked up), and a replaced controller is closed by its own :meth:`PtzController.close`.
    """

    def __init__(
        self,
        controllers: Mapping[int, PtzController],
        make: Callable[[CameraConfig], PtzController] | None = None,
    ) -> None:
        self._controllers = dict(controllers)
        self._make = make
        self._change = threading.Lock()

    @classmethod
    def from_cameras(
        cls,
        cameras: Iterable[CameraConfig],
        *,
        clock: Clock | None = None,
        events: EventSink | None = None,
        **kwargs: Any,
    ) -> PtzControllers:
        """A controller per camera (``kwargs`` go to each
        :class:`~vistter.ptz.PtzController`, e.g. ``client_factory``). A camera without a
        ``ptz`` section gets one too: a cue asking it for a preset then raises an alert."""

        def make(camera: CameraConfig) -> PtzController:
            return PtzController(camera, clock=clock, events=events, **kwargs)

        return cls({camera.id: make(camera) for camera in cameras}, make)

    def set_cameras(self, cameras: Iterable[CameraConfig]) -> None:
        """Follow the cameras now (caller's thread): a new camera gets a controller, an
        edited one a new controller (the old one closed: its ONVIF session ends), a removed
        one is closed and forgotten; an unchanged camera keeps its controller. Raises
        ``RuntimeError`` when built without a way to make controllers."""
        if self._make is None:
            raise RuntimeError("these PTZ controllers were built without a factory")
        with self._change:
            old = self._controllers
            new: dict[int, PtzController] = {}
            for camera in cameras:
                kept = old.get(camera.id)
                same = kept is not None and kept.camera == camera
                new[camera.id] = kept if kept is not None and same else self._make(camera)
            self._controllers = new
        for camera_id, controller in old.items():
            if new.get(camera_id) is not controller:
                controller.close()

    def cameras(self) -> list[int]:
        """The ids of the cameras with a controller now (any thread)."""
        return sorted(self._controllers)

    def settle_time(self, camera_id: int) -> float | None:
        controller = self._controllers.get(camera_id)
        if controller is None or controller.camera.ptz is None:
            return None
        return float(controller.camera.ptz.settle_time)

    def preroll(self, camera_id: int, preset: str, *, on_air: bool) -> PtzResult:
        controller = self._controllers.get(camera_id)
        if controller is None:
            return PtzResult(
                camera_id=camera_id, preset=preset, ok=False, on_air=on_air,
                message=f"camera {camera_id} has no PTZ; the cue runs on the current shot",
                hint="Add a ptz section to the camera, or drop the cue's preset_id.",
            )
        return controller.preroll(preset, on_air=on_air)

    def close(self) -> None:
        for controller in self._controllers.values():
            controller.close()
