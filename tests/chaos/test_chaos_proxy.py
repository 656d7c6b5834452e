"""The chaos harness's TCP fault proxy, against a real echo server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # chaos/ is a top-level helper package, not installed
    sys.path.insert(0, str(_ROOT))

from chaos import FaultProxy, ProxyError  # noqa: E402

_IO_TIMEOUT_S = 5.0


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(15.0)
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
        except OSError:
            return


class _EchoServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True


@pytest.fixture
def echo() -> Iterator[int]:
    """A threaded echo server on 127.0.0.1; yields its port."""
    server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5.0)
        assert not thread.is_alive()


@pytest.fixture
def proxy(echo: int) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", echo) as fault_proxy:
        yield fault_proxy
        assert fault_proxy.stats()["internal_errors"] == 0


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=_IO_TIMEOUT_S)
    sock.settimeout(_IO_TIMEOUT_S)
    return sock


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = sock.recv(min(65536, n - got))
        if not chunk:
            raise AssertionError(f"EOF after {got} of {n} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _echo_round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return _recv_exactly(sock, len(payload))


def _connect_and_recv(port: int) -> bytes:
    """Connect, send a little and read; a reset may come during connect or at the read."""
    with _connect(port) as sock:
        sock.sendall(b"hello")
        return sock.recv(1)


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the peer closed the connection, with a FIN (EOF) or an RST."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _wait_until(predicate: object, timeout: float = _IO_TIMEOUT_S) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.mark.timeout(20)
def test_passthrough_echoes_and_counts_bytes(proxy: FaultProxy) -> None:
    payload = os.urandom(200_000)
    with _connect(proxy.port) as sock:
        assert _echo_round_trip(sock, payload) == payload
        stats = proxy.stats()
        assert stats["connections_active"] == 1
    assert stats["mode"] == "passthrough"
    assert stats["connections_accepted"] == 1
    assert stats["bytes_to_target"] == len(payload)
    assert stats["bytes_to_client"] == len(payload)
    assert stats["by_mode"]["passthrough"]["bytes_to_client"] == len(payload)
    _wait_until(lambda: proxy.stats()["connections_active"] == 0)


@pytest.mark.timeout(20)
def test_half_close_is_passed_on(proxy: FaultProxy) -> None:
    with _connect(proxy.port) as sock:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)
        assert _recv_exactly(sock, 10) == b"last words"
        assert sock.recv(1) == b""  # the echo server saw our EOF and closed


@pytest.mark.timeout(20)
def test_down_refuses_then_up_serves_on_the_same_port(proxy: FaultProxy) -> None:
    port = proxy.port
    with _connect(port) as before:
        assert _echo_round_trip(before, b"ping") == b"ping"
        proxy.down()
        assert proxy.stats()["listening"] is False
        assert _closed_by_peer(before)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=_IO_TIMEOUT_S).close()

    proxy.up()
    assert proxy.port == port
    with _connect(port) as after:
        assert _echo_round_trip(after, b"pong") == b"pong"
    assert proxy.stats()["mode"] == "passthrough"


@pytest.mark.timeout(20)
def test_blackhole_holds_bytes_and_keeps_the_connection(proxy: FaultProxy) -> None:
    with _connect(proxy.port) as sock:
        assert _echo_round_trip(sock, b"warm") == b"warm"
        proxy.blackhole()
        sock.sendall(b"into the void")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        assert proxy.stats()["connections_active"] == 1
        assert proxy.stats()["by_mode"]["blackhole"]["bytes_to_target"] == 0
        # The proxy held the bytes instead of dropping them: they arrive once it lifts.
        proxy.passthrough()
        sock.settimeout(_IO_TIMEOUT_S)
        assert _recv_exactly(sock, 13) == b"into the void"


@pytest.mark.timeout(20)
def test_blackhole_back_pressures_the_sender(proxy: FaultProxy) -> None:
    proxy.blackhole()
    with _connect(proxy.port) as sock:
        sock.setblocking(False)
        chunk = b"x" * 65536
        sent = 0
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                break
        else:
            raise AssertionError(f"the sender never blocked after {sent} bytes")
        assert 0 < sent < 64 * 1024 * 1024
        assert proxy.stats()["bytes_to_target"] == 0


def _push_until_blocked(sock: socket.socket, quiet_s: float = 0.5) -> int:
    """Send as much as the connection takes; stop once nothing moved for ``quiet_s``."""
    sock.setblocking(False)
    chunk = b"x" * 65536
    sent = 0
    last_progress = time.monotonic()
    while time.monotonic() - last_progress < quiet_s:
        try:
            sent += sock.send(chunk)
            last_progress = time.monotonic()
        except BlockingIOError:
            time.sleep(0.02)
    return sent


@pytest.mark.timeout(30)
def test_blackhole_buffers_little_even_after_a_fast_stream(proxy: FaultProxy) -> None:
    """A black hole ACKs nothing: once the proxy stops reading, the kernel must not keep
    taking megabytes into a receive buffer that autotuning grew while data flowed fast
    (Linux allows up to tcp_rmem max, 32 MiB on the reference box); that made a
    publisher's time to block range from 10 s to 40 s."""
    with _connect(proxy.port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        block = os.urandom(1 << 20)
        for _ in range(24):  # ~24 MiB each way, as fast as it goes: autotuning grows
            sock.sendall(block)
            assert _recv_exactly(sock, len(block)) == block
        proxy.blackhole()
        held = _push_until_blocked(sock)
    assert 0 < held < 1536 * 1024, f"the proxy's side took {held} bytes before blocking"


@pytest.mark.timeout(20)
def test_latency_delays_each_direction(proxy: FaultProxy) -> None:
    with _connect(proxy.port) as sock:
        assert _echo_round_trip(sock, b"warm") == b"warm"
        proxy.latency(150)
        started = time.monotonic()
        assert _echo_round_trip(sock, b"slow") == b"slow"
        elapsed = time.monotonic() - started
    assert elapsed >= 2 * 0.150 - 0.005  # delayed on the way there and on the way back
    assert proxy.stats()["by_mode"]["latency"]["bytes_to_client"] == 4


@pytest.mark.timeout(20)
def test_latency_with_jitter_keeps_order(proxy: FaultProxy) -> None:
    proxy.latency(20, jitter_ms=20)
    with _connect(proxy.port) as sock:
        for i in range(30):
            sock.sendall(b"%03d" % i)
            time.sleep(0.002)
        assert _recv_exactly(sock, 90) == b"".join(b"%03d" % i for i in range(30))


@pytest.mark.timeout(20)
def test_reset_sends_rst_to_open_connections_only(proxy: FaultProxy) -> None:
    with _connect(proxy.port) as sock:
        assert _echo_round_trip(sock, b"ping") == b"ping"
        proxy.reset()
        with pytest.raises(ConnectionResetError):
            sock.recv(1)
    stats = proxy.stats()
    assert stats["connections_reset"] == 1
    assert stats["mode"] == "passthrough"
    with _connect(proxy.port) as again:
        assert _echo_round_trip(again, b"back") == b"back"


@pytest.mark.timeout(20)
def test_persistent_reset_resets_new_connections(proxy: FaultProxy) -> None:
    proxy.reset(persist=True)
    with pytest.raises(ConnectionResetError):
        _connect_and_recv(proxy.port)
    assert proxy.stats()["by_mode"]["reset"]["connections_reset"] == 1
    proxy.passthrough()
    with _connect(proxy.port) as sock:
        assert _echo_round_trip(sock, b"ok") == b"ok"


@pytest.mark.timeout(20)
def test_bandwidth_throttles(proxy: FaultProxy) -> None:
    rate = 100_000
    payload = os.urandom(150_000)
    proxy.bandwidth(rate)
    with _connect(proxy.port) as sock:
        started = time.monotonic()
        received = bytearray()
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        try:
            received += _recv_exactly(sock, len(payload))
        finally:
            sender.join(_IO_TIMEOUT_S)
        elapsed = time.monotonic() - started
    assert bytes(received) == payload
    assert elapsed >= len(payload) / rate - 0.05


@pytest.mark.timeout(20)
def test_target_down_resets_the_client() -> None:
    with socket.socket() as placeholder:  # a port that nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]
    with FaultProxy("127.0.0.1", dead_port) as proxy:
        with pytest.raises(ConnectionResetError):
            _connect_and_recv(proxy.port)
        assert proxy.stats()["target_connect_failures"] == 1


def test_refuses_non_loopback_listen_host_without_the_flag() -> None:
    with pytest.raises(ProxyError, match="not loopback"):
        FaultProxy("127.0.0.1", 9, listen_host="0.0.0.0")
    with pytest.raises(ProxyError, match="not an IP address"):
        FaultProxy("127.0.0.1", 9, listen_host="example.invalid")


def test_bad_arguments_and_unstarted_use_are_typed_errors(proxy: FaultProxy) -> None:
    with pytest.raises(ProxyError, match="latency"):
        proxy.latency(-1)
    with pytest.raises(ProxyError, match="bandwidth"):
        proxy.bandwidth(0)
    idle = FaultProxy("127.0.0.1", 9)
    with pytest.raises(ProxyError, match="not running"):
        idle.down()
    with pytest.raises(ProxyError, match="no port yet"):
        _ = idle.port


@pytest.mark.timeout(20)
def test_close_drops_connections_and_joins_the_thread(echo: int) -> None:
    before = set(threading.enumerate())
    proxy = FaultProxy("127.0.0.1", echo).start()
    sock = _connect(proxy.port)
    try:
        assert _echo_round_trip(sock, b"ping") == b"ping"
        proxy.close()
        proxy.close()  # idempotent
        assert _closed_by_peer(sock)
    finally:
        sock.close()
    leaked = [t for t in set(threading.enumerate()) - before if t.name.startswith("fault-proxy")]
    assert leaked == []
    with pytest.raises(ProxyError, match="not running"):
        proxy.passthrough()
    assert proxy.stats()["connections_active"] == 0


@pytest.mark.timeout(20)
def test_modes_switch_from_many_threads(proxy: FaultProxy) -> None:
    errors: list[BaseException] = []

    def flip() -> None:
        try:
            for _ in range(20):
                proxy.latency(1)
                proxy.bandwidth(1_000_000)
                proxy.passthrough()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=flip) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15.0)
    assert errors == []
    proxy.passthrough()
    with _connect(proxy.port) as sock:
        assert _echo_round_trip(sock, b"still fine") == b"still fine"


@pytest.mark.timeout(20)
def test_cli_runs_for_the_given_seconds_and_takes_modes_on_stdin(echo: int) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos.proxy",
            "--listen",
            "127.0.0.1:0",
            "--target",
            f"127.0.0.1:{echo}",
            "--mode",
            "latency:10",
            "--seconds",
            "8",
            "--stdin",
        ],
        cwd=_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        banner = process.stdout.readline()
        assert banner.startswith("listening 127.0.0.1:"), banner
        assert "mode=latency" in banner
        port = int(banner.split()[1].rsplit(":", 1)[1])
        with _connect(port) as sock:
            assert _echo_round_trip(sock, b"via cli") == b"via cli"
        process.stdin.write("bogus\ndown\nstats\n")
        process.stdin.flush()
        assert process.stdout.readline().startswith("error Unknown mode spec")
        assert process.stdout.readline().strip() == "ok down"
        live = json.loads(process.stdout.readline())
        assert live["mode"] == "down"
        assert live["bytes_to_client"] == 7
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=_IO_TIMEOUT_S).close()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        final = json.loads(out.strip().splitlines()[-1])
        assert final["connections_accepted"] == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
