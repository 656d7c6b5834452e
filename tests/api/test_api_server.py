"""The ApiServer actor serving the app with a real uvicorn on 127.0.0.1, and check_bind."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pykka
import pytest
import uvicorn

from vistter.api import ApiDeps, ApiServer, check_bind, create_app
from vistter.api.server import _EmbeddedServer, bind_listener, is_loopback
from vistter.errors import BindRefusedError, ConfigError
from vistter.supervisors.link import ExitReason, Link

TOKEN = "server-test-token"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=10)


def tree() -> dict[str, Any]:
    return {"id": "root", "path": "root", "kind": "supervisor", "state": "running",
            "children": [{"id": "api", "path": "root/api", "kind": "worker",
                          "state": "running", "children": []}]}


def make_app(token: str | None = None, max_body_bytes: int = 1_000) -> Any:
    return create_app(ApiDeps(tree=tree, validate_timeline=lambda d: [], started_at=0.0,
                              version="1.2.3", token=token, max_body_bytes=max_body_bytes))


def port_is_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def start(app: Any, host: str = "127.0.0.1", port: int = 0,
          token: str | None = None) -> tuple[pykka.ActorRef[ApiServer], Link]:
    link = Link("root/api")
    ref = ApiServer.start(link, app, host, port, token)
    return ref, link


@pytest.mark.timeout(60)
def test_serves_health_then_closes_the_port() -> None:
    handlers_before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    ref, link = start(make_app())
    port = ref.proxy().bound_port().get(timeout=15)
    assert link.ready.is_set()
    assert port > 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        response = client.get("/api/health")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.json()["actors"] == {"running": 2, "total": 2}
        missing = client.get("/nope")
        assert missing.status_code == 404
        assert missing.json()["error"] == "NotFoundError"
    assert {sig: signal.getsignal(sig) for sig in handlers_before} == handlers_before
    ref.stop(timeout=15)
    assert link.exited.wait(5)
    assert link.exit is not None
    assert link.exit.reason == ExitReason.NORMAL
    assert port_is_closed(port)


@pytest.mark.timeout(60)
def test_chunked_upload_over_limit_is_413_on_the_wire() -> None:
    ref, _ = start(make_app(max_body_bytes=1_000))
    port = ref.proxy().bound_port().get(timeout=15)
    request = (
        b"POST /api/timelines/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"c8\r\n" + b" " * 200 + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request + chunk * 6)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"PayloadTooLargeError" in body
    assert b"1000 bytes" in body
    ref.stop(timeout=15)


@pytest.mark.timeout(60)
def test_token_enforced_on_the_wire() -> None:
    ref, _ = start(make_app(token=TOKEN), token=TOKEN)
    port = ref.proxy().bound_port().get(timeout=15)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/api/supervision").status_code == 401
        ok = client.get("/api/supervision", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        assert ok.json()["id"] == "root"
    ref.stop(timeout=15)


@pytest.mark.timeout(60)
def test_port_in_use_fails_start_with_the_fix() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        _, link = start(make_app(), port=busy)
        assert link.exited.wait(15)
    assert link.exit is not None
    assert link.exit.reason == ExitReason.START_FAILED
    assert link.exit.error is not None
    assert "PortInUseError" in link.exit.error
    assert f"127.0.0.1:{busy}" in link.exit.error
    assert "[api] port" in link.exit.error


@pytest.mark.timeout(60)
def test_refuses_public_bind_without_token_before_listening() -> None:
    _, link = start(make_app(), host="0.0.0.0")
    assert link.exited.wait(15)
    assert link.exit is not None
    assert link.exit.reason == ExitReason.START_FAILED
    assert link.exit.error is not None
    assert "BindRefusedError" in link.exit.error


@pytest.mark.timeout(60)
def test_restart_on_same_port_after_stop() -> None:
    ref, _ = start(make_app())
    port = ref.proxy().bound_port().get(timeout=15)
    ref.stop(timeout=15)
    again, _ = start(make_app(), port=port)
    assert again.proxy().bound_port().get(timeout=15) == port
    with httpx.Client(timeout=10) as client:
        assert client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
    again.stop(timeout=15)
    assert port_is_closed(port)


def test_bind_listener_errors_name_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"\[api\] host"):
        bind_listener("192.0.2.77", 0)  # TEST-NET-1: not on this machine
    with pytest.raises(ConfigError, match=r"does not resolve"):
        bind_listener("no-such-host.invalid", 0)


def test_uvicorn_installs_no_signal_handlers_even_in_main_thread() -> None:
    server = _EmbeddedServer(uvicorn.Config(make_app(), log_config=None))
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with server.capture_signals():
        assert {sig: signal.getsignal(sig) for sig in before} == before
    assert {sig: signal.getsignal(sig) for sig in before} == before


# -- check_bind --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.10", "example.com", "::ffff:10.0.0.1"]
)
def test_check_bind_refuses_exposed_hosts_without_token(host: str) -> None:
    with pytest.raises(BindRefusedError) as info:
        check_bind(host, None)
    message = str(info.value)
    assert repr(host) in message
    assert "[api] token" in message
    assert "VISTTER_API_TOKEN" in message
    assert "127.0.0.1" in message
    with pytest.raises(BindRefusedError):
        check_bind(host, "   ")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_check_bind_allows_exposed_hosts_with_token(host: str) -> None:
    check_bind(host, TOKEN)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]
)
def test_check_bind_allows_loopback_without_token(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


class _CountingServer(_EmbeddedServer):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ticks = 0

    async def on_tick(self, counter: int) -> bool:
        self.ticks += 1
        return await super().on_tick(counter)


@pytest.mark.timeout(30)
def test_housekeeping_ticks_once_a_second_and_exit_wakes_it_at_once() -> None:
    listener = bind_listener("127.0.0.1", 0)
    port = int(listener.getsockname()[1])
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_config=None,
                            lifespan="off", log_level="warning")
    server = _CountingServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        assert server.settled.wait(10) and server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/api/health").headers["date"]  # uvicorn's Date header is kept
        ticks_before = server.ticks
        time.sleep(2.5)
        # uvicorn's own loop would tick ~25 times in 2.5 s; ours 2 or 3 times.
        assert 1 <= server.ticks - ticks_before <= 4
        asked = time.monotonic()
        server.request_exit()
        thread.join(5)
        assert not thread.is_alive()
        assert time.monotonic() - asked < 0.9  # woken, not waiting for the next tick
    finally:
        server.should_exit = True
        thread.join(5)
        listener.close()
    assert port_is_closed(port)
