"""The show test rig (imported by the other ``test_show_*`` modules) and its own checks.

:class:`ShowRig` runs the real ``show`` subtree (orchestrator, ``tracks``, executors) under a
root supervisor on a :class:`~vistter.clock.FakeClock`, with a real ``ProgramState``. It plays
the mixer's part itself: after each clock step it lets every actor handle its messages, then
plans (``frame_plan``) every program frame whose time has come, so tests can look at exactly
what each frame would show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pykka
import pytest
from support.eventsink import RecordingSink as BaseSink

from vistter.actors.fanout.on_air import OnAir
from vistter.actors.program.frame_plan import FramePlan
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import media_source_id
from vistter.clock import FakeClock
from vistter.errors import OperatorError
from vistter.media.frames import FrameFormat
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import load_timeline
from vistter.ptz import PtzResult
from vistter.show import (
    ExecutionRecorder,
    PreflightChecks,
    PtzControl,
    ShowContext,
    ShowSettings,
    SourceControl,
)
from vistter.show.controls import Calendar
from vistter.supervisors import RootSupervisor, Strategy, SupervisorFlags
from vistter.tree import show_spec

FMT = FrameFormat(320, 180, 30)
FPS = FMT.fps
TIMEOUT = 10.0


class RecordingSink(BaseSink):
    """Every published event, and the show's own events in order."""

    def show_events(self) -> list[str]:
        return [payload["event"] for payload in self.of("event.show")]

class FakeSources:
    """SourceControl: records calls; ``missing`` locations cannot be shown."""

    def __init__(self, clock: FakeClock, missing: tuple[str, ...] = ()) -> None:
        self.clock = clock
        self.missing = missing
        self.calls: list[tuple[str, str, float]] = []

    def ensure_media(self, location: str) -> str:
        if location in self.missing:
            raise OperatorError(f"{location} does not exist.", hint="Upload it.")
        self.calls.append(("ensure", location, self.clock.monotonic()))
        return media_source_id(location)

    def release_media(self, source_id: str) -> None:
        self.calls.append(("release", source_id, self.clock.monotonic()))


class FakePtz:
    """PtzControl: every camera has PTZ with ``settle`` seconds; moves are recorded."""

    def __init__(self, clock: FakeClock, settle: float = 2.0) -> None:
        self.clock = clock
        self.settle = settle
        self.moves: list[dict[str, Any]] = []

    def settle_time(self, camera_id: int) -> float | None:
        return self.settle

    def preroll(self, camera_id: int, preset: str, *, on_air: bool) -> PtzResult:
        self.moves.append({"camera_id": camera_id, "preset": preset, "on_air": on_air,
                           "at": self.clock.monotonic()})
        return PtzResult(camera_id=camera_id, preset=preset, ok=True, on_air=on_air,
                         message="moved")


class FakeRecorder:
    """ExecutionRecorder: keeps the runs in memory."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[tuple[int, str, str | None, dict[str, Any]]] = []

    def start(self, timeline_id: int) -> int:
        self.started.append(timeline_id)
        return 100 + len(self.started)

    def finish(self, execution_id: int, status: Any, error: str | None = None,
               metrics: Any = None) -> object:
        self.finished.append((execution_id, status, error, dict(metrics or {})))
        return None


class ShowRig:
    """The show subtree on a fake clock, with the test as its mixer (see the module doc)."""

    def __init__(
        self,
        assets_dir: Path,
        *,
        settings: ShowSettings | None = None,
        sources: SourceControl | None = None,
        ptz: PtzControl | None = None,
        recorder: ExecutionRecorder | None = None,
        preflight: PreflightChecks | None = None,
        calendar: Calendar | None = None,
        fmt: FrameFormat = FMT,
        clock: FakeClock | None = None,
        program: ProgramState | None = None,
        events: RecordingSink | None = None,
        air: OnAir | None = None,
    ) -> None:
        self.clock = clock or FakeClock(start=1000.0)
        self.program = program or ProgramState(fmt)
        self.t0 = self.program.epoch.anchor(self.clock.monotonic())
        self.events = events or RecordingSink()
        self.context = ShowContext.build(
            self.program, assets_dir, clock=self.clock, settings=settings, sources=sources,
            ptz=ptz, calendar=calendar,
        )
        self.show = self.context.show
        self.root = RootSupervisor(
            SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=10, period=30),
            [show_spec(self.context, recorder=recorder, preflight=preflight, air=air)],
            clock=self.clock, events=self.events,
        )
        self.plans: dict[int, FramePlan] = {}
        self.next_frame = 0

    # -- calling the actors -----------------------------------------------------------------

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        proxy = self.root.handle.child("show/orchestrator").proxy()
        return getattr(proxy, method)(*args, **kwargs).get(timeout=TIMEOUT)

    def tracks(self) -> Any:
        return self.root.handle.supervisor("show/tracks")

    def executor(self, child_id: str) -> pykka.ActorRef[Any]:
        ref: pykka.ActorRef[Any] = self.tracks().child_ref(child_id)
        return ref

    def executor_ids(self) -> list[str]:
        return [child.id for child in self.tracks().which_children()]

    def sync(self) -> None:
        """Let every actor of the show handle what was posted to it so far (twice: a round
        may post more)."""
        for _ in range(2):
            for child in self.tracks().which_children():
                if child.ref is not None and child.state == "running":
                    try:
                        child.ref.proxy().sync().get(timeout=TIMEOUT)
                    except pykka.ActorDeadError:
                        continue
            self.call("status")

    def load(self, document: TimelineDocument | dict[str, Any], db_id: int | None = None,
             **kwargs: Any) -> dict[str, Any]:
        if isinstance(document, dict):
            document = load_timeline(document)
        result = self.call("load", document, db_id, **kwargs)
        self.sync()
        return result  # type: ignore[no-any-return]

    # -- time and frames --------------------------------------------------------------------

    def frame_now(self) -> int:
        return self.program.epoch.index_at(self.clock.monotonic())

    def plan_to(self, end: int) -> None:
        """Plan every frame before ``end`` not planned yet (the mixer's part)."""
        for n in range(self.next_frame, end):
            self.plans[n] = self.program.frame_plan(n)
        self.next_frame = max(self.next_frame, end)

    def run_until(self, frame: int, step: float = 0.2) -> None:
        """Advance the clock in ``step`` seconds, letting the actors work after each step and
        planning the frames due, until every frame before ``frame`` is planned."""
        while True:
            self.sync()
            now = self.frame_now()
            self.plan_to(min(now, frame))
            if self.next_frame >= frame:
                return
            self.clock.advance(step)

    def run_seconds(self, seconds: float, step: float = 0.2) -> None:
        self.run_until(self.frame_now() + round(seconds * FPS), step)

    def sources_at(self, frames: range) -> list[str | None]:
        return [self.plans[n].source for n in frames]

    def layers_at(self, n: int) -> dict[str, float]:
        return {p.layer_id: round(p.opacity, 4) for p in self.plans[n].layers}

    def tags_at(self, n: int) -> dict[str, Any]:
        return {p.layer_id: p.layer for p in self.plans[n].layers}

    def stop(self) -> None:
        self.root.stop()


def small_timeline(**changes: Any) -> dict[str, Any]:
    """A 20 s timeline at the rig's size: three video cues, two overlay tracks."""
    timeline: dict[str, Any] = {
        "id": "tl_small", "name": "Small show", "duration": 20, "fps": FPS,
        "resolution": f"{FMT.width}x{FMT.height}",
        "tracks": {
            "video": {"track_id": "video", "cues": [
                {"id": "v1", "start_time": 0, "duration": 5, "action": "show_camera",
                 "params": {"camera_id": 1}},
                {"id": "v2", "start_time": 5, "duration": 5, "action": "show_camera",
                 "params": {"camera_id": 2, "transition": "dissolve",
                            "transition_duration": 0.5}},
                {"id": "v3", "start_time": 10, "duration": 10, "action": "show_camera",
                 "params": {"camera_id": 1, "transition": "fade", "transition_duration": 1.0}},
            ]},
            "overlays": [
                {"track_id": "lower", "layer": 1, "cues": [
                    {"id": "o1", "start_time": 2, "duration": 6, "action": "show_overlay",
                     "params": {"type": "text", "text": "Hello", "fade_in": 0.5,
                                "fade_out": 0.5, "background_color": "#000000"}},
                ]},
                {"track_id": "upper", "layer": 2, "cues": [
                    {"id": "o2", "start_time": 6, "duration": 6, "action": "show_overlay",
                     "params": {"type": "text", "text": "Tide", "position": "top_right"}},
                ]},
            ],
        },
    }
    timeline.update(changes)
    return {"timeline": timeline}


@pytest.fixture
def stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.fixture
def rig(tmp_path: Path, stop_actors: None) -> Iterator[ShowRig]:
    show_rig = ShowRig(tmp_path)
    yield show_rig
    show_rig.stop()


# -- the rig's own checks ------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_rig_loads_a_timeline_and_starts_one_executor_per_track(rig: ShowRig) -> None:
    status = rig.load(small_timeline())
    assert status["state"] == "idle"
    assert status["timeline"]["tracks"] == ["video", "lower", "upper"]
    assert sorted(rig.executor_ids()) == ["overlay-lower", "overlay-upper", "video-video"]


@pytest.mark.timeout(60)
def test_rig_plans_frames_as_the_clock_moves(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(31)
    assert rig.next_frame == 31
    assert rig.frame_now() >= 31
    assert rig.sources_at(range(31)) == ["camera:1"] * 31
