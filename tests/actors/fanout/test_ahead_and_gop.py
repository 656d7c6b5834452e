"""A run sent ahead of its turn reaches only the queues gated on it (each queue's stream
stays ordered and whole), and a (re)starting queue starts at the latest keyframe the fanout
keeps instead of waiting for the next one."""

from __future__ import annotations

import pytest
from test_fanout_queue import batches, drain
from test_ts_parse import make_ts

from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.gop import LastGop
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.fanout.ts import PAT_PID, TsBatch, packet_pid, random_access


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> list[TsBatch]:
    from chaos.realparts import ffmpeg_exe

    path = tmp_path_factory.mktemp("ahead") / "four-seconds.ts"
    data = make_ts(ffmpeg_exe(), path, seconds=4, gop=30, bitrate="500k").read_bytes()
    return list(batches(data, 8 * 1024))


def keyed(stream: list[TsBatch]) -> list[int]:
    return [i for i, batch in enumerate(stream) if batch.keyframes and batch.psi]


def from_keyframe(batch: TsBatch) -> bytes:
    return batch.psi + batch.data[batch.keyframes[0] :]


def test_a_gated_queue_gets_the_show_run_before_the_old_tail_is_finished(
    stream: list[TsBatch],
) -> None:
    table = FanoutTable()
    table.mark_discontinuity(0)  # the old run (the slate) began at program frame 0
    table.gate("platform")
    platform = table.attach("platform")
    recorder = table.attach("recorder")
    at = keyed(stream)[2]
    old, new = stream[:at], stream[at : at + 6]
    for batch in old[: at // 2]:
        table.publish(batch)
    table.air.go_on_air(300)  # the show begins with the run starting at frame 300

    table.publish_ahead(299, new[0])  # a run before the show's frame: not for the platform
    assert drain(platform) == b""
    tail = old[at // 2 :]
    table.ahead_gap(300)  # the ahead stream of run 300 begins
    for index, batch in enumerate(tail):  # the old run drains while the new one encodes
        table.publish(batch)
        if index < 3:
            table.publish_ahead(300, new[index])
    early = drain(platform)
    assert early == from_keyframe(new[0]) + new[1].data + new[2].data
    assert packet_pid(early) == PAT_PID and random_access(early, 2 * 188)
    old_bytes = drain(recorder)
    assert old_bytes.endswith(tail[-1].data)  # the recorder took the old tail, not the new run
    assert new[1].data not in old_bytes

    table.mark_discontinuity(300)  # the old run ended: the new run's bytes come in turn
    for batch in new[:3]:
        table.publish(batch, replay=True)
    assert drain(platform) == b"", "bytes the platform took ahead are not sent twice"
    table.publish_ahead(300, new[3])  # never: once in turn, nothing more goes ahead
    for batch in new[3:]:
        table.publish(batch)
    assert drain(platform) == b"".join(batch.data for batch in new[3:])
    assert drain(recorder) == from_keyframe(new[0]) + b"".join(b.data for b in new[1:])
    assert table.stats()["platform"].resyncs == 0


def test_a_gap_in_the_old_tail_does_not_stop_a_queue_that_takes_the_show_run(
    stream: list[TsBatch],
) -> None:
    table = FanoutTable()
    table.mark_discontinuity(0)
    table.gate("platform")
    platform = table.attach("platform")
    table.air.go_on_air(90)
    first = keyed(stream)[1]
    table.publish_ahead(90, stream[first])
    table.mark_discontinuity()  # chunks of the old run were dropped in the pipe
    table.publish_ahead(90, stream[first + 1])
    assert drain(platform) == from_keyframe(stream[first]) + stream[first + 1].data
    table.ahead_gap(90)  # bytes of the ahead stream itself were lost: back to a keyframe
    table.publish_ahead(90, stream[first + 2])
    assert drain(platform) == b""
    table.air.go_off_air()
    table.publish_ahead(90, stream[keyed(stream)[2]])
    assert drain(platform) == b""


def test_the_pipe_flags_each_stream_of_a_handover() -> None:
    pipe = TsPipe(1000)
    pipe.begin_stream(0)
    pipe.put(b"a" * 100)
    pipe.put_ahead(300, b"b" * 100)
    pipe.put(b"c" * 100)
    pipe.put_ahead(300, b"d" * 100)
    pipe.begin_stream(300)
    pipe.put(b"b" * 100 + b"d" * 100, replay=True)
    got = [pipe.get(0) for _ in range(5)]
    flags = [(c.data[:1], c.discontinuity, c.first_frame, c.ahead, c.replay)
             for c in got if c is not None]  # fmt: skip
    assert flags == [
        (b"a", True, 0, False, False),
        (b"b", True, 300, True, False),
        (b"c", False, None, False, False),
        (b"d", False, 300, True, False),
        (b"b", True, 300, False, True),
    ]
    pipe.put_ahead(600, b"e" * 400)
    pipe.put(b"f" * 400)
    pipe.put_ahead(600, b"g" * 400)  # drops the oldest, an ahead chunk
    pipe.put(b"h" * 100)
    rest = [pipe.get(0) for _ in range(3)]
    assert [(c.data[:1], c.discontinuity, c.ahead) for c in rest if c is not None] == [
        (b"f", False, False),  # the stream in turn lost nothing: no gap flagged in it
        (b"g", True, True),  # the ahead stream did
        (b"h", False, False),
    ]


def test_a_reconnecting_queue_starts_at_the_last_keyframe_held(stream: list[TsBatch]) -> None:
    table = FanoutTable()
    queue = table.attach("twitch")
    last_key = keyed(stream)[2]
    upto = last_key + 3  # mid-GOP: the next keyframe is a second away
    for batch in stream[:upto]:
        table.publish(batch)
    assert drain(queue)
    again = table.attach("twitch")  # its publisher reconnects (a restarted destination)
    assert again is queue and not queue.waiting_for_keyframe
    held = drain(queue)
    assert held == from_keyframe(stream[last_key]) + b"".join(
        batch.data for batch in stream[last_key + 1 : upto]
    )
    assert packet_pid(held) == PAT_PID and random_access(held, 2 * 188)
    table.publish(stream[upto])
    assert drain(queue) == stream[upto].data  # goes on with the live edge, nothing twice

    seq = table.last_gop.add(stream[upto + 1])  # a batch on its way to the queues...
    queue.resync()  # ...when the publisher reconnects: the GOP has it already
    queue.put(stream[upto + 1], seq=seq)
    assert drain(queue).endswith(stream[upto].data + stream[upto + 1].data)


def test_no_kept_gop_off_air_after_a_discontinuity_or_beyond_the_bound(
    stream: list[TsBatch],
) -> None:
    table = FanoutTable()
    table.gate("platform")
    platform = table.attach("platform")
    for batch in stream[: keyed(stream)[1] + 2]:
        table.publish(batch)
    platform.resync()
    assert drain(platform) == b"" and platform.waiting_for_keyframe  # off air
    table.air.go_on_air(None)
    table.mark_discontinuity()  # a new encoder run: the old GOP is not its own
    platform.resync()
    assert drain(platform) == b"" and platform.waiting_for_keyframe

    small = LastGop(max_bytes=len(from_keyframe(stream[keyed(stream)[1]])) + 100)
    for batch in stream[keyed(stream)[1] : keyed(stream)[1] + 4]:
        small.add(batch)
    assert small.snapshot()[0] == ()  # larger than the bound: not kept


def test_a_queue_taking_the_show_run_ahead_restarts_at_that_runs_keyframe(
    stream: list[TsBatch],
) -> None:
    table = FanoutTable()
    table.mark_discontinuity(0)
    table.gate("platform")
    platform = table.attach("platform")
    table.air.go_on_air(300)
    first = keyed(stream)[1]
    table.ahead_gap(300)
    for batch in stream[first : first + 3]:
        table.publish_ahead(300, batch)
    assert drain(platform)
    platform.resync()  # its publisher reconnects while the old run still drains
    assert drain(platform) == from_keyframe(stream[first]) + b"".join(
        batch.data for batch in stream[first + 1 : first + 3]
    )
    table.publish_ahead(300, stream[first + 3])
    assert drain(platform) == stream[first + 3].data
