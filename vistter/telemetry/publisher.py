"""The actor that owns the telemetry PUB socket.

One :class:`TelemetryPublisher` incarnation binds the ZeroMQ PUB socket, attaches itself to
the :class:`~vistter.telemetry.bus.TelemetryBus` and puts every
:class:`~vistter.telemetry.bus.Publish` it is told on the wire, stamped with a sequence
number (per topic, from 0), the wall-clock time and the incarnation's random publisher id.
Sending never blocks: a message the socket cannot take is dropped and counted, and its
sequence number is spent anyway, so subscribers see the gap.
"""

from __future__ import annotations

import errno
import logging
import secrets
import time
from typing import Any

import zmq

from vistter.errors import ConfigError
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.bus import Publish, TelemetryBus
from vistter.telemetry.codec import TelemetryMessage, encode
from vistter.telemetry.payloads import PublisherStats

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"
DEFAULT_SNDHWM = 10_000


class TelemetryBindError(ConfigError):
    """The telemetry PUB socket cannot listen on the configured endpoint."""


def new_publisher_id() -> str:
    """A random id for one publisher incarnation (12 hex digits)."""
    return secrets.token_hex(6)


def bind_pub_socket(
    context: zmq.Context[zmq.Socket[bytes]], endpoint: str, *, sndhwm: int = DEFAULT_SNDHWM
) -> zmq.Socket[bytes]:
    """A PUB socket bound to ``endpoint`` (``tcp://127.0.0.1:*`` picks a free port).

    Runs in the caller's thread. Raises :class:`TelemetryBindError` naming the endpoint and
    the config key to change when the bind fails (address in use, malformed endpoint, ...).
    """
    socket: zmq.Socket[bytes] = context.socket(zmq.PUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.SNDHWM, sndhwm)
    try:
        socket.bind(endpoint)
    except zmq.ZMQError as exc:
        socket.close(linger=0)
        if exc.errno == errno.EADDRINUSE:
            problem = f"telemetry endpoint {endpoint} is already in use by another program."
        else:
            problem = f"telemetry endpoint {endpoint} cannot be bound: {exc.strerror}."
        raise TelemetryBindError(
            problem,
            hint="Stop the other program, or set a free address as `endpoint` in the "
            "`[telemetry]` section of the config (for example tcp://127.0.0.1:5557).",
        ) from exc
    return socket


class TelemetryPublisher(SupervisedActor):
    """Puts the bus's messages on a ZeroMQ PUB socket.

    Messages (handled in the actor's thread): :class:`~vistter.telemetry.bus.Publish`
    (told by the bus); ``endpoint()`` and ``stats()`` may be asked through a proxy.
    """

    def __init__(
        self,
        link: Link,
        bus: TelemetryBus,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        sndhwm: int = DEFAULT_SNDHWM,
    ) -> None:
        super().__init__(link)
        self._bus = bus
        self._configured_endpoint = endpoint
        self._sndhwm = sndhwm
        self.publisher_id = new_publisher_id()
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._socket: zmq.Socket[bytes] | None = None
        self._bound_endpoint = endpoint
        self._next_seq: dict[str, int] = {}
        self._sent = 0
        self._dropped = 0

    # -- lifecycle -----------------------------------------------------------------------

    def setup(self) -> None:
        """Bind the PUB socket and attach to the bus. Runs in the actor's thread.

        Raises :class:`TelemetryBindError` when the endpoint cannot be bound; the actor then
        dies with reason ``start_failed`` and its supervisor decides what follows.
        """
        self._context = zmq.Context()
        self._socket = bind_pub_socket(self._context, self._configured_endpoint,
                                       sndhwm=self._sndhwm)
        last = self._socket.getsockopt(zmq.LAST_ENDPOINT)
        if isinstance(last, bytes) and last:
            self._bound_endpoint = last.decode("utf-8", "replace")
        logger.info("telemetry publisher %s bound %s", self.publisher_id, self._bound_endpoint)
        self._bus.attach(self.actor_ref)

    def teardown(self) -> None:
        """Detach from the bus, close the socket and its context. Runs in the actor's
        thread (in the supervisor's for a hung actor); raising here is logged by the base."""
        self._bus.detach(self.actor_ref)
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
            self._socket = None

    # -- messages ------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Handle a :class:`Publish`. Runs in the actor's thread. A ZeroMQ error other
        than a full queue is a bug or a broken socket: it crashes the actor, so that its
        supervisor starts a fresh socket."""
        if isinstance(message, Publish):
            self._send(message)
            return None
        return super().on_receive(message)

    def endpoint(self) -> str:
        """The endpoint actually bound, with the real port when a wildcard was asked."""
        return self._bound_endpoint

    def stats(self) -> PublisherStats:
        """Publisher id, endpoint, messages sent and dropped."""
        return {
            "publisher": self.publisher_id,
            "endpoint": self._bound_endpoint,
            "sent": self._sent,
            "dropped": self._dropped,
            "topics": len(self._next_seq),
        }

    # -- internals -----------------------------------------------------------------------

    def _send(self, publish: Publish) -> None:
        if self._socket is None:
            self._dropped += 1
            return
        seq = self._next_seq.get(publish.topic, 0)
        self._next_seq[publish.topic] = seq + 1
        frames = encode(
            TelemetryMessage(publish.topic, seq, time.time(), self.publisher_id, publish.payload)
        )
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            self._dropped += 1
            return
        self._sent += 1
