"""The ``tracks`` supervisor of the show and the specs of the track executors under it."""

from __future__ import annotations

import threading
from typing import Any

import pykka

from vistter.errors import UnknownChildError
from vistter.show.context import ShowContext
from vistter.show.overlay_track import OverlayTrackExecutor
from vistter.show.plan import ShowPlan
from vistter.show.video_track import VideoTrackExecutor
from vistter.supervisors import (
    ChildSpec,
    Strategy,
    Supervisor,
    SupervisorFlags,
    SupervisorHandle,
)
from vistter.supervisors.link import Link
from vistter.supervisors.spec import CRASH_BACKOFF, HEARTBEAT

__all__ = [
    "CRASH_BACKOFF",
    "HEARTBEAT",
    "TRACKS_FLAGS",
    "TracksRef",
    "executor_id",
    "executor_spec",
    "start_executors",
    "stop_executors",
]

TRACKS_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=10, period=30)


class TracksRef:
    """Where the orchestrator finds the current ``tracks`` supervisor. Thread-safe."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._ref: pykka.ActorRef[Any] | None = None
        self.timeout = timeout

    def start(self, link: Link) -> pykka.ActorRef[Any]:
        """The ``tracks`` child's start function (runs in the show supervisor's thread)."""
        ref = Supervisor.start(link, TRACKS_FLAGS, [])
        with self._lock:
            self._ref = ref
        return ref

    def handle(self) -> SupervisorHandle:
        with self._lock:
            ref = self._ref
        if ref is None or not ref.is_alive():
            raise UnknownChildError(
                "the show's tracks supervisor is not running.",
                hint="It is being restarted; try again in a moment.",
            )
        return SupervisorHandle(ref, self.timeout)


def executor_id(track_id: str, *, video: bool) -> str:
    """The child id of a track's executor under ``tracks``."""
    return f"{'video' if video else 'overlay'}-{track_id}"


def executor_spec(context: ShowContext, track_id: str, *, video: bool) -> ChildSpec:
    """The child that arms one track."""
    cls: type[pykka.Actor] = VideoTrackExecutor if video else OverlayTrackExecutor

    def start(link: Link) -> pykka.ActorRef[Any]:
        return cls.start(link, context, track_id)

    return ChildSpec(
        executor_id(track_id, video=video), start,
        restart_delay=CRASH_BACKOFF, heartbeat=HEARTBEAT,
    )


def start_executors(tracks: SupervisorHandle, context: ShowContext, plan: ShowPlan) -> None:
    """Start the executors of ``plan``'s tracks that are not running under ``tracks``.

    Blocks the caller while they start; raises ``ChildStartError`` when one cannot.
    """
    running = {child.id for child in tracks.which_children()}
    for track_id in plan.track_ids:
        video = track_id == plan.video_track_id
        if executor_id(track_id, video=video) not in running:
            tracks.start_child(executor_spec(context, track_id, video=video))


def stop_executors(tracks: SupervisorHandle) -> None:
    """Stop and forget every executor under ``tracks``."""
    for child in tracks.which_children():
        tracks.terminate_child(child.id)
        tracks.delete_child(child.id)
