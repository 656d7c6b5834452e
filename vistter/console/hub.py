"""The event hub: telemetry-bus messages handed to the console's Server-Sent Events clients.

One :class:`EventHub` per control app listens on the :class:`~vistter.telemetry.TelemetryBus`
(so the page sees the very messages ``vistter telemetry`` prints) and copies each message
into the bounded queue of every :class:`Subscription` that wants its topic. The bus listener
runs in whatever thread published and never blocks: it appends under a short lock and wakes
the client's event loop with ``call_soon_threadsafe`` (once per batch, not per message).

A client that does not keep up is dropped, never waited for: when its queue is full the
subscription is marked overflowed and closed; its stream tells the browser so and ends, and
the browser reconnects (``EventSource`` does this by itself) starting from a fresh snapshot.

The hub also keeps the latest message of each metrics topic (``metrics.system`` and co), so a
page that connects, or polls, shows CPU and memory at once instead of after the next sample.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from vistter.console.payloads import BusEventPayload

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]

DEFAULT_CAPACITY = 256
"""Messages a client may have waiting before it counts as too slow and is dropped."""
DEFAULT_MAX_SUBSCRIBERS = 32
STICKY_PREFIX = "metrics."


class EventFeed(Protocol):
    """What the hub needs of the telemetry bus."""

    def add_listener(self, listener: Listener) -> Callable[[], None]: ...


class TooManySubscribersError(Exception):
    """Every event-stream slot is taken."""


@dataclass(frozen=True)
class BusEvent:
    """One bus message as the hub saw it; ``received`` is wall-clock unix time."""

    seq: int
    topic: str
    payload: dict[str, Any]
    received: float

    def to_dict(self) -> BusEventPayload:
        return {"seq": self.seq, "topic": self.topic, "ts": self.received,
                "payload": self.payload}


def sticky_key(topic: str, payload: dict[str, Any]) -> str | None:
    """Under which key the latest value of this message is kept, or ``None`` (not kept).

    Metrics topics are kept; several components share ``metrics.stream``, so their
    ``component`` field is part of the key.
    """
    if not topic.startswith(STICKY_PREFIX):
        return None
    component = payload.get("component")
    return f"{topic}:{component}" if isinstance(component, str) else topic


class Subscription:
    """One event-stream client's bounded queue.

    :meth:`offer` runs in publishing threads (any thread, never blocks, never raises);
    :meth:`next_batch` and :meth:`close` run in the client's event loop thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, prefixes: tuple[str, ...],
                 capacity: int) -> None:
        self._loop = loop
        self._prefixes = prefixes
        self._capacity = capacity
        self._lock = threading.Lock()
        self._queue: collections.deque[BusEvent] = collections.deque()
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._closed = False
        self.overflowed = False
        self.delivered = 0

    @property
    def closed(self) -> bool:
        """Whether the subscription has ended (overflowed, closed, or its loop is gone)."""
        with self._lock:
            return self._closed

    def wants(self, topic: str) -> bool:
        return not self._prefixes or topic.startswith(self._prefixes)

    def offer(self, event: BusEvent) -> None:
        """Queue ``event``; a full queue drops the client (see the module docstring)."""
        with self._lock:
            if self._closed:
                return
            if len(self._queue) >= self._capacity:
                self.overflowed = True
                self._closed = True
                self._queue.clear()
            else:
                self._queue.append(event)
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._wake_up)
        except RuntimeError:  # the client's loop is closed: the server has stopped
            with self._lock:
                self._closed = True

    def _wake_up(self) -> None:
        with self._lock:
            self._wake_pending = False
        self._wake.set()

    async def next_batch(self, timeout: float) -> list[BusEvent] | None:
        """Every queued message (oldest first), ``[]`` after ``timeout`` s without any, or
        ``None`` once the subscription is closed (overflowed, or :meth:`close` was called).
        Event loop thread."""
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()
        with self._lock:
            if self._closed:
                return None
            batch = list(self._queue)
            self._queue.clear()
        self.delivered += len(batch)
        return batch

    def close(self) -> None:
        """End the subscription and wake its reader. Any thread; never raises."""
        with self._lock:
            self._closed = True
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the loop is closed: nobody is reading any more
            logger.debug("event stream loop already closed")


class EventHub:
    """Fans telemetry-bus messages out to event-stream subscriptions.

    Thread-safety: :meth:`subscribe`, :meth:`unsubscribe`, :meth:`latest` and :meth:`stats`
    may be called from any thread; the bus listener runs in the publishing thread.
    """

    def __init__(self, feed: EventFeed, *, capacity: int = DEFAULT_CAPACITY,
                 max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS) -> None:
        if capacity < 1 or max_subscribers < 1:
            raise ValueError("capacity and max_subscribers must be at least 1")
        self._capacity = capacity
        self._max_subscribers = max_subscribers
        self._lock = threading.Lock()
        self._subscriptions: tuple[Subscription, ...] = ()
        self._latest: dict[str, BusEvent] = {}
        self._seq = 0
        self._dropped_clients = 0
        self._feed = feed
        self._remove: Callable[[], None] | None = feed.add_listener(self._on_message)

    def _on_message(self, topic: str, payload: dict[str, Any]) -> None:
        """Bus listener: runs in the publishing thread, takes a short lock, never blocks.
        It does not raise (the bus would remove it if it did)."""
        with self._lock:
            self._seq += 1
            event = BusEvent(self._seq, topic, payload, time.time())
            key = sticky_key(topic, payload)
            if key is not None:
                self._latest[key] = event
            subscriptions = self._subscriptions
        for subscription in subscriptions:
            if subscription.wants(topic):
                subscription.offer(event)

    def subscribe(self, loop: asyncio.AbstractEventLoop,
                  prefixes: tuple[str, ...] = ()) -> Subscription:
        """A new subscription for topics starting with one of ``prefixes`` (all if empty).

        Raises :class:`TooManySubscribersError` when every slot is taken.
        """
        subscription = Subscription(loop, prefixes, self._capacity)
        with self._lock:
            if self._remove is None:  # closed by a server that stopped; a new one serves
                self._remove = self._feed.add_listener(self._on_message)
            # ended ones whose stream never unsubscribed (a server thread that was abandoned)
            ended = [s for s in self._subscriptions if s.closed]
            self._dropped_clients += sum(1 for s in ended if s.overflowed)
            alive = tuple(s for s in self._subscriptions if not s.closed)
            self._subscriptions = alive
            if len(alive) >= self._max_subscribers:
                raise TooManySubscribersError(
                    f"{len(alive)} event streams are open, the most this appliance serves."
                )
            self._subscriptions = (*alive, subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (a no-op if it is already gone). Any thread."""
        with self._lock:
            if subscription not in self._subscriptions:
                return
            self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)
            if subscription.overflowed:
                self._dropped_clients += 1

    def latest(self) -> list[BusEvent]:
        """The latest message of each metrics topic (and component), oldest first."""
        with self._lock:
            return sorted(self._latest.values(), key=lambda event: event.seq)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"subscribers": len(self._subscriptions), "messages": self._seq,
                    "dropped_clients": self._dropped_clients}

    def close(self) -> None:
        """Stop listening on the bus and end every subscription: each open event stream
        sends its last chunk and returns, so the server can exit without waiting for its
        graceful-shutdown timeout. Any thread; harmless to call twice. A later
        :meth:`subscribe` (the API restarted on the same app) listens again."""
        with self._lock:
            remove, self._remove = self._remove, None
            subscriptions, self._subscriptions = self._subscriptions, ()
        if remove is not None:
            remove()
        for subscription in subscriptions:
            subscription.close()
