"""Track executors: restarts neither double-arm nor miss cues; failures never stop the show."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_show_rig import (
    FMT,
    FPS,
    RecordingSink,
    ShowRig,
    rig,
    small_timeline,
    stop_actors,
)

from vistter.actors.program.changes import Take, TransitionKind
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.clock import FakeClock
from vistter.errors import OperatorError
from vistter.models.cameras import CameraConfig
from vistter.ptz import PtzTimeoutError
from vistter.show import (
    FixedCalendar,
    PreflightChecks,
    PtzControllers,
    ShowError,
    ShowSettings,
)
from vistter.supervisors.worker import WorkerDied

__all__ = ["rig", "stop_actors"]


class CountingProgram(ProgramState):
    """A ProgramState that counts how often each cue is armed."""

    def __init__(self) -> None:
        super().__init__(FMT)
        self.armed: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def take(self, source_id: str, at_frame: int | None = None,
             transition: TransitionKind = "cut", duration_frames: int = 0, *,
             tag: str | None = None) -> Take:
        with self._count_lock:
            self.armed[f"take:{tag}"] += 1
        return super().take(source_id, at_frame, transition, duration_frames, tag=tag)

    def show_overlay(self, layer_id: str, z: int, layer: OverlayLayer,
                     at_frame: int | None = None, **kwargs: Any) -> bool:
        with self._count_lock:
            self.armed[f"overlay:{kwargs.get('tag')}"] += 1
        return super().show_overlay(layer_id, z, layer, at_frame, **kwargs)


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` (an error counts as not yet) until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except OperatorError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def _crash(rig: ShowRig, child_id: str) -> None:
    before = rig.executor(child_id)
    before.tell(WorkerDied("test", RuntimeError("injected")))
    eventually(lambda: _restarted(rig, child_id, before))


def _restarted(rig: ShowRig, child_id: str, before: Any) -> bool:
    return bool(rig.executor(child_id) != before)


@pytest.fixture
def counting(tmp_path: Path, stop_actors: None) -> Iterator[tuple[ShowRig, CountingProgram]]:
    program = CountingProgram()
    show_rig = ShowRig(tmp_path, program=program)
    yield show_rig, program
    show_rig.stop()


@pytest.mark.timeout(60)
def test_executor_restarts_neither_double_arm_nor_miss(
    counting: tuple[ShowRig, CountingProgram],
) -> None:
    rig, program = counting
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(4 * FPS)  # v2 (5 s), o2 (6 s) armed already
    assert program.armed["take:v2"] == 1 and program.armed["overlay:o2"] == 1
    _crash(rig, "video-video")
    _crash(rig, "overlay-upper")
    _crash(rig, "overlay-lower")
    rig.run_until(11 * FPS)
    assert program.armed["take:v1"] == 1
    assert program.armed["take:v2"] == 1
    assert program.armed["take:v3"] == 1
    assert program.armed["overlay:o1"] == 1
    assert program.armed["overlay:o2"] == 1
    effects = {(e.kind, e.tag): (e.requested, e.effective) for e in program.effects()}
    assert effects[("take", "v2")] == (5 * FPS, 5 * FPS)
    assert effects[("take", "v3")] == (10 * FPS, 10 * FPS)
    assert effects[("overlay", "o2")] == (6 * FPS, 6 * FPS)
    history = {c.id: c.restarts for c in rig.tracks().which_children()}
    assert history == {"video-video": 1, "overlay-lower": 1, "overlay-upper": 1}


@pytest.mark.timeout(60)
def test_an_executor_down_through_a_cue_arms_it_late_when_back(
    tmp_path: Path, stop_actors: None
) -> None:
    rig = ShowRig(tmp_path, settings=ShowSettings(lookahead=0.5))
    try:
        rig.load(small_timeline())
        rig.call("go_live", 0)
        rig.run_until(4 * FPS)
        tracks = rig.tracks()
        tracks.terminate_child("video-video")
        assert rig.show.wait_armed_through(5 * FPS, timeout=0.2) is False  # the barrier holds
        with pytest.raises(ShowError, match=r"did not arm program frame 150 .* behind: video"):
            rig.show.frame_hook(timeout=0.2)(5 * FPS)
        rig.run_until(6 * FPS)
        assert rig.plans[5 * FPS].source == "camera:1"  # v2 missed while down...
        tracks.restart_child("video-video")
        rig.run_until(6 * FPS + 10)
        late = next(e for e in rig.program.effects() if e.tag == "v2")
        assert late.requested == 6 * FPS  # ...and taken (a cut) at the first frame possible
        assert rig.plans[6 * FPS].source == "camera:2"
        assert rig.show.wait_armed_through(6 * FPS + 20, timeout=5.0) is True
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_an_orchestrator_crash_restarts_the_show_and_it_goes_on(
    tmp_path: Path, stop_actors: None
) -> None:
    broken = threading.Event()

    def cameras() -> list[int]:
        if broken.is_set():
            raise RuntimeError("a bug in the camera list")
        return [1, 2]

    program = CountingProgram()
    rig = ShowRig(tmp_path, program=program, preflight=PreflightChecks(cameras=cameras))
    try:
        _crash_orchestrator(rig, program, broken)
    finally:
        rig.stop()


def _crash_orchestrator(rig: ShowRig, program: CountingProgram,
                        broken: threading.Event) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(3 * FPS)
    old = rig.executor("video-video")
    broken.set()
    with pytest.raises(RuntimeError, match="a bug in the camera list"):
        rig.call("force_camera", 2)  # the orchestrator crashes
    eventually(lambda: _restarted(rig, "video-video", old))
    eventually(lambda: len(rig.executor_ids()) == 3)
    assert rig.call("status")["state"] == "live"
    rig.run_until(11 * FPS)
    assert rig.plans[10 * FPS].source == "camera:1" and rig.plans[10 * FPS].transition == "fade"
    assert program.armed["take:v2"] == 1 and program.armed["take:v3"] == 1


@pytest.mark.timeout(60)
def test_a_missing_overlay_picture_alerts_and_the_show_goes_on(rig: ShowRig) -> None:
    document = small_timeline()
    document["timeline"]["tracks"]["overlays"][1]["cues"].insert(
        0, {"id": "logo", "start_time": 1, "duration": 3, "action": "show_overlay",
            "params": {"type": "logo", "image_url": "/assets/missing.png"}})
    rig.load(document)
    rig.call("go_live", 0)
    rig.run_until(7 * FPS)
    alerts = [a for a in rig.events.of("alert") if a["kind"] == "overlay_render"]
    assert len(alerts) == 1
    assert alerts[0]["cue"] == "logo" and "missing.png" in alerts[0]["message"]
    assert alerts[0]["hint"]
    assert all("upper" not in rig.layers_at(n) for n in range(FPS, 4 * FPS))
    assert rig.layers_at(6 * FPS) == {"lower": 1.0, "upper": 1.0}
    assert rig.plans[5 * FPS].source == "camera:2"


class FakePtzClient:
    """A PtzClient for the real PtzController: records moves, optionally never answers."""

    def __init__(self, clock: FakeClock, *, fail: bool = False) -> None:
        self.clock = clock
        self.fail = fail
        self.moves: list[tuple[str, float]] = []

    def connect(self) -> None:
        if self.fail:
            raise PtzTimeoutError("the camera did not answer", seconds=3.0)

    def get_presets(self) -> dict[str, str]:
        return {"wide": "1", "close": "2"}

    def goto_preset(self, preset_token: str) -> None:
        self.moves.append((preset_token, self.clock.monotonic()))

    def stop(self) -> None:
        return None

    def close(self) -> None:
        return None


def _ptz_timeline() -> dict[str, Any]:
    document = small_timeline()
    cues = document["timeline"]["tracks"]["video"]["cues"]
    cues[1]["params"]["preset_id"] = "close"  # camera 2 at 5 s, off air before
    cues[2]["params"]["preset_id"] = "wide"  # camera 1 at 10 s, off air before
    return document


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fail", [False, True])
def test_ptz_preroll_with_the_real_controller(tmp_path: Path, stop_actors: None,
                                               fail: bool) -> None:
    clock = FakeClock(start=1000.0)
    clients: dict[str, FakePtzClient] = {}

    def factory(config: Any, timeouts: Any) -> FakePtzClient:
        clients[config.host] = clients.get(config.host) or FakePtzClient(clock, fail=fail)
        return clients[config.host]

    cameras = [
        CameraConfig.model_validate({
            "id": camera_id, "url": "lavfi:testsrc2",
            "ptz": {"host": f"cam{camera_id}", "presets": {"wide": "1", "close": "2"},
                    "settle_time": 1.5},
        })
        for camera_id in (1, 2)
    ]
    events = RecordingSink()
    ptz = PtzControllers.from_cameras(cameras, clock=clock, events=events,
                                      client_factory=factory)
    rig = ShowRig(tmp_path, clock=clock, ptz=ptz, events=events)
    try:
        rig.load(_ptz_timeline())
        rig.call("go_live", 0)
        rig.run_until(11 * FPS, step=0.1)
        t0 = rig.t0
        assert rig.plans[5 * FPS].source == "camera:2"  # the cue runs on its frame anyway
        assert rig.plans[10 * FPS].source == "camera:1"
        if fail:
            alerts = [a for a in rig.events.of("alert") if a["kind"] == "ptz_failed"]
            assert {a["source"] for a in alerts} == {"camera:1", "camera:2"}
            assert all("did not answer" in a["message"] for a in alerts)
            return
        [(token, at)] = clients["cam2"].moves
        assert token == "2"
        assert 5 - 1.5 - 1.2 <= at - t0 <= 5 - 1.5  # settle time + margin before the cue
        [(token, at)] = clients["cam1"].moves
        assert token == "1" and at - t0 <= 10 - 1.5
        prerolls = rig.executor("video-video").proxy().sync().get(timeout=10)["prerolls"]
        assert all(p["ok"] and not p["on_air"] for p in prerolls)
        assert all(p["finished"] - p["started"] >= 1.5 for p in prerolls)  # settled
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_dynamic_text_changes_on_the_exact_frame_of_the_new_second(
    tmp_path: Path, stop_actors: None
) -> None:
    start = datetime(2024, 6, 1, 11, 59, 58, 500000)  # program frame 0
    rig = ShowRig(tmp_path, calendar=FixedCalendar(start, FPS))
    try:
        document = small_timeline()
        document["timeline"]["tracks"]["overlays"][1]["cues"] = [
            {"id": "clock", "start_time": 0, "duration": 4, "action": "show_overlay",
             "params": {"type": "dynamic_text", "template": "{time:%H:%M:%S}"}}]
        rig.load(document)
        rig.call("go_live", 0)
        rig.run_until(5 * FPS)
        changes = [e.effective for e in rig.program.effects() if e.tag == "clock"]
        assert changes == [0, 15, 45, 75, 105]  # 11:59:59.0, 12:00:00.0, ...
        pictures = {n: rig.plans[n].layers[-1].layer for n in (0, 14, 15, 44, 45)}
        assert pictures[0] is pictures[14] and pictures[15] is pictures[44]
        assert pictures[14] is not pictures[15] and pictures[44] is not pictures[45]
        assert all("upper" not in rig.layers_at(n) for n in range(4 * FPS, 5 * FPS))
    finally:
        rig.stop()


@pytest.mark.timeout(60)
def test_data_source_values_show_on_the_next_frame_and_failures_alert(
    tmp_path: Path, stop_actors: None
) -> None:
    data = tmp_path / "tide.json"
    data.write_text(json.dumps({"tide": {"next": "3:45 PM"}}))
    rig = ShowRig(tmp_path)
    try:
        document = small_timeline()
        document["timeline"]["tracks"]["overlays"][1]["cues"] = [
            {"id": "tide", "start_time": 0, "duration": 20, "action": "show_overlay",
             "params": {"type": "dynamic_text", "template": "Tide {value}",
                        "source": {"path": "/assets/tide.json", "key": "tide.next",
                                   "poll_interval": 1}}}]
        rig.load(document)
        rig.call("go_live", 0)
        rig.run_until(FPS)
        eventually(lambda: _rendered_width(rig) > 0)
        first = _rendered_width(rig)
        data.write_text(json.dumps({"tide": {"next": "Low 10:12 PM and rising"}}))
        rig.clock.advance(1.0)
        eventually(lambda: _changed(rig, first))
        data.unlink()
        rig.clock.advance(1.0)
        eventually(lambda: any(a["kind"] == "overlay_data" for a in rig.events.of("alert")))
        alert = next(a for a in rig.events.of("alert") if a["kind"] == "overlay_data")
        assert "keeps the last good value" in alert["message"]
        wide = _rendered_width(rig)
        rig.run_seconds(2)
        assert _rendered_width(rig) == wide > first  # the last value stays on air
    finally:
        rig.stop()


def _rendered_width(rig: ShowRig) -> int:
    rig.sync()
    plan = rig.program.frame_plan(max(rig.next_frame, rig.program.horizon))
    rig.next_frame = plan.index + 1
    upper = [p for p in plan.layers if p.layer_id == "upper"]
    return upper[0].layer.width if upper else 0


def _changed(rig: ShowRig, first: int) -> bool:
    return _rendered_width(rig) > first
