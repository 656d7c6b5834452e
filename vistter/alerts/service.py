"""The alert service: one alert per condition, kept, published, acknowledged, posted out.

:class:`AlertService` is created by the appliance and outlives every actor. Once
:meth:`~AlertService.open`, it routes the bus topic ``alert`` to itself: every report
published there (by an actor, the fallback policy, a rule of :mod:`vistter.alerts.rules`)
comes to :meth:`~AlertService.report`, which

* raises a new alert (id, time) when the condition is not active yet,
* deduplicates a report of an active condition (counted in ``repeats``; a report that says
  something new - message, severity, remediation - updates the alert),
* clears the conditions a report resolves (``resolves``, ``cleared``); a report marked
  ``one_shot`` (a failure that happened, which nothing ends) is cleared when acknowledged,

and publishes each change on ``alert`` (see :meth:`Alert.to_payload`): ``raised``,
``updated``, ``cleared``, ``acknowledged``. Changes are written to SQLite by the service's
writer thread and POSTed to the webhooks by theirs, so a report costs the reporting thread
(often an actor's, or the mixer's frame loop) a dictionary update and a bus publish.

The latest alerts (every active one and the latest ``history`` cleared) are kept in memory,
so reading them never touches the database. At start the kept ones are loaded; alerts still
active from the previous run are cleared ("Vistter restarted"): their conditions are checked
afresh and raised again if they persist.

Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from vistter.alerts.model import Alert, AlertReport, Severity, parse_report
from vistter.alerts.store import AlertStore
from vistter.alerts.webhooks import WebhookSender
from vistter.errors import OperatorError
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["AlertNotFoundError", "AlertService", "Listing"]

logger = logging.getLogger(__name__)

Listing = Literal["all", "active", "history"]
_RANK = {"info": 0, "warning": 1, "critical": 2}
RESTARTED = "Vistter restarted; the condition is checked again and raised anew if it persists."


class AlertNotFoundError(OperatorError):
    """No alert has this id (it never existed, or it left the bounded history)."""

    http_status = 404


class AlertService:
    """Alerts from reports; see the module doc. ``wall_clock`` gives Unix seconds."""

    def __init__(
        self,
        bus: TelemetryBus,
        *,
        store: AlertStore | None = None,
        history: int = 500,
        webhooks: WebhookSender | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if history < 1:
            raise ValueError(f"the alert history must keep at least 1 alert, not {history}")
        self._bus = bus
        self._store = store
        self._history_limit = store.history if store is not None else history
        self._webhooks = webhooks
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._active: dict[str, Alert] = {}
        self._history: OrderedDict[int, Alert] = OrderedDict()
        self._next_id = 1
        self._writes: queue.SimpleQueue[Alert | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._unroute: Callable[[], None] | None = None

    # -- lifecycle (the appliance's thread) ----------------------------------------------

    def open(self) -> None:
        """Load the kept alerts, start the writer and webhook threads, route ``alert``.

        Raises :class:`~vistter.store.errors.DatabaseError` when the history cannot be read.
        """
        if self._store is not None:
            now = self._wall_clock()
            restarted: list[Alert] = []
            for stored in self._store.load():
                alert = stored
                if stored.active:
                    alert = replace(stored, cleared_at=now, updated_at=now, resolution=RESTARTED)
                    restarted.append(alert)
                self._history[alert.id] = alert
            self._trim_locked()
            self._next_id = self._store.last_id() + 1
            self._store.save(restarted)
            self._writer = threading.Thread(
                target=self._write_loop, name="vistter-alert-writer", daemon=True
            )
            self._writer.start()
        if self._webhooks is not None:
            self._webhooks.start()
        self._unroute = self._bus.route(ALERT_TOPIC, self.submit)

    def close(self, timeout: float = 5.0) -> None:
        """Stop routing, write what is pending, stop the threads. Idempotent."""
        if self._unroute is not None:
            self._unroute()
            self._unroute = None
        if self._writer is not None:
            self._writes.put(None)
            self._writer.join(timeout)
            self._writer = None
        if self._webhooks is not None:
            self._webhooks.close()

    # -- reports (any thread) ------------------------------------------------------------

    def submit(self, payload: dict[str, Any]) -> None:
        """The bus router of ``alert``: a published payload as a report."""
        self.report(parse_report(payload))

    def report(self, report: AlertReport) -> Alert | None:
        """Apply ``report``; returns the alert it raised or updated (None: it only cleared,
        or it repeated an active alert word for word)."""
        now = self._wall_clock()
        changes: list[tuple[str, Alert, bool]] = []
        result: Alert | None = None
        with self._lock:
            for key in report.resolved_keys():
                cleared = self._clear_locked(key, report.message, now)
                if cleared is not None:
                    changes.append(("cleared", cleared, True))
            if not report.cleared:
                before = self._active.get(report.key)
                result, event = self._raise_locked(report, now)
                if event is None:  # said again word for word: counted, not announced
                    self._persist(result)
                    result = None
                else:
                    worse = before is not None and _RANK[result.severity] > _RANK[before.severity]
                    changes.append((event, result, event == "raised" or worse))
        for event, alert, notify in changes:
            self._announce(event, alert, notify=notify)
        return result

    def clear(self, key: str, resolution: str = "") -> Alert | None:
        """End the condition ``key`` (``source/kind``); None when it was not active."""
        with self._lock:
            cleared = self._clear_locked(key, resolution, self._wall_clock())
        if cleared is not None:
            self._announce("cleared", cleared, notify=True)
        return cleared

    # -- operators (any thread) ----------------------------------------------------------

    def acknowledge(self, alert_id: int) -> Alert:
        """Mark one alert as seen (again: no change). Raises :class:`AlertNotFoundError`."""
        with self._lock:
            alert = self._find_locked(alert_id)
            if alert is None:
                raise AlertNotFoundError(
                    f"there is no alert {alert_id}.",
                    hint=f"GET /api/alerts lists the active alerts and the latest "
                    f"{self._history_limit} cleared ones.",
                )
            if alert.acknowledged:
                return alert
            acknowledged = self._acknowledge_locked(alert, self._wall_clock())
        self._announce("acknowledged", acknowledged, notify=False)
        return acknowledged

    def acknowledge_all(
        self, *, severity: Severity | None = None, source: str | None = None
    ) -> list[Alert]:
        """Mark every unacknowledged alert (active or kept) as seen, or only those of one
        ``severity`` or ``source``; returns them."""
        now = self._wall_clock()
        with self._lock:
            pending = [
                a for a in self._all_locked()
                if not a.acknowledged and severity in (None, a.severity)
                and source in (None, a.source)
            ]  # fmt: skip
            done = [self._acknowledge_locked(a, now) for a in pending]
        for alert in done:
            self._announce("acknowledged", alert, notify=False)
        return done

    def listing(
        self, which: Listing = "all", *, limit: int = 50, offset: int = 0
    ) -> tuple[list[Alert], int]:
        """Alerts newest first (active ones before cleared ones for ``all``) and how many
        there are in all: ``[offset:offset+limit]`` of the list."""
        with self._lock:
            active = sorted(self._active.values(), key=lambda a: a.id, reverse=True)
            history = list(reversed(self._history.values()))
        chosen = {"active": active, "history": history, "all": [*active, *history]}[which]
        return chosen[offset:offset + limit], len(chosen)

    def counts(self) -> dict[str, int]:
        """Active alerts, by severity, and those not acknowledged yet."""
        with self._lock:
            active = list(self._active.values())
        return {
            "active": len(active),
            "critical": sum(1 for a in active if a.severity == "critical"),
            "warning": sum(1 for a in active if a.severity == "warning"),
            "info": sum(1 for a in active if a.severity == "info"),
            "unacknowledged": sum(1 for a in active if not a.acknowledged),
        }

    # -- internals (under the lock) ------------------------------------------------------

    def _raise_locked(self, report: AlertReport, now: float) -> tuple[Alert, str | None]:
        existing = self._active.get(report.key)
        if existing is None:
            alert = Alert(
                id=self._next_id, key=report.key, severity=report.severity, kind=report.kind,
                source=report.source, message=report.message,
                remediation=report.remediation, raised_at=now, updated_at=now,
                details=dict(report.details),
            )  # fmt: skip
            self._next_id += 1
            self._active[alert.key] = alert
            return alert, "raised"
        remediation = report.remediation or existing.remediation
        same = (report.message, report.severity, remediation) == (
            existing.message, existing.severity, existing.remediation)
        updated = replace(
            existing, repeats=existing.repeats + 1, updated_at=now,
            message=report.message, severity=report.severity, remediation=remediation,
            details={**existing.details, **report.details},
        )  # fmt: skip
        self._active[updated.key] = updated
        return updated, None if same else "updated"

    def _clear_locked(self, key: str, resolution: str, now: float) -> Alert | None:
        alert = self._active.pop(key, None)
        if alert is None:
            return None
        cleared = replace(alert, cleared_at=now, updated_at=now, resolution=resolution)
        self._history[cleared.id] = cleared
        self._trim_locked()
        return cleared

    def _acknowledge_locked(self, alert: Alert, now: float) -> Alert:
        """Acknowledged; a one-shot alert (a failure that happened, which nothing ends: a
        PTZ move, a cue that could not be drawn) is cleared by it too."""
        if alert.active and alert.details.get("one_shot") is True:
            self._clear_locked(alert.key, "Acknowledged by an operator.", now)
            alert = self._history[alert.id]
        return self._put_locked(replace(alert, acknowledged_at=now))

    def _find_locked(self, alert_id: int) -> Alert | None:
        found = self._history.get(alert_id)
        if found is not None:
            return found
        return next((a for a in self._active.values() if a.id == alert_id), None)

    def _put_locked(self, alert: Alert) -> Alert:
        if alert.active:
            self._active[alert.key] = alert
        else:
            self._history[alert.id] = alert
        return alert

    def _all_locked(self) -> list[Alert]:
        return [*self._active.values(), *self._history.values()]

    def _trim_locked(self) -> None:
        while len(self._history) > self._history_limit:
            self._history.popitem(last=False)

    # -- outside the lock ----------------------------------------------------------------

    def _announce(self, event: str, alert: Alert, *, notify: bool) -> None:
        """Persist, publish, and (``notify``: raised, cleared, or got worse) post out."""
        payload = dict(alert.to_payload(event))
        log = logger.warning if alert.severity != "info" and event == "raised" else logger.info
        log("alert %s %s: %s", event, alert.key, alert.message)
        self._persist(alert)
        self._bus.deliver(ALERT_TOPIC, payload)
        if notify and self._webhooks is not None:
            self._webhooks.send(payload)

    def _persist(self, alert: Alert) -> None:
        if self._writer is not None:
            self._writes.put(alert)

    def _write_loop(self) -> None:
        """The writer thread: batches of changed alerts into SQLite until ``None`` comes.
        A database error is logged and the batch is lost (the alerts stay in memory)."""
        assert self._store is not None
        stopping = False
        while not stopping:
            batch: dict[int, Alert] = {}
            item = self._writes.get()
            while True:
                if item is None:
                    stopping = True
                else:
                    batch[item.id] = item
                try:
                    item = self._writes.get_nowait()
                except queue.Empty:
                    break
            try:
                self._store.save(list(batch.values()))
            except Exception:
                logger.exception("alerts: %d change(s) could not be written", len(batch))
