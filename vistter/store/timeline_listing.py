"""The library listing: one line per stored timeline, fit for a page that browses the library.

Each line has what a person looks for before opening a timeline: its name, length, frame
rate, picture size, whether it loops, how many tracks and cues it has, whether it is on air
(an execution is running: the rule :meth:`TimelineLibrary.delete` refuses by), its revision
(the ETag, see :mod:`vistter.store.revisions`) and its last run with the result from the
execution log. All of it comes from **one** SQL query, however many timelines there are.

Runs in the calling thread, inside the read transaction it is given.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from vistter.store.db import parse_timestamp
from vistter.store.executions import ExecutionStatus
from vistter.store.revisions import etag_of

__all__ = ["LastRun", "TimelineSummary", "list_timelines", "matches_query"]

LISTING = """
SELECT t.id, t.timeline_key, t.name, t.description, t.duration, t.fps, t.resolution,
       t.modified_at, t.is_active, t.revision,
       coalesce(json_extract(t.document, '$.timeline.loop'), 0) AS loop,
       (SELECT count(*) FROM timeline_tracks k WHERE k.timeline_id = t.id) AS tracks,
       (SELECT count(*) FROM timeline_cues c JOIN timeline_tracks k ON c.track_id = k.id
         WHERE k.timeline_id = t.id) AS cues,
       EXISTS (SELECT 1 FROM timeline_executions r
               WHERE r.timeline_id = t.id AND r.status = 'running') AS is_running,
       e.started_at AS run_started_at, e.completed_at AS run_completed_at,
       e.status AS run_status, e.error_message AS run_error
FROM timelines t
LEFT JOIN timeline_executions e ON e.id = (
    SELECT max(x.id) FROM timeline_executions x WHERE x.timeline_id = t.id)
"""


@dataclass(frozen=True, slots=True)
class LastRun:
    """The newest run of a timeline: when it started and ended (``None``: still running or
    cut short by a crash not yet recovered) and its result (running, completed, stopped,
    error) with the error's text."""

    started_at: datetime
    ended_at: datetime | None
    result: ExecutionStatus
    error: str | None


@dataclass(frozen=True, slots=True)
class TimelineSummary:
    """One line of the library listing."""

    id: int
    key: str
    name: str
    duration: float
    modified_at: datetime
    is_active: bool
    is_running: bool
    description: str | None = None
    fps: int = 30
    resolution: str = "1920x1080"
    loop: bool = False
    tracks: int = 0
    cues: int = 0
    revision: int = 1
    last_run: LastRun | None = None

    @property
    def etag(self) -> str:
        """The entity tag of the stored version (as ``GET /api/timelines/{id}`` sends it)."""
        return etag_of(self.id, self.revision)


def matches_query(name: str, query: str | None) -> bool:
    """Whether a timeline named ``name`` is found by the search ``query`` (case-insensitive
    substring, Unicode-aware: "é" finds "É"); no query finds everything."""
    if query is None or not query.strip():
        return True
    return query.strip().casefold() in name.casefold()


def list_timelines(
    connection: sqlite3.Connection, *, where: str = "", parameters: tuple[object, ...] = ()
) -> list[TimelineSummary]:
    """The listing lines (all, or those ``where`` selects), by name (case-insensitive), then
    id. ``where`` is SQL over the alias ``t`` (the timelines table), e.g. ``t.id = ?``."""
    sql = LISTING + (f" WHERE {where}" if where else "") + " ORDER BY t.name COLLATE NOCASE, t.id"
    return [_summary(row) for row in connection.execute(sql, parameters).fetchall()]


def _summary(row: sqlite3.Row) -> TimelineSummary:
    last_run = None
    if row["run_status"] is not None:
        completed = row["run_completed_at"]
        last_run = LastRun(
            started_at=parse_timestamp(row["run_started_at"]),
            ended_at=None if completed is None else parse_timestamp(completed),
            result=row["run_status"],
            error=row["run_error"],
        )
    return TimelineSummary(
        id=row["id"],
        key=row["timeline_key"],
        name=row["name"],
        duration=row["duration"],
        modified_at=parse_timestamp(row["modified_at"]),
        is_active=bool(row["is_active"]),
        is_running=bool(row["is_running"]),
        description=row["description"],
        fps=row["fps"],
        resolution=row["resolution"],
        loop=bool(row["loop"]),
        tracks=row["tracks"],
        cues=row["cues"],
        revision=row["revision"],
        last_run=last_run,
    )
