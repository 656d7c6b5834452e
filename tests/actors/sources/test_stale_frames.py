"""Stale frames are not life: a burst of old frames after a stall does not bring a source
back, and does not restart its kill timer; frames at a live pace do.

The ingest here is a small Python script writing raw frames on a schedule (steady, then a
stall, then a burst), so the pacing the actor sees is exactly the one a stalled camera's
ffmpeg produced on the loopback rig (seen 0.75 s in, then "online" again for a moment when
ffmpeg flushed its buffer at its own timeout).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pykka
import pytest

from vistter.actors.sources.ingest import IngestCommand
from vistter.actors.sources.ingest_actor import IngestSourceActor
from vistter.actors.sources.pacing import FramePacing
from vistter.actors.sources.table import SourceHealth, SourceState, SourceTable
from vistter.clock import FakeClock, MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.supervisors import Backoff

FMT = FrameFormat(16, 16, 10)
SLOW_RECONNECT = Backoff(initial=30.0, factor=1.0, maximum=30.0, reset_after=60.0)

# steady 10 fps for 1 s, silent 1 s (stalled), a burst of 40 frames, then `tail`.
_SCRIPT = """
import sys, time
frame = bytes({size})
out = sys.stdout.buffer
for _ in range(10):
    out.write(frame); out.flush(); time.sleep(0.1)
time.sleep(1.0)
for _ in range(40):
    out.write(frame)
out.flush()
if {steady_after}:
    for _ in range(40):
        out.write(frame); out.flush(); time.sleep(0.1)
time.sleep(6.0)
"""


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=15)


class _ScriptedSource(IngestSourceActor):
    def __init__(self, *args: object, steady_after: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._steady_after = steady_after

    def _ingest_command(self) -> IngestCommand:
        script = _SCRIPT.format(size=FMT.frame_bytes, steady_after=self._steady_after)
        argv = (sys.executable, "-c", script)
        return IngestCommand(argv=argv, args_for_log="scripted ingest", display_url="script:")


class _States:
    def __init__(self, sources: SourceTable, source_id: str) -> None:
        self.entries: list[tuple[float, SourceHealth]] = []
        self._cond = threading.Condition()
        self._id = source_id
        self._clock = MonotonicClock()
        sources.add_listener(self._on)

    def _on(self, source_id: str, health: SourceHealth) -> None:
        if source_id == self._id:
            with self._cond:
                self.entries.append((self._clock.monotonic(), health))
                self._cond.notify_all()

    def wait_offline(self, timeout: float) -> None:
        with self._cond:
            assert self._cond.wait_for(
                lambda: any(h.state is SourceState.OFFLINE for _, h in self.entries), timeout
            ), self.entries

    def wait_online_after_stall(self, timeout: float) -> None:
        def seen() -> bool:
            states = [h.state for _, h in self.entries]
            return SourceState.STALLED in states and SourceState.ONLINE in states[
                states.index(SourceState.STALLED):]
        with self._cond:
            assert self._cond.wait_for(seen, timeout), self.entries


def _start(sources: SourceTable, ffmpeg: FfmpegBinary, *, steady_after: bool) -> pykka.ActorRef[
    _ScriptedSource
]:
    return _ScriptedSource.start(
        None, source_id="media:script", label="Scripted", fmt=FMT, sources=sources,
        ffmpeg=ffmpeg, reconnect=SLOW_RECONNECT, stall_timeout=0.3, stall_restart_after=2.0,
        resume_after=0.6, steady_after=steady_after,
    )


@pytest.mark.timeout(30)
def test_a_burst_of_old_frames_after_a_stall_is_not_recovery(ffmpeg_binary: FfmpegBinary) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    states = _States(sources, "media:script")
    _start(sources, ffmpeg_binary, steady_after=False)
    states.wait_offline(timeout=15)
    seq = [h.state for _, h in states.entries]
    assert seq[:4] == [SourceState.CONNECTING, SourceState.ONLINE, SourceState.STALLED,
                       SourceState.OFFLINE], [(h.state.value, h.detail) for _, h in states.entries]
    stalled_at = states.entries[2][0]
    killed_at = states.entries[3][0]
    assert "stalled" in states.entries[3][1].detail
    # The kill timer ran from the stall, not from the burst (which came 0.7 s later).
    assert 1.9 <= killed_at - stalled_at <= 2.6, killed_at - stalled_at


@pytest.mark.timeout(30)
def test_frames_at_a_live_pace_after_a_stall_are_recovery(ffmpeg_binary: FfmpegBinary) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    states = _States(sources, "media:script")
    _start(sources, ffmpeg_binary, steady_after=True)
    states.wait_online_after_stall(timeout=15)
    seq = [h.state for _, h in states.entries]
    assert seq[:4] == [SourceState.CONNECTING, SourceState.ONLINE, SourceState.STALLED,
                       SourceState.ONLINE]
    stalled_at, back_at = states.entries[2][0], states.entries[3][0]
    # stall seen ~0.3 s after the last frame; burst 0.7 s later; then 0.6 s of steady frames.
    assert 1.2 <= back_at - stalled_at <= 2.0, back_at - stalled_at


def test_pacing_wants_frames_spread_over_the_window() -> None:
    clock = FakeClock()
    pacing = FramePacing(10, window=0.6, max_gap=0.3)
    start = clock.monotonic()
    for i in range(7):
        pacing.record(start + i * 0.1)
    assert pacing.steady(start + 0.6)
    assert not pacing.steady(start + 1.0)  # the newest frame is 0.4 s old


def test_pacing_rejects_a_burst_and_what_follows_it_while_it_is_in_the_window() -> None:
    pacing = FramePacing(10, window=0.6, max_gap=0.3)
    t = 100.0
    for i in range(5):
        pacing.record(t + i * 0.1)  # 0.4 s of live frames before the stall
    t += 1.4
    for i in range(40):
        pacing.record(t + i * 0.001)  # the flush: 40 frames in 40 ms
    assert not pacing.steady(t + 0.05)  # a gap of 1 s before the burst, and too many
    for i in range(1, 6):
        pacing.record(t + 0.04 + i * 0.1)
        assert not pacing.steady(t + 0.04 + i * 0.1)  # the burst is still in the window
    for i in range(6, 9):
        pacing.record(t + 0.04 + i * 0.1)
    assert pacing.steady(t + 0.04 + 8 * 0.1)


def test_pacing_rejects_a_burst_alone_even_when_it_lasts() -> None:
    pacing = FramePacing(10, window=0.6, max_gap=0.3)
    # 300 duplicated frames over 0.7 s (a big program frame read at pipe speed): 43x the rate.
    for i in range(300):
        pacing.record(50.0 + i * 0.7 / 300)
    assert not pacing.steady(50.7)
