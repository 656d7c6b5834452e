"""A healthy source whose frames are late because *we* did not run is not stalled.

Chaos scenario 9 (both cores saturated by another process) saw a healthy camera flagged
stalled for a moment several times, and a stall now cuts to the backup at once. Here the
ingest (a small script) keeps writing frames at 10 fps while our frame reader is held for
1 s, as a starved reader thread is: the frames wait in the pipe, so the source stays online.
A script that really stops writing is still stalled ``stall_timeout`` after its last frame.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
from test_stale_frames import FMT, SLOW_RECONNECT, _States

from vistter.actors.sources.ingest import IngestCommand
from vistter.actors.sources.ingest_actor import IngestSourceActor
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import read_frame_into

# 10 fps for `seconds`, or 10 frames and then silence (a stopped camera)
_SCRIPT = """
import sys, time
frame = bytes({size})
out = sys.stdout.buffer
for i in range({frames}):
    out.write(frame); out.flush(); time.sleep(0.1)
time.sleep(10)
"""


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=15)


class _Source(IngestSourceActor):
    def __init__(self, *args: Any, frames: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._frames = frames

    def _ingest_command(self) -> IngestCommand:
        script = _SCRIPT.format(size=FMT.frame_bytes, frames=self._frames)
        return IngestCommand(argv=(sys.executable, "-c", script), args_for_log="script",
                             display_url="script:")


def _start(sources: SourceTable, ffmpeg: FfmpegBinary, frames: int) -> pykka.ActorRef[_Source]:
    return _Source.start(
        None, source_id="media:script", label="Scripted", fmt=FMT, sources=sources,
        ffmpeg=ffmpeg, reconnect=SLOW_RECONNECT, stall_timeout=0.3, stall_restart_after=1.0,
        resume_after=0.6, frames=frames,
    )


@pytest.mark.timeout(30)
def test_frames_waiting_in_the_pipe_of_a_held_reader_are_no_stall(
    ffmpeg_binary: FfmpegBinary, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = threading.Event()
    released = threading.Event()
    reads = 0

    def starved_reader(stream: Any, buf: Any) -> bool:
        nonlocal reads
        reads += 1
        if reads == 6:  # after 5 frames the reader is not scheduled for 1 s
            held.set()
            released.wait(1.0)
        return read_frame_into(stream, buf)

    monkeypatch.setattr("vistter.actors.sources.ingest.read_frame_into", starved_reader)
    sources = SourceTable(FMT, MonotonicClock())
    states = _States(sources, "media:script")
    ref = _start(sources, ffmpeg_binary, frames=60)
    assert held.wait(10)
    assert not released.wait(1.0)  # the hold, while the script writes 10 frames
    wait_more = threading.Event()
    wait_more.wait(0.5)  # and the reader catches up
    status = ref.proxy().status().get(timeout=5)
    seen = [h.state for _, h in states.entries]
    assert seen == [SourceState.CONNECTING, SourceState.ONLINE], [
        (h.state.value, h.detail) for _, h in states.entries]
    assert status["late_not_stalled"] == 1
    assert "unread in its pipe" in status["late_reason"]


@pytest.mark.timeout(30)
def test_a_source_that_stops_writing_is_stalled_at_its_stall_timeout(
    ffmpeg_binary: FfmpegBinary,
) -> None:
    sources = SourceTable(FMT, MonotonicClock())
    states = _States(sources, "media:script")
    ref = _start(sources, ffmpeg_binary, frames=10)
    states.wait_offline(timeout=15)  # stalled, then killed after stall_restart_after
    stalled = next(h for _, h in states.entries if h.state is SourceState.STALLED)
    last = sources.slot("media:script").latest()
    assert last is not None
    # declared within a watchdog tick (0.075 s) of the 0.3 s stall timeout, plus scheduling
    assert 0.3 <= stalled.since - last.arrived <= 0.55, stalled.since - last.arrived
    assert stalled.detail == "no frame for 0.3 s"
    assert ref.proxy().status().get(timeout=5)["late_not_stalled"] == 0
