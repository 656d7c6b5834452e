"""A stream key that a real nginx-rtmp refuses: the publisher says so (exit 4, not a network
failure), and the destination is ``rejected`` with one alert through the alert service.

nginx-rtmp refuses the key the way platforms do: the handshake, ``connect`` and
``createStream`` go through, then its ``on_publish`` hook answers 403 and it closes the
connection right after ``publish`` (:class:`chaos.realparts.NginxRtmp` ``rejected_keys``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pykka
import pytest
from pydantic import SecretStr
from test_destination_feed import TsFeed
from test_flv_publisher import KEY, _publishing, _request

from chaos.realparts import NginxRtmp, free_port
from vistter.actors.outputs.destination import DestinationActor
from vistter.actors.outputs.flv_publisher import EXIT_APP_REFUSED, EXIT_KEY_REFUSED, EXIT_OUTPUT
from vistter.actors.outputs.retry import RetrySchedule
from vistter.alerts import AlertRules, AlertService
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.alerts import AlertsConfig
from vistter.models.destinations import RtmpDestination
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.topics import DESTINATION_TOPIC

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def refusing(tmp_path: Path) -> Iterator[NginxRtmp]:
    """nginx-rtmp on 127.0.0.1 refusing :data:`KEY` (ended by PID after the test)."""
    with NginxRtmp(tmp_path / "nginx", rejected_keys=[KEY]) as nginx:
        yield nginx


def _server(nginx: NginxRtmp, app: str = "live") -> str:
    return f"rtmp://127.0.0.1:{nginx.rtmp_port}/{app}"


# -- the publisher process -------------------------------------------------------------------


def test_a_refused_key_exits_4_saying_the_key_was_rejected(
    refusing: NginxRtmp, ts_feed: TsFeed
) -> None:
    with _publishing(ts_feed, _request(_server(refusing)).secret_input()) as run:
        assert run.exited.wait(30), run.feed.stderr_tail()
    assert run.code == EXIT_KEY_REFUSED, run.feed.stderr_tail()
    assert refusing.publish_calls(KEY) == 1
    assert run.feed.last_error() == (
        "flv publisher: the server rejected the stream key: it ended the connection right "
        f"after the publish command (Input/output error) ({_server(refusing)}/***)"
    )
    assert KEY not in " ".join(run.feed.stderr_tail())


def test_an_unknown_application_exits_5(refusing: NginxRtmp, ts_feed: TsFeed) -> None:
    with _publishing(ts_feed, _request(_server(refusing, "nosuchapp")).secret_input()) as run:
        assert run.exited.wait(30), run.feed.stderr_tail()
    assert run.code == EXIT_APP_REFUSED, run.feed.stderr_tail()
    assert "refused the application in the URL" in run.feed.last_error()
    assert refusing.publish_calls(KEY) == 0  # it never got as far as the key


def test_a_closed_port_is_still_a_network_failure(ts_feed: TsFeed) -> None:
    server = f"rtmp://127.0.0.1:{free_port()}/live"
    with _publishing(ts_feed, _request(server).secret_input()) as run:
        assert run.exited.wait(30), run.feed.stderr_tail()
    assert run.code == EXIT_OUTPUT
    assert run.feed.last_error().startswith(f"flv publisher: connecting to {server}/*** failed: ")


# -- the destination, its state and its one alert --------------------------------------------


class _States:
    """``(monotonic time, state, attempt)`` of every destination event on the bus."""

    def __init__(self, bus: TelemetryBus) -> None:
        self.seen: list[tuple[float, str, int]] = []
        self._cond = threading.Condition()
        self.remove = bus.add_listener(self._listen)

    def _listen(self, topic: str, payload: dict[str, Any]) -> None:
        if topic == DESTINATION_TOPIC:
            with self._cond:
                self.seen.append((time.monotonic(), payload["state"], payload["attempt"]))
                self._cond.notify_all()

    def wait(self, state: str, attempt: int, timeout: float) -> float:
        """When ``state`` with ``attempt`` was first published (fails the test on timeout)."""
        def found() -> float | None:
            return next((t for t, s, a in self.seen if (s, a) == (state, attempt)), None)

        with self._cond:
            assert self._cond.wait_for(lambda: found() is not None, timeout), self.seen
            at = found()
        assert at is not None
        return at


def _poll(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_rejected_key_is_a_state_with_one_alert_and_a_slow_retry(
    refusing: NginxRtmp, ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    bus = TelemetryBus()
    service = AlertService(bus, history=50)
    service.open()
    remove_rules = bus.add_listener(AlertRules(service, AlertsConfig()))
    states = _States(bus)
    destination = RtmpDestination(
        id="main", platform="custom_rtmp", url=_server(refusing), stream_key=SecretStr(KEY)
    )
    schedule = RetrySchedule(backoff=Backoff.fixed(0.5, reset_after=30), rejected_interval=6.0)
    try:
        ref = DestinationActor.start(
            Link("outputs/destination-main", events=bus), destination, ts_feed, ffmpeg_binary,
            schedule=schedule,
        )  # fmt: skip
        first = states.wait("rejected", 1, 40)
        status = ref.proxy().status().get(timeout=5)
        assert status["last_error"] == (
            "the server rejected the stream key: it ended the connection right after the "
            f"publish command (Input/output error) ({_server(refusing)}/***)"
        )
        assert 0 < (status["next_retry_in"] or 0) <= 6.0
        second = states.wait("rejected", 2, 40)
        assert second - first >= 6.0 - 0.1  # not the 0.5 s of the backoff: no hammering
        assert refusing.publish_calls(KEY) == 2
        (alert,) = service.listing("all")[0]  # one alert, and no "failing" one
        assert (alert.kind, alert.source, alert.severity) == (
            "destination_rejected", "destination-main", "critical",
        )  # fmt: skip
        assert alert.active and alert.repeats == 0
        assert "the server rejected the stream key" in alert.message
        assert alert.remediation.startswith("Check the stream key of destination main")

        refusing.reject_keys([])  # the platform takes the key now
        refusing.stop()
        refusing.start()
        assert _poll(lambda: (refusing.stream_bytes_in(KEY) or 0) > 0, 40)
        assert _poll(lambda: not service.listing("active")[0], 20), service.listing("active")
        assert ref.proxy().status().get(timeout=5)["state"] == "live"
    finally:
        pykka.ActorRegistry.stop_all()
        remove_rules()
        states.remove()
        service.close()
    everything = repr(states.seen) + repr(service.listing("all"))
    assert KEY not in everything
