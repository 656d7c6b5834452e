"""The assets store: uploaded images, videos and audio that timelines use as ``/assets/<name>``.

:meth:`AssetStore.add` never holds an upload in memory: it streams it into a hidden temporary
file in the assets folder while hashing it (SHA-256) and counting bytes, and stops as soon as
it passes the size limit or the space uploads in progress may hold (:mod:`vistter.store.spool`,
which also removes what a killed process left behind, when the store opens). Then it checks
what the file *is* (magic bytes, see :mod:`vistter.store.sniff`) against the declared MIME
type and the name's extension, reads its metadata (:mod:`vistter.store.probe`), and moves it
into place atomically under a cleaned name, never over an existing file. The same content
uploaded twice is stored once: the second upload returns the first record. Whatever fails,
the temporary file is removed and nothing is recorded. Errors name the asset, never a server path.

Methods run in the calling thread (an API worker: an upload and its probe take a while, so
never call them from the event loop) on that thread's connection (see :mod:`vistter.store.db`).
"""

from __future__ import annotations

import builtins
import errno
import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vistter.models.assets import ASSETS_PREFIX
from vistter.store.asset_usage import AssetUser, asset_references, asset_users
from vistter.store.db import Database, parse_timestamp
from vistter.store.errors import (
    AssetInUseError,
    AssetNameTakenError,
    AssetNotFoundError,
    AssetRejectedError,
    AssetThumbnailError,
    AssetTypeError,
    AssetTypeMismatchError,
    AssetUnreadableError,
)
from vistter.store.filenames import safe_filename
from vistter.store.probe import probe_media
from vistter.store.sniff import (
    M4A,
    MEDIA_TYPES,
    AssetKind,
    MediaType,
    compatible,
    declared_type,
    sniff,
    supported_list,
)
from vistter.store.spool import ByteStream, SpooledUpload, UploadSpool
from vistter.store.thumbnails import Thumbnailer

__all__ = ["AssetRecord", "AssetStore", "AssetUser", "ByteStream", "asset_references"]

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A stored asset. ``file_path`` is how timelines refer to it: ``/assets/<filename>``."""

    id: int
    asset_type: AssetKind
    filename: str
    file_path: str
    file_size: int
    mime_type: str
    checksum: str
    uploaded_at: datetime
    metadata: dict[str, Any]


class AssetStore:
    """Add, list, get and delete assets kept as files in ``assets_dir``.

    ``max_bytes`` is the upload size limit (``api.max_upload_bytes``), ``max_inflight_bytes``
    what all uploads in progress may hold (``api.max_inflight_upload_bytes``; default four
    uploads' worth). ``ffmpeg`` forces metadata probing with that ffmpeg binary instead of
    PyAV (see :mod:`vistter.store.probe`) and takes the thumbnails' video frames.
    ``thumbnails_dir`` is where thumbnails are kept (default: ``<assets folder>-thumbnails``
    next to it, see :mod:`vistter.store.thumbnails`). Creating the store creates the folder
    and removes every temporary upload a dead process left (see :mod:`vistter.store.spool`).
    """

    def __init__(
        self,
        db: Database,
        assets_dir: Path,
        max_bytes: int,
        *,
        max_inflight_bytes: int | None = None,
        ffmpeg: str | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        thumbnails_dir: Path | None = None,
    ) -> None:
        if max_bytes < 1 or chunk_bytes < 1:
            raise ValueError("max_bytes and chunk_bytes must be at least 1")
        self._db = db
        self._dir = Path(os.path.normpath(Path(assets_dir).absolute()))
        self._ffmpeg = ffmpeg
        self._dir.mkdir(parents=True, exist_ok=True)
        self.thumbnails = Thumbnailer(
            thumbnails_dir if thumbnails_dir is not None
            else self._dir.with_name(f"{self._dir.name}-thumbnails"),
            ffmpeg=ffmpeg,
        )
        """Makes and keeps the assets' thumbnails (see :meth:`thumbnail`)."""
        inflight = 4 * max_bytes if max_inflight_bytes is None else max_inflight_bytes
        self.spool = UploadSpool(self._dir, max_bytes, inflight, chunk_bytes)
        """The uploads in progress (its ``inflight_bytes`` is what they hold now)."""
        removed = self.spool.clean_leftovers()
        if removed:
            logger.warning("removed %d partial upload(s) left by a stopped process", len(removed))

    @property
    def assets_dir(self) -> Path:
        """The absolute folder the files live in."""
        return self._dir

    def path_of(self, record: AssetRecord) -> Path:
        """The file of a stored asset."""
        return self._dir / record.filename

    # -- reading -------------------------------------------------------------------------

    def get(self, asset_id: int) -> AssetRecord:
        """The stored asset; raises :class:`AssetNotFoundError` for an unknown id."""
        with self._db.read() as connection:
            row = connection.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()
        if row is None:
            raise _not_found(asset_id)
        return _record(row)

    def list(self) -> builtins.list[AssetRecord]:
        """Every stored asset, by file name."""
        with self._db.read() as connection:
            rows = connection.execute("SELECT * FROM assets ORDER BY filename, id").fetchall()
        return [_record(row) for row in rows]

    def list_with_users(self) -> builtins.list[tuple[AssetRecord, builtins.list[AssetUser]]]:
        """Every stored asset (by file name) with the stored timelines that use it; two
        queries in one snapshot, however many assets and timelines there are."""
        with self._db.read() as connection:
            rows = connection.execute("SELECT * FROM assets ORDER BY filename, id").fetchall()
            records = [_record(row) for row in rows]
            users = asset_users(connection, self._dir, {r.filename for r in records})
        return [(record, users[record.filename]) for record in records]

    def users(self, record: AssetRecord) -> builtins.list[AssetUser]:
        """The stored timelines that use the asset, by id."""
        with self._db.read() as connection:
            return asset_users(connection, self._dir, {record.filename})[record.filename]

    def thumbnail(self, asset_id: int) -> Path:
        """The JPEG thumbnail of a stored asset, made now if it is not kept yet (this may
        run ffmpeg for up to its timeout: call it from a worker thread).

        Raises :class:`AssetNotFoundError`, or :class:`AssetThumbnailError` (audio, a file
        that does not decode or went missing).
        """
        record = self.get(asset_id)
        source = self.path_of(record)
        if not source.is_file():
            raise AssetThumbnailError(
                f"the file of the asset '{record.filename}' is missing from the assets folder.",
                hint="Upload the file again (the same content brings it back), or delete "
                "the asset.",
            )
        return self.thumbnails.thumbnail(source, record.asset_type, record.checksum,
                                         record.filename)  # fmt: skip

    # -- adding --------------------------------------------------------------------------

    def add(
        self, filename: str, stream: ByteStream, declared_mime: str | None = None
    ) -> AssetRecord:
        """Store an upload read from ``stream`` under (a cleaned) ``filename``.

        Returns the new record, or the existing one when the same content is already stored.
        Raises :class:`AssetTooLargeError`, :class:`AssetStorageFullError`,
        :class:`AssetTypeError`, :class:`AssetTypeMismatchError`, :class:`AssetNameError`,
        :class:`AssetUnreadableError` or :class:`AssetNameTakenError`; then nothing is kept.
        Exceptions raised by ``stream.read`` propagate, also after removing the partial file.
        """
        name = safe_filename(filename)
        declared = declared_type(declared_mime)
        upload = self.spool.receive(stream, name)
        try:
            actual = _identify(upload, declared, name)
            existing = self._find_duplicate(upload)
            if existing is not None:
                return existing
            metadata = probe_media(upload.path, actual, ffmpeg=self._ffmpeg)
            if actual.family_key == M4A.family_key and "video_codec" not in metadata:
                actual = M4A
            return self._store(name, upload, actual, metadata)
        except AssetRejectedError as error:
            raise self._scrubbed(error, upload.path, name) from None
        finally:
            upload.discard()

    def _scrubbed(self, error: AssetRejectedError, temp: Path, name: str) -> AssetRejectedError:
        """``error`` with the temporary file's and the folder's paths replaced by the name."""

        def clean(text: str) -> str:
            for secret, shown in ((str(temp), name), (temp.name, name), (str(self._dir), "")):
                text = text.replace(secret, shown)
            return text

        if clean(error.problem) == error.problem and clean(error.hint) == error.hint:
            return error
        return type(error)(clean(error.problem), hint=clean(error.hint))

    def _find_duplicate(self, upload: SpooledUpload) -> AssetRecord | None:
        with self._db.write() as connection:
            return self._existing(connection, upload)

    def _existing(
        self, connection: sqlite3.Connection, upload: SpooledUpload
    ) -> AssetRecord | None:
        row = connection.execute(
            "SELECT * FROM assets WHERE checksum = ?", (upload.checksum,)
        ).fetchone()
        if row is None:
            return None
        record = _record(row)
        target = self.path_of(record)
        if not target.is_file():  # its file went missing: this upload brings it back
            _place(upload.path, target)
        return record

    def _store(
        self, name: str, upload: SpooledUpload, media: MediaType, metadata: dict[str, Any]
    ) -> AssetRecord:
        target = self._dir / name
        placed = False
        try:
            with self._db.write() as connection:
                existing = self._existing(connection, upload)  # an upload in parallel won
                if existing is not None:
                    return existing
                if connection.execute(
                    "SELECT 1 FROM assets WHERE filename = ?", (name,)
                ).fetchone() is not None:  # fmt: skip
                    raise _name_taken(name)
                _place(upload.path, target)
                placed = True
                cursor = connection.execute(
                    "INSERT INTO assets (asset_type, filename, file_path, file_size, mime_type, "
                    "checksum, uploaded_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (media.kind, name, ASSETS_PREFIX + name, upload.size, media.mime,
                     upload.checksum, self._db.now(), json.dumps(metadata)),
                )  # fmt: skip
                asset_id = cursor.lastrowid
        except BaseException:
            if placed:
                target.unlink(missing_ok=True)
            raise
        assert asset_id is not None
        return self.get(asset_id)

    # -- deleting ------------------------------------------------------------------------

    def delete(self, asset_id: int) -> None:
        """Delete an asset and its file.

        Raises :class:`AssetInUseError` naming every stored timeline (and field) that
        refers to it; then nothing is deleted.
        """
        with self._db.write() as connection:
            row = connection.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()
            if row is None:
                raise _not_found(asset_id)
            record = _record(row)
            users = asset_users(connection, self._dir, {record.filename})[record.filename]
            if users:
                raise AssetInUseError(
                    f"the asset '{record.filename}' is used by "
                    + "; ".join(user.describe() for user in users) + ".",
                    hint="Remove it from those timelines (or delete them) first.",
                )
            connection.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
        self.path_of(record).unlink(missing_ok=True)
        self.thumbnails.discard(record.checksum)


def _identify(upload: SpooledUpload, declared: MediaType | None, name: str) -> MediaType:
    if upload.size == 0:
        raise AssetUnreadableError(
            "the file is empty.", hint="Upload the file again; the transfer may have failed."
        )
    actual = sniff(upload.header)
    if actual is None:
        raise AssetTypeError(
            "the file is not a kind of media Vistter can use (its content is not recognised).",
            hint=f"Upload {supported_list()}.",
        )
    if declared is not None and not compatible(declared, actual):
        raise AssetTypeMismatchError(
            f"the file was sent as {declared.label} ({declared.mime}) but it is {actual.label}.",
            hint="Upload the right file, or send it with its real type.",
        )
    extension = Path(name).suffix.lower()
    allowed = [
        ext for media in MEDIA_TYPES if compatible(media, actual) for ext in media.extensions
    ]
    if extension not in allowed:
        raise AssetTypeMismatchError(
            f"the file '{name}' is {actual.label}, but its name ends in '{extension}'.",
            hint=f"Rename it to end in {' or '.join(actual.extensions)} and upload it again.",
        )
    return actual


def _place(source: Path, target: Path) -> None:
    """Put ``source``'s content at ``target`` atomically, never over an existing file."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise _name_taken(target.name) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # No hard links here (e.g. a FAT stick): reserve the name, then rename over it.
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise _name_taken(target.name) from None
        os.replace(source, target)


def _name_taken(name: str) -> AssetNameTakenError:
    return AssetNameTakenError(
        f"the assets folder already has a different file named '{name}'.",
        hint="Rename the file before uploading it, or delete the old asset first.",
    )


def _not_found(asset_id: int) -> AssetNotFoundError:
    return AssetNotFoundError(
        f"there is no stored asset {asset_id}.",
        hint="List the assets to see their ids; it may have been deleted.",
    )


def _record(row: sqlite3.Row) -> AssetRecord:
    return AssetRecord(
        id=row["id"],
        asset_type=row["asset_type"],
        filename=row["filename"],
        file_path=row["file_path"],
        file_size=row["file_size"],
        mime_type=row["mime_type"],
        checksum=row["checksum"],
        uploaded_at=parse_timestamp(row["uploaded_at"]),
        metadata=json.loads(row["metadata"]),
    )
