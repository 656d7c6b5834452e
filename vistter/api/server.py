"""The actor that serves the control API with uvicorn.

uvicorn runs its own asyncio loop in a daemon thread owned by :class:`ApiServer`. The
listening socket is bound by the actor itself before uvicorn starts, so a busy port or an
address that is not on this machine is reported as a typed error naming the fix, and port 0
(tests) yields the real port at once. uvicorn never installs signal handlers here: SIGINT and
SIGTERM belong to the appliance.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
import threading
from collections.abc import Generator

import uvicorn
from starlette.applications import Starlette

from vistter.api.protocol import JsonErrorH11Protocol
from vistter.console import close_event_streams
from vistter.errors import BindRefusedError, ConfigError
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 5.0
GRACEFUL_SHUTDOWN_SECONDS = 3
HOUSEKEEPING_TICK_SECONDS = 1.0
"""uvicorn's housekeeping (the Date header, the exit check) runs once per tick; uvicorn's own
loop ticks ten times a second, which was most of an idle API thread's CPU."""


class ApiStartError(ConfigError):
    """The control API could not start listening."""


class PortInUseError(ApiStartError):
    """The control API port is already taken by another program."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address: 127.0.0.0/8, ::1 or ``localhost``."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_bind(host: str, token: str | None, *, admin_password: bool = False) -> None:
    """Refuse to expose the control API beyond loopback without credentials: an API token,
    or an admin password (``admin_password``: one is set; the console login protects every
    route then, and API clients log in or get a token later).

    Raises :class:`~vistter.errors.BindRefusedError`. Call it early (config load, CLI) so the
    appliance refuses to start rather than failing later in the API actor.
    """
    if is_loopback(host) or (token is not None and token.strip()) or admin_password:
        return
    raise BindRefusedError(
        f"The control API is configured to listen on {host!r}, which is reachable from other "
        "machines, but neither an API token nor an admin password is configured.",
        hint="Set [api] token (or the VISTTER_API_TOKEN environment variable) to a long random "
        "string, or an admin password (VISTTER_ADMIN_PASSWORD, or [api] admin_password_hash "
        "from 'vistter hash-password'), or bind [api] host to 127.0.0.1.",
    )


def bind_listener(host: str, port: int) -> socket.socket:
    """Open the listening TCP socket for ``host:port`` (``port`` 0 picks a free port).

    Raises :class:`PortInUseError` or :class:`ApiStartError` with what to change.
    """
    where = f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ApiStartError(
            f"The control API cannot listen on {where}: the host name does not resolve "
            f"({exc.strerror}).",
            hint="Set [api] host to an address of this machine, such as 127.0.0.1.",
        ) from None
    family, _, _, _, address = infos[0]
    try:
        return socket.create_server(address, family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"The control API cannot listen on {where}: the port is already in use.",
                hint="Stop the program holding it, or set [api] port in the appliance config "
                "to a free port.",
            ) from None
        if exc.errno == errno.EACCES:
            hint = "Ports below 1024 need privileges; set [api] port to 1024 or above."
        elif exc.errno == errno.EADDRNOTAVAIL:
            hint = "That address is not on this machine; set [api] host to one that is."
        else:
            hint = "Check [api] host and [api] port in the appliance config."
        raise ApiStartError(
            f"The control API cannot listen on {where}: {exc.strerror}.", hint=hint
        ) from None


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals alone, says when its startup is settled, and ticks
    its housekeeping once a second but exits at once when asked (:meth:`request_exit`)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        """uvicorn's main loop at :data:`HOUSEKEEPING_TICK_SECONDS` per tick, woken early by
        :meth:`request_exit`. Runs in the uvicorn thread's event loop; ``on_tick`` refreshes
        the Date header when its counter is a multiple of 10, so the counter steps by 10."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), HOUSEKEEPING_TICK_SECONDS)
            should_exit = await self.on_tick(counter)

    def request_exit(self) -> None:
        """Ask uvicorn to exit now. Any thread; never raises (a loop that is already gone
        needs no waking)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: uvicorn has exited
                loop.call_soon_threadsafe(wake.set)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """No signal handlers: the appliance owns SIGINT and SIGTERM."""
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.settled.set()


class ApiServer(SupervisedActor):
    """Serves the control API app on ``host:port`` with uvicorn.

    Message handlers (:meth:`bound_port`) run in the actor's thread; uvicorn runs in a daemon
    thread of its own. The token is only used to check the bind address and is not kept.
    """

    def __init__(self, link: Link, app: Starlette, host: str, port: int, token: str | None,
                 *, admin_password: bool = False) -> None:
        super().__init__(link)
        self._app = app
        self._host = host
        self._port = port
        self._exposed_without_token = not is_loopback(host) and not (
            (token and token.strip()) or admin_password)
        self._listener: socket.socket | None = None
        self._server: _EmbeddedServer | None = None
        self._thread: threading.Thread | None = None
        self._bound_port = 0
        self._failure: BaseException | None = None

    def setup(self) -> None:
        """Bind, start uvicorn and wait until it accepts connections.

        Runs in the actor's thread. Raises :class:`~vistter.errors.BindRefusedError`,
        :class:`PortInUseError` or :class:`ApiStartError`; the actor then dies with reason
        ``start_failed`` and :meth:`teardown` closes whatever was opened.
        """
        if self._exposed_without_token:
            check_bind(self._host, None)
        self._listener = bind_listener(self._host, self._port)
        self._bound_port = int(self._listener.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            host=self._host,
            port=self._bound_port,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            http=JsonErrorH11Protocol,  # invalid HTTP gets the API's JSON error too
        )
        self._server = _EmbeddedServer(config)
        self._thread = threading.Thread(
            target=self._serve,
            args=(self._server, self._listener),
            name=f"vistter-api-{self._bound_port}",
            daemon=True,
        )
        self._thread.start()
        self.link.clock.wait(self._server.settled, STARTUP_TIMEOUT_SECONDS)
        if not self._server.started:
            detail = f" ({type(self._failure).__name__}: {self._failure})" if self._failure else ""
            raise ApiStartError(
                f"The control API on {self._host}:{self._bound_port} did not start within "
                f"{STARTUP_TIMEOUT_SECONDS:g} s{detail}.",
                hint="Check the appliance log for uvicorn errors.",
            )
        logger.info("control API listening on %s:%d", self._host, self._bound_port)

    def _serve(self, server: _EmbeddedServer, listener: socket.socket) -> None:
        """The uvicorn thread. An exception (uvicorn exits startup failures with SystemExit)
        is logged and kept for :meth:`setup` to report; the thread then ends."""
        try:
            server.run(sockets=[listener])
        except BaseException as exc:
            self._failure = exc
            logger.exception("control API server thread ended with an error")
        finally:
            server.settled.set()

    def bound_port(self) -> int:
        """The TCP port actually listened on (the real one when configured as 0)."""
        return self._bound_port

    def teardown(self) -> None:
        """End the console's event streams, ask uvicorn to exit and join its thread
        (bounded), then close the socket.

        Runs in the actor's thread (or the supervisor's for a hang). If uvicorn does not stop
        within the timeout it is forced, and the daemon thread is abandoned with a warning.
        """
        server, thread = self._server, self._thread
        # open console tabs first: their event streams end at once instead of holding
        # uvicorn's graceful shutdown for its whole timeout
        close_event_streams(self._app.routes)
        if server is not None and thread is not None:
            server.request_exit()
            thread.join(SHUTDOWN_TIMEOUT_SECONDS)
            if thread.is_alive():
                server.force_exit = True
                thread.join(1.0)
                if thread.is_alive():
                    logger.warning("control API thread did not stop; abandoning it")
        if self._listener is not None:
            self._listener.close()
