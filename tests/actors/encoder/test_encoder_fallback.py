"""A hardware encoder that keeps failing on air falls back to software, with an alert that
says why: the counting with fakes, then the encoder actor with a real ffmpeg whose NVENC has
no GPU here (it opens at the trial-free start and fails on air every time)."""

from __future__ import annotations

from collections.abc import Iterator

import pykka
import pytest
from support.eventsink import RecordingSink

from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.fallback import EncoderFallback, fallback_alert
from vistter.actors.encoder.hwaccel import CANDIDATES, EncoderChoice, Trial
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.alerts.model import parse_report
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.settings import EncodingConfig
from vistter.supervisors import (
    ChildSpec,
    RootSupervisor,
    Strategy,
    SupervisorFlags,
    start_function_for,
)
from vistter.telemetry.topics import ALERT_TOPIC

FMT = FrameFormat(320, 240, 30)
NVENC = next(c for c in CANDIDATES if c.encoder == "h264_nvenc")
HARDWARE = EncoderChoice(NVENC, "trial encode ok", (Trial("h264_nvenc", "ok", "ok"),))


@pytest.fixture(autouse=True)
def stop_all_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def test_three_failures_within_the_window_fall_back_once() -> None:
    fallback = EncoderFallback(HARDWARE, failures=3, window=60.0)
    assert fallback.failed(0.0, "libcuda missing") is None
    assert fallback.failed(70.0, "libcuda missing") is None  # the first is out of the window
    assert fallback.failed(80.0, "libcuda missing") is None
    software = fallback.failed(90.0, "Cannot load libcuda.so.1")
    assert software is not None and fallback.choice is software
    assert software.encoder == "libx264" and not software.hardware
    assert fallback.failed(91.0, "again") is None  # software is not counted: it stays
    alert = parse_report(fallback_alert("h264_nvenc", software))
    assert (alert.kind, alert.source, alert.severity) == ("encoder_software", "encoder",
                                                          "warning")
    assert "h264_nvenc failed 3 times in 60 s" in alert.message
    assert "Cannot load libcuda.so.1" in alert.message
    assert "libx264" in alert.message and "driver" in alert.remediation


def test_a_software_encoder_never_falls_back() -> None:
    software = EncoderChoice(CANDIDATES[-1], "libx264 works")
    fallback = EncoderFallback(software, failures=1)
    assert fallback.failed(0.0, "crash") is None
    assert fallback.choice is software


@pytest.mark.timeout(120)
def test_a_failing_hardware_encoder_is_replaced_by_software_with_an_alert() -> None:
    binary = find_ffmpeg()
    frames = FrameQueue(4, restart_capacity=30)
    frame = solid_frame(FMT, 60, 128, 128)
    for index in range(4):
        frames.put(ProgramFrame(index, frame))  # each encoder opens on these
    sink = RecordingSink()
    fallback = EncoderFallback(HARDWARE, failures=2, window=60.0)
    encoder = ChildSpec("encoder", start_function_for(
        EncoderActor, FMT, EncodingConfig(preset="veryfast"), HARDWARE, binary, frames,
        TsPipe(), metrics_interval=0.1, stall_timeout=1.0, fallback=fallback,
    ))  # fmt: skip
    root = RootSupervisor(SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=5, period=60),
                          [encoder], events=sink)  # fmt: skip
    try:
        assert sink.wait_for(lambda events: any(t == ALERT_TOPIC for t, _ in events), 60), \
            "no alert: the hardware encoder never fell back"
        [alert] = sink.of(ALERT_TOPIC)
        assert alert["kind"] == "encoder_software" and "h264_nvenc" in alert["message"]
        assert "libcuda" in alert["message"]  # ffmpeg's own words say why

        def running_software() -> bool:
            child = {c.id: c for c in root.handle.which_children()}["encoder"]
            if child.state != "running":
                return False
            try:
                status = root.handle.child("encoder").proxy().status().get(timeout=5)
            except pykka.ActorDeadError:
                return False  # restarting right now
            return bool(status["encoder"] == "libx264" and status["bytes_out"] > 0)

        deadline = 30.0
        while not running_software():
            assert deadline > 0, "the software encoder did not take over"
            sink.wait_for(lambda _: False, 0.2)
            deadline -= 0.2
            for index in range(frames.next_index(), frames.next_index() + 6):
                frames.put(ProgramFrame(index, frame))
        restarts = {c.id: c.restarts for c in root.handle.which_children()}["encoder"]
        assert restarts == 2  # two hardware failures, then software for good
    finally:
        root.stop()
