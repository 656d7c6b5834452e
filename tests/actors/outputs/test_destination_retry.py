"""The retry schedule (pure), the reachability probe, and the destination actor's retry states
with a FakeClock against a port that refuses connections (real ffmpeg publishers)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pykka
import pytest
from pydantic import SecretStr
from test_destination_feed import EventLog, TsFeed

from chaos.realparts import free_port
from vistter.actors.outputs.destination import DestinationActor, publisher_argv
from vistter.actors.outputs.reachability import ReachabilityProbe, endpoint_of, tcp_probe
from vistter.actors.outputs.retry import SPEC_BACKOFF, RetrySchedule, RetryTracker
from vistter.clock import FakeClock
from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.destinations import RtmpDestination
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import ExitReason, Link

SECRET = "sk-live-TOPSECRET-4711"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()




# -- RetrySchedule / RetryTracker (pure) ---------------------------------------------------


def test_schedule_is_the_specs_then_slow() -> None:
    schedule = RetrySchedule()
    delays = [schedule.delay(n) for n in range(1, 14)]
    assert delays == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60]
    assert [SPEC_BACKOFF.delay(n) for n in range(6)] == [2, 4, 8, 16, 32, 60]
    assert schedule.max_attempts == 10


def test_tracker_fails_after_ten_retries_and_keeps_going() -> None:
    tracker = RetryTracker(RetrySchedule())
    decisions = [tracker.failure(now=float(n)) for n in range(13)]
    assert [d.attempt for d in decisions] == list(range(1, 14))
    assert [d.delay for d in decisions] == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60]
    assert [d.failed for d in decisions] == [False] * 10 + [True] * 3
    assert [d.newly_failed for d in decisions] == [False] * 10 + [True, False, False]
    assert tracker.failed


def test_a_long_run_resets_the_count_but_a_short_one_does_not() -> None:
    tracker = RetryTracker(RetrySchedule(backoff=replace(SPEC_BACKOFF, reset_after=30)))
    for n in range(3):
        tracker.failure(now=float(n))
    tracker.live(now=100.0)
    assert tracker.failure(now=110.0).attempt == 4  # 10 s live: not stable
    tracker.live(now=200.0)
    assert not tracker.check_stable(now=229.0)
    assert tracker.check_stable(now=230.0)
    assert tracker.attempt == 0
    decision = tracker.failure(now=240.0)
    assert (decision.attempt, decision.delay, decision.failed) == (1, 2.0, False)


def test_stable_run_clears_failed_state() -> None:
    tracker = RetryTracker(
        RetrySchedule(backoff=replace(SPEC_BACKOFF, reset_after=5), max_attempts=2)
    )
    for n in range(3):
        tracker.failure(now=float(n))
    assert tracker.failed
    tracker.live(now=10.0)
    decision = tracker.failure(now=16.0)
    assert (decision.attempt, decision.delay, decision.failed) == (1, 2.0, False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RetrySchedule(backoff=Backoff(initial=4.0, maximum=2.0)),
        lambda: RetrySchedule(backoff=Backoff.fixed(0.0)),
        lambda: RetrySchedule(max_attempts=0),
        lambda: RetrySchedule(slow_interval=0),
    ],
)
def test_schedule_rejects_nonsense(make: Callable[[], RetrySchedule]) -> None:
    with pytest.raises(ValueError, match="must"):
        make()


# -- reachability ------------------------------------------------------------------------


def test_endpoint_of_urls() -> None:
    assert endpoint_of("rtmp://a.rtmp.youtube.com/live2") == ("a.rtmp.youtube.com", 1935)
    assert endpoint_of("rtmps://live-api-s.facebook.com:443/rtmp") == (
        "live-api-s.facebook.com", 443,
    )  # fmt: skip
    assert endpoint_of("rtmps://example.org/app") == ("example.org", 443)
    assert endpoint_of("rtmp://127.0.0.1:1940/live") == ("127.0.0.1", 1940)
    with pytest.raises(ValueError, match="no host"):
        endpoint_of("rtmp:///live")


@pytest.mark.timeout(10)
def test_tcp_probe_open_and_closed_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert tcp_probe("127.0.0.1", port).reachable
    closed = tcp_probe("127.0.0.1", free_port(), timeout=0.5)
    assert not closed.reachable
    assert closed.detail


@pytest.mark.timeout(10)
def test_reachability_probe_runs_one_at_a_time_and_reports_errors() -> None:
    results: list[bool] = []
    errors: list[tuple[str, BaseException]] = []
    done = threading.Event()
    probe = ReachabilityProbe(
        "127.0.0.1", free_port(), on_error=lambda worker, exc: errors.append((worker, exc)),
        timeout=0.5,
    )

    def on_result(result: Any) -> None:
        results.append(result.reachable)
        done.set()

    assert probe.start(on_result)
    probe.join(5)
    assert done.is_set() and results == [False]

    def broken(result: Any) -> None:
        raise RuntimeError("bug in callback")

    assert probe.start(broken)
    probe.join(5)
    assert len(errors) == 1 and "bug in callback" in str(errors[0][1])
    assert errors[0][0] == "reachability probe"


# -- the actor's retry states with a FakeClock ----------------------------------------------


def _refused_destination() -> RtmpDestination:
    return RtmpDestination(
        id="yt-main", platform="custom_rtmp", url=f"rtmp://127.0.0.1:{free_port()}/live",
        stream_key=SecretStr(SECRET),
    )  # fmt: skip


def test_publisher_argv_has_timeouts_and_copy() -> None:
    argv = publisher_argv("ffmpeg", "rtmp://h/live/k", rw_timeout=3)
    assert argv[argv.index("-rw_timeout") + 1] == "3000000"
    assert argv[argv.index("-c") + 1] == "copy"
    assert argv[-3:] == ["-f", "flv", "rtmp://h/live/k"]
    assert "-nostdin" not in argv  # stdin is the input


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_fake_clock_exact_delays_ten_tries_then_failed_alert_and_slow_retry(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    events = EventLog()
    link = Link("outputs/yt-main", clock=clock, events=events)
    destination = _refused_destination()
    ref = DestinationActor.start(
        link, destination, ts_feed, ffmpeg_binary,
        schedule=RetrySchedule(probe_interval=0.5), connect_timeout=1000,
    )  # fmt: skip
    proxy = ref.proxy()

    expected = [2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60]
    for attempt, delay in enumerate(expected, start=1):
        state = "failed" if attempt > 10 else "retrying"
        assert events.wait_state(state, 30, attempt=attempt), (
            f"no {state} event for attempt {attempt}: {events.of('event.destination')[-3:]}"
        )
        status = proxy.status().get(timeout=5)
        assert status["state"] == state
        assert status["attempt"] == attempt
        assert status["next_retry_in"] == pytest.approx(delay)
        assert status["reachable"] in (None, False)
        # Just before the delay is over nothing happens; at the delay the retry starts.
        clock.advance(delay - 0.01)
        later = proxy.status().get(timeout=5)
        assert (later["state"], later["attempt"]) == (state, attempt)
        assert later["next_retry_in"] == pytest.approx(0.01)
        clock.advance(0.01)

    alerts = events.of("alert")
    assert len(alerts) == 1, alerts
    assert alerts[0]["severity"] == "error"
    assert alerts[0]["message"].startswith("Destination yt-main failed after 10 attempts: ")
    assert alerts[0]["message"].endswith("; still retrying every 60 s")
    assert "Connection refused" in alerts[0]["message"] or "refused" in alerts[0]["message"]
    states = [p["state"] for p in events.of("event.destination")]
    assert states.count("connecting") >= 12  # the slow retry did start publishers again
    ref.stop(timeout=10)

    everything = repr(events.messages) + caplog.text + repr(status)
    assert SECRET not in everything
    assert "rtmp://127.0.0.1" in everything  # the redacted URL is shown
    assert events.of("event.destination")[-1]["state"] == "stopped"


@pytest.mark.timeout(60)
def test_retry_now_and_stop_end_the_publisher_by_pid(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary
) -> None:
    clock = FakeClock()
    events = EventLog()
    link = Link("outputs/yt-main", clock=clock, events=events)
    ref = DestinationActor.start(link, _refused_destination(), ts_feed, ffmpeg_binary)
    assert events.wait_state("retrying", 30, attempt=1)
    ref.proxy().retry_now().get(timeout=5)
    assert events.wait_state("retrying", 30, attempt=2)
    ref.stop(timeout=10)
    assert link.processes.pids() == []
    assert link.exit is not None and not link.exit.abnormal


class _BrokenSource:
    def get(self, timeout: float) -> bytes | None:
        raise RuntimeError("fanout queue corrupted")

    def resync(self) -> None:
        return None


@pytest.mark.timeout(30)
def test_a_dead_writer_thread_crashes_the_actor(ffmpeg_binary: FfmpegBinary) -> None:
    events = EventLog()
    link = Link("outputs/yt-main", events=events)
    DestinationActor.start(link, _refused_destination(), _BrokenSource(), ffmpeg_binary)
    assert link.exited.wait(15), "the actor should crash when its writer thread dies"
    assert link.exit is not None and link.exit.reason is ExitReason.CRASH
    assert "fanout queue corrupted" in (link.exit.error or "")
    assert link.processes.pids() == []
    assert SECRET not in (link.exit.error or "")


def test_an_unusable_url_is_a_config_error(ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary) -> None:
    bad = RtmpDestination(id="bad", platform="custom_rtmp", url="rtmp:///live")
    with pytest.raises(ConfigError, match="unusable url"):
        DestinationActor(Link("outputs/bad"), bad, ts_feed, ffmpeg_binary)
