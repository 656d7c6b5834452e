"""Status reads that never wait on an actor doing slow work.

``GET /api/status`` used to ask each supervisor for its children and each output for its
status, one after the other with a 10 s timeout each: while a destination was being torn
down (its supervisor busy waiting for it to stop) the answer took 1.1-1.2 s. Here:

* children come from each supervisor's published copy
  (:meth:`~vistter.supervisors.handle.SupervisorHandle.children_now`), never from an ask;
* the parts' ``status()`` asks are sent together and collected within one short
  ``budget`` (:class:`StatusAsks`); a part that does not answer in time shows what it last
  published on the telemetry bus (:class:`PublishedStatus`) with ``stale: true``, or
  ``unresponsive`` if it never published;
* an output being stopped (``stopping``) is not asked at all; a program part (mixer,
  encoder, fanout) that is busy shows its last answer (:class:`LastAnswers`).

Everything here runs in the caller's thread (an API worker); nothing raises for an actor
that is dead, busy or gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pykka

from vistter.clock import Clock
from vistter.supervisors.calls import ask_method
from vistter.supervisors.children import ChildInfo
from vistter.telemetry.topics import DESTINATION_TOPIC

__all__ = ["STATUS_BUDGET", "LastAnswers", "PublishedStatus", "StatusAsks", "output_listing"]

STATUS_BUDGET = 0.25
"""Seconds a status read waits, in all, for the parts it asks."""


class PublishedStatus:
    """The last status each output published on ``event.destination``, by output id.

    A telemetry bus listener: :meth:`on_publish` runs in the publishing actor's thread and
    only stores a reference; :meth:`get` may be called from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, dict[str, Any]] = {}

    def on_publish(self, topic: str, payload: dict[str, Any]) -> None:
        if topic == DESTINATION_TOPIC and isinstance(payload.get("id"), str):
            with self._lock:
                self._latest[payload["id"]] = payload

    def get(self, output_id: str) -> dict[str, Any] | None:
        with self._lock:
            latest = self._latest.get(output_id)
        return None if latest is None else dict(latest)


class StatusAsks:
    """``status()`` asks sent at once and collected within one budget of ``budget`` s."""

    def __init__(self, clock: Clock, budget: float = STATUS_BUDGET) -> None:
        self._clock = clock
        self._deadline = clock.monotonic() + budget
        self._futures: dict[str, pykka.Future[Any] | None] = {}

    def ask(self, key: str, ref: pykka.ActorRef[Any] | None) -> None:
        """Send ``status()`` to ``ref`` (None: nothing to ask; shows as unresponsive)."""
        # a stopped actor's future raises ActorDeadError in :meth:`answer`
        self._futures[key] = None if ref is None else ask_method(ref, "status")

    def answer(self, key: str) -> dict[str, Any] | None:
        """The answer for ``key``, or None if it did not come within the budget."""
        future = self._futures.get(key)
        if future is None:
            return None
        try:
            answer: dict[str, Any] = future.get(
                timeout=max(0.0, self._deadline - self._clock.monotonic())
            )
        except (pykka.ActorDeadError, pykka.Timeout):
            return None
        return answer


class LastAnswers:
    """Each part's last ``status()`` answer, shown with ``stale: true`` while it is busy.

    :meth:`settle` runs in API worker threads (several at once); it is thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, Any]] = {}

    def settle(self, key: str, answer: dict[str, Any] | None) -> dict[str, Any]:
        """``answer`` (and remember it), else the last one marked stale, else
        ``unresponsive``."""
        with self._lock:
            if answer is not None:
                self._last[key] = answer
                return answer
            last = self._last.get(key)
        return {"state": "unresponsive"} if last is None else {**last, "stale": True}


def output_listing(
    children: list[ChildInfo],
    asks: StatusAsks,
    published: PublishedStatus,
    output_id: Callable[[str], str],
) -> list[dict[str, Any]]:
    """Every output's status: what it answered, else what it last published."""
    for child in children:
        if child.state == "running":
            asks.ask(child.id, child.ref)
    listing: list[dict[str, Any]] = []
    for child in children:
        entry: dict[str, Any] = {"child": child.id, "state": child.state}
        answer = asks.answer(child.id) if child.state == "running" else None
        if answer is not None:
            entry.update(answer)
        else:
            last = published.get(output_id(child.id))
            if last is not None:
                entry.update(last, child=child.id, stale=True)
                if child.state != "running":
                    entry["state"] = child.state
            elif child.state == "running":
                entry["state"] = "unresponsive"
        listing.append(entry)
    return listing
