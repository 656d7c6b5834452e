"""The RTMP publisher process (PyAV, key on stdin) against real nginx-rtmp, through ChunkFeed.

What the ffmpeg publisher did, it must do too: publish a decodable stream under the key,
report ``total_size`` on stdout, finish cleanly (exit 0) when its input ends, and exit
non-zero with one masked line when nothing is on its stdin (2) or when the server stops taking
bytes (3, after ``rw_timeout``). The key is never in its argv or environment. A refused key
(exit 4) and a refused application (5) are in ``test_rejected_key_real.py``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_destination_feed import TsFeed

from chaos.proxy import FaultProxy
from chaos.realparts import NginxRtmp
from chaos.realparts.decode import decode_video
from vistter.actors.outputs.chunk_feed import ChunkFeed
from vistter.actors.outputs.destination import flv_publisher_argv
from vistter.actors.outputs.flv_publisher import EXIT_INPUT, EXIT_TIMEOUT
from vistter.actors.outputs.publish_request import PublishRequest, PublishRequestError
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.supervisors.processes import ProcessSet
from vistter.supervisors.secret_input import SecretInput

KEY = "flv-Key-93xQ-secret"


# -- the request on stdin --------------------------------------------------------------


def test_the_request_is_read_exactly_and_what_follows_stays_on_the_pipe() -> None:
    request = PublishRequest(
        url=f"rtmp://h/live/{KEY}", shown_as="rtmp://h/live/***", secrets=(KEY,),
        rw_timeout=2.5, analyze_us=300_000,
    )  # fmt: skip
    assert KEY not in repr(request) and KEY not in repr(request.secret_input())
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, request.secret_input().payload + b"\x47TS")
        assert PublishRequest.read(read_end) == request
        assert os.read(read_end, 10) == b"\x47TS"
    finally:
        os.close(read_end)
        os.close(write_end)
    assert request.mask(f"error on rtmp://h/live/{KEY}: {KEY}") == (
        "error on rtmp://h/live/***: ***"
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "stdin ended after 0 bytes of the length"),
        (b"12\n{}", "ended after 2 of the request's 12 bytes"),
        (b"abc\n", "does not start with its length"),
        (b"9999999", "length line is too long"),
        (b"0\n", "out of range"),
        (b"2\n{}", r"malformed \(KeyError\)"),
        (b"4\nnull", r"malformed \(TypeError\)"),
    ],
)
def test_a_missing_or_malformed_request_is_refused(payload: bytes, message: str) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, payload)
    os.close(write_end)
    try:
        with pytest.raises(PublishRequestError, match=message):
            PublishRequest.read(read_end)
    finally:
        os.close(read_end)


# -- the process -----------------------------------------------------------------------


class _Run:
    """One publisher through a ChunkFeed; ``code`` once it exited by itself."""

    def __init__(self, source: TsFeed | None, preamble: SecretInput | None) -> None:
        self.processes = ProcessSet()
        self.exited = threading.Event()
        self.code: int | None = None
        self.errors: list[tuple[str, BaseException]] = []
        self.feed = ChunkFeed(
            name="test-flv", argv=flv_publisher_argv(), args_for_log="flv publisher",
            source=source if source is not None else _Silent(), processes=self.processes,
            clock=MonotonicClock(), on_exit=self._on_exit,
            on_error=lambda worker, exc: self.errors.append((worker, exc)),
            preamble=preamble,
        )  # fmt: skip

    def _on_exit(self, code: int | None) -> None:
        self.code = code
        self.exited.set()

    def wait_bytes(self, at_least: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.feed.progress().output_bytes or 0) < at_least:
            time.sleep(0.1)
        return self.feed.progress().output_bytes or 0


class _Silent:
    def get(self, timeout: float) -> bytes | None:
        time.sleep(timeout)
        return None

    def resync(self) -> None:
        return None


@contextmanager
def _publishing(source: TsFeed | None, preamble: SecretInput | None) -> Iterator[_Run]:
    run = _Run(source, preamble)
    run.feed.start()
    try:
        yield run
    finally:
        run.feed.stop()
    assert run.processes.pids() == []
    assert run.errors == []


def _request(server: str, rw_timeout: float = 5.0) -> PublishRequest:
    return PublishRequest(
        url=f"{server}/{KEY}", shown_as=f"{server}/***", secrets=(KEY,), rw_timeout=rw_timeout
    )


def _proc(pid: int, name: str) -> bytes:
    return Path(f"/proc/{pid}/{name}").read_bytes()


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_publishes_under_the_key_that_is_in_no_argv_or_environment(
    nginx_rtmp: NginxRtmp, ts_feed: TsFeed
) -> None:
    server = nginx_rtmp.url(key="x").rsplit("/", 1)[0]
    with _publishing(ts_feed, _request(server).secret_input()) as run:
        assert run.wait_bytes(150_000, 20) >= 150_000, run.feed.stderr_tail()
        pid = run.feed.pid
        assert pid is not None
        assert KEY.encode() not in _proc(pid, "cmdline")
        assert KEY.encode() not in _proc(pid, "environ")
        assert b"vistter.actors.outputs.flv_publisher" in _proc(pid, "cmdline")
        assert (nginx_rtmp.stream_bytes_in(KEY) or 0) > 100_000
        time.sleep(2)  # a few more GOPs for the recording
        code = run.feed.stop(5.0, drain=True)
    assert code == 0, run.feed.stderr_tail()  # the input ended: the stream was finished
    assert not run.exited.is_set()
    video = decode_video(nginx_rtmp.recording(KEY))
    assert (video.width, video.height) == (320, 240)
    assert video.frames >= 60
    assert video.largest_gap() < 0.1


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_server_that_takes_no_bytes_is_given_up_after_rw_timeout(
    nginx_rtmp: NginxRtmp, ffmpeg_binary: FfmpegBinary
) -> None:
    # CBR 8 Mbit/s, so that the kernel's buffers fill within seconds (as in the black-hole
    # test of the destination actor), behind a proxy that stops reading.
    with (
        TsFeed(ffmpeg_binary.path, bitrate_kbps=8000) as feed,
        FaultProxy("127.0.0.1", nginx_rtmp.rtmp_port) as proxy,
    ):
        server = f"rtmp://127.0.0.1:{proxy.port}/live"
        with _publishing(feed, _request(server, rw_timeout=2.0).secret_input()) as run:
            assert run.wait_bytes(500_000, 20) >= 500_000, run.feed.stderr_tail()
            proxy.blackhole()
            blackholed = time.monotonic()
            assert run.exited.wait(45), run.feed.stderr_tail()
            took = time.monotonic() - blackholed
    assert run.code == EXIT_TIMEOUT
    assert 2.0 <= took < 40.0  # the buffers fill first, then 2 s of a blocked write
    last = run.feed.last_error()
    assert f"{server}/*** blocked for 2 s" in last and KEY not in last, last


@pytest.mark.timeout(30)
def test_no_request_on_stdin_exits_2() -> None:
    with _publishing(None, None) as run:
        assert run.feed.stop(5.0, drain=True) == EXIT_INPUT  # stdin closes: no request at all
        assert run.feed.last_error().startswith("flv publisher: no publish request on stdin")
    with _publishing(None, SecretInput(b"5\nnull!")) as run:
        assert run.feed.stop(5.0, drain=True) == EXIT_INPUT
        assert "the request is malformed" in run.feed.last_error()


@pytest.mark.timeout(30)
def test_a_program_without_mpeg_ts_exits_2() -> None:
    request = _request("rtmp://127.0.0.1:9/live")
    with _publishing(None, SecretInput(request.secret_input().payload + b"not a TS")) as run:
        code = run.feed.stop(10.0, drain=True)
    assert code == EXIT_INPUT, run.feed.stderr_tail()
    assert run.feed.last_error().startswith("flv publisher: "), run.feed.stderr_tail()


class _TlsTerminator:
    """RTMPS for the test: TLS on 127.0.0.1 (a self-signed certificate made by openssl),
    forwarded in clear to nginx-rtmp. Threads are daemons; ``close`` ends them."""

    def __init__(self, workdir: Path, target_port: int) -> None:
        cert, key = workdir / "cert.pem", workdir / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self._listener.accept()
                client = self._context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                return
            server = socket.create_connection(("127.0.0.1", self._target), timeout=5)
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_publishes_over_rtmps(nginx_rtmp: NginxRtmp, ts_feed: TsFeed, tmp_path: Path) -> None:
    tls = _TlsTerminator(tmp_path, nginx_rtmp.rtmp_port)
    try:
        request = _request(f"rtmps://127.0.0.1:{tls.port}/live")
        with _publishing(ts_feed, request.secret_input()) as run:
            assert run.wait_bytes(100_000, 20) >= 100_000, run.feed.stderr_tail()
            assert (nginx_rtmp.stream_bytes_in(KEY) or 0) > 50_000
            assert run.feed.stop(5.0, drain=True) == 0, run.feed.stderr_tail()
    finally:
        tls.close()
    assert decode_video(nginx_rtmp.recording(KEY)).frames >= 30
