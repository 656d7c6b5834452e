"""The on-air switch and gated destination queues: a platform's queue takes nothing off air,
and after GO LIVE resumes exactly at the start of the encoder run that begins on the show's
first frame (a keyframe), never on a keyframe of the run before it."""

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


def test_switch_modes_and_listeners() -> None:
    air = OnAir()
    seen: list[bool] = []
    unsubscribe = air.subscribe(seen.append)
    assert air.status() == {"mode": "while_live", "on_air": False, "changes": 0}
    assert air.go_on_air(150) and air.first_frame == 150
    assert not air.go_on_air(180)  # already on air: nothing changes
    assert air.first_frame == 150
    assert air.go_off_air() and air.first_frame is None
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


def test_gated_queue_takes_nothing_off_air_and_resumes_at_the_show_run(
    stream: list[TsBatch],
) -> None:
    table = FanoutTable()
    table.mark_discontinuity(0)  # the encoder run arriving began at program frame 0
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

    table.air.go_on_air(300)  # the show's first frame is program frame 300
    table.publish(keyframe_batches[0])
    assert drain(platform) == b"", "a keyframe of the run before the show's is not taken"
    table.mark_discontinuity(299)  # a restarted encoder, still before the show
    table.publish(keyframe_batches[1])
    assert drain(platform) == b"", "a run that begins before the show's frame is not taken"
    assert drain(recorder)  # while the recorder goes on with every run
    table.mark_discontinuity(300)  # the handover: a run begins on the show's first frame
    table.publish(keyframe_batches[2])
    taken = drain(platform)
    start = keyframe_batches[2].keyframes[0]
    assert taken == keyframe_batches[2].psi + keyframe_batches[2].data[start:]
    table.mark_discontinuity(420)  # a later run (an encoder restart) continues on air
    table.publish(keyframe_batches[1])
    assert drain(platform)

    table.air.go_off_air()
    table.publish(keyframe_batches[-1])
    assert drain(platform) == b""
    assert platform.waiting_for_keyframe


def test_a_queue_attached_after_the_show_run_began_takes_it(stream: list[TsBatch]) -> None:
    table = FanoutTable()
    table.air.go_on_air(90)
    table.mark_discontinuity(90)
    table.gate("late")
    queue = table.attach("late")  # e.g. a destination restarted after GO LIVE
    keyframe = next(b for b in stream if b.keyframes and b.psi)
    table.publish(keyframe)
    assert drain(queue).startswith(keyframe.psi)


def test_gating_applies_to_a_queue_attached_before_the_gate(stream: list[TsBatch]) -> None:
    table = FanoutTable(air=OnAir())
    queue = table.attach("late")
    table.gate("late")
    for batch in stream:
        table.publish(batch)
    assert drain(queue) == b""
    table.detach("late")
    assert table.air_for("late") is None

