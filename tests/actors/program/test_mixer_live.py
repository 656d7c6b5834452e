"""ProgramMixer on a live clock: real rate, catch-up repeats, metrics, supervised restarts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pykka
import pytest
from PIL import Image
from support.eventsink import RecordingSink

from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import Clock, FakeClock, MonotonicClock
from vistter.media.frames import FrameFormat, solid_frame
from vistter.supervisors import ChildSpec, RootSupervisor, Strategy, SupervisorFlags
from vistter.supervisors.link import ExitReason, Link
from vistter.supervisors.spec import start_function_for
from vistter.telemetry.topics import PROGRAM_METRICS_TOPIC

FMT = FrameFormat(32, 16, 30)


class Sink(RecordingSink):
    def topic(self, name: str) -> list[dict[str, Any]]:
        return self.of(name)

@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=10)


def make(clock: Clock, capacity: int = 256) -> tuple[SourceTable, ProgramState, FrameQueue]:
    sources = SourceTable(FMT, clock)
    sources.slot("camera:1").publish(solid_frame(FMT, 90, 128, 128))
    sources.set_health("camera:1", SourceState.ONLINE)
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=0)
    return sources, state, FrameQueue(capacity)


def start_mixer(clock: Clock, sources: SourceTable, state: ProgramState, queue: FrameQueue,
                **kwargs: Any) -> pykka.ActorRef[Any]:
    link = Link("program/mixer", clock=clock, events=kwargs.pop("events", None))
    ref = ProgramMixer.start(link, FMT, sources, state, queue, **kwargs)
    assert link.ready.wait(5)
    return ref


def take_frames(queue: FrameQueue, count: int, timeout: float = 5.0) -> list[ProgramFrame]:
    got: list[ProgramFrame] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        item = queue.get(timeout=max(0.0, deadline - time.monotonic()))
        assert item is not None, f"only {len(got)} of {count} frames within {timeout} s"
        got.append(item)
    return got


@pytest.mark.timeout(30)
def test_live_clock_runs_at_the_frame_rate_with_consecutive_indices() -> None:
    clock = MonotonicClock()
    sources, state, queue = make(clock)
    sink = Sink()
    ref = start_mixer(clock, sources, state, queue, events=sink, metrics_interval=0.25)
    first = take_frames(queue, 1)[0]
    started = time.monotonic()
    rest = take_frames(queue, 30)
    elapsed = time.monotonic() - started
    indices = [f.index for f in [first, *rest]]
    assert indices == list(range(31))
    assert 0.85 <= elapsed <= 1.4, f"30 frames at 30 fps took {elapsed:.3f} s"
    assert all(int(f.pixels()[0]) == 90 for f in rest)
    status = ref.proxy().status().get(timeout=5)
    assert status["frames"] >= 31
    assert status["dropped"] == 0
    assert status["compose_ms_max"] < 50
    metrics = sink.topic(PROGRAM_METRICS_TOPIC)
    assert len(metrics) >= 2
    assert {"fps", "frames", "late_ticks", "dropped", "compose_ms_mean", "compose_ms_max",
            "queue_dropped", "on_air"} <= set(metrics[-1])
    assert 20 <= metrics[-1]["fps"] <= 40
    assert metrics[-1]["on_air"] == "camera:1"


@pytest.mark.timeout(30)
def test_far_behind_repeats_the_previous_output_and_keeps_indices() -> None:
    fake = FakeClock()
    sources, state, queue = make(fake)
    ref = start_mixer(fake, sources, state, queue, max_behind=1.0)
    assert take_frames(queue, 1)[0].index == 0
    sources.slot("camera:1").publish(solid_frame(FMT, 150, 128, 128))
    fake.advance(2.0)  # the box "froze" for two seconds
    frames = take_frames(queue, 60)
    assert [f.index for f in frames] == list(range(1, 61))
    repeated = [f for f in frames if int(f.pixels()[0]) == 90]
    composed = [f for f in frames if int(f.pixels()[0]) == 150]
    # Frames more than a frame late (1..58; 59 is exactly one frame late) repeat the
    # previous output, uncomposed; then composing resumes on schedule.
    assert [f.index for f in repeated] == list(range(1, len(repeated) + 1))
    assert len(repeated) in (58, 59)
    assert [f.index for f in composed] == list(range(len(repeated) + 1, 61))
    assert all(f.base is repeated[0].base and f.band is repeated[0].band for f in repeated)
    status = ref.proxy().status().get(timeout=5)
    assert status["dropped"] == len(repeated)
    assert status["repeated"] == len(repeated)
    assert status["late_ticks"] >= len(repeated)


@pytest.mark.timeout(30)
def test_catch_up_repeats_the_previous_base_and_band() -> None:
    fake = FakeClock()
    sources, state, queue = make(fake)
    box = Image.new("RGBA", (8, 4), (255, 255, 255, 255))
    state.show_overlay("box", 1, OverlayLayer.from_rgba(box, 0, 2, FMT), at_frame=0)
    start_mixer(fake, sources, state, queue, max_behind=1.0)
    first = take_frames(queue, 1)[0]
    assert first.band is not None and (first.band.top, first.band.bottom) == (2, 6)
    fake.advance(2.0)
    frames = take_frames(queue, 30)
    assert [f.index for f in frames] == list(range(1, 31))
    for item in frames:  # repeats: the very same base and band as frame 0
        assert item.base is first.base and item.band is first.band
        y = item.pixels()[: FMT.y_bytes].reshape(FMT.height, FMT.width)
        assert (y[2:6, :8] == 235).all() and (y[:2] == 90).all() and (y[6:] == 90).all()


@pytest.mark.timeout(30)
def test_live_restart_continues_the_same_time_line() -> None:
    clock = MonotonicClock()
    sources, state, queue = make(clock)
    first = start_mixer(clock, sources, state, queue)
    before = take_frames(queue, 10)
    first.stop(timeout=5)
    last = before[-1].index
    while (extra := queue.get(0.01)) is not None:  # frames emitted before the stop
        assert extra.index == last + 1
        last = extra.index
    assert state.epoch.last_index == last
    second = start_mixer(clock, sources, state, queue)
    after = take_frames(queue, 10)
    assert [f.index for f in after] == list(range(last + 1, last + 11))
    assert second.proxy().status().get(timeout=5)["first_index"] == last + 1
    wall = state.epoch.index_at(clock.monotonic())
    assert abs(after[-1].index - wall) <= 3  # back on the original schedule
    assert all(int(f.pixels()[0]) == 90 for f in after)


@pytest.mark.timeout(30)
def test_restart_after_a_long_outage_jumps_to_the_wall_clock_frame() -> None:
    fake = FakeClock()
    sources, state, queue = make(fake)
    first = start_mixer(fake, sources, state, queue)
    assert take_frames(queue, 1)[0].index == 0
    first.stop(timeout=5)
    fake.advance(10.0)
    second = start_mixer(fake, sources, state, queue, max_behind=1.0)
    assert take_frames(queue, 1)[0].index == 300
    assert second.proxy().status().get(timeout=5)["first_index"] == 300


@pytest.mark.timeout(60)
def test_supervised_mixer_crash_is_restarted_and_indices_stay_continuous() -> None:
    clock = MonotonicClock()
    sources, state, queue = make(clock)
    crashed = threading.Event()

    def crash_once(n: int) -> None:
        if n == 5 and not crashed.is_set():
            crashed.set()
            raise RuntimeError("simulated bug in the mixer thread")

    spec = ChildSpec(
        id="mixer",
        start=start_function_for(ProgramMixer, FMT, sources, state, queue,
                                 source_barrier=crash_once),
    )
    root = RootSupervisor(SupervisorFlags(Strategy.REST_FOR_ONE, intensity=3, period=5.0),
                          [spec], name="program", clock=clock)
    try:
        frames = take_frames(queue, 15, timeout=10)
        assert crashed.is_set()
        assert [f.index for f in frames] == list(range(15))
        info = root.handle.which_children()[0]
        assert info.restarts == 1
        status = root.handle.child("mixer").proxy().status().get(timeout=5)
        assert status["first_index"] == 5
        assert np.all(frames[-1].pixels()[: FMT.y_bytes] == 90)
    finally:
        root.stop()


class HangingMixer(ProgramMixer):
    """A mixer whose actor thread can be made to hang in a handler, as a real hang would."""

    def hang(self, release: threading.Event) -> None:
        release.wait(10)


@pytest.mark.timeout(30)
def test_mixer_declared_hung_stops_emitting() -> None:
    clock = MonotonicClock()
    sources, state, queue = make(clock)
    link = Link("program/mixer", clock=clock)
    ref = HangingMixer.start(link, FMT, sources, state, queue)
    assert link.ready.wait(5)
    take_frames(queue, 3)
    release = threading.Event()
    hung = ref.proxy().hang(release)
    try:
        link.kill(ExitReason.HANG, "no heartbeat answer")  # teardown is skipped on this path
        assert link.exited.is_set()
        while queue.get(timeout=0.1) is not None:  # at most the frame being composed
            pass
        assert queue.get(timeout=0.3) is None  # the mixer thread has stopped by itself
    finally:
        release.set()  # the abandoned actor thread ends at its next message boundary
        hung.get(timeout=5)
