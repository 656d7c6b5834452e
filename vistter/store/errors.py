"""Typed errors of the store: what is wrong with a request to the database, and how to fix it.

Three families an edge (the API, the CLI) can turn into a status without knowing every class:
:class:`RecordNotFoundError` (404), :class:`RecordConflictError` (409: the request clashes with
what is stored or running) and :class:`AssetRejectedError` (an upload that cannot be kept).
Each class carries the HTTP status it suggests in ``http_status``. A database that cannot be
opened or migrated is a :class:`DatabaseError`, a configuration problem.
"""

from __future__ import annotations

from typing import ClassVar

from vistter.errors import ConfigError, OperatorError

__all__ = [
    "AssetInUseError",
    "AssetNameError",
    "AssetNameTakenError",
    "AssetNotFoundError",
    "AssetRejectedError",
    "AssetStorageFullError",
    "AssetThumbnailError",
    "AssetTooLargeError",
    "AssetTypeError",
    "AssetTypeMismatchError",
    "AssetUnreadableError",
    "DatabaseError",
    "ExecutionEndedError",
    "ExecutionNotFoundError",
    "MigrationError",
    "RecordConflictError",
    "RecordNotFoundError",
    "TimelineChangedError",
    "TimelineKeyTakenError",
    "TimelineNotFoundError",
    "TimelineRunningError",
]


class DatabaseError(ConfigError):
    """The database file cannot be opened, is in the wrong mode, or is closed."""

    http_status: ClassVar[int] = 503


class MigrationError(DatabaseError):
    """A schema migration failed (and was rolled back) or the schema is newer than this code."""


class RecordNotFoundError(OperatorError):
    """No stored record has the id asked for."""

    http_status: ClassVar[int] = 404


class TimelineNotFoundError(RecordNotFoundError):
    """No stored timeline has this id."""


class ExecutionNotFoundError(RecordNotFoundError):
    """No execution record has this id."""


class AssetNotFoundError(RecordNotFoundError):
    """No stored asset has this id."""


class RecordConflictError(OperatorError):
    """The request clashes with what is stored or running."""

    http_status: ClassVar[int] = 409


class TimelineKeyTakenError(RecordConflictError):
    """Another stored timeline already uses this document id (``timeline.id``)."""


class TimelineChangedError(RecordConflictError):
    """A write named the version it was based on (``If-Match``) and the stored timeline has
    changed since (another tab, another person): nothing was written (HTTP 412).

    Its JSON ``error`` is ``"conflict"``, the word a page checks for; ``current_etag`` is the
    stored version's tag.
    """

    http_status: ClassVar[int] = 412

    def __init__(
        self, problem: str, *, hint: str = "", timeline_id: int, current_etag: str
    ) -> None:
        super().__init__(problem, hint=hint)
        self.timeline_id = timeline_id
        self.current_etag = current_etag

    def to_dict(self) -> dict[str, str]:
        return {"error": "conflict", "problem": self.problem, "hint": self.hint}


class TimelineRunningError(RecordConflictError):
    """The timeline is on air (an execution is running), so it cannot be deleted."""


class ExecutionEndedError(RecordConflictError):
    """The execution already has its final status; an execution ends only once."""


class AssetInUseError(RecordConflictError):
    """A stored timeline refers to the asset, so it cannot be deleted."""


class AssetThumbnailError(RecordConflictError):
    """No thumbnail can be made of this asset: it is audio (no picture), or its picture
    cannot be decoded in the time allowed (409: the asset is there, it has no thumbnail)."""


class AssetNameTakenError(RecordConflictError):
    """The assets folder already has a different file with this name."""


class AssetRejectedError(OperatorError):
    """An uploaded file cannot be kept as an asset; nothing was stored."""

    http_status: ClassVar[int] = 422


class AssetTooLargeError(AssetRejectedError):
    """The upload is larger than the size limit; it was stopped as soon as it went over."""

    http_status: ClassVar[int] = 413


class AssetStorageFullError(AssetRejectedError):
    """No room for the upload: the disk is full, or uploads in progress hold all the space
    ``[api] max_inflight_upload_bytes`` allows. Nothing was stored; retry later."""

    http_status: ClassVar[int] = 507


class AssetTypeError(AssetRejectedError):
    """The file (or the declared MIME type) is not a kind of media Vistter can use."""

    http_status: ClassVar[int] = 415


class AssetTypeMismatchError(AssetTypeError):
    """The file's content is not what its declared MIME type or its file name says."""


class AssetNameError(AssetRejectedError):
    """The file name is empty or nothing usable is left of it after cleaning."""


class AssetUnreadableError(AssetRejectedError):
    """The file starts like a known media type but cannot be decoded (truncated, corrupt)."""
