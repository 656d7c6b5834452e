"""The assets store: uploaded images, videos and audio that timelines use as ``/assets/<name>``.

:meth:`AssetStore.add` never holds an upload in memory: it streams it into a hidden temporary
file in the assets folder while hashing it (SHA-256) and counting bytes, and stops as soon as
it passes the size limit. Then it checks what the file *is* (magic bytes, see
:mod:`vistter.store.sniff`) against the declared MIME type and the name's extension, reads
its metadata (:mod:`vistter.store.probe`), and moves it into place atomically under a cleaned
name, never over an existing file. The same content uploaded twice is stored once: the
second upload returns the first record. Whatever fails, the temporary file is removed and
nothing is recorded.

Methods run in the calling thread (an API worker: an upload and its probe take a while, so
never call them from the event loop) on that thread's connection (see :mod:`vistter.store.db`).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from vistter.models.assets import ASSETS_PREFIX, AssetPathError, resolve_asset
from vistter.models.overlays import DynamicTextOverlay, ImageOverlay, LogoOverlay, LowerThirdOverlay
from vistter.models.timeline import MediaCue, TimelineDocument
from vistter.store.db import Database, parse_timestamp
from vistter.store.errors import (
    AssetInUseError,
    AssetNameTakenError,
    AssetNotFoundError,
    AssetTooLargeError,
    AssetTypeError,
    AssetTypeMismatchError,
    AssetUnreadableError,
)
from vistter.store.filenames import safe_filename
from vistter.store.probe import probe_media
from vistter.store.sniff import (
    HEADER_BYTES,
    M4A,
    MEDIA_TYPES,
    AssetKind,
    MediaType,
    compatible,
    declared_type,
    sniff,
    supported_list,
)

__all__ = ["AssetRecord", "AssetStore", "ByteStream", "asset_references"]

CHUNK_BYTES = 64 * 1024
#: Temporary uploads older than this are left over from a crash and removed at start.
STALE_UPLOAD_SECONDS = 3600.0
_TEMP_PREFIX, _TEMP_SUFFIX = ".upload-", ".part"


class ByteStream(Protocol):
    """Anything with ``read(size) -> bytes`` that returns ``b""`` at the end (a file, a
    Starlette ``UploadFile.file``)."""

    def read(self, size: int, /) -> bytes: ...


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


@dataclass(frozen=True, slots=True)
class _Upload:
    path: Path
    size: int
    checksum: str
    header: bytes


def asset_references(document: TimelineDocument) -> Iterator[tuple[str, str]]:
    """Every ``(field path, reference)`` in a timeline that names a file (asset or path)."""
    timeline = document.timeline
    for index, cue in enumerate(timeline.tracks.video.cues):
        if isinstance(cue, MediaCue):
            yield f"timeline.tracks.video.cues[{index}].params.media_url", cue.params.media_url
    for track_index, track in enumerate(timeline.tracks.overlays):
        for index, overlay_cue in enumerate(track.cues):
            params = overlay_cue.params
            path = f"timeline.tracks.overlays[{track_index}].cues[{index}].params"
            if isinstance(params, LogoOverlay | ImageOverlay | LowerThirdOverlay):
                if params.image_url is not None:
                    yield f"{path}.image_url", params.image_url
            elif isinstance(params, DynamicTextOverlay) and params.source and params.source.path:
                yield f"{path}.source.path", params.source.path
    if timeline.fallback is not None and timeline.fallback.test_pattern is not None:
        yield "timeline.fallback.test_pattern", timeline.fallback.test_pattern


class AssetStore:
    """Add, list, get and delete assets kept as files in ``assets_dir``.

    ``max_bytes`` is the upload size limit (``api.max_upload_bytes``). ``ffmpeg`` forces
    metadata probing with that ffmpeg binary instead of PyAV (see :mod:`vistter.store.probe`).
    Creating the store creates the folder and removes temporary uploads left by a crash.
    """

    def __init__(
        self,
        db: Database,
        assets_dir: Path,
        max_bytes: int,
        *,
        ffmpeg: str | None = None,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        if max_bytes < 1 or chunk_bytes < 1:
            raise ValueError("max_bytes and chunk_bytes must be at least 1")
        self._db = db
        self._dir = Path(os.path.normpath(Path(assets_dir).absolute()))
        self._max_bytes = max_bytes
        self._ffmpeg = ffmpeg
        self._chunk_bytes = chunk_bytes
        self._dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_uploads()

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

    # -- adding --------------------------------------------------------------------------

    def add(
        self, filename: str, stream: ByteStream, declared_mime: str | None = None
    ) -> AssetRecord:
        """Store an upload read from ``stream`` under (a cleaned) ``filename``.

        Returns the new record, or the existing one when the same content is already stored.
        Raises :class:`AssetTooLargeError`, :class:`AssetTypeError`,
        :class:`AssetTypeMismatchError`, :class:`AssetNameError`,
        :class:`AssetUnreadableError` or :class:`AssetNameTakenError`; then nothing is kept.
        Exceptions raised by ``stream.read`` propagate, also after removing the partial file.
        """
        name = safe_filename(filename)
        declared = declared_type(declared_mime)
        upload = self._receive(stream)
        try:
            actual = _identify(upload, declared, name)
            existing = self._find_duplicate(upload)
            if existing is not None:
                return existing
            metadata = probe_media(upload.path, actual, ffmpeg=self._ffmpeg)
            if actual.family_key == M4A.family_key and "video_codec" not in metadata:
                actual = M4A
            return self._store(name, upload, actual, metadata)
        finally:
            upload.path.unlink(missing_ok=True)

    def _receive(self, stream: ByteStream) -> _Upload:
        descriptor, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=self._dir)
        path = Path(temp)
        digest = hashlib.sha256()
        header = bytearray()
        size = 0
        try:
            with os.fdopen(descriptor, "wb") as out:
                while chunk := stream.read(self._chunk_bytes):
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise AssetTooLargeError(
                            f"the file is larger than the {_megabytes(self._max_bytes)} limit "
                            f"for assets (stopped after {_megabytes(size)}).",
                            hint="Upload a smaller file (shorter, smaller or at a lower "
                            "bitrate), or raise api.max_upload_bytes in the configuration.",
                        )
                    digest.update(chunk)
                    if len(header) < HEADER_BYTES:
                        header += chunk[: HEADER_BYTES - len(header)]
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return _Upload(path, size, digest.hexdigest(), bytes(header))

    def _find_duplicate(self, upload: _Upload) -> AssetRecord | None:
        with self._db.write() as connection:
            return self._existing(connection, upload)

    def _existing(self, connection: sqlite3.Connection, upload: _Upload) -> AssetRecord | None:
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
        self, name: str, upload: _Upload, media: MediaType, metadata: dict[str, Any]
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
            users = self._users(connection, record)
            if users:
                raise AssetInUseError(
                    f"the asset '{record.filename}' is used by " + "; ".join(users) + ".",
                    hint="Remove it from those timelines (or delete them) first.",
                )
            connection.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
        self.path_of(record).unlink(missing_ok=True)

    def _users(self, connection: sqlite3.Connection, record: AssetRecord) -> builtins.list[str]:
        target = self.path_of(record)
        users: builtins.list[str] = []
        for row in connection.execute("SELECT id, name, document FROM timelines ORDER BY id"):
            where = f"timeline {row['id']} '{row['name']}'"
            try:
                document = TimelineDocument.model_validate(json.loads(row["document"]))
            except ValidationError:  # stored by another version: be careful, match the name
                if record.filename in row["document"]:
                    users.append(where)
                continue
            fields = [path for path, reference in asset_references(document)
                      if self._resolves_to(reference, target)]  # fmt: skip
            if fields:
                users.append(f"{where} ({', '.join(fields)})")
        return users

    def _resolves_to(self, reference: str, target: Path) -> bool:
        try:
            resolved = resolve_asset(reference, self._dir)
        except AssetPathError:
            return False
        return resolved is not None and Path(os.path.normpath(resolved)) == target

    def _remove_stale_uploads(self) -> None:
        cutoff = time.time() - STALE_UPLOAD_SECONDS
        for leftover in self._dir.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def _identify(upload: _Upload, declared: MediaType | None, name: str) -> MediaType:
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


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


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
