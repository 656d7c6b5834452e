"""Uploads in progress: bounded space, a full disk, and leftovers of a killed process."""

from __future__ import annotations

import errno
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vistter.store import AssetStorageFullError, AssetStore, AssetTooLargeError, Database
from vistter.store.spool import TEMP_PREFIX, UploadSpool

CHUNK = 1024


class _HeldStream:
    """Sends ``first`` bytes, then waits for ``go`` before sending the rest (a slow client)."""

    def __init__(self, data: bytes, first: int) -> None:
        self._data = io.BytesIO(data)
        self._first = first
        self.sent = 0
        self.waiting = threading.Event()
        self.go = threading.Event()

    def read(self, size: int) -> bytes:
        if self.sent >= self._first:
            self.waiting.set()
            assert self.go.wait(10)
        chunk = self._data.read(size)
        self.sent += len(chunk)
        return chunk


@pytest.fixture
def spool(tmp_path: Path) -> UploadSpool:
    return UploadSpool(tmp_path, max_bytes=8 * CHUNK, max_inflight_bytes=10 * CHUNK,
                       chunk_bytes=CHUNK)  # fmt: skip


def parts(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob(f"{TEMP_PREFIX}*"))


@pytest.mark.timeout(30)
def test_uploads_in_progress_share_a_bounded_space(spool: UploadSpool, tmp_path: Path) -> None:
    slow = _HeldStream(b"a" * 8 * CHUNK, first=6 * CHUNK)
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(spool.receive(slow, "slow.mp4")))
    worker.start()
    assert slow.waiting.wait(10)
    assert spool.inflight_bytes == 6 * CHUNK
    assert spool.clean_leftovers() == [], "a live upload is never cleaned"
    with pytest.raises(AssetStorageFullError) as caught:
        spool.receive(io.BytesIO(b"b" * 5 * CHUNK), "second.mp4")
    assert caught.value.http_status == 507
    assert "max_inflight_upload_bytes" in caught.value.hint
    assert TEMP_PREFIX not in caught.value.problem
    assert len(parts(tmp_path)) == 1, "the refused upload left nothing"
    slow.go.set()
    worker.join(10)
    received = results[0]
    assert spool.inflight_bytes == 8 * CHUNK
    received.discard()  # type: ignore[attr-defined]
    assert spool.inflight_bytes == 0 and parts(tmp_path) == []
    spool.receive(io.BytesIO(b"c" * 8 * CHUNK), "third.mp4").discard()  # room again


def test_one_upload_over_its_own_limit_is_413(spool: UploadSpool, tmp_path: Path) -> None:
    with pytest.raises(AssetTooLargeError) as caught:
        spool.receive(io.BytesIO(b"a" * 9 * CHUNK), "big.mp4")
    assert caught.value.http_status == 413 and "'big.mp4'" in caught.value.problem
    assert parts(tmp_path) == [] and spool.inflight_bytes == 0


def test_a_full_disk_is_507_and_leaves_nothing(
    spool: UploadSpool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, chunk: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool, "_write", disk_full)
    with pytest.raises(AssetStorageFullError, match="disk holding the assets folder is full"):
        spool.receive(io.BytesIO(b"a" * CHUNK), "clip.mp4")
    assert parts(tmp_path) == [] and spool.inflight_bytes == 0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db") as database:
        yield database


def test_the_store_cleans_what_a_dead_writer_left(db: Database, tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / f"{TEMP_PREFIX}killed.part").write_bytes(b"x" * 4096)  # no one holds it
    store = AssetStore(db, assets, 1024 * 1024)
    assert parts(assets) == []
    assert store.spool.inflight_bytes == 0
