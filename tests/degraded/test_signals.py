"""The signals are measured from what the fanout queues, the encoder, the mixer and the
system sampler report, between two readings on the injected clock."""

from __future__ import annotations

from dataclasses import replace

from vistter.actors.fanout.table import DestinationQueueStats
from vistter.clock import FakeClock
from vistter.degraded.board import SignalBoard
from vistter.degraded.signals import SignalReader, Verdict
from vistter.models.degraded import DegradedConfig
from vistter.telemetry.topics import (
    DESTINATION_TOPIC,
    PROGRAM_METRICS_TOPIC,
    STREAM_METRICS_TOPIC,
    SYSTEM_METRICS_TOPIC,
)

KBPS = 1000 // 8  # bytes per second of one kbps


def _stats(name: str) -> DestinationQueueStats:
    return DestinationQueueStats(name, 8 << 20, 0, 0, 0, 0, 0, 0, 0, False)


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.board = SignalBoard(self.clock)
        self.queues: dict[str, DestinationQueueStats] = {}
        self.reader = SignalReader(DegradedConfig(), self.board, lambda: dict(self.queues),
                                   self.clock)

    def live(self, *names: str, kind: str = "destination") -> None:
        for name in names:
            self.board.on_publish(DESTINATION_TOPIC, {"id": name, "kind": kind, "state": "live"})

    def flow(self, name: str, seconds: float, offered_kbps: float, accepted_kbps: float,
             *, queued: int | None = None, dropped: int = 0) -> None:
        """``seconds`` of stream through ``name``'s queue."""
        old = self.queues.get(name, _stats(name))
        offered = round(offered_kbps * KBPS * seconds)
        accepted = round(accepted_kbps * KBPS * seconds)
        self.queues[name] = replace(
            old, bytes_in=old.bytes_in + offered, bytes_out=old.bytes_out + accepted,
            queued_bytes=old.queued_bytes + offered - accepted if queued is None else queued,
            dropped_bytes=old.dropped_bytes + dropped)


def test_a_destination_that_accepts_less_than_the_stream_is_bad_with_figures() -> None:
    rig = Rig()
    rig.live("yt", "fb")
    rig.flow("yt", 0, 0, 0)
    rig.flow("fb", 0, 0, 0)
    rig.reader.read()
    rig.clock.advance(2)
    rig.flow("yt", 2, 4500, 4500)
    rig.flow("fb", 2, 4500, 2000)
    network = rig.reader.read().network
    assert network.verdict is Verdict.BAD
    assert network.reason == ("destination 'fb' accepted 2000 kbps of the 4500 kbps stream, "
                              "0.6 MB queued")


def test_a_destination_that_keeps_up_is_good_and_a_drop_is_bad() -> None:
    rig = Rig()
    rig.live("yt")
    rig.flow("yt", 0, 0, 0)
    rig.reader.read()
    for _ in range(3):
        rig.clock.advance(2)
        rig.flow("yt", 2, 4500, 4500)
        assert rig.reader.read().network.verdict is Verdict.GOOD
    rig.clock.advance(2)
    rig.flow("yt", 2, 4500, 4500, queued=0, dropped=188 * 100)
    network = rig.reader.read().network
    assert network.verdict is Verdict.BAD and network.reason.endswith("data dropped")


def test_a_queue_holding_more_than_queue_seconds_is_bad_even_when_it_drains() -> None:
    rig = Rig()
    rig.live("yt")
    rig.flow("yt", 0, 0, 0, queued=4_000_000)
    rig.reader.read()
    rig.clock.advance(2)
    rig.flow("yt", 2, 4500, 4600, queued=3_900_000)  # > 2 s of 4500 kbps (1.1 MB)
    network = rig.reader.read().network
    assert network.verdict is Verdict.BAD
    assert network.reason == ("destination 'yt' has 3.9 MB (6.9 s) of the 4500 kbps stream "
                              "waiting")


def test_outputs_that_are_not_live_or_not_the_network_are_not_judged() -> None:
    rig = Rig()
    rig.board.on_publish(DESTINATION_TOPIC, {"id": "down", "kind": "destination",
                                             "state": "retrying"})
    rig.live("disk", kind="recorder")
    for name in ("down", "disk"):
        rig.flow(name, 0, 0, 0)
    rig.reader.read()
    rig.clock.advance(2)
    rig.flow("down", 2, 4500, 0)
    rig.flow("disk", 2, 4500, 100)
    assert rig.reader.read().network.verdict is Verdict.GOOD


def _encoder(rig: Rig, out_time: float, *, pid: int = 7, speed: float = 1.0) -> None:
    rig.board.on_publish(STREAM_METRICS_TOPIC, {"component": "encoder", "pid": pid,
                                                "out_time": out_time, "speed": speed})


def test_the_encoder_speed_is_measured_over_the_window_with_hysteresis() -> None:
    rig = Rig()
    _encoder(rig, 100.0, speed=1.0)  # ffmpeg's own figure averages since its start
    assert rig.reader.read().load.verdict is Verdict.GOOD
    rig.clock.advance(2)
    _encoder(rig, 101.7, speed=0.99)  # 1.7 s of output in 2 s: 0.85x
    load = rig.reader.read().load
    assert load.verdict is Verdict.BAD and load.reason == "the encoder runs at 0.85x real time"
    rig.clock.advance(2)
    _encoder(rig, 103.64)  # 0.97x: between the thresholds
    assert rig.reader.read().load.verdict is Verdict.MARGINAL
    rig.clock.advance(2)
    _encoder(rig, 105.64)
    assert rig.reader.read().load.verdict is Verdict.GOOD


def test_a_new_encoder_process_starts_a_new_window() -> None:
    rig = Rig()
    _encoder(rig, 500.0)
    rig.reader.read()
    rig.clock.advance(2)
    _encoder(rig, 1.0, pid=8, speed=1.01)  # restarted: out_time starts again
    assert rig.reader.read().load.verdict is Verdict.GOOD


def test_late_mixer_ticks_and_cpu_are_load() -> None:
    rig = Rig()
    rig.board.on_publish(PROGRAM_METRICS_TOPIC, {"frames": 1000, "late_ticks": 3})
    rig.reader.read()
    rig.clock.advance(2)
    rig.board.on_publish(PROGRAM_METRICS_TOPIC, {"frames": 1060, "late_ticks": 12})
    load = rig.reader.read().load
    assert load.verdict is Verdict.BAD
    assert load.reason == "15 % of the program clock's ticks were late (9 ticks)"
    rig.clock.advance(2)
    rig.board.on_publish(PROGRAM_METRICS_TOPIC, {"frames": 1120, "late_ticks": 12})
    rig.board.on_publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": 97.0})
    load = rig.reader.read().load
    assert load.verdict is Verdict.BAD and load.reason == "the machine's CPU is 97 % busy"
    rig.board.on_publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": 50.0})
    rig.clock.advance(2)
    rig.board.on_publish(PROGRAM_METRICS_TOPIC, {"frames": 1180, "late_ticks": 12})
    assert rig.reader.read().load.verdict is Verdict.GOOD


def test_figures_that_stopped_arriving_are_not_judged_and_odd_payloads_are_ignored() -> None:
    rig = Rig()
    rig.board.on_publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": 99.0})
    rig.board.on_publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": "lots"})
    rig.board.on_publish(PROGRAM_METRICS_TOPIC, {"frames": None})
    rig.board.on_publish(DESTINATION_TOPIC, {"id": 3})
    assert rig.reader.read().load.verdict is Verdict.BAD
    rig.clock.advance(20)
    assert rig.reader.read().load.verdict is Verdict.GOOD


def test_bytes_stuck_in_the_publishers_connection_count_as_not_accepted() -> None:
    backlog = {"bytes": 0}
    rig = Rig()
    rig.reader = SignalReader(DegradedConfig(), rig.board, lambda: dict(rig.queues), rig.clock,
                              socket_backlog=lambda pid: backlog["bytes"] if pid == 4242 else None)
    rig.board.on_publish(DESTINATION_TOPIC, {"id": "yt", "kind": "destination", "state": "live",
                                             "pid": 4242})
    rig.flow("yt", 0, 0, 0)
    rig.reader.read()
    rig.clock.advance(2)
    rig.flow("yt", 2, 900, 900)  # the queue keeps pace: the publisher takes everything ...
    backlog["bytes"] = 110_000  # ... but the link carries 460 of the 900 kbps
    network = rig.reader.read().network
    assert network.verdict is Verdict.BAD
    assert network.reason == ("destination 'yt' accepted 460 kbps of the 900 kbps stream, "
                              "0.1 MB queued")
