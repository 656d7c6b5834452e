"""Alert webhooks: every alert event POSTed as JSON to each configured URL, with retries.

One :class:`WebhookSender` owns one daemon thread (``vistter-alert-webhooks``) and a bounded
queue. :meth:`WebhookSender.send` only appends to the queue, so the bus and the actors that
raise alerts never wait for the network. The thread POSTs each delivery; a delivery that
fails (connection refused, timeout, an HTTP status other than 2xx) is tried again after the
:class:`~vistter.supervisors.backoff.Backoff` delays, ``attempts`` tries in all, and then
dropped with a log line. Retries are scheduled, never slept: a failing webhook does not hold
back a delivery to another one that works.

URLs may carry secrets (tokens): logs and :meth:`WebhookSender.stats` name only the scheme
and host (:func:`~vistter.models.alerts.webhook_label`).
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vistter import __version__
from vistter.alerts.payloads import WebhookStats
from vistter.models.alerts import webhook_label
from vistter.supervisors.backoff import Backoff

__all__ = ["Delivery", "WebhookSender", "post_json"]

logger = logging.getLogger(__name__)

MAX_PENDING = 1000
"""Deliveries waiting at most; beyond that the oldest are dropped (and counted)."""

Poster = Callable[[str, bytes, float], int]
"""``poster(url, body, timeout)`` POSTs ``body`` and returns the HTTP status; raises
``OSError`` (``urllib.error.URLError`` included) when there is no answer."""


def post_json(url: str, body: bytes, timeout: float) -> int:
    """POST ``body`` as ``application/json`` to ``url``; the HTTP status (4xx/5xx too)."""
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by AlertsConfig
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"vistter/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


@dataclass(order=True)
class Delivery:
    """One payload for one URL; ``attempt`` counts the tries made so far."""

    due: float
    order: int
    url: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=0, compare=False)


class WebhookSender:
    """Posts alert payloads to ``urls`` from its own thread, retrying on ``backoff``."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        backoff: Backoff,
        attempts: int,
        timeout: float,
        poster: Poster = post_json,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if attempts < 1 or timeout <= 0:
            raise ValueError("webhook attempts must be >= 1 and the timeout positive")
        self.urls = tuple(urls)
        self._backoff = backoff
        self._attempts = attempts
        self._timeout = timeout
        self._poster = poster
        self._monotonic = monotonic
        self._lock = threading.Condition()
        self._pending: list[Delivery] = []
        self._order = itertools.count()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._counts = {"delivered": 0, "retried": 0, "abandoned": 0, "dropped": 0}

    def start(self) -> None:
        """Start the thread (a no-op without URLs or when started already)."""
        with self._lock:
            if not self.urls or self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="vistter-alert-webhooks", daemon=True
            )
            self._thread.start()

    def send(self, payload: dict[str, Any]) -> None:
        """Queue ``payload`` for every URL. Any thread; never blocks, never raises for a
        payload that JSON cannot encode (its odd values become strings)."""
        if not self.urls:
            return
        body = json.dumps(payload, default=str).encode("utf-8")
        now = self._monotonic()
        with self._lock:
            if self._stopping:
                return
            for url in self.urls:
                heapq.heappush(self._pending, Delivery(now, next(self._order), url, body))
            while len(self._pending) > MAX_PENDING:
                oldest = min(self._pending, key=lambda d: d.order)
                self._pending.remove(oldest)
                heapq.heapify(self._pending)
                self._counts["dropped"] += 1
            self._lock.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread; what is still queued is dropped (and logged)."""
        with self._lock:
            self._stopping = True
            left = len(self._pending)
            self._pending.clear()
            self._lock.notify()
            thread = self._thread
        if left:
            logger.warning("alert webhooks: %d deliveries dropped at shutdown", left)
        if thread is not None:
            thread.join(timeout)

    def stats(self) -> WebhookStats:
        """Webhooks (scheme and host only), deliveries made, retried, abandoned, dropped."""
        with self._lock:
            return {
                "webhooks": [webhook_label(url) for url in self.urls],
                "pending": len(self._pending),
                "delivered": self._counts["delivered"],
                "retried": self._counts["retried"],
                "abandoned": self._counts["abandoned"],
                "dropped": self._counts["dropped"],
            }

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        """The webhook thread: wait for the next due delivery, post it, reschedule it on
        failure. An unexpected exception in the poster is logged and counts as a failure."""
        while True:
            with self._lock:
                while not self._stopping:
                    wait = self._pending[0].due - self._monotonic() if self._pending else None
                    if wait is not None and wait <= 0:
                        break
                    self._lock.wait(wait)
                if self._stopping:
                    return
                delivery = heapq.heappop(self._pending)
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        label = webhook_label(delivery.url)
        try:
            status = self._poster(delivery.url, delivery.body, self._timeout)
            problem = None if 200 <= status < 300 else f"it answered HTTP {status}"
        except OSError as error:
            problem = f"it cannot be reached: {getattr(error, 'reason', None) or error}"
        except Exception as error:  # a bug in a poster must not end the thread
            logger.exception("alert webhook %s: unexpected error", label)
            problem = f"unexpected error: {error}"
        delivery.attempt += 1
        with self._lock:
            if problem is None:
                self._counts["delivered"] += 1
                return
            if delivery.attempt >= self._attempts:
                self._counts["abandoned"] += 1
                logger.warning(
                    "alert webhook %s: %s; gave up after %d attempts",
                    label, problem, delivery.attempt,
                )  # fmt: skip
                return
            delay = self._backoff.delay(delivery.attempt - 1)
            self._counts["retried"] += 1
            logger.info(
                "alert webhook %s: %s; attempt %d of %d in %g s",
                label, problem, delivery.attempt + 1, self._attempts, delay,
            )  # fmt: skip
            if not self._stopping:
                delivery.due = self._monotonic() + delay
                heapq.heappush(self._pending, delivery)
                self._lock.notify()
