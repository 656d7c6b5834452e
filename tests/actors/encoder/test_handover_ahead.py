"""GO LIVE does not wait for the old encode's tail: a platform gated on the show's run gets
that run's first keyframe while the old run is still draining (here: frozen by SIGSTOP),
and the recorder still gets the old tail, then the new run, with no frame lost or repeated.
Real ffmpeg; every program frame carries its index in its brightness."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fanout_reader import FanoutReader
from test_encoder_handover import (
    ENCODING,
    FMT,
    Mixer,
    assert_every_frame_once,
    decode,
    wait_until,
)

from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.hwaccel import EncoderChoice, detect_encoder
from vistter.actors.encoder.run import EncodeRun
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.fanout.ts import PAT_PID
from vistter.actors.program.frame_queue import FrameQueue
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.supervisors import (
    ChildSpec,
    RootSupervisor,
    Strategy,
    SupervisorFlags,
    start_function_for,
)


@pytest.fixture(scope="module")
def binary() -> FfmpegBinary:
    return find_ffmpeg()


@pytest.fixture(scope="module")
def x264(binary: FfmpegBinary) -> EncoderChoice:
    return detect_encoder(binary, "libx264")


class FrozenDrain:
    """Freezes (SIGSTOP) the first run ended on purpose, so its tail cannot come out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.frozen: list[EncodeRun] = []
        original = EncodeRun.close_stdin

        def close_stdin(run: EncodeRun) -> None:
            if not self.frozen and run.process.popen.poll() is None:
                os.kill(run.pid, signal.SIGSTOP)
                self.frozen.append(run)
            original(run)

        monkeypatch.setattr(EncodeRun, "close_stdin", close_stdin)

    def thaw(self) -> None:
        for run in self.frozen:
            if run.process.popen.poll() is None:
                os.kill(run.pid, signal.SIGCONT)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[FrozenDrain]:
    drain = FrozenDrain(monkeypatch)
    yield drain
    drain.thaw()


@pytest.mark.timeout(120)
def test_a_gated_platform_gets_the_show_run_before_the_old_tail_is_out(
    binary: FfmpegBinary, x264: EncoderChoice, frozen: FrozenDrain, tmp_path: Path
) -> None:
    frames = FrameQueue(4, restart_capacity=4 * FMT.fps)
    pipe = TsPipe()
    table = FanoutTable()
    table.gate("platform")
    platform = FanoutReader(table, "platform")
    recorder = FanoutReader(table, "recorder")
    encoder = ChildSpec(
        "encoder",
        start_function_for(EncoderActor, FMT, ENCODING, x264, binary, frames, pipe,
                           metrics_interval=0.5, air=table.air),
        shutdown=10,
    )  # fmt: skip
    fanout = ChildSpec("fanout", start_function_for(FanoutActor, pipe, table))
    flags = SupervisorFlags(Strategy.REST_FOR_ONE, intensity=3, period=60)
    with Mixer(frames) as mixer:
        root = RootSupervisor(flags, [fanout, encoder], name="program")
        try:
            wait_until(lambda: recorder.size() > 300_000, 20, "the recorder to receive")
            assert platform.size() == 0  # off air: nothing before GO LIVE
            first = mixer.index + 10
            table.air.go_on_air(first)
            wait_until(lambda: platform.size() > 0, 10,
                       "the platform to get the show's run while the old one drains")
            assert len(frozen.frozen) == 1
            old = frozen.frozen[0]
            assert not old.ended.is_set(), "the old run's tail came out first"
            frozen.thaw()
            wait_until(old.ended.is_set, 10, "the old run to end once thawed")
            at = recorder.size()
            wait_until(lambda: recorder.size() > at + 200_000 and platform.size() > 200_000,
                       20, "both to go on with the show's run")
        finally:
            frozen.thaw()
            root.stop()
    on_air = platform.close()
    recorded = recorder.close()
    assert int.from_bytes(on_air[1:3], "big") & 0x1FFF == PAT_PID
    shown = decode(on_air, tmp_path / "platform.ts")
    assert shown[0].index == first and shown[0].keyframe
    assert_every_frame_once(shown, frames.dropped)  # ahead, then in turn: no repeat
    everything = decode(recorded, tmp_path / "recorder.ts")
    assert everything[0].index < first < everything[-1].index
    assert_every_frame_once(everything, frames.dropped)  # old tail, then the new run
    stats = table.stats()
    assert stats["platform"].resyncs == 0 and stats["recorder"].resyncs == 0
