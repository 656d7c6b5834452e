"""The show drives a real virtual ProgramMixer, paced by ``ShowState.wait_armed_through``
(the offline render's barrier): cues land on their exact frames in the composed pictures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pykka
import pytest
from test_show_rig import FMT, FPS, RecordingSink, small_timeline

from vistter.actors.program.frame_queue import FrameQueue
from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import MonotonicClock
from vistter.media.frames import Frame, solid_frame
from vistter.models.validation import load_timeline
from vistter.show import FixedCalendar, ShowContext
from vistter.supervisors import RootSupervisor, Strategy, SupervisorFlags
from vistter.supervisors.link import Link
from vistter.tree import show_spec

END = 13 * FPS
LUMA = {"camera:1": 60, "camera:2": 180}


class Barrier:
    """The mixer's source barrier: frame ``n`` waits until the show has armed it; frames from
    ``END`` on are parked until the test is done."""

    def __init__(self, context: ShowContext) -> None:
        self.context = context
        self.done = threading.Event()
        self.failures: list[int] = []

    def __call__(self, n: int) -> None:
        if n >= END:
            self.done.wait(0.2)
            return
        if not self.context.show.wait_armed_through(n, timeout=10.0):
            self.failures.append(n)


@pytest.fixture
def rendered(tmp_path: Path) -> Iterator[dict[int, Frame]]:
    clock = MonotonicClock()
    program = ProgramState(FMT)
    table = SourceTable(FMT, clock)
    for source, y in LUMA.items():
        table.slot(source).publish(solid_frame(FMT, y, 128, 128))
        table.set_health(source, SourceState.ONLINE)
    context = ShowContext.build(program, tmp_path, clock=clock,
                                calendar=FixedCalendar(datetime(2024, 1, 1), FPS))
    root = RootSupervisor(SupervisorFlags(Strategy.ONE_FOR_ONE), [show_spec(context)],
                          clock=clock, events=RecordingSink())
    barrier = Barrier(context)
    queue = FrameQueue(END + 10)
    try:
        orchestrator: Any = root.handle.child("show/orchestrator").proxy()
        orchestrator.load(load_timeline(small_timeline())).get(timeout=10)
        orchestrator.go_live(0).get(timeout=10)
        link = Link("program/mixer", clock=clock)
        ProgramMixer.start(link, FMT, table, program, queue, virtual=True,
                           source_barrier=barrier, epoch=program.epoch)
        frames: dict[int, Frame] = {}
        while len(frames) < END:
            item = queue.get(timeout=10)
            assert item is not None, f"the mixer stalled after {len(frames)} frames"
            frames[item.index] = item.pixels().copy()
        assert barrier.failures == []
        yield frames
    finally:
        barrier.done.set()
        root.stop()
        pykka.ActorRegistry.stop_all(timeout=10)


def _luma(frame: Frame) -> int:
    """The luma of the frame's top-left corner (no overlay of the timeline goes there)."""
    y = frame[: FMT.y_bytes].reshape(FMT.height, FMT.width)
    return int(y[2, 2])


@pytest.mark.timeout(60)
def test_cues_land_on_their_frames_in_the_composed_program(rendered: dict[int, Frame]) -> None:
    lumas = [_luma(rendered[n]) for n in range(END)]
    assert lumas[: 5 * FPS] == [LUMA["camera:1"]] * (5 * FPS)
    dissolve = lumas[5 * FPS: 5 * FPS + 16]  # v2: 0.5 s dissolve = 15 partial frames
    expected = [round(60 + (180 - 60) * (i + 1) / 16) for i in range(15)]
    assert all(abs(a - b) <= 1 for a, b in zip(dissolve[:15], expected, strict=True))
    assert dissolve[15] == LUMA["camera:2"]
    assert lumas[6 * FPS: 10 * FPS] == [LUMA["camera:2"]] * (4 * FPS)
    # v3 at 10 s: a 1 s fade through black back to camera 1
    assert lumas[10 * FPS + 15] < lumas[10 * FPS] and lumas[10 * FPS + 30] == LUMA["camera:1"]


@pytest.mark.timeout(60)
def test_overlays_appear_and_disappear_on_their_frames(rendered: dict[int, Frame]) -> None:
    def differs(n: int) -> bool:
        base = solid_frame(FMT, _luma(rendered[n]), 128, 128)
        return not np.array_equal(rendered[n][: FMT.y_bytes], base[: FMT.y_bytes])

    assert not any(differs(n) for n in range(2 * FPS))
    assert all(differs(n) for n in range(2 * FPS, 5 * FPS))  # o1 from 2 s
    assert all(differs(n) for n in range(12 * FPS - 10, 12 * FPS))  # o2 until 12 s
    assert not any(differs(n) for n in range(12 * FPS, END))  # then nothing


@pytest.mark.timeout(60)
def test_on_a_live_mixer_every_cue_lands_with_zero_frames_late(tmp_path: Path) -> None:
    clock = MonotonicClock()
    program = ProgramState(FMT)
    table = SourceTable(FMT, clock)
    for source, y in LUMA.items():
        table.slot(source).publish(solid_frame(FMT, y, 128, 128))
    cues: list[dict[str, Any]] = [
        {"id": f"c{i}", "start_time": i * 0.5, "duration": 0.5, "action": "show_camera",
         "params": {"camera_id": 1 + i % 2, "transition": ("cut", "dissolve", "fade")[i % 3]}}
        for i in range(8)
    ]
    for cue in cues:
        if cue["params"]["transition"] != "cut":
            cue["params"]["transition_duration"] = 0.2
    document = small_timeline(duration=4, loop=False)
    document["timeline"]["tracks"]["video"]["cues"] = cues
    document["timeline"]["tracks"]["overlays"] = []
    context = ShowContext.build(program, tmp_path, clock=clock)
    root = RootSupervisor(SupervisorFlags(Strategy.ONE_FOR_ONE), [show_spec(context)],
                          clock=clock, events=RecordingSink())
    try:
        link = Link("program/mixer", clock=clock)
        ProgramMixer.start(link, FMT, table, program, FrameQueue(8), epoch=program.epoch)
        assert link.ready.wait(5)
        orchestrator: Any = root.handle.child("show/orchestrator").proxy()
        orchestrator.load(load_timeline(document)).get(timeout=10)
        start = program.epoch.index_at(clock.monotonic()) + FPS
        orchestrator.go_live(start).get(timeout=10)
        done = threading.Event()
        while not done.wait(0.1):
            if orchestrator.status().get(timeout=10)["state"] == "stopped":
                done.set()
        # the slate is taken on the mixer's next frame after the show stops
        deadline = time.monotonic() + 5.0
        takes = [e for e in program.effects() if e.kind == "take"]
        while takes[-1].tag != "show:ended" and time.monotonic() < deadline:
            time.sleep(0.05)
            takes = [e for e in program.effects() if e.kind == "take"]
        assert takes[-1].tag == "show:ended"  # the show ended: the slate, between shows
        takes = takes[:-1]
        assert [e.tag for e in takes] == [f"c{i}" for i in range(8)]
        assert [e.requested for e in takes] == [start + i * FPS // 2 for i in range(8)]
        assert [e.late_frames for e in takes] == [0] * 8
    finally:
        root.stop()
        pykka.ActorRegistry.stop_all(timeout=10)
