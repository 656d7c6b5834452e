"""The degraded-mode actor on a fake clock: it applies steps through the encoder control and
the overlay gate, tells the operator, records its status, survives a broken signal read and
an encoder that cannot take a step, and re-applies its level to a restarted encoder."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pykka
import pytest
from PIL import Image
from support.eventsink import RecordingSink

from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.program.overlay_gate import OverlayGate, OverlayMode
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.clock import FakeClock
from vistter.degraded.board import SignalBoard
from vistter.degraded.control import EncoderUnavailableError
from vistter.degraded.manager import RETRY_AFTER, DegradedMode, DegradedParts
from vistter.degraded.signals import Reading, Signals, Verdict
from vistter.degraded.state import DegradedState
from vistter.degraded.steps import LadderPlan
from vistter.media.frames import FrameFormat
from vistter.models.degraded import DegradedConfig
from vistter.supervisors.link import Link
from vistter.telemetry.topics import ALERT_TOPIC

BAD = Reading(Verdict.BAD, "destination 'yt' accepted 2000 kbps of the 4500 kbps stream, "
                           "3.1 MB queued")
GOOD = Reading(Verdict.GOOD, "")
FMT = FrameFormat(1280, 720, 30)


class ScriptedSignals:
    """What the actor reads: set by the test; ``broken`` makes a read raise."""

    def __init__(self) -> None:
        self.network = GOOD
        self.load = GOOD
        self.broken = False
        self.reads = 0

    def read(self) -> Signals:
        self.reads += 1
        if self.broken:
            raise OSError("psutil could not read /proc/stat")
        return Signals(self.network, self.load)


@dataclass
class FakeEncoder:
    """An encoder control: records every reconfigure; ``refuse`` makes it raise."""

    identity: object = "encoder-1"
    calls: list[EncodeOverrides] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def encoder_id(self) -> object:
        return self.identity

    def reconfigure(self, overrides: EncodeOverrides) -> None:
        with self.lock:
            if self.refuse:
                raise EncoderUnavailableError("the encoder is restarting")
            self.calls.append(overrides)


class Listeners:
    def __init__(self) -> None:
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []

    def add(self, listener: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)


@dataclass
class Rig:
    clock: FakeClock
    sink: RecordingSink
    signals: ScriptedSignals
    encoder: FakeEncoder
    overlays: OverlayGate
    state: DegradedState
    listeners: Listeners
    ref: pykka.ActorRef[Any]
    notice: OverlayLayer

    def checks(self, count: int) -> None:
        """``count`` checks, 2 s apart; returns once the actor handled them."""
        for _ in range(count):
            self.clock.advance(2)
            self.ref.proxy().status().get(timeout=5)

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.sink.of(ALERT_TOPIC)
        return alerts


def _start(config: DegradedConfig, rig_parts: dict[str, Any]) -> pykka.ActorRef[Any]:
    link = Link("program/degraded", clock=rig_parts["clock"], events=rig_parts["sink"])
    parts = DegradedParts(
        config=config, plan=LadderPlan.build(config, 4500, 720, 30),
        board=SignalBoard(rig_parts["clock"]), reader=rig_parts["signals"],
        encoder=rig_parts["encoder"], overlays=rig_parts["overlays"],
        state=rig_parts["state"], listen=rig_parts["listeners"].add,
        configured="4500 kbps, 1280x720@30", notice=lambda: rig_parts["notice"],
        wall=lambda: 1_700_000_000.0,
    )  # fmt: skip
    ref = DegradedMode.start(link, parts)
    assert link.ready.wait(5)
    return ref


@pytest.fixture
def rig() -> Iterator[Rig]:
    notice = OverlayLayer.from_rgba(Image.new("RGBA", (40, 20), (255, 0, 0, 255)), 0, 0, FMT)
    parts: dict[str, Any] = {
        "clock": FakeClock(), "sink": RecordingSink(), "signals": ScriptedSignals(),
        "encoder": FakeEncoder(), "overlays": OverlayGate(), "state": DegradedState(),
        "listeners": Listeners(), "notice": notice,
    }
    ref = _start(DegradedConfig(), parts)
    yield Rig(ref=ref, **parts)
    ref.stop(timeout=5)


def test_congestion_lowers_the_bitrate_alerts_and_shows_the_notice(rig: Rig) -> None:
    assert len(rig.listeners.listeners) == 1  # the board listens to the bus
    rig.signals.network = BAD
    rig.checks(5)
    assert rig.encoder.calls == []  # 8 s of a bad signal: not yet
    rig.checks(1)
    assert rig.encoder.calls == [EncodeOverrides(bitrate_kbps=3600)]
    assert rig.overlays.notice is rig.notice and rig.overlays.mode is OverlayMode.FULL
    (alert,) = rig.alerts()
    assert alert["severity"] == "warning" and alert["kind"] == "degraded_mode"
    assert alert["message"] == (
        "Degraded mode: the bitrate is lowered to 3600 kbps because destination 'yt' "
        "accepted 2000 kbps of the 4500 kbps stream, 3.1 MB queued. "
        "Active: bitrate 3600 kbps (80 %).")
    assert "Check the uplink's bandwidth" in alert["hint"] and "30 s" in alert["hint"]
    status = rig.state.status()
    assert status["active"] and status["level"] == 1 and status["network_level"] == 1
    assert status["steps"] == ["bitrate 3600 kbps (80 %)"]
    assert status["reason"] == BAD.reason and status["since"] == 1_700_000_000.0
    assert status["bitrate_kbps"] == 3600 and status["applied"]
    assert status["signals"]["network"] == {"verdict": "bad", "reason": BAD.reason}


def test_recovery_steps_back_up_and_ends_with_a_recovered_alert(rig: Rig) -> None:
    rig.signals.network = BAD
    rig.checks(21)  # steps at 12 s and 42 s
    assert rig.encoder.calls == [EncodeOverrides(bitrate_kbps=3600),
                                 EncodeOverrides(bitrate_kbps=2880)]
    rig.signals.network = GOOD
    rig.checks(16)  # good from 44 s: one step up at 74 s
    assert rig.encoder.calls[-1] == EncodeOverrides(bitrate_kbps=3600)
    assert rig.state.status()["active"]
    rig.checks(15)  # the next at 104 s: back to the configured encode
    assert rig.encoder.calls[-1] == EncodeOverrides()
    status = rig.state.status()
    assert not status["active"] and status["since"] is None and status["steps"] == []
    assert rig.overlays.notice is None
    last = rig.alerts()[-1]
    assert last["severity"] == "info" and last["kind"] == "degraded_recovered"
    assert last["message"] == ("Degraded mode ended after 1 min 32 s: the output is back to "
                               "the configured encode (4500 kbps, 1280x720@30).")
    assert last["resolves"] == ["degraded_mode"]
    ups = [a["message"] for a in rig.alerts()[2:-1]]
    assert ups == ["Degraded mode: one network step back up. Still active: "
                   "bitrate 3600 kbps (80 %)."]


def test_load_simplifies_the_overlays_before_touching_the_encode(rig: Rig) -> None:
    rig.signals.load = Reading(Verdict.BAD, "the encoder runs at 0.80x real time")
    modes: list[OverlayMode] = []
    rig.checks(6)
    modes.append(rig.overlays.mode)
    assert rig.encoder.calls == []
    assert rig.alerts()[-1]["message"] == (
        "Degraded mode: overlays are simplified (only static ones are drawn) because the "
        "encoder runs at 0.80x real time. Active: overlays simplified.")
    rig.checks(15)
    modes.append(rig.overlays.mode)
    assert modes == [OverlayMode.SIMPLIFIED, OverlayMode.OFF] and rig.encoder.calls == []
    rig.checks(15)
    assert rig.encoder.calls == [EncodeOverrides(height=540)]
    assert "the 540p output is used" in rig.alerts()[-1]["message"]
    assert "faster [encoding] preset" in rig.alerts()[-1]["hint"]


def test_a_broken_signal_read_skips_the_check_and_the_actor_goes_on(rig: Rig) -> None:
    rig.signals.broken = True
    rig.checks(10)
    assert rig.ref.is_alive() and rig.signals.reads == 10 and rig.alerts() == []
    rig.signals.broken = False
    rig.signals.network = BAD
    rig.checks(6)
    assert rig.encoder.calls == [EncodeOverrides(bitrate_kbps=3600)]


def test_an_encoder_that_cannot_take_the_step_is_asked_again_later(rig: Rig) -> None:
    rig.encoder.refuse = True
    rig.signals.network = BAD
    rig.checks(6)
    status = rig.state.status()
    assert status["level"] == 1 and not status["applied"]
    assert "the encoder is restarting" in status["last_error"]
    rig.encoder.refuse = False
    rig.checks(int(RETRY_AFTER // 2) - 1)
    assert rig.encoder.calls == []  # not hammered
    rig.checks(1)
    assert rig.encoder.calls == [EncodeOverrides(bitrate_kbps=3600)]
    assert rig.state.status()["applied"]


def test_a_restarted_encoder_gets_the_level_again(rig: Rig) -> None:
    rig.signals.network = BAD
    rig.checks(6)
    assert len(rig.encoder.calls) == 1
    rig.signals.network = Reading(Verdict.MARGINAL, "")
    rig.checks(2)
    assert len(rig.encoder.calls) == 1  # nothing new to apply
    rig.encoder.identity = "encoder-2"  # its supervisor restarted it: the configured encode
    rig.checks(1)
    assert rig.encoder.calls == [EncodeOverrides(bitrate_kbps=3600)] * 2


def test_a_restarted_manager_takes_over_the_level(rig: Rig) -> None:
    rig.signals.network = BAD
    rig.checks(6)
    rig.ref.stop(timeout=5)
    assert rig.listeners.listeners == []  # the board stopped listening
    encoder = FakeEncoder(identity="encoder-1")
    parts: dict[str, Any] = {"clock": rig.clock, "sink": rig.sink, "signals": rig.signals,
             "encoder": encoder, "overlays": rig.overlays,
             "state": rig.state, "listeners": rig.listeners, "notice": rig.notice}
    rig.ref = _start(DegradedConfig(), parts)
    rig.encoder = encoder
    rig.signals.network = GOOD
    rig.checks(1)
    assert rig.encoder.calls == [EncodeOverrides(bitrate_kbps=3600)]  # applied again
    assert rig.state.status()["level"] == 1 and rig.overlays.notice is rig.notice
