"""The database: WAL, foreign keys, per-thread connections and versioned migrations."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vistter.store.db import Database, format_timestamp, parse_timestamp
from vistter.store.errors import DatabaseError, MigrationError
from vistter.store.migrations import MIGRATIONS, Migration, check_migrations

LATEST = len(MIGRATIONS)
"""The schema version this Vistter creates; the injected migrations below come after it."""
NEXT = LATEST + 1

V2 = Migration(
    NEXT,
    "asset tags",
    (
        "CREATE TABLE asset_tags (asset_id INTEGER NOT NULL REFERENCES assets(id) "
        "ON DELETE CASCADE, tag TEXT NOT NULL)",
        "ALTER TABLE timelines ADD COLUMN notes TEXT NOT NULL DEFAULT ''",
    ),
)


def tables(db: Database) -> set[str]:
    with db.read() as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def columns(db: Database, table: str) -> list[str]:
    with db.read() as connection:
        return [row["name"] for row in connection.execute(f"PRAGMA table_info({table})")]


def test_a_new_database_is_wal_with_foreign_keys_at_the_latest_version(tmp_path: Path) -> None:
    with Database(tmp_path / "sub" / "vistter.db") as db:
        assert db.schema_version == len(MIGRATIONS) == 4
        assert {"timelines", "timeline_tracks", "timeline_cues", "timeline_executions",
                "assets", "alerts"} <= tables(db)  # fmt: skip
        with db.read() as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
            assert connection.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert "document" in columns(db, "timelines")
        assert "created_by" in columns(db, "timelines")
        with db.write() as connection, pytest.raises(sqlite3.IntegrityError):
            connection.execute(  # the foreign key is enforced
                "INSERT INTO timeline_tracks (timeline_id, track_key, track_type, track_order) "
                "VALUES (999, 'v', 'video', 0)"
            )


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"
    Database(path).close()
    with Database(path) as db:
        assert db.schema_version == LATEST


def test_an_injected_next_version_upgrades_a_database_at_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"
    with Database(path) as db:
        with db.write() as connection:
            connection.execute(
                "INSERT INTO timelines (timeline_key, name, duration, document) "
                "VALUES ('t', 'Kept', 10, '{}')"
            )
        assert "asset_tags" not in tables(db)
    with Database(path, migrations=(*MIGRATIONS, V2)) as db:
        assert db.schema_version == NEXT
        assert "asset_tags" in tables(db)
        with db.read() as connection:
            row = connection.execute("SELECT name, notes FROM timelines").fetchone()
        assert (row["name"], row["notes"]) == ("Kept", "")
    with Database(path, migrations=(*MIGRATIONS, V2)) as db:  # already there: nothing to do
        assert db.schema_version == NEXT


def test_a_failed_migration_rolls_back_and_keeps_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"
    Database(path).close()
    broken = Migration(
        NEXT,
        "half-broken",
        (
            "CREATE TABLE asset_tags (asset_id INTEGER, tag TEXT)",
            "ALTER TABLE timelines ADD COLUMN notes TEXT",
            "ALTER TABLE no_such_table ADD COLUMN x TEXT",
        ),
    )
    with pytest.raises(MigrationError) as caught:
        Database(path, migrations=(*MIGRATIONS, broken))
    assert f"migration {NEXT} (half-broken) failed" in caught.value.problem
    assert f"stays at version {LATEST}" in caught.value.problem
    assert caught.value.hint
    with Database(path) as db:
        assert db.schema_version == LATEST
        assert "asset_tags" not in tables(db)
        assert "notes" not in columns(db, "timelines")


def test_a_migration_whose_python_step_raises_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"

    def explode(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO timelines (timeline_key, name, duration, document) "
                           "VALUES ('x', 'x', 1, '{}')")  # fmt: skip
        raise RuntimeError("backfill failed")

    with pytest.raises(MigrationError, match="backfill failed"):
        Database(path, migrations=(*MIGRATIONS, Migration(NEXT, "backfill", (), explode)))
    with Database(path) as db, db.read() as connection:
        assert connection.execute("SELECT count(*) FROM timelines").fetchone()[0] == 0
        assert db.schema_version == LATEST


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"
    Database(path, migrations=(*MIGRATIONS, V2)).close()
    with pytest.raises(MigrationError, match="newer than this Vistter") as caught:
        Database(path)
    assert "newer Vistter" in caught.value.hint


def test_migration_versions_must_be_consecutive() -> None:
    with pytest.raises(ValueError, match="1, 2, 3"):
        check_migrations((*MIGRATIONS, Migration(NEXT + 1, "gap")))


def test_a_file_that_is_not_sqlite_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"
    path.write_bytes(b"this is not a database, just some text\n" * 100)
    with pytest.raises(DatabaseError, match="not a usable SQLite database") as caught:
        Database(path)
    assert "Move the file away" in caught.value.hint


def test_in_memory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="file path"):
        Database(":memory:")


def test_a_failed_write_stores_nothing(tmp_path: Path) -> None:
    def insert_then_fail(db: Database) -> None:
        with db.write() as connection:
            connection.execute("INSERT INTO timelines (timeline_key, name, duration, document) "
                               "VALUES ('x', 'x', 1, '{}')")  # fmt: skip
            raise RuntimeError("boom")

    with Database(tmp_path / "vistter.db") as db:
        with pytest.raises(RuntimeError, match="boom"):
            insert_then_fail(db)
        with db.read() as connection:
            assert connection.execute("SELECT count(*) FROM timelines").fetchone()[0] == 0


def test_nested_transactions_in_one_thread_are_a_bug(tmp_path: Path) -> None:
    with (
        Database(tmp_path / "vistter.db") as db,
        db.read(),
        pytest.raises(RuntimeError, match="already open"),
        db.write(),
    ):
        pass


@pytest.mark.timeout(30)
def test_each_thread_has_its_own_connection_and_ended_threads_release_theirs(
    tmp_path: Path,
) -> None:
    with Database(tmp_path / "vistter.db") as db:
        seen: list[sqlite3.Connection] = []

        def use() -> None:
            with db.read() as connection:
                seen.append(connection)

        use()
        for _ in range(3):
            thread = threading.Thread(target=use)
            thread.start()
            thread.join(timeout=10)
            assert not thread.is_alive()
        assert len({id(connection) for connection in seen}) == 4
        use()  # the main thread keeps its connection; the dead threads' ones were closed
        assert seen[-1] is seen[0]
        for dead in seen[1:3]:
            with pytest.raises(sqlite3.ProgrammingError):
                dead.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):  # close() closed the rest
        seen[0].execute("SELECT 1")


def test_a_closed_database_says_so(tmp_path: Path) -> None:
    db = Database(tmp_path / "vistter.db")
    db.close()
    with pytest.raises(DatabaseError, match="closed"), db.read():
        pass


def test_timestamps_come_from_the_injected_wall_clock(tmp_path: Path) -> None:
    moment = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    with Database(tmp_path / "vistter.db", wall_clock=lambda: moment) as db:
        assert db.now() == "2024-05-01T12:30:00.000000+00:00"
        assert parse_timestamp(db.now()) == moment
    assert format_timestamp(datetime(2024, 1, 1)) == "2024-01-01T00:00:00.000000+00:00"
    assert parse_timestamp("2024-01-01 10:00:00") == datetime(2024, 1, 1, 10, tzinfo=UTC)
