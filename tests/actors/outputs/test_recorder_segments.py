"""The recorder actor with real ffmpeg: segments PyAV decodes, restart after ffmpeg dies,
and a folder it cannot use as an expected failure (a state, not a crash)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pykka
import pytest
from test_destination_feed import EventLog, TsFeed

from chaos.realparts.decode import decode_video
from vistter.actors.outputs.recorder import RecorderActor, recorder_argv, segment_pattern
from vistter.actors.outputs.retry import RetrySchedule
from vistter.clock import FakeClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.destinations import RecorderDestination
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()




def _recorder(path: Path, seconds: int = 10) -> RecorderDestination:
    return RecorderDestination.model_validate(
        {"id": "archive", "platform": "recorder", "path": str(path), "segment_seconds": seconds}
    )


def _status(ref: pykka.ActorRef[Any]) -> dict[str, Any]:
    status: dict[str, Any] = ref.proxy().status().get(timeout=5)
    return status


def _poll(ref: pykka.ActorRef[Any], check: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status = _status(ref)
    while not check(status) and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _status(ref)
    return status


def test_segment_pattern_and_argv() -> None:
    pattern = segment_pattern(Path("/data/100%/rec"), "archive", "20261025-023000")
    assert pattern == "/data/100%%/rec/archive-20261025-023000-%06d.ts"
    argv = recorder_argv("ffmpeg", pattern, 600)
    assert argv[argv.index("-segment_time") + 1] == "600"
    assert argv[argv.index("-f", argv.index("-c")) + 1] == "segment"
    assert argv[-1] == pattern
    assert "-reset_timestamps" in argv
    assert "-strftime" not in argv  # names come from the run's stamp and a sequence


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_records_segments_that_decode(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    folder = tmp_path / "recordings" / "day1"  # does not exist yet: created
    events = EventLog()
    link = Link("outputs/archive", events=events)
    ref = RecorderActor.start(link, _recorder(folder), ts_feed, ffmpeg_binary)
    assert events.wait_state("live", 20), events.of("event.destination")
    status = _poll(ref, lambda s: s["segment_count"] >= 2, 30)
    assert status["segment_count"] >= 2, status
    assert status["state"] == "live"
    ref.stop(timeout=10)
    assert link.processes.pids() == []

    segments = sorted(folder.glob("archive-*.ts"))
    assert len(segments) >= 2
    first = decode_video(segments[0])
    assert (first.width, first.height) == (320, 240)
    assert 9 * 30 <= first.frames <= 12 * 30  # one segment: about 10 s at 30 fps
    assert first.largest_gap() < 0.1
    assert decode_video(segments[-1]).frames > 0  # the last one was closed cleanly
    names = [s["name"] for s in status["segments"]]
    assert names == [p.name for p in segments[: len(names)]]
    assert events.of("event.destination")[-1]["state"] == "stopped"


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_restarts_its_ffmpeg_when_it_dies(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    events = EventLog()
    link = Link("outputs/archive", events=events)
    ref = RecorderActor.start(
        link, _recorder(tmp_path), ts_feed, ffmpeg_binary,
        schedule=RetrySchedule(backoff=Backoff.fixed(1.0, reset_after=30)),
    )
    assert events.wait_state("live", 20)
    pid = _status(ref)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert events.wait_state("retrying", 10, attempt=1)
    status = _poll(ref, lambda s: s["state"] == "live" and s["pid"] != pid, 20)
    assert status["state"] == "live"
    assert "code -9" in status["last_error"]
    assert pid not in link.processes.pids()


@pytest.mark.timeout(60)
def test_unusable_folder_is_a_state_with_a_clear_message(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    clock = FakeClock()
    events = EventLog()
    link = Link("outputs/archive", clock=clock, events=events)
    ref = RecorderActor.start(
        link, _recorder(blocker / "rec"), ts_feed, ffmpeg_binary,
        schedule=RetrySchedule(backoff=Backoff.fixed(2.0, reset_after=30), max_attempts=2),
    )  # fmt: skip
    assert events.wait_state("retrying", 10, attempt=1)
    status = _status(ref)
    assert status["state"] == "retrying"
    assert "cannot create the recording folder" in status["last_error"]
    assert str(blocker / "rec") in status["last_error"]
    assert status["pid"] is None and link.processes.pids() == []
    clock.advance(2.0)
    assert events.wait_state("retrying", 10, attempt=2)
    clock.advance(2.0)
    assert events.wait_state("failed", 10, attempt=3)
    assert events.wait_for(lambda messages: any(t == "alert" for t, _ in messages), 5)
    alerts = events.of("alert")
    assert len(alerts) == 1
    assert alerts[0]["message"].startswith("Recorder archive failed after 2 attempts: ")
    assert "recording folder" in alerts[0]["hint"]

    # The operator fixes the folder: the slow retry picks it up and records.
    blocker.unlink()
    clock.advance(60.0)
    assert events.wait_state("connecting", 10, attempt=3)
    assert ref.is_alive() and link.exit is None


@pytest.mark.timeout(30)
def test_full_disk_is_a_state(ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path) -> None:
    events = EventLog()
    ref = RecorderActor.start(
        Link("outputs/archive", clock=FakeClock(), events=events), _recorder(tmp_path),
        ts_feed, ffmpeg_binary, min_free_bytes=2**62,
    )  # fmt: skip
    assert events.wait_state("retrying", 10, attempt=1)
    status = _status(ref)
    assert "is full" in status["last_error"] and str(tmp_path) in status["last_error"]
    assert status["pid"] is None
