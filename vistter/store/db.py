"""The SQLite database: one file, WAL journal, foreign keys on, versioned schema.

Threads. Callers come from Starlette's worker threads and from actor threads, so
:class:`Database` gives **each thread its own connection** (created on first use, closed by
:meth:`Database.close` or, for a thread that has ended, when a new thread connects). In WAL
mode readers never wait for the writer and see a consistent snapshot inside :meth:`read`;
writers take SQLite's write lock up front (``BEGIN IMMEDIATE`` in :meth:`write`) and queue on
``busy_timeout`` instead of failing, so concurrent writers from many threads (or a second
process, e.g. the CLI) are serialised by SQLite itself. No Python lock is held while SQL runs.

Durability: ``synchronous=FULL``: a committed execution record survives a power cut, which
matters more on an unattended box than the few writes per minute it costs.

Timestamps are ISO 8601 text in UTC (``2024-05-01T12:00:00.000000+00:00``), taken from the
injected ``wall_clock`` so that tests can fix them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from vistter.store.errors import DatabaseError
from vistter.store.migrations import MIGRATIONS, Migration, apply_migrations, schema_version

__all__ = ["DEFAULT_BUSY_TIMEOUT", "Database", "format_timestamp", "parse_timestamp"]

#: Seconds a writer waits for another writer's transaction before giving up.
DEFAULT_BUSY_TIMEOUT = 10.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """``moment`` as stored: ISO 8601 in UTC with microseconds (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    """A stored timestamp back as an aware UTC ``datetime`` (also reads SQLite's own format)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Database:
    """A Vistter database file, migrated to the latest schema when it is opened.

    ``Database(path)`` creates the file (and its folder) if needed, switches it to WAL and
    applies the pending ``migrations`` in the calling thread; it raises
    :class:`~vistter.store.errors.DatabaseError` (or ``MigrationError``) when it cannot.
    Use it as a context manager or call :meth:`close` at shutdown.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._connections: dict[int, tuple[threading.Thread, sqlite3.Connection]] = {}
        self._closed = False
        if str(path) == ":memory:" or str(path).startswith("file:"):
            raise DatabaseError(
                f"the database must be a file path, not {str(path)!r}.",
                hint="Give a path such as <data_dir>/vistter.db; every thread opens its own "
                "connection to it, which an in-memory database cannot share.",
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseError(
                f"cannot create the folder of the database {self.path}: {error.strerror}.",
                hint="Check paths.data_dir in the configuration and its permissions.",
            ) from None
        try:
            self._schema_version = apply_migrations(self._connection(), migrations)
        except BaseException:
            self.close()
            raise

    # -- public --------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The schema version the database was migrated to when it was opened."""
        return self._schema_version

    def now(self) -> str:
        """The current time from the wall clock, formatted as stored."""
        return format_timestamp(self._wall_clock())

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on this thread's connection: one consistent snapshot.

        Nesting :meth:`read` or :meth:`write` in one thread is a bug and raises
        ``RuntimeError``. An exception inside the block ends the transaction and propagates.
        """
        connection = self._begin("BEGIN")
        try:
            yield connection
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``) on this thread's connection.

        Waits up to ``busy_timeout`` for other writers (``DatabaseError`` after that).
        Commits when the block ends normally; rolls back and re-raises when it raises, so
        a failed operation stores nothing.
        """
        connection = self._begin("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection. Call at shutdown, when no thread still uses it."""
        with self._lock:
            self._closed = True
            connections = [connection for _, connection in self._connections.values()]
            self._connections.clear()
        for connection in connections:
            connection.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connections ---------------------------------------------------------------------

    def _begin(self, statement: str) -> sqlite3.Connection:
        connection = self._connection()
        if connection.in_transaction:
            raise RuntimeError("a store transaction is already open in this thread")
        try:
            connection.execute(statement)
        except sqlite3.OperationalError as error:
            raise DatabaseError(
                f"the database {self.path} is busy or unavailable: {error}.",
                hint="Another process may hold a long write lock on it; stop it, or retry.",
            ) from None
        return connection

    def _connection(self) -> sqlite3.Connection:
        thread = threading.current_thread()
        with self._lock:
            if self._closed:
                raise DatabaseError(
                    f"the database {self.path} is closed.",
                    hint="This is a shutdown race; it goes away when Vistter restarts.",
                )
            entry = self._connections.get(thread.ident or 0)
            if entry is not None and entry[0] is thread:
                return entry[1]
            stale = self._take_stale_locked()
        for connection in stale:
            connection.close()
        connection = self._connect()
        with self._lock:
            if self._closed:
                connection.close()
                raise DatabaseError(f"the database {self.path} is closed.", hint="")
            self._connections[thread.ident or 0] = (thread, connection)
        return connection

    def _take_stale_locked(self) -> list[sqlite3.Connection]:
        # Connections of threads that have ended (an actor restarted, a worker retired).
        # A thread id reused by a new thread also means its old owner has ended.
        stale = [ident for ident, (owner, _) in self._connections.items() if not owner.is_alive()]
        return [self._connections.pop(ident)[1] for ident in stale]

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise DatabaseError(
                f"cannot open the database {self.path}: {error}.",
                hint="Check paths.data_dir in the configuration and its permissions.",
            ) from None
        try:
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            connection.execute("PRAGMA foreign_keys = ON")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            connection.execute("PRAGMA synchronous = FULL")
            if str(mode).lower() != "wal":
                raise DatabaseError(
                    f"the database {self.path} cannot use WAL journaling (it is in {mode} mode).",
                    hint="Put the data folder on a local disk (WAL needs shared memory, which "
                    "network file systems do not give).",
                )
            schema_version(connection)  # fails here, not later, when the file is not SQLite
        except sqlite3.DatabaseError as error:
            connection.close()
            raise DatabaseError(
                f"{self.path} is not a usable SQLite database: {error}.",
                hint="Move the file away (Vistter then creates a new one) or restore a backup.",
            ) from None
        except BaseException:
            connection.close()
            raise
        return connection
