"""A small asyncio TCP fault proxy for chaos tests (our own stand-in for toxiproxy).

Put it between Vistter and an RTMP server or an RTSP camera, then switch its mode while the
stream runs::

    with FaultProxy("127.0.0.1", rtmp_port) as proxy:
        publish_to(f"rtmp://127.0.0.1:{proxy.port}/live/key")
        proxy.blackhole()       # the destination stops accepting bytes
        proxy.passthrough()     # and comes back

The proxy runs its own event loop in a daemon thread (:class:`~chaos.loop_thread.LoopThread`).
Every public method may be called from any thread except that loop's own: the change is handed
to the loop (``asyncio.run_coroutine_threadsafe``) and the call returns once it is in force, or
raises :class:`ProxyError` after ``control_timeout_s``.

Modes (exactly one is in force; each new mode replaces the previous one):

``passthrough``
    Forward bytes unchanged.
``down``
    Close the listening socket, so new clients get ``ConnectionRefusedError``, and drop every
    open connection at once (the kernel sends a FIN, or an RST when unread bytes are pending).
    Any other mode (``up()`` is ``passthrough()``) listens again on the same port.
``blackhole``
    Keep every connection open but move nothing in either direction, end of stream included.
    The proxy **stops reading** (it does not read and discard): the sender's socket buffers
    fill up and its writes finally block, as with a real black-holed link. Bytes already read
    are held, and are delivered in order once another mode is set.
``latency``
    Delay every chunk by ``ms`` (plus a uniform jitter of up to ``jitter_ms`` either way),
    in both directions, without reordering and without limiting throughput.
``bandwidth``
    Read each direction of each connection no faster than ``bytes_per_second``.
``reset``
    Set by ``reset(persist=True)``: every new connection is accepted and reset at once.

``reset()`` without ``persist`` is an action, not a mode: it sends an RST (``SO_LINGER`` 0,
then close) on every open connection, both to the client and to the target, and leaves the
mode as it was, so clients can reconnect.

If the target refuses or does not answer within ``connect_timeout_s``, the client connection
is reset and counted under ``target_connect_failures``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from chaos._link import Direction, Faults, Link, drop
from chaos.loop_thread import LoopThread
from chaos.stats import MODES, Counters, Mode, ProxyError, ProxyStats

__all__ = ["MODES", "FaultProxy", "Mode", "ProxyError", "ProxyStats"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

CLIENT_RECEIVE_BUFFER = 256 * 1024
"""SO_RCVBUF of the proxy's client sockets (bytes), fixed rather than autotuned.

A real black hole acknowledges nothing, so only the sender's buffers fill. When the proxy
stops reading, the kernel still acknowledges data into the proxy's receive buffer, which
Linux autotunes up to ``tcp_rmem`` max (6 MiB by default) depending on the machine's TCP
state: a publisher at 8 Mbit/s blocked after 10.8 s when its test ran alone and after ~40 s
when 200 other tests had run before it. A fixed, modest buffer keeps blackhole mode close to
the real thing and its timing repeatable; 256 KiB still forwards far faster than any stream
on loopback.
"""


def _loopback_literal(host: str) -> tuple[str, bool]:
    """The IP literal to bind for ``host`` and whether it is a loopback address."""
    if host == "localhost":
        return "127.0.0.1", True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ProxyError(
            f"The fault proxy cannot listen on {host!r}: it is not an IP address.",
            hint="Pass an IP literal such as 127.0.0.1 (or 'localhost').",
        ) from None
    return host, address.is_loopback


class FaultProxy:
    """A TCP proxy to ``target_host:target_port`` whose faults can be switched at run time.

    Listens on ``listen_host:listen_port`` (port 0 picks a free port, see :attr:`port`).
    Only loopback addresses are accepted unless ``allow_non_loopback`` is true.
    Use it as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        *,
        allow_non_loopback: bool = False,
        connect_timeout_s: float = 5.0,
        control_timeout_s: float = 5.0,
    ) -> None:
        host, loopback = _loopback_literal(listen_host)
        if not loopback and not allow_non_loopback:
            raise ProxyError(
                f"The fault proxy refuses to listen on {listen_host}, which is not loopback.",
                hint="Listen on 127.0.0.1, or pass allow_non_loopback=True "
                "(on the command line: --allow-non-loopback).",
            )
        if not 0 <= listen_port <= 65535 or not 0 < target_port <= 65535:
            raise ProxyError(
                f"Bad port: listen {listen_port}, target {target_port}.",
                hint="Ports are 1-65535 (0 for the listen port picks a free one).",
            )
        self._target = (target_host, target_port)
        self._listen_host = host
        self._port = listen_port
        self._connect_timeout_s = connect_timeout_s
        self._control_timeout_s = control_timeout_s
        self._lock = threading.Lock()
        self._runner: LoopThread | None = None
        self._closed = False
        # Loop-thread state below.
        self._server: asyncio.Server | None = None
        self._faults: Faults | None = None
        self._mode: Mode = "passthrough"
        self._links: set[Link] = set()
        self._counters = Counters()

    # ----------------------------------------------------------------- lifecycle (any thread)

    def start(self) -> FaultProxy:
        """Start the loop thread and bind the listener; returns self.

        Raises :class:`ProxyError` if the port cannot be bound or the proxy was started before.
        """
        with self._lock:
            if self._runner is not None:
                raise ProxyError(
                    "This fault proxy was already started.",
                    hint="Create a new FaultProxy for each run.",
                )
            runner = LoopThread(
                f"fault-proxy->{self._target[0]}:{self._target[1]}", self._control_timeout_s
            )
            self._runner = runner
            try:
                runner.submit(self._startup)
            except BaseException:
                self._closed = True
                runner.stop()
                raise
        return self

    def close(self) -> None:
        """Close the listener, drop every connection and join the loop thread. Idempotent.

        Bounded by ``control_timeout_s`` for the shutdown plus as much for the join; raises
        :class:`ProxyError` if the loop thread does not stop in time (it is a daemon thread).
        """
        with self._lock:
            runner = self._runner
            if self._closed or runner is None:
                self._closed = True
                return
            self._closed = True
            try:
                runner.submit(self._shutdown)
            finally:
                runner.stop()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port the proxy listens on (the real one when 0 was asked for)."""
        if self._port == 0:
            raise ProxyError(
                "The fault proxy has no port yet.", hint="Call start() before reading port."
            )
        return self._port

    @property
    def mode(self) -> Mode:
        """The mode in force (a plain read; it may change right after)."""
        return self._mode

    # --------------------------------------------------------------------- modes (any thread)

    def passthrough(self) -> None:
        """Forward everything unchanged (listening again if the proxy was down)."""
        self._switch("passthrough")

    def up(self) -> None:
        """Back to passthrough, on the same port. The same as :meth:`passthrough`."""
        self._switch("passthrough")

    def down(self) -> None:
        """Refuse new connections (listener closed) and drop every open one."""
        self._switch("down")

    def blackhole(self) -> None:
        """Keep connections open but move no byte either way; the proxy stops reading."""
        self._switch("blackhole")

    def latency(self, ms: float, jitter_ms: float = 0.0) -> None:
        """Delay every chunk in both directions by ``ms`` +/- up to ``jitter_ms``."""
        if ms < 0 or jitter_ms < 0:
            raise ProxyError(
                f"Bad latency {ms} ms, jitter {jitter_ms} ms.",
                hint="Both must be zero or more milliseconds.",
            )
        self._switch("latency", latency_s=ms / 1000.0, jitter_s=jitter_ms / 1000.0)

    def bandwidth(self, bytes_per_second: float) -> None:
        """Throttle each direction of each connection to ``bytes_per_second``."""
        if not bytes_per_second > 0:
            raise ProxyError(
                f"Bad bandwidth {bytes_per_second} bytes/s.",
                hint="Give a rate above zero; use blackhole() to stop the flow entirely.",
            )
        self._switch("bandwidth", rate=float(bytes_per_second))

    def reset(self, *, persist: bool = False) -> None:
        """Reset (RST) every open connection; with ``persist``, every new one too.

        Without ``persist`` the mode in force stays; with it the mode becomes ``reset``
        until another mode is set.
        """
        self._on_loop(lambda: self._reset(persist))

    def stats(self) -> ProxyStats:
        """Counters: bytes each way, connections accepted/active/refused/reset, per mode."""
        with self._lock:
            if self._runner is None or self._closed:
                return self._snapshot()
            return self._runner.submit(self._async_snapshot)

    # ------------------------------------------------------------------------ thread plumbing

    def _switch(
        self,
        mode: Mode,
        *,
        latency_s: float = 0.0,
        jitter_s: float = 0.0,
        rate: float | None = None,
    ) -> None:
        self._on_loop(lambda: self._apply(mode, latency_s, jitter_s, rate))

    def _on_loop(self, make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        with self._lock:
            if self._runner is None or self._closed:
                raise ProxyError(
                    "The fault proxy is not running.",
                    hint="Call start() (or use it in a with block) before switching modes.",
                )
            return self._runner.submit(make)

    # -------------------------------------------------------------------- loop thread only

    async def _startup(self) -> None:
        self._faults = Faults()
        self._faults.flowing.set()
        self._counters.add(self._mode, "connections_accepted", 0)
        await self._listen()

    async def _shutdown(self) -> None:
        self._close_listener()
        for link in list(self._links):
            link.drop(rst=False)
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=self._control_timeout_s / 2)
        for _ in range(3):  # let aborted transports run connection_lost
            await asyncio.sleep(0)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(
                self._on_client, self._listen_host, self._port, reuse_address=True
            )
        except OSError as exc:
            raise ProxyError(
                f"The fault proxy cannot listen on {self._listen_host}:{self._port}: {exc}.",
                hint="Pick another port (0 picks a free one) or stop what holds this one.",
            ) from exc
        for listener in self._server.sockets:  # accepted sockets inherit it (Linux)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RECEIVE_BUFFER)
        self._port = self._server.sockets[0].getsockname()[1]

    def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _apply(
        self, mode: Mode, latency_s: float, jitter_s: float, rate: float | None
    ) -> None:
        faults = self._faults
        assert faults is not None
        if mode == "down":
            self._close_listener()
            for link in list(self._links):
                link.drop(rst=False)
        else:
            await self._listen()
        self._mode = mode
        self._counters.add(mode, "connections_accepted", 0)  # list the mode in by_mode
        faults.latency_s = latency_s
        faults.jitter_s = jitter_s
        faults.bytes_per_second = rate
        if mode == "blackhole":
            faults.flowing.clear()
        else:
            faults.flowing.set()

    async def _reset(self, persist: bool) -> None:
        for link in list(self._links):
            link.drop(rst=True)
            self._count("connections_reset")
        if persist:
            await self._apply("reset", 0.0, 0.0, None)

    def _count(self, counter: str, n: int = 1) -> None:
        self._counters.add(self._mode, counter, n)

    def _count_bytes(self, direction: Direction, n: int) -> None:
        self._count(f"bytes_{direction}", n)

    async def _async_snapshot(self) -> ProxyStats:
        return self._snapshot()

    def _snapshot(self) -> ProxyStats:
        return self._counters.snapshot(
            mode=self._mode,
            listening=self._server is not None,
            listen=f"{self._listen_host}:{self._port}",
            target=f"{self._target[0]}:{self._target[1]}",
            active=len(self._links),
        )

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one accepted client. Loop thread, one task per client (``start_server``).

        Never raises, not even when cancelled at shutdown: I/O errors end the connection;
        any other exception is a bug, logged and counted as ``internal_errors``.
        """
        self._count("connections_accepted")
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Shutdown. This task belongs to start_server and nobody awaits it; ending it
            # quietly keeps asyncio from logging the cancellation as an error.
            pass
        except Exception:
            self._counters.internal_errors += 1
            log.exception("fault proxy: connection handler failed")
        finally:
            drop(writer, rst=False)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refuse_now(writer):
            return
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                target = await asyncio.open_connection(*self._target)
        except OSError:  # refused, unreachable, or TimeoutError
            self._count("target_connect_failures")
            drop(writer, rst=True)
            return
        if self._refuse_now(writer):  # the mode changed while we connected
            drop(target[1], rst=True)
            return
        link = Link((reader, writer), target, self._faults_now(), self._count_bytes)
        self._links.add(link)
        try:
            await link.run()
        finally:
            self._links.discard(link)

    def _refuse_now(self, writer: asyncio.StreamWriter) -> bool:
        if self._mode == "down":
            self._count("connections_refused")
            drop(writer, rst=False)
            return True
        if self._mode == "reset":
            self._count("connections_reset")
            drop(writer, rst=True)
            return True
        return False

    def _faults_now(self) -> Faults:
        assert self._faults is not None
        return self._faults


if __name__ == "__main__":
    from chaos.cli import main

    raise SystemExit(main())
