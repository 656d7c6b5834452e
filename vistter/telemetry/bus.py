"""The telemetry bus: where every actor and supervisor drops its events and metrics.

:class:`TelemetryBus` is the process-wide :class:`~vistter.supervisors.link.EventSink`. It never
blocks and never raises: it hands each message to the publisher actor that is currently
attached (a ``tell``, which only appends to the actor's mailbox), or keeps it in a bounded
backlog while no publisher is attached (not started yet, or restarting). The backlog is
flushed in order when the next publisher attaches; when it overflows the oldest messages go
and are counted, and the next publisher first announces how many were lost on
``event.telemetry``.

In-process listeners (the control API, tests) see every message as it is published,
whether or not a publisher is attached.

A topic may be *routed* (:meth:`TelemetryBus.route`): what is published on it goes to the
router instead, which publishes what it decides with :meth:`TelemetryBus.deliver`. The alert
service routes ``alert`` this way, so every module keeps publishing its reports on ``alert``
while only deduplicated alerts with ids reach the wire.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka

from vistter.telemetry.codec import to_wire
from vistter.telemetry.topics import TELEMETRY_TOPIC

logger = logging.getLogger(__name__)

DEFAULT_BACKLOG = 1000

Listener = Callable[[str, dict[str, Any]], None]
Router = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Publish:
    """The message the bus tells the publisher actor: put this on the wire."""

    topic: str
    payload: dict[str, Any]


class TelemetryBus:
    """Fan-in point for telemetry; implements the ``EventSink`` protocol.

    Thread-safety: every method may be called from any thread. ``attach`` and ``detach`` are
    called by the publisher actor from its own thread.
    """

    def __init__(self, backlog: int = DEFAULT_BACKLOG) -> None:
        if backlog < 1:
            raise ValueError(f"telemetry backlog must hold at least 1 message, got {backlog}")
        self._lock = threading.Lock()
        self._publisher: pykka.ActorRef[Any] | None = None
        self._backlog: collections.deque[Publish] = collections.deque(maxlen=backlog)
        self._dropped_total = 0
        self._dropped_unreported = 0
        self._published = 0
        self._listeners: tuple[Listener, ...] = ()
        self._routes: dict[str, Router] = {}

    # -- EventSink -----------------------------------------------------------------------

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue ``payload`` for the wire under ``topic`` and show it to every listener.

        Runs in the caller's thread, takes a msgpack-safe snapshot of ``payload`` (see
        :func:`~vistter.telemetry.codec.to_wire`), never blocks and never raises: a failure
        here is logged and the message is dropped. On a routed topic the snapshot goes to
        the router instead (in this thread); a router that raises is logged and the message
        is delivered as it is, so nothing is lost to a bug.
        """
        router = self._routes.get(topic)
        if router is not None:
            try:
                router(_as_payload(payload))
                return
            except Exception:
                logger.exception("telemetry router of %r raised; delivering as is", topic)
        self.deliver(topic, payload)

    def deliver(self, topic: str, payload: dict[str, Any]) -> None:
        """Like :meth:`publish`, but past any router: for the router itself."""
        try:
            message = Publish(str(topic), _as_payload(payload))
            with self._lock:
                self._published += 1
                self._forward_locked(message)
            self._notify(message)
        except Exception:
            logger.exception("telemetry bus dropped a message on %r", topic)

    # -- publisher side ------------------------------------------------------------------

    def attach(self, publisher: pykka.ActorRef[Any]) -> None:
        """Make ``publisher`` the destination of every message, flushing the backlog into it
        first, in order. Called by the publisher actor from its own thread in ``setup``."""
        with self._lock:
            self._publisher = publisher
            pending = list(self._backlog)
            self._backlog.clear()
            if self._dropped_unreported:
                overflow = Publish(
                    TELEMETRY_TOPIC,
                    {
                        "event": "backlog_overflow",
                        "dropped": self._dropped_unreported,
                        "dropped_total": self._dropped_total,
                    },
                )
                self._dropped_unreported = 0
                pending.insert(0, overflow)
            for message in pending:
                self._forward_locked(message)

    def detach(self, publisher: pykka.ActorRef[Any]) -> None:
        """Stop sending to ``publisher``; messages go to the backlog until the next attach.

        A no-op unless ``publisher`` is the one attached, so the teardown of an old
        incarnation cannot detach its successor.
        """
        with self._lock:
            if self._publisher is not None and _same_actor(self._publisher, publisher):
                self._publisher = None

    @property
    def attached(self) -> bool:
        with self._lock:
            return self._publisher is not None

    # -- routes --------------------------------------------------------------------------

    def route(self, topic: str, router: Router) -> Callable[[], None]:
        """Send what is published on ``topic`` to ``router(payload)`` from now on.

        The router runs in the publishing thread, must be quick and must not block; it
        publishes its own messages with :meth:`deliver`. One router per topic: routing a
        routed topic raises ``ValueError``. Returns a function that removes the route.
        """
        with self._lock:
            if topic in self._routes:
                raise ValueError(f"the telemetry topic {topic!r} is routed already")
            self._routes = {**self._routes, topic: router}

        def remove() -> None:
            with self._lock:
                if self._routes.get(topic) is router:
                    self._routes = {k: v for k, v in self._routes.items() if k != topic}

        return remove

    # -- listeners -----------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(topic, payload)`` for every message published from now on.

        The listener runs in the publishing thread, outside the bus's lock, and must be
        quick and must not block. ``payload`` is the msgpack-safe snapshot (treat it as
        read-only: all listeners share it). A listener that raises is logged and removed.
        Returns a function that removes the listener (harmless to call twice).
        """
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def remove() -> None:
            self._remove_listener(listener)

        return remove

    def stats(self) -> dict[str, int | bool]:
        """Counters for status pages: published, backlog size, dropped, listeners."""
        with self._lock:
            return {
                "published": self._published,
                "backlog": len(self._backlog),
                "dropped": self._dropped_total,
                "listeners": len(self._listeners),
                "attached": self._publisher is not None,
            }

    @property
    def dropped(self) -> int:
        """Messages lost because the backlog was full while no publisher was attached."""
        with self._lock:
            return self._dropped_total

    # -- internals -----------------------------------------------------------------------

    def _forward_locked(self, message: Publish) -> None:
        publisher = self._publisher
        if publisher is not None:
            try:
                publisher.tell(message)
                return
            except pykka.ActorDeadError:
                # Died without detaching yet (its teardown is on the way): keep the message.
                self._publisher = None
        if len(self._backlog) == self._backlog.maxlen:
            self._dropped_total += 1
            self._dropped_unreported += 1
        self._backlog.append(message)

    def _notify(self, message: Publish) -> None:
        for listener in self._listeners:
            try:
                listener(message.topic, message.payload)
            except Exception:
                logger.exception(
                    "telemetry listener %r raised on %r; removing it", listener, message.topic
                )
                self._remove_listener(listener)

    def _remove_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners = tuple(item for item in self._listeners if item is not listener)


def _as_payload(payload: Any) -> dict[str, Any]:
    wire = to_wire(payload)
    if isinstance(wire, dict):
        return wire
    return {"value": wire}


def _same_actor(left: pykka.ActorRef[Any], right: pykka.ActorRef[Any]) -> bool:
    return left.actor_urn == right.actor_urn
