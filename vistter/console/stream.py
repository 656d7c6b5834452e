"""``GET /api/events``: the telemetry bus as a Server-Sent Events stream.

Wire format (``text/event-stream``), one JSON object per message::

    retry: 1000                    reconnect after 1 s if the stream breaks
    event: hello                   first: {"latest": [...]}, the last metrics messages
    id: 42                         then every bus message, in the default "message" event:
    data: {"seq": 42, "topic": "event.show", "ts": 1700000000.25, "payload": {...}}
    : keep-alive                   a comment after 15 s of silence, so proxies keep it open
    event: overflow                last, when the client was too slow and is being dropped

``?topics=event.show,alert`` keeps only topics that start with one of the prefixes.

Boundedness: a client's messages wait in its bounded :class:`~vistter.console.hub.Subscription`
(a full queue drops the client); a write the client does not take within
:data:`WRITE_TIMEOUT_SECONDS` ends the stream; a disconnect is noticed at once. The stream never
holds up the bus or another client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Scope, Send

from vistter.console.hub import BusEvent, EventHub, Subscription
from vistter.console.streaming import wait_for_disconnect, write_body

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
WRITE_TIMEOUT_SECONDS = 10.0
RETRY_MILLISECONDS = 1000
MAX_TOPIC_PREFIXES = 16

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float as ``None`` and bytes as hex, so that
    ``JSON.parse`` in a browser accepts it (Python's ``json`` would write ``NaN``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return value


def frame(data: Any, *, event: str | None = None, event_id: int | None = None) -> bytes:
    """One Server-Sent Events frame carrying ``data`` as one line of JSON."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    text = json.dumps(json_safe(data), separators=(",", ":"), default=str)
    lines.append(f"data: {text}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def message_frames(events: Iterable[BusEvent]) -> bytes:
    return b"".join(frame(event.to_dict(), event_id=event.seq) for event in events)


def parse_topics(raw: str | None) -> tuple[str, ...]:
    """The topic prefixes of ``?topics=a,b`` (empty: every topic); at most 16, no blanks."""
    if not raw:
        return ()
    prefixes = tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    return prefixes[:MAX_TOPIC_PREFIXES]


class EventStreamResponse:
    """An ASGI response that streams one subscription until the client goes or falls behind.

    Runs in the server's event loop thread. It owns ``subscription`` and always unsubscribes
    it from ``hub`` when it ends, however it ends (disconnect, overflow, write timeout, server
    shutdown cancelling it).
    """

    def __init__(self, hub: EventHub, subscription: Subscription) -> None:
        self._hub = hub
        self._subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self._subscription
        watcher = asyncio.create_task(self._watch_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            hello = frame({"latest": [e.to_dict() for e in self._hub.latest()]}, event="hello")
            await self._write(send, f"retry: {RETRY_MILLISECONDS}\n\n".encode() + hello)
            while True:
                batch = await subscription.next_batch(KEEPALIVE_SECONDS)
                if batch is None:
                    break
                await self._write(send, message_frames(batch) if batch else b": keep-alive\n\n")
            if subscription.overflowed:
                logger.warning("event stream: a client fell behind and was dropped")
                await self._write(send, frame({"reason": "too slow"}, event="overflow"))
            await self._write(send, b"", more_body=False)
        except (TimeoutError, OSError):
            logger.warning("event stream: a client stopped reading; dropping it")
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            subscription.close()
            self._hub.unsubscribe(subscription)

    @staticmethod
    async def _write(send: Send, body: bytes, *, more_body: bool = True) -> None:
        await write_body(send, body, timeout=WRITE_TIMEOUT_SECONDS, more_body=more_body)

    async def _watch_disconnect(self, receive: Receive) -> None:
        await wait_for_disconnect(receive, self._subscription.close)
