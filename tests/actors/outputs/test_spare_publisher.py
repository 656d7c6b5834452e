"""A platform destination keeps one publisher started ahead while it waits (standby, retry).

The PyAV publisher's start-up (Python and ``import av``) took 1.1-2.4 s on a loaded box, all
of it between GO LIVE and the first byte at the platform. Its argv holds no secret (the URL
comes on stdin), so it can be started ahead and wait on its stdin: GO LIVE then takes that
process, already imported, and the key reaches it on stdin as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psutil
import pykka
import pytest
from pydantic import SecretStr
from test_destination_feed import EventLog, TsFeed

from chaos.realparts import NginxRtmp
from vistter.actors.fanout.on_air import OnAir
from vistter.actors.outputs.destination import DestinationActor
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.destinations import RtmpDestination
from vistter.supervisors.link import Link

SECRET = "spare_Key_4471_secret"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def _poll(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _imported_av(pid: int) -> bool:
    """Whether the process has PyAV's libraries mapped (its ``import av`` is done)."""
    try:
        return any("libavformat" in m.path for m in psutil.Process(pid).memory_maps())
    except psutil.Error:
        return False


def test_going_on_air_takes_the_publisher_started_ahead(
    nginx_rtmp: NginxRtmp, ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    air = OnAir()
    events = EventLog()
    link = Link("outputs/main", events=events)
    destination = RtmpDestination(
        id="main", platform="custom_rtmp", url=f"rtmp://127.0.0.1:{nginx_rtmp.rtmp_port}/live",
        stream_key=SecretStr(SECRET),
    )  # fmt: skip
    ref = DestinationActor.start(link, destination, ts_feed, ffmpeg_binary, air=air)
    assert events.wait_state("standby", 10)
    assert _poll(lambda: len(link.processes.pids()) == 1, 10), link.processes.pids()
    (spare,) = link.processes.pids()
    assert ref.proxy().status().get(timeout=5)["pid"] is None  # nothing published
    assert _poll(lambda: _imported_av(spare), 30), "the spare never finished importing av"
    for text in psutil.Process(spare).cmdline():
        assert SECRET not in text
    assert nginx_rtmp.stream_bytes_in(SECRET) is None

    air.go_on_air(None)
    assert _poll(lambda: (nginx_rtmp.stream_bytes_in(SECRET) or 0) > 0, 20)
    assert ref.proxy().status().get(timeout=5)["pid"] == spare, "GO LIVE started a new one"
    assert link.processes.pids() == [spare]  # no spare while publishing

    air.go_off_air()
    assert _poll(lambda: nginx_rtmp.stream_bytes_in(SECRET) is None, 15)
    assert _poll(lambda: len(link.processes.pids()) == 1 and spare not in link.processes.pids(),
                 15), link.processes.pids()
    ref.stop(timeout=15)
    assert link.processes.pids() == []
