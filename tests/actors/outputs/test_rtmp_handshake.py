"""The RTMP handshake probe: a real nginx-rtmp answers (and nothing is published); a server
that accepts TCP but never answers, a closed port, and a server that is not RTMP do not."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.realparts import NginxRtmp
from vistter.actors.outputs.destination import rtmp_probe
from vistter.actors.outputs.kind import OutputModel
from vistter.actors.outputs.probe_all import probe_destinations
from vistter.actors.outputs.reachability import tcp_probe
from vistter.actors.outputs.rtmp_handshake import rtmp_handshake, rtmps_handshake
from vistter.models.destinations import RecorderDestination, RtmpDestination

pytestmark = pytest.mark.timeout(60)


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never says a word (a black hole); or, with
    ``answer``, sends it and closes."""

    def __init__(self, answer: bytes | None = None) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._answer = answer
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._answer is not None:
                conn.recv(4096)
                conn.sendall(self._answer)
                conn.close()
            else:
                self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_nginx_answers_the_handshake_and_nothing_is_published(nginx_rtmp: NginxRtmp) -> None:
    result = rtmp_handshake("127.0.0.1", nginx_rtmp.rtmp_port, 2.0)
    assert result.reachable, result.detail
    assert nginx_rtmp.stream_bytes_in("name") is None
    assert not list(Path(nginx_rtmp.record_dir).rglob("*.flv"))


def test_a_server_that_accepts_but_never_answers_is_unreachable_within_the_timeout(
    silent: SilentServer,
) -> None:
    assert tcp_probe("127.0.0.1", silent.port, 1.0).reachable  # TCP alone is fooled
    started = time.monotonic()
    result = rtmp_handshake("127.0.0.1", silent.port, 1.0)
    elapsed = time.monotonic() - started
    assert not result.reachable
    assert "no RTMP handshake answer within 1 s" in result.detail
    assert elapsed < 1.5


def test_a_closed_port_is_unreachable_at_once() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = int(probe.getsockname()[1])
    started = time.monotonic()
    result = rtmp_handshake("127.0.0.1", port, 2.0)
    assert not result.reachable and "refused" in result.detail.lower()
    assert time.monotonic() - started < 1.0


def test_a_server_that_is_not_rtmp_is_unreachable() -> None:
    server = SilentServer(answer=b"HTTP/1.1 400 Bad Request\r\n\r\n" + bytes(3100))
    try:
        result = rtmp_handshake("127.0.0.1", server.port, 2.0)
    finally:
        server.close()
    assert not result.reachable and "not an RTMP server" in result.detail


def test_rtmps_over_a_server_without_tls_fails_with_a_reason() -> None:
    server = SilentServer(answer=b"not tls at all" * 10)
    try:
        result = rtmps_handshake("127.0.0.1", server.port, 2.0)
    finally:
        server.close()
    assert not result.reachable and result.detail


def test_each_scheme_gets_its_protocols_probe() -> None:
    def probe_of(url: str) -> object:
        return rtmp_probe(RtmpDestination(id="d", platform="custom_rtmp", url=url)).check

    assert probe_of("rtmp://127.0.0.1/live") is rtmp_handshake
    assert probe_of("rtmps://live-api-s.facebook.com:443/rtmp") is rtmps_handshake


def test_probe_destinations_asks_every_platform_and_skips_local_outputs(
    nginx_rtmp: NginxRtmp, silent: SilentServer, tmp_path: Path
) -> None:
    server = nginx_rtmp.url("live", "k").rsplit("/", 1)[0]
    destinations: list[OutputModel] = [
        RtmpDestination(id="up", platform="custom_rtmp", url=server, stream_key="k"),
        RtmpDestination(id="hole", platform="custom_rtmp",
                        url=f"rtmp://127.0.0.1:{silent.port}/live", stream_key="k"),
        RecorderDestination(id="rec", platform="recorder", path=tmp_path),
    ]
    started = time.monotonic()
    answers = {p.destination.id: p.result for p in probe_destinations(destinations, 1.0)}
    assert time.monotonic() - started < 1.8  # in parallel: one timeout, not two
    assert answers["up"] is not None and answers["up"].reachable
    assert answers["hole"] is not None and not answers["hole"].reachable
    assert answers["rec"] is None
