"""A refused stream key is a state of its own, a probe ends a network wait early, and a
destination reports ``live`` within a quarter second of its first accepted bytes.

Fakes only: a fake publisher process (a few lines of Python that read the publish request on
stdin, then exit with the code the test chose, or report bytes and wait), a fake probe, a
:class:`~vistter.clock.FakeClock`. The real parts (nginx-rtmp refusing a key, PyAV) are in
``test_flv_publisher.py``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pykka
import pytest
from test_destination_feed import EventLog

from vistter.actors.outputs.publisher import FeedCommand, PublisherActor, failed_at_connect
from vistter.actors.outputs.reachability import ProbeResult, ProbeTarget
from vistter.actors.outputs.retry import RetrySchedule
from vistter.actors.outputs.rtmp_stage import (
    EXIT_APP_REFUSED,
    EXIT_KEY_REFUSED,
    RtmpProgress,
    RtmpStage,
)
from vistter.clock import FakeClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link
from vistter.supervisors.secret_input import SecretInput

pytestmark = pytest.mark.timeout(60)

KEY_WORDS = (
    "flv publisher: the server rejected the stream key: it ended the connection right after "
    "the publish command (Input/output error) (rtmp://127.0.0.1/live/***)"
)
APP_WORDS = (
    "flv publisher: the server refused the application in the URL (the part before the key): "
    "it ended the connection right after connect (Input/output error) (rtmp://127.0.0.1/x/***)"
)
NETWORK_WORDS = "flv publisher: connecting to rtmp://127.0.0.1/live/*** failed: Connection refused"
BROKEN_WORDS = "flv publisher: writing to rtmp://127.0.0.1/live/*** failed: Broken pipe"

# The fake publisher: reads the request (a decimal length, a newline, the JSON), then does
# what the mode file says: exit with a code and a last line, or report bytes and wait.
FAKE_PUBLISHER = f"""
import os, sys
digits = b""
while not digits.endswith(b"\\n"):
    byte = os.read(0, 1)
    if not byte:
        sys.exit(2)
    digits += byte
left = int(digits)
while left:
    left -= len(os.read(0, left))
mode = open(sys.argv[1]).read().strip()
if mode == "live":
    sys.stdout.write("total_size=1000\\nout_time_us=40000\\nprogress=continue\\n")
    sys.stdout.flush()
    while os.read(0, 65536):
        pass
    sys.exit(0)
words = {{
    "key": {KEY_WORDS!r}, "app": {APP_WORDS!r}, "network": {NETWORK_WORDS!r},
    "broken": {BROKEN_WORDS!r},
}}
codes = {{"key": {EXIT_KEY_REFUSED}, "app": {EXIT_APP_REFUSED}, "network": 1, "broken": 1}}
sys.stderr.write(words[mode] + "\\n")
sys.exit(codes[mode])
"""


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@dataclass(frozen=True)
class _Model:
    id: str = "main"
    platform: str = "custom_rtmp"
    display_url: str = "rtmp://127.0.0.1/live/***"


class _Program:
    """A chunk source with nothing in it (the fake publisher reads no program)."""

    def get(self, timeout: float) -> bytes | None:
        time.sleep(min(timeout, 0.05))
        return None

    def resync(self) -> None:
        return None


class _Probe:
    """A probe whose answer the test sets; counts how often it was asked."""

    def __init__(self, reachable: bool) -> None:
        self.reachable = reachable
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, host: str, port: int, timeout: float) -> ProbeResult:
        with self._lock:
            self.calls += 1
        return ProbeResult(host, port, self.reachable, "" if self.reachable else "refused")


class _FakePublisher(PublisherActor):
    """A publisher actor whose process is the fake publisher (the RTMP refusal codes)."""

    refusal_exits: ClassVar[dict[int, str]] = {
        EXIT_KEY_REFUSED: "stream key", EXIT_APP_REFUSED: "server URL",
    }  # fmt: skip
    argv: ClassVar[list[str]] = []

    def _command(self) -> FeedCommand:
        return FeedCommand(list(self.argv), "fake publisher", SecretInput(b"2\n{}"))


@dataclass
class _Rig:
    clock: FakeClock
    events: EventLog
    probe: _Probe
    mode: Path
    proxy: Any

    def status(self) -> dict[str, Any]:
        return dict(self.proxy.status().get(timeout=5))

    def set_mode(self, mode: str) -> None:
        self.mode.write_text(mode)

    def alerts(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.events.of("alert") if a.get("kind") == kind]


@pytest.fixture
def start_rig(tmp_path: Path, ffmpeg_binary: FfmpegBinary) -> Callable[..., _Rig]:
    script = tmp_path / "fake_publisher.py"
    script.write_text(FAKE_PUBLISHER)
    mode = tmp_path / "mode"

    def start(first: str, *, reachable: bool = False, **schedule: Any) -> _Rig:
        mode.write_text(first)
        _FakePublisher.argv = [sys.executable, "-I", str(script), str(mode)]
        clock, events, probe = FakeClock(), EventLog(), _Probe(reachable)
        ref = _FakePublisher.start(
            Link("outputs/destination-main", clock=clock, events=events), _Model(),
            _Program(), ffmpeg_binary, probe=ProbeTarget("127.0.0.1", 1935, check=probe),
            schedule=RetrySchedule(**schedule), connect_timeout=1000,
        )  # fmt: skip
        return _Rig(clock, events, probe, mode, ref.proxy())

    return start


def _probe_handled(rig: _Rig) -> None:
    """Let the actor take the probe's answer (posted by the probe thread right after it was
    counted) and schedule the next probe, before the test moves the fake clock: a status
    call is answered after every message posted before it."""
    time.sleep(0.3)
    rig.status()


def _until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


# -- how far the RTMP publish got (pure) ---------------------------------------------------


def _lines(*lines: str, logger: str = "libav.rtmp") -> RtmpProgress:
    progress = RtmpProgress()
    for line in lines:
        progress.handle(logging.LogRecord(logger, 5, __file__, 0, line, None, None))
    return progress


def test_a_close_after_the_publish_command_is_a_rejected_key() -> None:
    progress = _lines("Handshaking...", "Proto = rtmp, path = /live/k, app = live, fname = k",
                      "Releasing stream...", "Creating stream...",
                      "Sending publish command for 'k'")  # fmt: skip
    assert progress.stage is RtmpStage.PUBLISH_SENT
    refusal = progress.refusal("Input/output error")
    assert refusal is not None and refusal.exit_code == EXIT_KEY_REFUSED
    assert refusal.words == (
        "the server rejected the stream key: it ended the connection right after the "
        "publish command (Input/output error)"
    )


def test_an_error_status_after_publish_quotes_the_server() -> None:
    progress = _lines("Proto = rtmps, path = /app/k", "Sending publish command for 'k'",
                      "Server error: Unauthorized", logger="libav.rtmps")  # fmt: skip
    refusal = progress.refusal("Input/output error")
    assert refusal is not None and refusal.exit_code == EXIT_KEY_REFUSED
    assert refusal.words == "the server rejected the stream key: the server said: Unauthorized"


def test_a_close_right_after_connect_is_a_refused_application() -> None:
    refusal = _lines("Handshaking...", "Proto = rtmp, path = /nope/k").refusal("EOF")
    assert refusal is not None and refusal.exit_code == EXIT_APP_REFUSED
    assert "refused the application in the URL" in refusal.words


@pytest.mark.parametrize(
    "lines",
    [
        (),  # connection refused, no route, DNS: nothing from rtmp at all
        ("Handshaking...",),  # the handshake broke: not an RTMP server, or the network
        ("Proto = rtmp", "Creating stream..."),  # broke between connect and publish
    ],
)
def test_anything_before_the_server_answered_is_the_network(lines: tuple[str, ...]) -> None:
    assert _lines(*lines).refusal("Connection refused") is None


def test_other_loggers_do_not_count() -> None:
    assert _lines("Sending publish command for 'k'", logger="libav.tcp").stage is RtmpStage.NOTHING


# -- the actor: rejected is a state, with one alert and a slow retry -------------------------


def test_a_rejected_key_waits_the_backoff_maximum_with_one_alert_and_no_probe(
    start_rig: Callable[..., _Rig],
) -> None:
    rig = start_rig("key")
    assert rig.events.wait_state("rejected", 30, attempt=1), rig.events.of("event.destination")
    status = rig.status()
    assert status["state"] == "rejected"
    assert status["last_error"] == KEY_WORDS.removeprefix("flv publisher: ")
    assert status["next_retry_in"] == pytest.approx(60.0)  # the spec's backoff maximum
    (alert,) = rig.alerts("destination_rejected")
    assert alert["severity"] == "error" and alert["source"] == "destination:main"
    assert alert["message"].startswith("Destination main: the server rejected the stream key")
    assert alert["hint"].startswith("Check the stream key of destination main")
    assert "every 60 s" in alert["hint"]
    assert alert["resolves"] == ["destination_failing", "destination_failed"]

    rig.clock.advance(59.9)  # nothing before the minute: no retry, no probe knocking
    assert rig.status()["attempt"] == 1 and rig.probe.calls == 0
    rig.clock.advance(0.1)
    assert rig.events.wait_state("rejected", 30, attempt=2)
    assert rig.status()["next_retry_in"] == pytest.approx(60.0)
    assert len(rig.alerts("destination_rejected")) == 1  # still the one alert
    assert not rig.alerts("destination_failed")


def test_a_rejected_key_after_ten_attempts_stays_rejected_without_a_failed_alert(
    start_rig: Callable[..., _Rig],
) -> None:
    rig = start_rig("key", max_attempts=2, rejected_interval=5.0)
    for attempt in (1, 2, 3, 4):
        assert rig.events.wait_state("rejected", 30, attempt=attempt)
        assert rig.status()["next_retry_in"] == pytest.approx(5.0 if attempt < 3 else 60.0)
        rig.clock.advance(rig.status()["next_retry_in"])
    assert not rig.alerts("destination_failed")
    assert len(rig.alerts("destination_rejected")) == 1


def test_a_refused_application_asks_to_check_the_url(start_rig: Callable[..., _Rig]) -> None:
    rig = start_rig("app")
    assert rig.events.wait_state("rejected", 30, attempt=1)
    (alert,) = rig.alerts("destination_rejected")
    assert "refused the application in the URL" in alert["message"]
    assert alert["hint"].startswith("Check the server URL of destination main")


def test_going_live_clears_the_rejection_and_reconnect_retries_at_once(
    start_rig: Callable[..., _Rig],
) -> None:
    rig = start_rig("key")
    assert rig.events.wait_state("rejected", 30, attempt=1)
    rig.set_mode("live")  # the operator fixed the key on the platform's side
    rig.proxy.retry_now().get(timeout=5)  # Reconnect: no minute to wait
    assert _until(lambda: rig.status()["bytes_sent"] == 1000)
    rig.clock.advance(0.25)
    assert rig.events.wait_state("live", 30), rig.events.of("event.destination")
    cleared = [a for a in rig.alerts("destination_rejected") if a.get("cleared")]
    assert len(cleared) == 1 and cleared[0]["source"] == "destination:main"


def test_a_network_failure_is_not_a_rejection(start_rig: Callable[..., _Rig]) -> None:
    rig = start_rig("network")
    assert rig.events.wait_state("retrying", 30, attempt=1)
    status = rig.status()
    assert status["next_retry_in"] == pytest.approx(2.0)  # the spec's first delay
    assert "rejected" not in status["last_error"]
    assert not rig.alerts("destination_rejected")


# -- the probe ends a network wait early; publish attempts keep the backoff's count ----------


def test_a_server_that_answers_again_ends_the_wait_within_the_probe_interval(
    start_rig: Callable[..., _Rig],
) -> None:
    rig = start_rig("network")
    assert rig.events.wait_state("retrying", 30, attempt=1)
    assert _until(lambda: rig.probe.calls == 1)  # the first probe at once: "down"
    for calls in (2, 3):  # 2 s to wait: the probes at 0.5 and 1.0 s say "down"
        _probe_handled(rig)
        rig.clock.advance(0.5)
        assert _until(lambda: rig.probe.calls == calls)  # noqa: B023 (used at once)
    _probe_handled(rig)
    assert _until(lambda: rig.status()["reachable"] is False)
    rig.set_mode("broken")  # it takes the connection, then breaks it off
    rig.probe.reachable = True  # the server accepts again
    rig.clock.advance(0.5)
    assert rig.events.wait_state("connecting", 10, attempt=1), "the wait did not end early"
    assert rig.events.wait_state("retrying", 30, attempt=2), [  # the publish attempt failed
        (p["state"], p["attempt"], p["last_error"]) for p in rig.events.of("event.destination")
    ]
    assert rig.status()["next_retry_in"] == pytest.approx(4.0)  # the backoff goes on: 2, 4


def test_a_server_that_answers_is_probed_only_now_and_then(start_rig: Callable[..., _Rig]) -> None:
    """The connection was made and broke off: the server was there, so its answering says
    nothing new and the wait goes on."""
    rig = start_rig("broken", reachable=True, backoff=Backoff.fixed(30.0))
    assert rig.events.wait_state("retrying", 30, attempt=1)
    assert _until(lambda: rig.probe.calls == 1)  # the first probe at once
    _probe_handled(rig)
    rig.clock.advance(4.9)  # the server answered: the next probe comes 5 s later
    time.sleep(0.2)
    assert rig.probe.calls == 1
    rig.clock.advance(0.1)
    assert _until(lambda: rig.probe.calls == 2)
    assert rig.status()["state"] == "retrying"  # answering all along: no early retry


def test_a_server_back_right_after_the_failed_attempt_still_ends_the_wait(
    start_rig: Callable[..., _Rig],
) -> None:
    """The first probe goes out at once, so a server down at the failed attempt is seen down
    even when it answers again within the probe interval (no full 30 s wait)."""
    rig = start_rig("network", backoff=Backoff.fixed(30.0))
    assert rig.events.wait_state("retrying", 30, attempt=1)
    assert _until(lambda: rig.probe.calls == 1)  # at once, without the clock moving
    assert _until(lambda: rig.status()["reachable"] is False)
    _probe_handled(rig)
    rig.probe.reachable = True  # back before the next probe
    rig.clock.advance(0.5)
    assert rig.events.wait_state("connecting", 10, attempt=1), "it waited out the 30 s"


def test_a_server_back_before_the_first_probe_ends_the_wait_at_once(
    start_rig: Callable[..., _Rig],
) -> None:
    """Chaos scenario 5: the server accepts again in the moment between the refused attempt
    and the wait's first probe. The refused connect counts as having seen it down."""
    rig = start_rig("network", reachable=True, backoff=Backoff.fixed(30.0))
    assert rig.events.wait_state("retrying", 30, attempt=1)
    assert _until(lambda: rig.probe.calls >= 1)  # at once, without the clock moving
    assert rig.events.wait_state("connecting", 10, attempt=1), "it waited out the 30 s"


def test_a_server_that_answers_while_refusing_every_publish_is_not_hammered(
    start_rig: Callable[..., _Rig],
) -> None:
    """The probe answers but every publish is refused (they reach different places): the
    credit of a refused connect ends one wait early, not every wait."""
    rig = start_rig("network", reachable=True)
    assert rig.events.wait_state("retrying", 30, attempt=1)
    assert rig.events.wait_state("connecting", 10, attempt=1)  # the credit: at once
    assert rig.events.wait_state("retrying", 30, attempt=2)
    assert _until(lambda: rig.probe.calls >= 2)  # the second wait's first probe: "answers"
    _probe_handled(rig)
    status = rig.status()
    assert status["state"] == "retrying" and status["attempt"] == 2, status
    assert status["next_retry_in"] == pytest.approx(4.0)  # the spec's backoff goes on


@pytest.mark.parametrize(
    ("detail", "at_connect"),
    [
        (NETWORK_WORDS, True),
        ("flv publisher: connecting to rtmp://h/live/*** failed: Connection timed out", True),
        ("flv publisher: connecting to rtmp://h/live/*** failed: Network is unreachable", True),
        ("Connection setup failure: connection timed out", True),  # ffmpeg's SRT caller
        ("Error opening output files: Input/output error", True),  # ffmpeg's SRT, listener down
        (BROKEN_WORDS, False),
        ("flv publisher: connecting to rtmp://h/live/*** failed: Input/output error", False),
        (KEY_WORDS, False),
    ],
)
def test_only_a_connect_that_found_no_server_counts_as_seen_down(
    detail: str, at_connect: bool
) -> None:
    assert failed_at_connect(detail) is at_connect


# -- live within a quarter second of the first accepted bytes --------------------------------


def test_the_first_accepted_bytes_make_it_live_within_a_quarter_second(
    start_rig: Callable[..., _Rig],
) -> None:
    rig = start_rig("live")
    assert rig.events.wait_state("connecting", 10)
    assert _until(lambda: rig.status()["bytes_sent"] == 1000)
    rig.clock.advance(0.25)
    assert rig.events.wait_state("live", 5), rig.events.of("event.destination")
