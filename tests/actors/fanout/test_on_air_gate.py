"""The on-air switch and gated destination queues: a platform's queue takes nothing off air,
and after GO LIVE resumes at the first keyframe at or after the show's first frame."""

from __future__ import annotations

import pytest
from test_fanout_queue import batches, drain
from test_ts_parse import make_ts

from vistter.actors.fanout.on_air import AirMode, OnAir
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.fanout.ts import TsBatch


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> list[TsBatch]:
    from chaos.realparts import ffmpeg_exe

    path = tmp_path_factory.mktemp("gate") / "four-seconds.ts"
    data = make_ts(ffmpeg_exe(), path, seconds=4, gop=30, bitrate="500k").read_bytes()
    return list(batches(data))


class Now:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_switch_modes_and_listeners() -> None:
    air = OnAir()
    seen: list[bool] = []
    unsubscribe = air.subscribe(seen.append)
    assert air.status() == {"mode": "while_live", "on_air": False, "changes": 0}
    assert air.go_on_air(5.0) and air.not_before == 5.0
    assert not air.go_on_air(6.0)  # already on air: nothing changes
    assert air.go_off_air() and air.not_before is None
    unsubscribe()
    air.go_on_air(None)
    assert seen == [True, False]

    always = OnAir()
    always.set_mode(AirMode.ALWAYS)
    assert always.on_air and not always.go_off_air()  # Stop never takes it off air
    assert always.status()["mode"] == "always_on_air"


def test_a_listener_that_raises_does_not_keep_the_others_off_air() -> None:
    air = OnAir()
    seen: list[bool] = []

    def broken(on_air: bool) -> None:
        raise RuntimeError("bug")

    air.subscribe(broken)
    air.subscribe(seen.append)
    air.go_on_air(None)
    assert seen == [True]


def test_gated_queue_takes_nothing_off_air_and_resumes_after_not_before(
    stream: list[TsBatch],
) -> None:
    now = Now()
    table = FanoutTable(clock=now)
    table.gate("platform")
    platform = table.attach("platform")
    recorder = table.attach("recorder")
    assert table.air_for("platform") is table.air and table.air_for("recorder") is None

    keyframe_batches = [b for b in stream if b.keyframes and b.psi]
    assert len(keyframe_batches) >= 3
    for batch in stream:
        table.publish(batch)
    assert drain(platform) == b""  # off air: not a byte
    assert drain(recorder)  # the recorder takes the program all the time

    table.air.go_on_air(not_before=now.t + 1.0)
    table.publish(keyframe_batches[0])
    assert drain(platform) == b"", "a keyframe before the show's first frame is not taken"
    now.t += 1.0
    table.publish(keyframe_batches[1])
    taken = drain(platform)
    start = keyframe_batches[1].keyframes[0]
    assert taken == keyframe_batches[1].psi + keyframe_batches[1].data[start:]

    table.air.go_off_air()
    table.publish(keyframe_batches[-1])
    assert drain(platform) == b""
    assert platform.waiting_for_keyframe


def test_gating_applies_to_a_queue_attached_before_the_gate(stream: list[TsBatch]) -> None:
    table = FanoutTable(air=OnAir())
    queue = table.attach("late")
    table.gate("late")
    for batch in stream:
        table.publish(batch)
    assert drain(queue) == b""
    table.detach("late")
    assert table.air_for("late") is None

