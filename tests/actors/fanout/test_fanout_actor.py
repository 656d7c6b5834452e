"""The fanout actor: real encoder output in odd chunks, out to every destination queue."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pykka
import pytest
from support.eventsink import RecordingSink
from test_ts_parse import make_ts

from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.fanout.table import DestinationQueue, FanoutTable
from vistter.actors.fanout.ts import (
    PACKET_SIZE,
    PAT_PID,
    TsBatch,
    TsScanner,
    packet_pid,
    random_access,
)
from vistter.supervisors import ChildSpec, RootSupervisor, SupervisorFlags, start_function_for
from vistter.supervisors.link import ExitReason, Link


@pytest.fixture(autouse=True)
def stop_all_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from chaos.realparts import ffmpeg_exe

    path = tmp_path_factory.mktemp("fanout-actor") / "stream.ts"
    return make_ts(ffmpeg_exe(), path, seconds=6, gop=30, bitrate="800k").read_bytes()


class Sink(RecordingSink):
    def fanout_metrics(self) -> list[dict[str, Any]]:
        return [p for _, p in self.messages if p.get("component") == "fanout"]

def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def feed(pipe: TsPipe, data: bytes, seed: int = 1) -> None:
    """Put ``data`` into the pipe cut at random places, as an encoder's reads would be."""
    rng = random.Random(seed)
    at = 0
    while at < len(data):
        step = rng.randint(1, 70_000)
        pipe.put(data[at : at + step])
        at += step


def drain(queue: DestinationQueue, expected: int, timeout: float = 10.0) -> bytes:
    out = bytearray()
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        part = queue.get(0.1)
        if part is not None:
            out += part
    return bytes(out)


def first_keyframe_batch(data: bytes) -> tuple[int, bytes]:
    """Offset of the first keyframe packet in ``data`` and the PAT+PMT in force there."""
    batch = TsScanner().feed(data)
    assert isinstance(batch, TsBatch)
    key = batch.keyframes[0]
    return key, batch.psi


def test_every_destination_gets_the_stream_from_a_keyframe(stream: bytes) -> None:
    pipe = TsPipe(64 * 1024 * 1024)
    table = FanoutTable()
    live = table.attach("live")
    stuck = table.attach("stuck", 256 * 1024)  # never read
    sink = Sink()
    link = Link("program/fanout", events=sink)
    ref = FanoutActor.start(link, pipe, table, metrics_interval=0.1)
    feed(pipe, stream)

    key, psi = first_keyframe_batch(stream)
    expected = psi + stream[key:]
    received = drain(live, len(expected))
    assert received == expected

    status = ref.proxy().status().get(timeout=5)
    assert status["video_pid"] == 0x100
    assert status["keyframes"] == 6
    assert status["packets"] == len(stream) // PACKET_SIZE
    assert status["skipped_bytes"] == 0
    assert status["destinations"]["live"]["dropped_bytes"] == 0
    assert status["destinations"]["stuck"]["dropped_bytes"] > 0
    assert status["destinations"]["stuck"]["queued_bytes"] <= stuck.capacity_bytes
    wait_until(lambda: bool(sink.fanout_metrics()), 5, "fanout metrics on the bus")
    assert "live" in sink.fanout_metrics()[-1]["destinations"]
    ref.stop(timeout=5)
    assert link.exit is not None
    assert link.exit.reason is ExitReason.NORMAL


def test_a_new_encoder_stream_resumes_every_destination_at_its_first_keyframe(
    stream: bytes,
) -> None:
    pipe = TsPipe(64 * 1024 * 1024)
    table = FanoutTable()
    queue = table.attach("live")
    FanoutActor.start(Link("program/fanout"), pipe, table)
    cut = len(stream) // 2 + 1000  # the old encoder dies mid-packet, mid-GOP
    pipe.begin_stream()
    feed(pipe, stream[:cut])
    pipe.begin_stream()  # a restarted encoder: its stream starts afresh
    feed(pipe, stream, seed=2)

    key, psi = first_keyframe_batch(stream)
    whole = (cut // PACKET_SIZE) * PACKET_SIZE
    expected = psi + stream[key:whole] + psi + stream[key:]
    received = drain(queue, len(expected))
    assert received == expected
    second = 2 * PACKET_SIZE + whole - key
    assert packet_pid(received, second) == PAT_PID
    assert random_access(received, second + 2 * PACKET_SIZE)


@pytest.mark.timeout(60)
def test_a_dead_fanout_thread_crashes_the_actor_and_it_is_restarted(stream: bytes) -> None:
    pipe = TsPipe(64 * 1024 * 1024)
    table = FanoutTable()
    queue = table.attach("live")
    explode = threading.Event()
    original_put = queue.put

    def put(batch: TsBatch, *, seq: int | None = None, replay: bool = False) -> None:
        if explode.is_set():
            explode.clear()
            raise RuntimeError("injected fault in a destination queue")
        original_put(batch, seq=seq, replay=replay)

    queue.put = put  # type: ignore[method-assign]
    spec = ChildSpec("fanout", start_function_for(FanoutActor, pipe, table))
    root = RootSupervisor(SupervisorFlags(intensity=3, period=60), [spec], name="program")
    try:
        feed(pipe, stream[: len(stream) // 3])
        wait_until(lambda: queue.stats().bytes_in > 0, 10, "the first bytes")
        explode.set()
        feed(pipe, stream[len(stream) // 3 :])

        def restarted() -> bool:
            (child,) = root.handle.which_children()
            return child.restarts == 1 and child.state == "running"

        wait_until(restarted, 10, "the fanout to be restarted")
        (child,) = root.handle.which_children()
        assert child.history[-1].reason == "crash"
        assert child.history[-1].error is not None
        assert "injected fault" in child.history[-1].error
        # The new incarnation keeps feeding the same queue, from the next keyframe.
        before = queue.stats().bytes_in
        pipe.begin_stream()
        feed(pipe, stream, seed=3)
        wait_until(lambda: queue.stats().bytes_in >= before + len(stream), 10, "more data")
        assert not queue.waiting_for_keyframe
    finally:
        root.stop()
