"""A black-holed destination is judged by bytes accepted, killed, retried, and comes back.

FaultProxy (chaos/proxy.py) sits between the publisher and a real nginx-rtmp. In blackhole
mode it keeps the connection open but stops reading, so the publisher first writes into the
kernel's buffers (it looks fine) and then blocks. The test stream is CBR ~8 Mbps (x264
filler, cheap) so that the buffers fill within seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pykka
import pytest
from pydantic import SecretStr
from test_destination_feed import EventLog, TsFeed

from chaos.proxy import FaultProxy
from chaos.realparts import NginxRtmp
from vistter.actors.outputs.destination import DestinationActor
from vistter.actors.outputs.retry import RetrySchedule
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.models.destinations import RtmpDestination
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link

KEY = "blackhole_key_123"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_blackholed_destination_is_detected_retried_and_recovers(
    nginx_rtmp: NginxRtmp,
) -> None:
    ffmpeg: FfmpegBinary = find_ffmpeg()
    events = EventLog()
    with (
        TsFeed(ffmpeg.path, bitrate_kbps=8000) as feed,
        FaultProxy("127.0.0.1", nginx_rtmp.rtmp_port) as proxy,
    ):
        destination = RtmpDestination(
            id="bh", platform="custom_rtmp", url=f"rtmp://127.0.0.1:{proxy.port}/live",
            stream_key=SecretStr(KEY),
        )  # fmt: skip
        ref = DestinationActor.start(
            Link("outputs/bh", events=events), destination, feed, ffmpeg,
            schedule=RetrySchedule(backoff=Backoff.fixed(1.0, reset_after=30), probe_interval=0.5),
            stall_timeout=3.0, connect_timeout=6.0,
        )  # fmt: skip
        assert events.wait_state("live", 20)
        before = ref.proxy().status().get(timeout=5)

        proxy.blackhole()
        blackholed_at = time.monotonic()
        assert events.wait_state("retrying", 45, attempt=1), events.of("event.destination")
        detected_after = time.monotonic() - blackholed_at
        status = ref.proxy().status().get(timeout=5)
        assert "took no bytes" in status["last_error"] or "exited" in status["last_error"]
        assert status["bytes_sent"] > before["bytes_sent"]  # it did "work" for a while
        assert detected_after < 40

        # Still black-holed: the retry connects at TCP level but never starts; it is
        # judged by bytes again and retried once more.
        assert events.wait_state("retrying", 30, attempt=2), events.of("event.destination")
        assert not any(
            p["state"] == "live" and p["attempt"] == 1 for p in events.of("event.destination")
        ), "a black-holed retry must not count as live"

        mark = len(events.of("event.destination"))
        nginx_before = nginx_rtmp.stream_bytes_in(KEY) or 0
        proxy.passthrough()
        assert events.wait_for(
            lambda _m: any(p["state"] == "live" for p in events.of("event.destination")[mark:]),
            30,
        ), events.of("event.destination")[mark:]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (nginx_rtmp.stream_bytes_in(KEY) or 0) < 1_000_000:
            time.sleep(0.2)
        assert (nginx_rtmp.stream_bytes_in(KEY) or 0) >= 1_000_000, (
            f"nginx got little after the black hole ended (before: {nginx_before})"
        )
        ref.stop(timeout=10)
