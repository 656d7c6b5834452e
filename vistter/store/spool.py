"""Uploads on their way in: hidden temporary files in the assets folder, bounded and cleaned.

Each upload is streamed into ``.upload-<random>.part`` next to the assets (so the final move
is a same-folder link or rename), hashed (SHA-256) and counted as it arrives. Three bounds:

- one upload may not pass ``max_bytes`` (:class:`AssetTooLargeError`, 413);
- all uploads in progress together may not hold more than ``max_inflight_bytes`` on disk
  (:class:`AssetStorageFullError`, 507): a crowd of slow clients cannot fill the disk;
- a full disk (``ENOSPC``, ``EDQUOT``) is a 507 too, with the partial file removed.

While its upload runs, the writer holds an exclusive ``flock`` on the temporary file. A
process killed with ``kill -9`` loses its locks, so :meth:`UploadSpool.clean_leftovers`
(run when the store opens, i.e. at startup) removes every ``.upload-*.part`` nobody holds:
exactly the leftovers of dead writers, at once, and never a live upload of another process
sharing the folder.

Errors name the upload by its asset name, never by the temporary path. Methods run in the
calling thread (an API worker); the in-flight count is shared by the threads of a process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vistter.store.errors import AssetStorageFullError, AssetTooLargeError
from vistter.store.sniff import HEADER_BYTES

__all__ = ["TEMP_PREFIX", "TEMP_SUFFIX", "ByteStream", "SpooledUpload", "UploadSpool"]

TEMP_PREFIX, TEMP_SUFFIX = ".upload-", ".part"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class ByteStream(Protocol):
    """Anything with ``read(size) -> bytes`` that returns ``b""`` at the end (a file, a
    Starlette ``UploadFile.file``)."""

    def read(self, size: int, /) -> bytes: ...


def megabytes(size: int) -> str:
    """``12.3 MB`` (or ``N bytes`` below 100 kB), for messages."""
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size} bytes"


@dataclass
class SpooledUpload:
    """A received upload: its temporary file (locked until :meth:`discard`), size, SHA-256
    and first bytes."""

    path: Path
    size: int
    checksum: str
    header: bytes
    _fd: int = field(repr=False)
    _spool: UploadSpool = field(repr=False)
    _discarded: bool = field(default=False, repr=False)

    def discard(self) -> None:
        """Remove the temporary file, release its lock and its share of the in-flight space.
        Idempotent."""
        if self._discarded:
            return
        self._discarded = True
        self.path.unlink(missing_ok=True)
        os.close(self._fd)  # releases the flock
        self._spool.release(self.size)


class UploadSpool:
    """Receives uploads into ``directory`` within the bounds of the module doc."""

    def __init__(
        self, directory: Path, max_bytes: int, max_inflight_bytes: int, chunk_bytes: int
    ) -> None:
        if min(max_bytes, max_inflight_bytes, chunk_bytes) < 1:
            raise ValueError("max_bytes, max_inflight_bytes and chunk_bytes must be >= 1")
        self._dir = directory
        self._max_bytes = max_bytes
        self._max_inflight = max_inflight_bytes
        self._chunk_bytes = chunk_bytes
        self._lock = threading.Lock()
        self._inflight = 0

    @property
    def inflight_bytes(self) -> int:
        """Bytes the uploads in progress hold now."""
        with self._lock:
            return self._inflight

    def clean_leftovers(self) -> list[str]:
        """Remove every temporary upload no live writer holds; the names removed."""
        removed: list[str] = []
        for leftover in sorted(self._dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}")):
            try:
                fd = os.open(leftover, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue  # gone already, or not a plain file we may open
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live upload (this or another process)
            else:
                with contextlib.suppress(OSError):
                    leftover.unlink()
                    removed.append(leftover.name)
            finally:
                os.close(fd)
        return removed

    def _reserve(self, size: int, sofar: int) -> None:
        with self._lock:
            if self._inflight + size > self._max_inflight:
                raise AssetStorageFullError(
                    f"uploads in progress already hold {megabytes(self._inflight)}; this one "
                    f"(stopped after {megabytes(sofar + size)}) would pass the "
                    f"{megabytes(self._max_inflight)} allowed for uploads in progress.",
                    hint="Retry when the other uploads have finished, or raise "
                    "[api] max_inflight_upload_bytes in the configuration.",
                )
            self._inflight += size

    def release(self, size: int) -> None:
        """Give back ``size`` bytes of in-flight space."""
        with self._lock:
            self._inflight = max(0, self._inflight - size)

    def _write(self, fd: int, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]

    def receive(self, stream: ByteStream, name: str) -> SpooledUpload:
        """Stream ``stream`` into a new temporary file; ``name`` is the asset name errors use.

        Raises :class:`AssetTooLargeError` or :class:`AssetStorageFullError` (after removing
        the partial file); exceptions raised by ``stream.read`` propagate, also after
        removing it.
        """
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self._dir)
        fcntl.flock(fd, fcntl.LOCK_EX)  # ours until discarded; a dead writer's is released
        upload = SpooledUpload(Path(temp), 0, "", b"", fd, self)
        digest = hashlib.sha256()
        header = bytearray()
        try:
            while chunk := stream.read(self._chunk_bytes):
                if upload.size + len(chunk) > self._max_bytes:
                    raise AssetTooLargeError(
                        f"the file '{name}' is larger than the {megabytes(self._max_bytes)} "
                        f"limit for assets (stopped after "
                        f"{megabytes(upload.size + len(chunk))}).",
                        hint="Upload a smaller file (shorter, smaller or at a lower bitrate), "
                        "or raise api.max_upload_bytes in the configuration.",
                    )
                self._reserve(len(chunk), upload.size)
                upload.size += len(chunk)
                digest.update(chunk)
                if len(header) < HEADER_BYTES:
                    header += chunk[: HEADER_BYTES - len(header)]
                self._write(fd, chunk)
            os.fsync(fd)
        except OSError as error:
            upload.discard()
            if error.errno in _DISK_FULL:
                raise AssetStorageFullError(
                    f"the disk holding the assets folder is full; '{name}' was not stored.",
                    hint="Delete assets or recordings you no longer need, then upload again.",
                ) from None
            raise
        except BaseException:
            upload.discard()
            raise
        upload.checksum = digest.hexdigest()
        upload.header = bytes(header)
        return upload
