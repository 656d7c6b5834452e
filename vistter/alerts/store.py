"""The alert history in SQLite (table ``alerts``, schema version 2).

Rows are written whole (``INSERT OR REPLACE`` by id): the service gives each alert its id
itself, so raising one never waits for the database. Methods run in the calling thread on
that thread's connection (see :mod:`vistter.store.db`); the service calls them from its
writer thread only, and once at start-up.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, cast

from vistter.alerts.model import SEVERITIES, Alert, Severity
from vistter.store.db import Database

__all__ = ["AlertStore"]

_INSERT = (
    "INSERT OR REPLACE INTO alerts (id, condition_key, severity, kind, source, message, "
    "remediation, raised_at, updated_at, cleared_at, acknowledged_at, repeats, resolution, "
    "details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_LOAD = (
    "SELECT id, condition_key, severity, kind, source, message, remediation, raised_at, "
    "updated_at, cleared_at, acknowledged_at, repeats, resolution, details FROM alerts "
    "WHERE cleared_at IS NULL OR id IN (SELECT id FROM alerts WHERE cleared_at IS NOT NULL "
    "ORDER BY id DESC LIMIT ?) ORDER BY id"
)


class AlertStore:
    """Reads and writes alerts; keeps at most ``history`` cleared ones (active ones stay)."""

    def __init__(self, db: Database, history: int) -> None:
        if history < 1:
            raise ValueError(f"the alert history must keep at least 1 alert, not {history}")
        self._db = db
        self.history = history

    def save(self, alerts: list[Alert]) -> None:
        """Write ``alerts`` (new or changed) in one transaction, then drop the oldest cleared
        alerts beyond the history bound."""
        if not alerts:
            return
        with self._db.write() as connection:
            connection.executemany(_INSERT, [_row(alert) for alert in alerts])
            connection.execute(
                "DELETE FROM alerts WHERE cleared_at IS NOT NULL AND id NOT IN "
                "(SELECT id FROM alerts WHERE cleared_at IS NOT NULL ORDER BY id DESC LIMIT ?)",
                (self.history,),
            )

    def load(self) -> list[Alert]:
        """Every alert kept, oldest first (active ones and the latest ``history`` cleared)."""
        with self._db.read() as connection:
            rows = connection.execute(_LOAD, (self.history,)).fetchall()
        return [_alert(row) for row in rows]

    def last_id(self) -> int:
        """The highest id ever stored (0 for none), so new ids never repeat an old one."""
        with self._db.read() as connection:
            row = connection.execute("SELECT max(id) FROM alerts").fetchone()
        return int(row[0] or 0)


def _row(alert: Alert) -> tuple[Any, ...]:
    return (
        alert.id, alert.key, alert.severity, alert.kind, alert.source, alert.message,
        alert.remediation, alert.raised_at, alert.updated_at, alert.cleared_at,
        alert.acknowledged_at, alert.repeats, alert.resolution,
        json.dumps(dict(alert.details), default=str),
    )  # fmt: skip


def _alert(row: sqlite3.Row) -> Alert:
    severity = row["severity"] if row["severity"] in SEVERITIES else "warning"
    try:
        details = json.loads(row["details"])
    except ValueError:
        details = {}
    return Alert(
        id=int(row["id"]),
        key=str(row["condition_key"]),
        severity=cast(Severity, severity),
        kind=str(row["kind"]),
        source=str(row["source"]),
        message=str(row["message"]),
        remediation=str(row["remediation"]),
        raised_at=float(row["raised_at"]),
        updated_at=float(row["updated_at"]),
        cleared_at=None if row["cleared_at"] is None else float(row["cleared_at"]),
        acknowledged_at=None if row["acknowledged_at"] is None else float(row["acknowledged_at"]),
        repeats=int(row["repeats"]),
        resolution=str(row["resolution"]),
        details=details if isinstance(details, dict) else {},
    )
