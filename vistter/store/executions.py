"""The execution log: one record per run of a timeline (start, end, status, error, metrics).

The orchestrator calls :meth:`ExecutionLog.start` when a show goes live and
:meth:`ExecutionLog.finish` when it ends (completed, stopped by an operator, or error). If
Vistter dies in between (crash, kill, power cut) the record stays ``running``;
:meth:`ExecutionLog.recover`, called once at startup, closes such records as ``error``.

A run's ``duration_seconds`` is measured on the monotonic clock (``monotonic``, injectable),
so a wall-clock jump during the run (an NTP step, a DST change, an operator setting the time)
does not falsify it; only a run this log did not see start (closed by :meth:`recover`, or
by another process) falls back to the difference of its wall-clock stamps (never negative).

Every record remembers the process that started it (``runner``: pid and a random token), so
``recover`` only touches records of processes that are gone, never a run of this process.
Methods run in the calling thread on that thread's connection (see :mod:`vistter.store.db`).
"""

from __future__ import annotations

import builtins
import json
import math
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from vistter.store.db import Database, parse_timestamp
from vistter.store.errors import (
    ExecutionEndedError,
    ExecutionNotFoundError,
    TimelineNotFoundError,
)

__all__ = ["ExecutionLog", "ExecutionRecord", "ExecutionStatus", "FinalStatus", "this_runner"]

ExecutionStatus = Literal["running", "completed", "stopped", "error"]
FinalStatus = Literal["completed", "stopped", "error"]

_FINAL: frozenset[str] = frozenset(get_args(FinalStatus))
_RECOVERED = (
    "Vistter stopped while this show was running (crash, kill or power cut); the run was "
    "closed as an error when Vistter started again."
)

_runner: tuple[int, str] | None = None


def this_runner() -> str:
    """This process's runner id, ``"<pid>-<random>"`` (new after a fork or a restart)."""
    global _runner  # noqa: PLW0603 - one id per process, made on first use
    pid = os.getpid()
    if _runner is None or _runner[0] != pid:
        _runner = (pid, f"{pid}-{uuid.uuid4().hex[:12]}")
    return _runner[1]


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One run of a timeline. ``timeline_id`` is ``None`` once the timeline is deleted."""

    id: int
    timeline_id: int | None
    timeline_name: str
    status: ExecutionStatus
    started_at: datetime
    completed_at: datetime | None
    error_message: str | None
    metrics: dict[str, Any] | None
    runner: str
    measured_seconds: float | None = None
    """How long it ran by the monotonic clock (None: not measured, see the module doc)."""

    @property
    def duration_seconds(self) -> float | None:
        """How long it ran, once it has ended: the monotonic measure when there is one, else
        the difference of the wall-clock stamps (never negative)."""
        if self.completed_at is None:
            return None
        if self.measured_seconds is not None:
            return self.measured_seconds
        return max(0.0, (self.completed_at - self.started_at).total_seconds())


class ExecutionLog:
    """Start, finish, list and recover execution records.

    ``runner`` identifies the process writing records; leave it to the default
    (:func:`this_runner`) except to simulate another process in a test. ``monotonic``
    measures durations (default :func:`time.monotonic`; a test injects its own). Thread-safe
    like the database: the start times it holds are only added and popped (atomic in CPython).
    """

    def __init__(
        self,
        db: Database,
        *,
        runner: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._runner = runner if runner is not None else this_runner()
        self._monotonic = monotonic
        self._began: dict[int, float] = {}

    def start(self, timeline_id: int) -> int:
        """Record that ``timeline_id`` goes live now; return the new execution id.

        Raises :class:`TimelineNotFoundError` if the timeline is not stored.
        """
        with self._db.write() as connection:
            row = connection.execute(
                "SELECT name FROM timelines WHERE id = ?", (timeline_id,)
            ).fetchone()
            if row is None:
                raise TimelineNotFoundError(
                    f"there is no stored timeline {timeline_id} to run.",
                    hint="Store the timeline in the library first, or pick one from the list.",
                )
            cursor = connection.execute(
                "INSERT INTO timeline_executions (timeline_id, timeline_name, started_at, "
                "status, runner) VALUES (?, ?, ?, 'running', ?)",
                (timeline_id, row["name"], self._db.now(), self._runner),
            )
            execution_id = cursor.lastrowid
            began = self._monotonic()
        assert execution_id is not None
        self._began[execution_id] = began
        return execution_id

    def finish(
        self,
        execution_id: int,
        status: FinalStatus,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> ExecutionRecord:
        """Close a running execution with its final ``status``, ``error`` text and ``metrics``.

        Metrics are stored as JSON; values JSON cannot hold are made to fit rather than lost
        (NaN and infinities become null, numpy scalars numbers, other objects their text).
        Raises ``ValueError`` for a status that is not final (a bug),
        :class:`ExecutionNotFoundError` and :class:`ExecutionEndedError` (already closed,
        e.g. by :meth:`recover`).
        """
        if status not in _FINAL:
            raise ValueError(f"an execution ends as one of {sorted(_FINAL)}, not {status!r}")
        metrics_text = None if metrics is None else json.dumps(_jsonable(dict(metrics)))
        ended = self._monotonic()
        began = self._began.get(execution_id)
        measured = None if began is None else max(0.0, ended - began)
        with self._db.write() as connection:
            current = self._fetch(connection, execution_id)
            if current.status != "running":
                raise ExecutionEndedError(
                    f"execution {execution_id} already ended ({current.status}).",
                    hint="An execution ends once; start a new one for the next run.",
                )
            connection.execute(
                "UPDATE timeline_executions SET status = ?, completed_at = ?, "
                "error_message = ?, metrics = ?, duration_seconds = ? WHERE id = ?",
                (status, self._db.now(), error, metrics_text, measured, execution_id),
            )
            record = self._fetch(connection, execution_id)
        self._began.pop(execution_id, None)
        return record

    def get(self, execution_id: int) -> ExecutionRecord:
        """One execution record; raises :class:`ExecutionNotFoundError` if unknown."""
        with self._db.read() as connection:
            return self._fetch(connection, execution_id)

    def list(
        self, timeline_id: int | None = None, *, limit: int = 100
    ) -> builtins.list[ExecutionRecord]:
        """The newest ``limit`` executions, of one timeline or (``None``) of all."""
        with self._db.read() as connection:
            if timeline_id is None:
                rows = connection.execute(
                    "SELECT * FROM timeline_executions ORDER BY id DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                rows = connection.execute(
                    "SELECT * FROM timeline_executions WHERE timeline_id = ? "
                    "ORDER BY id DESC LIMIT ?",
                    (timeline_id, limit),
                ).fetchall()
        return [_record(row) for row in rows]

    def running(self) -> builtins.list[ExecutionRecord]:
        """Executions still marked running (this process's, or a crashed one's)."""
        with self._db.read() as connection:
            rows = connection.execute(
                "SELECT * FROM timeline_executions WHERE status = 'running' ORDER BY id"
            ).fetchall()
        return [_record(row) for row in rows]

    def recover(self) -> builtins.list[int]:
        """Close as ``error`` every execution left running by another (dead) process.

        Call once at startup, before any show starts. Returns the ids it closed. Runs of
        this process (same runner) are never touched.
        """
        with self._db.write() as connection:
            rows = connection.execute(
                "SELECT id FROM timeline_executions WHERE status = 'running' AND runner != ?",
                (self._runner,),
            ).fetchall()
            ids = [int(row["id"]) for row in rows]
            connection.executemany(
                "UPDATE timeline_executions SET status = 'error', completed_at = ?, "
                "error_message = ? WHERE id = ?",
                [(self._db.now(), _RECOVERED, execution_id) for execution_id in ids],
            )
        return ids

    @staticmethod
    def _fetch(connection: sqlite3.Connection, execution_id: int) -> ExecutionRecord:
        row = connection.execute(
            "SELECT * FROM timeline_executions WHERE id = ?", (execution_id,)
        ).fetchone()
        if row is None:
            raise ExecutionNotFoundError(
                f"there is no execution {execution_id}.",
                hint="List the executions of the timeline to see their ids.",
            )
        return _record(row)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _record(row: sqlite3.Row) -> ExecutionRecord:
    completed = row["completed_at"]
    metrics = row["metrics"]
    return ExecutionRecord(
        id=row["id"],
        timeline_id=row["timeline_id"],
        timeline_name=row["timeline_name"],
        status=row["status"],
        started_at=parse_timestamp(row["started_at"]),
        completed_at=None if completed is None else parse_timestamp(completed),
        error_message=row["error_message"],
        metrics=None if metrics is None else json.loads(metrics),
        runner=row["runner"],
        measured_seconds=row["duration_seconds"],
    )
