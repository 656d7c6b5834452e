"""The destination actor against a real nginx-rtmp on 127.0.0.1 (real ffmpeg, real clock)."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pykka
import pytest
from pydantic import SecretStr
from test_destination_feed import EventLog, TsFeed

from chaos.realparts import NginxRtmp, free_port
from chaos.realparts.decode import decode_video
from vistter.actors.outputs.destination import DestinationActor
from vistter.actors.outputs.retry import RetrySchedule
from vistter.clock import FakeClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.destinations import RtmpDestination
from vistter.models.settings import EncodingConfig
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link

SECRET = "live_8472_SeCrEtKeY"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()




def _destination(port: int, platform: str = "custom_rtmp") -> RtmpDestination:
    return RtmpDestination(
        id="main", platform=platform, url=f"rtmp://127.0.0.1:{port}/live",
        stream_key=SecretStr(SECRET),
    )  # fmt: skip


def _wait_bytes(nginx: NginxRtmp, at_least: int, timeout: float) -> int:
    """Bytes nginx accepted from the publisher, once at least ``at_least`` (or the last seen)."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        seen = nginx.stream_bytes_in(SECRET) or 0
        if seen >= at_least:
            return seen
        time.sleep(0.2)
    return seen


def _poll(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _live_events_after(events: EventLog, index: int) -> bool:
    return any(p["state"] == "live" for p in events.of("event.destination")[index:])


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_publishes_a_decodable_stream_and_never_shows_the_key(
    nginx_rtmp: NginxRtmp,
    ts_feed: TsFeed,
    ffmpeg_binary: FfmpegBinary,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events = EventLog()
    link = Link("outputs/main", events=events)
    ref = DestinationActor.start(link, _destination(nginx_rtmp.rtmp_port), ts_feed, ffmpeg_binary)
    assert events.wait_state("live", 20), events.of("event.destination")
    accepted = _wait_bytes(nginx_rtmp, 400_000, 20)
    assert accepted >= 400_000, "nginx did not receive the stream"
    # ffmpeg reports its output once a second: the count catches up with what nginx saw.
    assert _poll(lambda: ref.proxy().status().get(timeout=5)["bytes_sent"] >= accepted, 5)
    status: dict[str, Any] = ref.proxy().status().get(timeout=5)
    assert status["state"] == "live"
    assert status["attempt"] == 0
    assert 300 < status["bitrate_kbps"] < 5000
    assert status["url"] == f"rtmp://127.0.0.1:{nginx_rtmp.rtmp_port}/live/***"
    states = [p["state"] for p in events.of("event.destination")]
    assert states[:2] == ["connecting", "live"]
    time.sleep(2)  # let a few more GOPs reach the recording
    ref.stop(timeout=10)
    assert link.processes.pids() == []

    video = decode_video(nginx_rtmp.recording(SECRET))
    assert (video.width, video.height) == (320, 240)
    assert video.frames >= 90
    assert video.largest_gap() < 0.1  # continuous timestamps at 30 fps

    everything = caplog.text + repr(events.messages) + repr(status)
    assert SECRET not in everything
    assert events.of("event.destination")[-1]["state"] == "stopped"


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_reconnects_within_seconds_when_the_server_comes_back(
    nginx_rtmp: NginxRtmp, ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    events = EventLog()
    # A 30 s retry delay: only the reachability probe can bring it back within seconds.
    schedule = RetrySchedule(backoff=Backoff.fixed(30.0, reset_after=30), probe_interval=0.5)
    ref = DestinationActor.start(
        Link("outputs/main", events=events), _destination(nginx_rtmp.rtmp_port), ts_feed,
        ffmpeg_binary, schedule=schedule,
    )  # fmt: skip
    assert events.wait_state("live", 20)
    assert _wait_bytes(nginx_rtmp, 100_000, 20) >= 100_000

    nginx_rtmp.stop()
    assert events.wait_state("retrying", 20, attempt=1), events.of("event.destination")
    status = ref.proxy().status().get(timeout=5)
    assert status["next_retry_in"] > 20
    assert status["last_error"]
    assert _poll(lambda: ref.proxy().status().get(timeout=5)["reachable"] is False, 10), (
        "the probe should find the stopped server unreachable"
    )

    mark = len(events.of("event.destination"))
    nginx_rtmp.start()  # same port
    started = time.monotonic()
    assert events.wait_for(lambda _m: _live_events_after(events, mark), 15), events.of(
        "event.destination"
    )[mark:]
    assert time.monotonic() - started < 10, "the probe should beat the 30 s retry delay"
    assert _wait_bytes(nginx_rtmp, 100_000, 20) >= 100_000
    status = ref.proxy().status().get(timeout=5)
    assert (status["state"], status["attempt"], status["reachable"]) == ("live", 1, True)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_killed_publisher_is_replaced(
    nginx_rtmp: NginxRtmp, ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    events = EventLog()
    link = Link("outputs/main", events=events)
    ref = DestinationActor.start(
        link, _destination(nginx_rtmp.rtmp_port), ts_feed, ffmpeg_binary,
        schedule=RetrySchedule(backoff=Backoff.fixed(0.5, reset_after=2.0)),
    )  # fmt: skip
    assert events.wait_state("live", 20)
    pid = ref.proxy().status().get(timeout=5)["pid"]
    assert pid in link.processes.pids()
    mark = len(events.of("event.destination"))
    os.kill(pid, signal.SIGKILL)
    assert events.wait_state("retrying", 10, attempt=1)
    assert events.wait_for(lambda _m: _live_events_after(events, mark), 20)
    status = ref.proxy().status().get(timeout=5)
    assert status["pid"] != pid
    assert "code -9" in status["last_error"]
    assert pid not in link.processes.pids()
    # A run that stays live for stable_after seconds clears the retry count.
    assert status["attempt"] == 1
    assert _poll(lambda: ref.proxy().status().get(timeout=5)["attempt"] == 0, 8)
    assert ref.proxy().status().get(timeout=5)["state"] == "live"


@pytest.mark.timeout(30)
def test_platform_checks_alert_at_start(ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary) -> None:
    events = EventLog()
    encoding = EncodingConfig.model_validate({"bitrate_kbps": 9000, "keyframe_interval": 4})
    ref = DestinationActor.start(
        Link("outputs/main", clock=FakeClock(), events=events),
        _destination(free_port(), platform="youtube"), ts_feed, ffmpeg_binary,
        encoding=encoding,
    )  # fmt: skip
    ref.proxy().status().get(timeout=5)
    alerts = events.of("alert")
    assert [a["severity"] for a in alerts] == ["warning", "warning"]
    assert "at most 8000 kbps" in alerts[0]["message"]
    assert "9000 kbps" in alerts[0]["message"]
    assert "keyframe every 2 s" in alerts[1]["message"]
    assert alerts[1]["hint"] == "Set encoding.keyframe_interval = 2."
    assert all(a["source"] == "destination:main" for a in alerts)


@pytest.mark.timeout(30)
def test_no_platform_alert_when_the_program_fits(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    events = EventLog()
    ref = DestinationActor.start(
        Link("outputs/main", clock=FakeClock(), events=events),
        _destination(free_port(), platform="twitch"), ts_feed, ffmpeg_binary,
        encoding=EncodingConfig(),
    )  # fmt: skip
    ref.proxy().status().get(timeout=5)
    assert events.of("alert") == []
