"""Versioned schema migrations.

A database's schema version is SQLite's ``PRAGMA user_version`` (0 for a new file). Each
:class:`Migration` moves it up by one: :class:`~vistter.store.db.Database` applies the pending
ones in order when it opens, each in its own ``BEGIN IMMEDIATE`` transaction together with the
new ``user_version``, so a migration is applied exactly once, and one that fails leaves the
database exactly as it was before it (see :func:`apply_migrations`).

Rules for writing one: never edit a released migration, add a new version instead. Statements
run one by one (never ``executescript``, which would commit half way). Foreign keys stay ON
during a migration (SQLite cannot switch them inside a transaction), so a table rebuild must
copy rows in an order the keys accept; ``PRAGMA foreign_key_check`` runs before the commit.

Version 1 is the spec's schema (timelines, timeline_tracks, timeline_cues,
timeline_executions, assets) without the ``users`` table: the ``created_by``, ``executed_by``
and ``uploaded_by`` columns are plain nullable integers until there are users. On top of the
spec: ``timelines.document`` keeps the whole timeline JSON (import/export is lossless; tracks
and cues are filled from it for queries), ``timeline_key`` / ``track_key`` / ``cue_key`` keep
the ids written in the document, and executions keep the timeline's name and the process that
ran them (``runner``) so a crash can be told apart from a run still in progress.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vistter.store.errors import MigrationError

__all__ = ["MIGRATIONS", "Migration", "apply_migrations", "check_migrations", "schema_version"]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: ``statements`` (SQL, run in order), then ``apply`` if given.

    ``apply`` receives the connection inside the migration's transaction, for data changes
    that SQL alone cannot express. If it raises, the migration is rolled back.
    """

    version: int
    description: str
    statements: tuple[str, ...] = ()
    apply: Callable[[sqlite3.Connection], None] | None = None


_V1 = (
    """
    CREATE TABLE timelines (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timeline_key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        description TEXT,
        duration NUMERIC NOT NULL CHECK (duration > 0),
        fps INTEGER NOT NULL DEFAULT 30,
        resolution TEXT NOT NULL DEFAULT '1920x1080',
        created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        modified_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        created_by INTEGER,
        is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
        document TEXT NOT NULL CHECK (json_valid(document))
    )
    """,
    """
    CREATE TABLE timeline_tracks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timeline_id INTEGER NOT NULL REFERENCES timelines(id) ON DELETE CASCADE,
        track_key TEXT NOT NULL,
        track_type TEXT NOT NULL CHECK (track_type IN ('video', 'overlay')),
        track_name TEXT,
        track_order INTEGER NOT NULL,
        layer INTEGER NOT NULL DEFAULT 1,
        is_enabled INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
        UNIQUE (timeline_id, track_key)
    )
    """,
    """
    CREATE TABLE timeline_cues (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        track_id INTEGER NOT NULL REFERENCES timeline_tracks(id) ON DELETE CASCADE,
        cue_key TEXT NOT NULL,
        cue_order INTEGER NOT NULL,
        start_time REAL NOT NULL,
        duration REAL NOT NULL,
        action_type TEXT NOT NULL,
        action_params TEXT NOT NULL CHECK (json_valid(action_params)),
        transition_type TEXT NOT NULL DEFAULT 'cut',
        transition_duration REAL NOT NULL DEFAULT 0,
        UNIQUE (track_id, cue_order)
    )
    """,
    "CREATE INDEX timeline_cues_action ON timeline_cues (action_type)",
    """
    CREATE TABLE timeline_executions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timeline_id INTEGER REFERENCES timelines(id) ON DELETE SET NULL,
        timeline_name TEXT NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'stopped', 'error')),
        executed_by INTEGER,
        runner TEXT NOT NULL DEFAULT '',
        error_message TEXT,
        metrics TEXT CHECK (metrics IS NULL OR json_valid(metrics))
    )
    """,
    "CREATE INDEX timeline_executions_timeline ON timeline_executions (timeline_id, id)",
    "CREATE INDEX timeline_executions_status ON timeline_executions (status)",
    """
    CREATE TABLE assets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        asset_type TEXT NOT NULL CHECK (asset_type IN ('image', 'video', 'audio')),
        filename TEXT NOT NULL UNIQUE,
        file_path TEXT NOT NULL,
        file_size INTEGER NOT NULL CHECK (file_size >= 0),
        mime_type TEXT NOT NULL,
        checksum TEXT NOT NULL UNIQUE CHECK (length(checksum) = 64),
        uploaded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        uploaded_by INTEGER,
        metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata))
    )
    """,
)

_V2_ALERTS = (
    """
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        condition_key TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        remediation TEXT NOT NULL DEFAULT '',
        raised_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        cleared_at REAL,
        acknowledged_at REAL,
        repeats INTEGER NOT NULL DEFAULT 0 CHECK (repeats >= 0),
        resolution TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
    )
    """,
    "CREATE INDEX alerts_cleared ON alerts (cleared_at, id)",
)
"""Version 2: the alert history (:mod:`vistter.alerts.store`); times are Unix seconds."""

_V3_REVISIONS = (
    "ALTER TABLE timelines ADD COLUMN revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1)",
)
"""Version 3: a revision counter per timeline, one up on every stored change; the API's ETag
(:mod:`vistter.store.revisions`) is made from it, so two editors cannot overwrite each other."""

_V4_RUN_DURATIONS = (
    "ALTER TABLE timeline_executions ADD COLUMN duration_seconds REAL "
    "CHECK (duration_seconds IS NULL OR duration_seconds >= 0)",
)
"""Version 4: a run's duration measured on the monotonic clock (:mod:`vistter.store.
executions`), so a wall-clock jump during a run does not falsify it."""

#: Every migration of the Vistter schema, oldest first.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "timelines, tracks, cues, executions and assets", _V1),
    Migration(2, "alert history", _V2_ALERTS),
    Migration(3, "timeline revisions (ETag)", _V3_REVISIONS),
    Migration(4, "monotonic run durations", _V4_RUN_DURATIONS),
)


def schema_version(connection: sqlite3.Connection) -> int:
    """The database's schema version (``PRAGMA user_version``)."""
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def check_migrations(migrations: Sequence[Migration]) -> None:
    """Raise ``ValueError`` unless the versions are exactly 1, 2, 3, ... in order (a bug)."""
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must be 1, 2, 3, ... in order, not {versions}")


def apply_migrations(connection: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Bring the database up to the last of ``migrations``; return the version it ends at.

    ``connection`` must be in autocommit mode (``isolation_level=None``) and outside a
    transaction. Each pending migration runs in its own ``BEGIN IMMEDIATE`` transaction that
    re-reads the version first, so two processes opening the same file apply it once. Runs in
    the calling thread. Raises :class:`MigrationError` when the database is newer than
    ``migrations`` or when a migration fails; the failed one is rolled back and the versions
    before it stay applied.
    """
    check_migrations(migrations)
    latest = len(migrations)
    current = schema_version(connection)
    if current > latest:
        raise MigrationError(
            f"the database is at schema version {current}, newer than this Vistter "
            f"(which knows up to version {latest}).",
            hint="Run a newer Vistter, or restore a backup made by this version.",
        )
    for migration in migrations[current:]:
        _apply_one(connection, migration)
    return schema_version(connection)


def _apply_one(connection: sqlite3.Connection, migration: Migration) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(connection)
        if version >= migration.version:  # another process applied it meanwhile
            connection.execute("COMMIT")
            return
        for statement in migration.statements:
            connection.execute(statement)
        if migration.apply is not None:
            migration.apply(connection)
        violations = connection.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise sqlite3.IntegrityError(f"{len(violations)} rows break a foreign key")
        connection.execute(f"PRAGMA user_version = {int(migration.version)}")
        connection.execute("COMMIT")
    except Exception as error:
        connection.execute("ROLLBACK")
        raise MigrationError(
            f"schema migration {migration.version} ({migration.description}) failed and was "
            f"rolled back: {error}. The database stays at version {migration.version - 1}.",
            hint="Restore the database from a backup or report this as a bug; Vistter does "
            "not start on a half-migrated database.",
        ) from error
