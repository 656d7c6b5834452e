"""A stream key pasted into a destination's URL (no stream_key) never reaches telemetry,
status or the log: live to a real nginx-rtmp, and refused by a closed port (ffmpeg's own
error line names the URL)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pykka
import pytest
from test_destination_feed import EventLog, TsFeed

from chaos.realparts import NginxRtmp, free_port
from vistter.actors.outputs.destination import DestinationActor
from vistter.actors.outputs.retry import RetrySchedule
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.destinations import RtmpDestination
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link

PASTED = "pasted_9931_SeCrEt"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def _pasted(port: int) -> RtmpDestination:
    return RtmpDestination.model_validate(
        {"id": "main", "platform": "custom_rtmp", "url": f"rtmp://127.0.0.1:{port}/live/{PASTED}"}
    )


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_pasted_key_is_published_but_never_shown(
    nginx_rtmp: NginxRtmp,
    ts_feed: TsFeed,
    ffmpeg_binary: FfmpegBinary,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events = EventLog()
    ref = DestinationActor.start(
        Link("outputs/main", events=events), _pasted(nginx_rtmp.rtmp_port), ts_feed,
        ffmpeg_binary,
    )  # fmt: skip
    assert events.wait_state("live", 20), events.of("event.destination")
    deadline = time.monotonic() + 20
    while (nginx_rtmp.stream_bytes_in(PASTED) or 0) < 100_000 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (nginx_rtmp.stream_bytes_in(PASTED) or 0) >= 100_000, "nginx got nothing under the key"
    status = ref.proxy().status().get(timeout=5)
    assert status["url"] == f"rtmp://127.0.0.1:{nginx_rtmp.rtmp_port}/live/***"
    ref.stop(timeout=10)
    assert PASTED not in caplog.text + repr(events.messages) + repr(status)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_ffmpegs_error_about_a_pasted_key_is_masked(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    events = EventLog()
    schedule = RetrySchedule(backoff=Backoff.fixed(30.0, reset_after=30), probe_interval=0)
    ref = DestinationActor.start(
        Link("outputs/main", events=events), _pasted(free_port()), ts_feed, ffmpeg_binary,
        schedule=schedule, connect_timeout=5.0,
    )  # fmt: skip
    assert events.wait_state("retrying", 30), events.of("event.destination")
    status = ref.proxy().status().get(timeout=5)
    assert status["last_error"], status
    ref.stop(timeout=10)
    shown = caplog.text + repr(events.messages) + repr(status)
    assert PASTED not in shown
    assert "/live/***" in shown
