"""ProgramMixer on a virtual clock, paced by its source barrier: exact pixels per frame."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pykka
import pytest
from PIL import Image
from support.eventsink import RecordingSink

from vistter.actors.program.blend import dissolve
from vistter.actors.program.fallback import FallbackPolicy
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.actors.program.mixer import FrameRing, ProgramMixer
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SLATE_SOURCE_ID, SourceState, SourceTable
from vistter.clock import Clock, FakeClock, MonotonicClock
from vistter.media.frames import BLACK_Y, Frame, FrameFormat, planes, solid_frame
from vistter.supervisors.link import Exit, ExitReason, Link

FMT = FrameFormat(32, 16, 30)


class Gate:
    """A source barrier that lets the mixer compose frames below a limit, then parks it."""

    def __init__(self, on_frame: Callable[[int], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._limit = 0
        self._seen = -1
        self._closed = False
        self._on_frame = on_frame

    def __call__(self, n: int) -> None:
        with self._cond:
            self._seen = max(self._seen, n)
            self._cond.notify_all()
            while n >= self._limit and not self._closed:
                self._cond.wait(0.05)
        if self._on_frame is not None:
            self._on_frame(n)

    def run_to(self, limit: int, timeout: float = 10.0) -> None:
        """Let frames < ``limit`` be composed and wait until the mixer is parked at ``limit``."""
        with self._cond:
            self._limit = limit
            self._cond.notify_all()
            if not self._cond.wait_for(lambda: self._seen >= limit, timeout):
                raise AssertionError(f"mixer did not reach frame {limit} (at {self._seen})")

    def allow(self, limit: int) -> None:
        """Let frames < ``limit`` be composed, without waiting."""
        with self._cond:
            self._limit = limit
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Sink(RecordingSink):
    def topics(self, topic: str) -> list[dict[str, Any]]:
        return self.of(topic)

class Rig:
    """Sources, state, queue and a started virtual mixer."""

    def __init__(self, clock: Clock | None = None, capacity: int = 256) -> None:
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.sources = SourceTable(FMT, self.clock)
        self.state = ProgramState(FMT)
        self.queue = FrameQueue(capacity)
        self.sink = Sink()
        self.gates: list[Gate] = []
        self.exits: list[Exit] = []
        self.exited = threading.Event()

    def publish(self, source: str, y: int, u: int = 128, v: int = 128) -> None:
        self.sources.slot(source).publish(solid_frame(FMT, y, u, v))
        self.sources.set_health(source, SourceState.ONLINE)

    def start(self, gate: Gate | None = None, **kwargs: Any) -> tuple[pykka.ActorRef[Any], Gate]:
        gate = gate if gate is not None else Gate()
        self.gates.append(gate)

        def on_exit(link: Link, exit_: Exit) -> None:
            self.exits.append(exit_)
            self.exited.set()

        link = Link("program/mixer", on_exit=on_exit, clock=self.clock, events=self.sink)
        ref = ProgramMixer.start(link, FMT, self.sources, self.state, self.queue, virtual=True,
                                 source_barrier=gate, **kwargs)
        assert link.ready.wait(5)
        return ref, gate

    def frames(self, count: int) -> list[ProgramFrame]:
        got: list[ProgramFrame] = []
        for _ in range(count):
            item = self.queue.get(timeout=5)
            assert item is not None, f"only {len(got)} of {count} frames arrived"
            got.append(item)
        return got

    def close(self) -> None:
        for gate in self.gates:
            gate.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.close()
    pykka.ActorRegistry.stop_all(timeout=10)


def luma(frame: Frame) -> set[int]:
    return {int(v) for v in np.unique(frame[: FMT.y_bytes])}


def y_plane(frame: Frame) -> np.ndarray[Any, np.dtype[np.uint8]]:
    return frame[: FMT.y_bytes].reshape(FMT.height, FMT.width)


def white_box() -> OverlayLayer:
    return OverlayLayer.from_rgba(Image.new("RGBA", (8, 4), (255, 255, 255, 255)), 0, 0, FMT)


@pytest.mark.timeout(30)
def test_cut_lands_on_its_frame_exactly(rig: Rig) -> None:
    rig.publish("camera:1", 60)
    rig.publish("camera:2", 200)
    rig.state.take("camera:1", at_frame=0)
    rig.state.take("camera:2", at_frame=7)
    _, gate = rig.start()
    gate.run_to(12)
    frames = rig.frames(12)
    assert [f.index for f in frames] == list(range(12))
    assert [luma(f.pixels()) for f in frames] == [{60}] * 7 + [{200}] * 5
    assert len(rig.queue) == 0


@pytest.mark.timeout(30)
def test_dissolve_and_fade_pixel_values(rig: Rig) -> None:
    rig.publish("camera:1", 60, 90, 160)
    rig.publish("camera:2", 200, 160, 90)
    rig.state.take("camera:1", at_frame=0)
    rig.state.take("camera:2", at_frame=5, transition="dissolve", duration_frames=3)
    rig.state.take("camera:1", at_frame=10, transition="fade", duration_frames=3)
    _, gate = rig.start()
    gate.run_to(14)
    frames = rig.frames(14)
    ys = [luma(f.pixels()) for f in frames]
    # dissolve: t = 1/4, 1/2, 3/4 -> (a*(256-w) + b*w + 128) >> 8 with w = 64, 128, 192
    assert ys[4:9] == [{60}, {95}, {130}, {165}, {200}]
    mid = frames[6].pixels()
    assert int(mid[FMT.y_bytes]) == (90 * 128 + 160 * 128 + 128) >> 8  # U midpoint 125
    # fade through black: 1/4 -> half way to black, 1/2 -> black exactly, 3/4 -> half back
    assert ys[9:14] == [{200}, {(200 * 128 + BLACK_Y * 128 + 128) >> 8}, {BLACK_Y},
                        {(BLACK_Y * 128 + 60 * 128 + 128) >> 8}, {60}]
    black = frames[11].pixels()
    assert set(np.unique(black[FMT.y_bytes :]).tolist()) == {128}


@pytest.mark.timeout(30)
def test_overlay_on_and_off_frames_with_fade(rig: Rig) -> None:
    rig.publish("camera:1", 60)
    rig.state.take("camera:1", at_frame=0)
    rig.state.show_overlay("box", 1, white_box(), at_frame=3, fade_in_frames=1, until_frame=7)
    _, gate = rig.start()
    gate.run_to(9)
    frames = rig.frames(9)
    inside = [int(y_plane(f.pixels())[0, 0]) for f in frames]
    outside = [int(y_plane(f.pixels())[10, 20]) for f in frames]
    # opacity 0.5 on frame 3: keep 128, add floor(235 * 128 + .5) + 128 -> (60*128 + 30208) >> 8
    assert inside == [60, 60, 60, 148, 235, 235, 235, 60, 60]
    assert outside == [60] * 9
    box = y_plane(frames[4].pixels())
    assert set(np.unique(box[:4, :8]).tolist()) == {235}
    assert set(np.unique(box[4:, :]).tolist()) == {60}


@pytest.mark.timeout(30)
def test_overlays_composite_in_z_order_and_live_image_change(rig: Rig) -> None:
    rig.publish("camera:1", 60)
    rig.state.take("camera:1", at_frame=0)
    black_box = OverlayLayer.from_rgba(Image.new("RGBA", (8, 4), (0, 0, 0, 255)), 0, 0, FMT)
    rig.state.show_overlay("upper", 2, black_box, at_frame=0)
    rig.state.show_overlay("lower", 1, white_box(), at_frame=0)
    _, gate = rig.start()
    gate.run_to(2)
    assert [int(y_plane(f.pixels())[0, 0]) for f in rig.frames(2)] == [16, 16]
    assert rig.state.replace_overlay_image("upper", OverlayLayer.from_rgba(
        Image.new("RGBA", (8, 4), (255, 255, 255, 128)), 0, 0, FMT))
    gate.run_to(3)
    half = int(y_plane(rig.frames(1)[0].pixels())[0, 0])
    assert half == 235  # white at half alpha over the white lower layer


@pytest.mark.timeout(30)
def test_source_without_new_frames_keeps_its_last_frame_and_missing_is_black(rig: Rig) -> None:
    rig.publish("camera:1", 77)
    rig.state.take("camera:9", at_frame=0)  # never produced a frame
    rig.state.take("camera:1", at_frame=3)
    ref, gate = rig.start()
    gate.run_to(10)
    frames = rig.frames(10)
    assert [luma(f.pixels()) for f in frames] == [{BLACK_Y}] * 3 + [{77}] * 7
    assert not frames[5].base.flags.writeable  # the slot's frame itself, not a copy
    assert frames[5].band is None
    status = ref.proxy().status().get(timeout=5)
    assert status["stale_source_frames"] == 6
    assert status["frames"] == 10
    assert status["on_air"] == "camera:1"


@pytest.mark.timeout(60)
def test_full_queue_never_stalls_and_held_frames_are_never_overwritten() -> None:
    rig = Rig(capacity=2)
    rig.state.take("camera:1", at_frame=0)
    rig.state.show_overlay("box", 1, white_box(), at_frame=0)

    def lockstep_source(n: int) -> None:  # the offline render publishes frame n before n
        rig.publish("camera:1", 20 + n)

    try:
        ref, gate = rig.start(Gate(lockstep_source))
        gate.run_to(1)
        gate.run_to(2)
        held = rig.frames(1)[0]  # an "encoder" keeps frame 0 while the mixer goes on
        assert held.index == 0
        gate.run_to(60)  # nobody reads: the queue drops the oldest, the mixer never waits
        assert int(y_plane(held.pixels())[10, 10]) == 20
        assert int(y_plane(held.pixels())[0, 0]) == 235
        assert rig.queue.frames_put == 60
        assert rig.queue.dropped == 57
        last = rig.frames(2)
        assert [f.index for f in last] == [58, 59]
        assert [int(y_plane(f.pixels())[10, 10]) for f in last] == [20 + 58, 20 + 59]
        status = ref.proxy().status().get(timeout=5)
        assert status["queue_dropped"] == 57
        assert status["frames"] == 60
        assert status["buffers_allocated"] == 0  # no transition: nothing blended
        assert status["band_buffers_allocated"] <= 4 + 1  # pool of capacity + 2, one held
    finally:
        rig.close()
        pykka.ActorRegistry.stop_all(timeout=10)


def test_frame_ring_reuses_only_free_buffers() -> None:
    ring = FrameRing(FMT, 3)
    first = ring.acquire()
    second = ring.acquire()
    assert first is not second
    third = ring.acquire()
    del third
    assert len(ring) == 3
    again = ring.acquire()  # first and second are still held here: the third comes back
    assert again is not first and again is not second
    del again
    fourth = ring.acquire()
    assert fourth is not first and fourth is not second
    assert ring.allocated == 3
    del first
    assert ring.acquire() is not second
    held = [ring.acquire() for _ in range(3)]
    assert ring.allocated > 3  # all held: fresh buffers instead of overwriting
    assert len({id(b) for b in held}) == 3


@pytest.mark.timeout(30)
def test_fallback_substitutes_the_backup_and_alerts() -> None:
    fake = FakeClock()
    rig = Rig(clock=fake)
    try:
        rig.publish("camera:2", 200)
        rig.publish("camera:3", 180)
        rig.sources.slot(SLATE_SOURCE_ID).publish(solid_frame(FMT, 40, 128, 128))
        rig.state.take("camera:2", at_frame=0)
        fallback = FallbackPolicy(rig.sources, backups={"camera:2": ("camera:3",)},
                                  events=rig.sink)
        ref, gate = rig.start(fallback=fallback)
        gate.run_to(2)
        rig.sources.set_health("camera:2", SourceState.STALLED, "no frame for 0.5 s")
        gate.run_to(3)
        fake.advance(0.6)
        gate.run_to(4)
        rig.sources.set_health("camera:3", SourceState.STALLED)
        gate.run_to(5)
        assert [luma(f.pixels()) for f in rig.frames(5)] == [{200}, {200}, {200}, {180}, {40}]
        alerts = [p["message"] for p in rig.sink.topics("alert")]
        assert alerts == [
            "Camera 2 stalled - switched to backup camera 3",
            "Camera 2 stalled - switched to the slate (was backup camera 3)",
        ]
        status = ref.proxy().status().get(timeout=5)
        assert (status["wanted"], status["on_air"]) == ("camera:2", SLATE_SOURCE_ID)
    finally:
        rig.close()
        pykka.ActorRegistry.stop_all(timeout=10)


@pytest.mark.timeout(30)
def test_restart_keeps_index_continuity_and_what_is_on_air(rig: Rig) -> None:
    rig.publish("camera:1", 60)
    rig.publish("camera:2", 200)
    rig.state.take("camera:1", at_frame=0)
    rig.state.take("camera:2", at_frame=5, transition="dissolve", duration_frames=9)
    rig.state.show_overlay("box", 1, white_box(), at_frame=8)
    first, gate = rig.start(join_timeout=0.2)
    gate.run_to(10)
    before = rig.frames(10)
    first.stop(timeout=5)  # the thread is parked in the barrier: teardown gives up after 0.2 s
    gate.close()  # released, it sees it must stop and emits nothing more
    second, gate2 = rig.start()
    gate2.run_to(15)
    after = rig.frames(5)
    assert [f.index for f in before + after] == list(range(15))
    # the dissolve armed before the restart carries on: frames 10..13 then camera 2 alone
    expected = [(60 * (256 - w) + 200 * w + 128) >> 8
                for w in (int(k / 10 * 256 + 0.5) for k in range(6, 10))] + [200]
    assert [int(y_plane(f.pixels())[10, 10]) for f in after] == expected
    assert all(int(y_plane(f.pixels())[0, 0]) == 235 for f in after)
    assert second.proxy().status().get(timeout=5)["first_index"] == 10


@pytest.mark.timeout(30)
def test_dead_mixer_thread_crashes_the_actor(rig: Rig) -> None:
    def broken(n: int) -> None:
        if n == 3:
            raise RuntimeError("source barrier exploded")

    rig.state.take("camera:1", at_frame=0)
    gate = Gate(broken)
    _, gate = rig.start(gate)
    gate.allow(100)
    assert rig.exited.wait(10)
    exit_ = rig.exits[0]
    assert exit_.reason is ExitReason.CRASH
    assert exit_.error is not None
    assert "source barrier exploded" in exit_.error
    assert rig.queue.frames_put == 3


def random_camera_frame(seed: int) -> Frame:
    return np.random.default_rng(seed).integers(16, 236, FMT.frame_bytes, dtype=np.uint8)


def lower_third() -> OverlayLayer:
    """A 24x6 picture at (4, 8): opaque top half, translucent bottom half (random colours)."""
    rgba = np.random.default_rng(5).integers(0, 256, (6, 24, 4), dtype=np.uint8)
    rgba[:3, :, 3] = 255
    rgba[3:, :, 3] = 100
    return OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), 4, 8, FMT)


def composited(frame: Frame, layer: OverlayLayer) -> Frame:
    """The old path: the whole frame copied, the layer composited in place."""
    out = frame.copy()
    layer.composite(planes(out, FMT), 1.0)
    return out


@pytest.mark.timeout(30)
def test_overlay_on_a_camera_goes_out_as_a_band_over_the_untouched_camera_frame(
    rig: Rig,
) -> None:
    camera = random_camera_frame(1)
    rig.sources.slot("camera:1").publish(camera)
    rig.sources.set_health("camera:1", SourceState.ONLINE)
    pristine = camera.copy()
    rig.state.take("camera:1", at_frame=0)
    rig.state.show_overlay("lower", 1, lower_third(), at_frame=2, until_frame=6)
    _, gate = rig.start()
    gate.run_to(8)
    frames = rig.frames(8)
    expected = composited(camera, lower_third())  # a twin: the mixer's layer is its own
    for item in frames:
        assert item.base is camera  # never copied
        if 2 <= item.index < 6:
            assert item.band is not None
            assert (item.band.top, item.band.bottom) == (8, 14)
            assert np.array_equal(item.pixels(), expected)
            assert b"".join(item.segments(FMT)) == expected.tobytes()
        else:
            assert item.band is None
            assert item.pixels() is camera
    assert np.array_equal(camera, pristine)


@pytest.mark.timeout(60)
def test_banded_frames_allocate_no_band_buffers_in_steady_state() -> None:
    rig = Rig(capacity=2)
    camera = random_camera_frame(2)
    rig.sources.slot("camera:1").publish(camera)
    rig.state.take("camera:1", at_frame=0)
    rig.state.show_overlay("lower", 1, lower_third(), at_frame=0)
    try:
        ref, gate = rig.start()
        gate.run_to(10)
        warm = ref.proxy().status().get(timeout=5)["band_buffers_allocated"]
        assert 1 <= warm <= 4  # the pool: queue capacity + 2
        for limit in range(20, 130, 10):  # a consumer taking frames now and then
            gate.run_to(limit)
            last = rig.frames(len(rig.queue))[-1]
            assert last.index == limit - 1
            assert np.array_equal(last.pixels(), composited(camera, lower_third()))
            del last
        status = ref.proxy().status().get(timeout=5)
        assert status["frames"] == 120
        assert status["band_buffers_allocated"] == warm
        assert status["buffers_allocated"] == 0
    finally:
        rig.close()
        pykka.ActorRegistry.stop_all(timeout=10)


@pytest.mark.timeout(30)
def test_transition_with_overlay_composites_on_the_blend_then_bands_again(rig: Rig) -> None:
    one, two = random_camera_frame(3), random_camera_frame(4)
    for source, frame in (("camera:1", one), ("camera:2", two)):
        rig.sources.slot(source).publish(frame)
        rig.sources.set_health(source, SourceState.ONLINE)
    rig.state.take("camera:1", at_frame=0)
    rig.state.take("camera:2", at_frame=3, transition="dissolve", duration_frames=3)
    rig.state.show_overlay("lower", 1, lower_third(), at_frame=0)
    _, gate = rig.start()
    gate.run_to(8)
    frames = rig.frames(8)
    twin = lower_third()
    for item in frames:
        if item.index < 3:
            assert item.band is not None and item.base is one
            expected = composited(one, twin)
        elif item.index < 6:  # t = 1/4, 2/4, 3/4: blended into a ring buffer, no band
            assert item.band is None and item.base is not one and item.base is not two
            t = (item.index - 2) / 4
            expected = composited(dissolve(one, two, t, np.empty_like(one)), twin)
        else:
            assert item.band is not None and item.base is two
            expected = composited(two, twin)
        assert np.array_equal(item.pixels(), expected), f"frame {item.index}"
