"""SRT destinations: the model, the command, the SRT handshake probe, and the actor against a
real SRT listener (ffmpeg ``mode=listener``) on 127.0.0.1, passphrase kept secret."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pykka
import pytest
from pydantic import SecretStr, ValidationError
from test_destination_feed import EventLog, TsFeed

from chaos.realparts import SrtListener, free_udp_port
from chaos.realparts.decode import decode_video
from vistter.actors.outputs.command import copy_argv
from vistter.actors.outputs.reachability import srt_probe
from vistter.actors.outputs.registry import OUTPUT_KINDS, output_kind
from vistter.actors.outputs.retry import RetrySchedule
from vistter.actors.outputs.srt import SrtDestinationActor, srt_output
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.destinations import SrtDestination
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link

SECRET = "pass-8472-SeCrEt"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def _srt(url: str, passphrase: str | None = SECRET) -> SrtDestination:
    return SrtDestination(
        id="contrib", platform="srt", url=url,
        passphrase=None if passphrase is None else SecretStr(passphrase),
    )  # fmt: skip


# -- the model and the command -----------------------------------------------------------


def test_the_model_takes_a_caller_url_and_keeps_the_passphrase_secret() -> None:
    destination = _srt("srt://203.0.113.5:9000?latency=200000&streamid=%23!::r=live/k1")
    assert destination.endpoint == ("203.0.113.5", 9000)
    assert SECRET not in repr(destination) and SECRET not in destination.model_dump_json()
    assert destination.passphrase_value() == SECRET
    assert destination.display_url == "srt://203.0.113.5:9000?latency=200000&streamid=***"
    assert output_kind(destination) is OUTPUT_KINDS["srt"]
    assert output_kind(destination).child_id(destination) == "srt-contrib"


@pytest.mark.parametrize(
    ("url", "passphrase", "what"),
    [
        ("rtmp://203.0.113.5/live", None, "is not srt://"),
        ("srt://203.0.113.5", None, "needs a host and a port"),
        ("srt://203.0.113.5:9000?mode=listener", None, "caller mode"),
        (f"srt://203.0.113.5:9000?passphrase={SECRET}", None, "must not carry the passphrase"),
        ("srt://203.0.113.5:9000", "short", "10 to 79 characters"),
    ],
)
def test_the_model_refuses_what_cannot_work(url: str, passphrase: str | None, what: str) -> None:
    with pytest.raises(ValidationError) as error:
        _srt(url, passphrase)
    assert what in str(error.value)
    assert SECRET not in str(error.value)


def test_from_url_takes_the_passphrase_out_of_the_url() -> None:
    destination = SrtDestination.from_url(
        f"srt://127.0.0.1:9000?latency=120000&passphrase={SECRET}", "to-1"
    )
    assert destination.url == "srt://127.0.0.1:9000?latency=120000"
    assert destination.passphrase_value() == SECRET


def test_the_command_is_the_copy_head_plus_mpegts_to_srt_with_the_passphrase_apart() -> None:
    tail = srt_output("srt://127.0.0.1:9000", SECRET, io_timeout=3)
    argv = copy_argv("ffmpeg", tail)
    assert argv[argv.index("-c") + 1] == "copy"
    assert argv[argv.index("-passphrase") + 1] == SECRET
    assert argv[-3:] == ["-f", "mpegts", "srt://127.0.0.1:9000"]
    assert argv[argv.index("-timeout") + 1] == "3000000"
    assert "-passphrase" not in srt_output("srt://127.0.0.1:9000", None)


# -- the probe ---------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_srt_probe_needs_an_srt_handshake_not_just_an_open_port(tmp_path: object) -> None:
    closed = srt_probe("127.0.0.1", free_udp_port(), 0.5)
    assert not closed.reachable and closed.detail
    # a UDP socket that answers with something else is not an SRT listener
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as imposter:
        imposter.bind(("127.0.0.1", 0))
        port = imposter.getsockname()[1]

        def answer() -> None:
            data, peer = imposter.recvfrom(2048)
            imposter.sendto(b"\x00" * len(data), peer)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        result = srt_probe("127.0.0.1", port, 1.0)
        thread.join(2)
    assert not result.reachable
    assert result.detail == "not an SRT handshake"


@pytest.mark.slow
@pytest.mark.timeout(30)
def test_srt_probe_finds_a_real_listener(tmp_path: pytest.TempPathFactory) -> None:
    with SrtListener(tmp_path, passphrase=SECRET) as listener:  # type: ignore[arg-type]
        assert srt_probe("127.0.0.1", listener.port, 1.0).reachable
    assert not srt_probe("127.0.0.1", listener.port, 0.5).reachable


# -- the actor against a real listener ---------------------------------------------------


def _wait(check: object, timeout: float) -> bool:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_publishes_over_srt_survives_a_listener_restart_and_never_shows_the_passphrase(
    tmp_path: pytest.TempPathFactory,
    ffmpeg_binary: FfmpegBinary,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events = EventLog()
    link = Link("outputs/srt-contrib", events=events)
    schedule = RetrySchedule(backoff=Backoff.fixed(30.0, reset_after=30), probe_interval=0.5)
    with (
        TsFeed(ffmpeg_binary.path, gop=60) as feed,
        SrtListener(tmp_path, passphrase=SECRET) as listener,  # type: ignore[arg-type]
    ):
        ref = SrtDestinationActor.start(
            link, _srt(listener.url), feed, ffmpeg_binary, schedule=schedule
        )
        assert events.wait_state("live", 20), events.of("event.destination")
        assert _wait(lambda: listener.received_bytes(1) > 200_000, 20), listener.log()
        status = ref.proxy().status().get(timeout=5)
        assert status["state"] == "live" and status["platform"] == "srt"
        assert status["url"] == listener.url
        assert status["bytes_sent"] > 0 and status["bitrate_kbps"] > 0
        assert _wait(lambda: ref.proxy().status().get(timeout=5)["bytes_sent"] > 200_000, 5)

        listener.kill()  # the listener crashes: SRT notices within its peer idle timeout
        assert events.wait_state("retrying", 20, attempt=1), events.of("event.destination")
        assert _wait(lambda: ref.proxy().status().get(timeout=5)["reachable"] is False, 10), (
            "the SRT probe should find the killed listener unreachable"
        )
        mark = len(events.of("event.destination"))
        listener.start()  # the same port, a new file
        started = time.monotonic()
        assert events.wait_for(
            lambda _m: any(p["state"] == "live" for p in events.of("event.destination")[mark:]),
            20,
        ), events.of("event.destination")[mark:]
        assert time.monotonic() - started < 15, "the SRT probe should beat the 30 s delay"
        assert _wait(lambda: listener.received_bytes(2) > 100_000, 20), listener.log()
        final = ref.proxy().status().get(timeout=5)
        ref.stop(timeout=10)
        assert link.processes.pids() == []

    first = decode_video(listener.recording(1))
    assert (first.width, first.height) == (320, 240)
    assert first.frames >= 60 and first.largest_gap() < 0.1
    assert decode_video(listener.recording(2)).frames >= 30
    everything = caplog.text + repr(events.messages) + repr(status) + repr(final)
    assert SECRET not in everything
