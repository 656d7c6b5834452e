"""A destination with a session limit reconnects once, at a cut, before the limit (real nginx-rtmp).

The limit is 8 s instead of Facebook's 8 h (``max_session_hours`` is fractional) and the margin
4 s. A fake mixer thread plans program frames at 30 fps from a real ``ProgramState``; once the
destination is live the test arms a fade that covers the start of the margin and a cut after
it: the reconnect must land on the cut (never inside the fade), the new publish session must
start on a keyframe, and a second destination without a limit must not notice anything.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import pykka
import pytest
from pydantic import SecretStr
from test_destination_feed import EventLog, TsFeed

from chaos.realparts import NginxRtmp
from vistter.actors.outputs.destination import DestinationActor
from vistter.actors.outputs.session_limit import ProgramMoments
from vistter.actors.program.state import ProgramState
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.destinations import RtmpDestination
from vistter.supervisors.link import Link

FPS = 30
LIMIT_S = 8.0
MARGIN_S = 4.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


class FakeMixer:
    """Plans frame ``n = elapsed * FPS`` of ``state`` in its own thread, as the mixer does."""

    def __init__(self, state: ProgramState) -> None:
        self.state = state
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-mixer", daemon=True)

    def frame_now(self) -> int:
        return int((time.monotonic() - self._t0) * FPS)

    def __enter__(self) -> FakeMixer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        planned = -1
        while not self._stop.wait(0.005):
            for n in range(planned + 1, self.frame_now() + 1):
                self.state.frame_plan(n)
                planned = n


def _poll(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _states(events: EventLog, output_id: str) -> list[str]:
    return [p["state"] for p in events.of("event.destination") if p["id"] == output_id]


def _first_video_is_keyframe(path: str) -> bool:
    with av.open(path) as container:
        for packet in container.demux(video=0):
            if packet.size:
                return bool(packet.is_keyframe)
    return False


def test_reconnects_once_at_a_cut_before_the_limit(
    nginx_rtmp: NginxRtmp, ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    url = f"rtmp://127.0.0.1:{nginx_rtmp.rtmp_port}/live"
    state = ProgramState(FrameFormat(320, 240, FPS))
    state.take("cam1", 0)
    events = EventLog()
    limited = RtmpDestination(
        id="fb", platform="facebook", url=url, stream_key=SecretStr("fbkey"),
        max_session_hours=LIMIT_S / 3600, reconnect_margin_minutes=MARGIN_S / 60,
    )  # fmt: skip
    other = RtmpDestination(
        id="other", platform="custom_rtmp", url=url, stream_key=SecretStr("otherkey")
    )
    with FakeMixer(state) as mixer, TsFeed(ffmpeg_binary.path) as other_feed:
        fb_link, other_link = Link("outputs/fb", events=events), Link("outputs/o", events=events)
        fb = DestinationActor.start(
            fb_link, limited, ts_feed, ffmpeg_binary, moments=ProgramMoments(state)
        ).proxy()
        oth = DestinationActor.start(other_link, other, other_feed, ffmpeg_binary).proxy()
        assert _poll(lambda: "live" in _states(events, "fb"), 20), events.messages
        live_at = time.monotonic()
        status: dict[str, Any] = dict(fb.status().get(timeout=5))
        assert re.fullmatch(
            r"planned reconnect before Facebook's 8-second limit at \d\d:\d\d",
            status["session_limit"]["message"],
        ), status
        assert _poll(lambda: "live" in _states(events, "other"), 20)
        other_pid = oth.status().get(timeout=5)["pid"]
        # the margin opens at live + 4 s: a fade from live + 3.5 s to live + 5 s, a cut at 5.5 s
        n0 = mixer.frame_now()
        fade_at = n0 + int(3.5 * FPS)
        fade = (fade_at, fade_at + int(1.5 * FPS))
        cut_at = n0 + int(5.5 * FPS)
        state.take("cam2", fade_at, "fade", fade[1] - fade[0])
        state.take("cam3", cut_at)
        first_pid = status["pid"]

        assert _poll(lambda: fb.status().get(timeout=5)["session_limit"]["reconnects"] == 1,
                     LIMIT_S + 5), fb.status().get(timeout=5)  # fmt: skip
        reconnected_after = time.monotonic() - live_at
        status = dict(fb.status().get(timeout=5))
        limit_status = status["session_limit"]
        assert limit_status["last_reconnect_moment"] == "cut", limit_status
        frame = limit_status["last_reconnect_frame"]
        assert cut_at <= frame < cut_at + 3, (frame, cut_at)
        assert not fade[0] <= frame < fade[1]
        assert reconnected_after < LIMIT_S, reconnected_after
        assert re.fullmatch(r"reconnected \(planned\) at \d\d:\d\d:\d\d",
                            limit_status["last_reconnect"]), limit_status
        assert limit_status["message"].startswith(limit_status["last_reconnect"] + "; ")

        assert _poll(lambda: fb.status().get(timeout=5)["state"] == "live", 10)
        status = dict(fb.status().get(timeout=5))
        assert status["pid"] != first_pid and status["attempt"] == 0
        assert re.search(r"planned reconnect before Facebook's 8-second limit at \d\d:\d\d$",
                         status["session_limit"]["message"]), status  # the next one is planned
        alerts = [a for a in events.of("alert") if a["kind"] == "planned_reconnect"]
        assert len(alerts) == 1 and alerts[0]["severity"] == "info", alerts
        assert "Facebook's 8-second limit (cut, program frame" in alerts[0]["message"]
        assert "fbkey" not in repr(events.messages)
        # the second publish session (nginx rewrote the recording) starts on a keyframe
        recording = nginx_rtmp.recording("fbkey")
        assert _poll(lambda: recording.exists() and recording.stat().st_size > 20_000, 10)
        assert _first_video_is_keyframe(str(recording))
        # the other destination never noticed
        other_status = oth.status().get(timeout=5)
        assert other_status["pid"] == other_pid and other_status["state"] == "live"
        assert _states(events, "other") == ["connecting", "live"], _states(events, "other")
        assert fb_link.processes.pids() == [status["pid"]]  # the spare became the publisher
        assert fb.status().get(timeout=5)["session_limit"]["reconnects"] == 1
