"""Persistence: the SQLite database, the timeline library, the execution log and the assets.

::

    db = Database(config.paths.data_dir / "vistter.db")    # WAL, migrated on open
    library = TimelineLibrary(db)
    executions = ExecutionLog(db)
    executions.recover()                                    # once at startup
    assets = AssetStore(db, config.paths.assets_dir, config.api.max_upload_bytes,
                        max_inflight_bytes=config.api.max_inflight_upload_bytes)

All of them may be called from any thread; each thread uses its own connection.
"""

from vistter.store.assets import AssetRecord, AssetStore, ByteStream
from vistter.store.db import Database
from vistter.store.errors import (
    AssetInUseError,
    AssetNameError,
    AssetNameTakenError,
    AssetNotFoundError,
    AssetRejectedError,
    AssetStorageFullError,
    AssetThumbnailError,
    AssetTooLargeError,
    AssetTypeError,
    AssetTypeMismatchError,
    AssetUnreadableError,
    DatabaseError,
    ExecutionEndedError,
    ExecutionNotFoundError,
    MigrationError,
    RecordConflictError,
    RecordNotFoundError,
    TimelineChangedError,
    TimelineKeyTakenError,
    TimelineNotFoundError,
    TimelineRunningError,
)
from vistter.store.executions import ExecutionLog, ExecutionRecord, ExecutionStatus, FinalStatus
from vistter.store.filenames import safe_filename
from vistter.store.migrations import MIGRATIONS, Migration
from vistter.store.revisions import IfMatch, etag_of, parse_if_match
from vistter.store.timeline_listing import LastRun, TimelineSummary
from vistter.store.timelines import TimelineLibrary, TimelineRecord

__all__ = [
    "MIGRATIONS",
    "AssetInUseError",
    "AssetNameError",
    "AssetNameTakenError",
    "AssetNotFoundError",
    "AssetRecord",
    "AssetRejectedError",
    "AssetStorageFullError",
    "AssetStore",
    "AssetThumbnailError",
    "AssetTooLargeError",
    "AssetTypeError",
    "AssetTypeMismatchError",
    "AssetUnreadableError",
    "ByteStream",
    "Database",
    "DatabaseError",
    "ExecutionEndedError",
    "ExecutionLog",
    "ExecutionNotFoundError",
    "ExecutionRecord",
    "ExecutionStatus",
    "FinalStatus",
    "IfMatch",
    "LastRun",
    "Migration",
    "MigrationError",
    "RecordConflictError",
    "RecordNotFoundError",
    "TimelineChangedError",
    "TimelineKeyTakenError",
    "TimelineLibrary",
    "TimelineNotFoundError",
    "TimelineRecord",
    "TimelineRunningError",
    "TimelineSummary",
    "etag_of",
    "parse_if_match",
    "safe_filename",
]
