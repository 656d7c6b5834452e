"""The assets store: streamed, hashed, sniffed, probed, de-duplicated and safely named."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import sys
import threading
import time
import tracemalloc
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chaos.realparts import ffmpeg_exe, run_ffmpeg
from vistter.store import (
    AssetInUseError,
    AssetNameError,
    AssetNameTakenError,
    AssetNotFoundError,
    AssetRecord,
    AssetStore,
    AssetTooLargeError,
    AssetTypeError,
    AssetTypeMismatchError,
    AssetUnreadableError,
    Database,
    TimelineLibrary,
    safe_filename,
)
from vistter.store.probe import parse_ffmpeg_info, probe_with_ffmpeg
from vistter.store.sniff import MP4, sniff

LIMIT = 5_000_000


class GeneratorStream:
    """A read(size) stream over a generator of chunks; counts what the generator produced."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self.produced = 0

    def read(self, size: int, /) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.produced += len(chunk)
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class FailingStream:
    """Gives some bytes, then fails like a client that went away."""

    def __init__(self, head: bytes) -> None:
        self._head: bytes | None = head

    def read(self, size: int, /) -> bytes:
        if self._head is not None:
            head, self._head = self._head, None
            return head
        raise ConnectionResetError("client went away")


# -- media made for the tests ------------------------------------------------------------------


def _image(path: Path, size: tuple[int, int], fmt: str, **options: Any) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path, fmt, **options)
    return path


def _gif(path: Path) -> Path:
    colours = ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    frames = [Image.new("RGB", (32, 24), colour) for colour in colours]
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return path


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48_000)
        out.writeframes(b"\x00\x01" * 2 * 48_000)  # 1 s
    return path


def _ffmpeg(path: Path, *args: str) -> Path:
    run_ffmpeg(["-y", *args, str(path)], timeout=60)
    return path


VIDEO_IN = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=2"]  # fmt: skip
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
AUDIO_IN = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    return {
        "png": _image(folder / "pic.png", (64, 48), "PNG"),
        "jpg": _image(folder / "pic.jpg", (80, 60), "JPEG", quality=80),
        "gif": _gif(folder / "anim.gif"),
        "webp": _image(folder / "pic.webp", (40, 30), "WEBP"),
        "mp4": _ffmpeg(folder / "clip.mp4", *VIDEO_IN, *X264, "-c:a", "aac", "-shortest"),
        "mov": _ffmpeg(folder / "clip.mov", *VIDEO_IN, *X264, "-c:a", "aac", "-shortest"),
        "ts": _ffmpeg(folder / "clip.ts", *VIDEO_IN, *X264, "-c:a", "aac", "-shortest"),
        "wav": _wav(folder / "tone.wav"),
        "mp3": _ffmpeg(folder / "tone.mp3", *AUDIO_IN, "-c:a", "libmp3lame"),
        "aac": _ffmpeg(folder / "tone.aac", *AUDIO_IN, "-c:a", "aac", "-f", "adts"),
        "m4a": _ffmpeg(folder / "tone.m4a", *AUDIO_IN, "-c:a", "aac", "-f", "ipod"),
        "mp4-audio": _ffmpeg(folder / "tone.mp4", *AUDIO_IN, "-c:a", "aac", "-f", "mp4"),
    }


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db") as database:
        yield database


@pytest.fixture
def assets_dir(tmp_path: Path) -> Path:
    return tmp_path / "srv" / "assets"


@pytest.fixture
def store(db: Database, assets_dir: Path) -> AssetStore:
    return AssetStore(db, assets_dir, LIMIT)


def add_file(store: AssetStore, path: Path, name: str | None = None, mime: str | None = None
             ) -> AssetRecord:  # fmt: skip
    with path.open("rb") as stream:
        return store.add(name or path.name, stream, mime)


def everything_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- adding each kind of media ----------------------------------------------------------------

EXPECTED: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    # key: (declared MIME, stored MIME, kind, metadata that must be there)
    "png": ("image/png", "image/png", "image", {"width": 64, "height": 48, "format": "PNG"}),
    "jpg": ("image/jpg", "image/jpeg", "image", {"width": 80, "height": 60, "format": "JPEG"}),
    "gif": ("image/gif", "image/gif", "image", {"width": 32, "height": 24, "frames": 3}),
    "webp": ("image/webp", "image/webp", "image", {"width": 40, "height": 30}),
    "mp4": ("video/mp4", "video/mp4", "video",
            {"width": 320, "height": 240, "fps": 25.0, "video_codec": "h264"}),
    "mov": ("video/quicktime", "video/quicktime", "video", {"width": 320, "height": 240}),
    "ts": ("video/mp2t", "video/mp2t", "video", {"width": 320, "height": 240}),
    "wav": ("audio/x-wav", "audio/wav", "audio", {"sample_rate": 48_000, "channels": 2}),
    "mp3": ("audio/mpeg", "audio/mpeg", "audio", {"audio_codec": "mp3"}),
    "aac": ("audio/aac", "audio/aac", "audio", {"audio_codec": "aac"}),
    "m4a": ("audio/mp4", "audio/mp4", "audio", {"audio_codec": "aac"}),
    "mp4-audio": ("video/mp4", "audio/mp4", "audio", {"audio_codec": "aac"}),
}  # fmt: skip
DURATIONS = {"mp4": 2.0, "mov": 2.0, "ts": 2.0, "wav": 1.0, "mp3": 1.0, "aac": 1.0, "m4a": 1.0}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_supported_type_is_stored_with_checksum_and_metadata(
    store: AssetStore, media: dict[str, Path], assets_dir: Path, key: str
) -> None:
    declared, mime, kind, metadata = EXPECTED[key]
    source = media[key]
    record = add_file(store, source, mime=declared)
    content = source.read_bytes()
    assert (record.mime_type, record.asset_type) == (mime, kind)
    assert record.filename == source.name
    assert record.file_path == f"/assets/{source.name}"
    assert record.file_size == len(content)
    assert record.checksum == hashlib.sha256(content).hexdigest()
    assert record.metadata.items() >= metadata.items()
    if key in DURATIONS:
        assert record.metadata["duration"] == pytest.approx(DURATIONS[key], abs=0.15)
    assert store.path_of(record).read_bytes() == content
    assert everything_in(assets_dir) == [source.name]  # no temporary file left behind
    assert store.get(record.id) == record
    assert store.list() == [record]


@pytest.mark.parametrize("key", ["mp4", "ts", "mp3", "wav"])
def test_the_ffmpeg_probe_agrees_with_pyav(
    db: Database, media: dict[str, Path], tmp_path: Path, key: str
) -> None:
    with_pyav = add_file(AssetStore(db, tmp_path / "a", LIMIT), media[key]).metadata
    store = AssetStore(db, tmp_path / "b", LIMIT, ffmpeg=ffmpeg_exe())
    record = store.add("other" + media[key].suffix, io.BytesIO(media[key].read_bytes()))
    assert record.metadata == with_pyav  # de-duplicated: the first record comes back
    probed = probe_with_ffmpeg(media[key], sniff(media[key].read_bytes()[:4096]) or MP4)
    assert probed.keys() == with_pyav.keys()
    for name, value in with_pyav.items():
        if isinstance(value, float):
            assert probed[name] == pytest.approx(value, abs=0.1), name
        else:
            assert probed[name] == value, name


def test_without_pyav_the_bundled_ffmpeg_is_probed(
    store: AssetStore, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # "import av" now raises ImportError
    with pytest.raises(ImportError):
        import av  # noqa: F401
    record = add_file(store, media["mp4"])
    assert record.metadata == {
        "duration": pytest.approx(2.0, abs=0.1), "width": 320, "height": 240, "fps": 25.0,
        "video_codec": "h264", "audio_codec": "aac", "sample_rate": 44100, "channels": 1,
    }  # fmt: skip


def test_parse_ffmpeg_info() -> None:
    text = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 01:02:03.50, start: 0.000000, bitrate: 252 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), \
1920x1080 [SAR 1:1 DAR 16:9], 170 kb/s, 29.97 fps, 30 tbr, 12800 tbn (default)
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, 5.1(side), fltp
At least one output file must be specified"""
    assert parse_ffmpeg_info(text) == {
        "duration": 3723.5, "video_codec": "h264", "width": 1920, "height": 1080,
        "fps": 29.97, "audio_codec": "aac", "sample_rate": 44100, "channels": 6,
    }  # fmt: skip
    assert parse_ffmpeg_info("x.mp4: Invalid data found when processing input") == {}


# -- refusing ---------------------------------------------------------------------------------


def endless_png(chunk: bytes = b"\0" * 65_536) -> Iterator[bytes]:
    yield b"\x89PNG\r\n\x1a\n"
    for _ in range(16_384):  # 1 GiB, made lazily; the same chunk object every time
        yield chunk


@pytest.mark.timeout(30)
def test_too_large_is_stopped_while_streaming_and_leaves_nothing(
    store: AssetStore, assets_dir: Path, db: Database
) -> None:
    stream = GeneratorStream(endless_png())
    tracemalloc.start()
    try:
        with pytest.raises(AssetTooLargeError) as caught:
            store.add("huge.png", stream, "image/png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "5.0 MB limit" in caught.value.problem
    assert "max_upload_bytes" in caught.value.hint
    assert caught.value.http_status == 413
    assert LIMIT < stream.produced <= LIMIT + 2 * 65_536  # stopped as soon as it went over
    assert peak < 2_000_000  # never held in memory
    assert everything_in(assets_dir) == []
    assert store.list() == []


def test_exactly_the_limit_is_accepted(db: Database, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    content = buffer.getvalue()
    store = AssetStore(db, tmp_path / "assets", len(content))
    assert store.add("x.png", io.BytesIO(content)).file_size == len(content)
    with pytest.raises(AssetTooLargeError):
        AssetStore(db, tmp_path / "other", len(content) - 1).add("y.png", io.BytesIO(content))


def test_content_that_does_not_match_the_declared_type_is_refused(
    store: AssetStore, media: dict[str, Path], assets_dir: Path
) -> None:
    with pytest.raises(AssetTypeMismatchError, match="sent as an MP4 video") as caught:
        add_file(store, media["png"], mime="video/mp4")
    assert "a PNG image" in caught.value.problem
    assert caught.value.http_status == 415
    with pytest.raises(AssetTypeMismatchError):
        add_file(store, media["mp3"], mime="audio/wav")
    assert everything_in(assets_dir) == []
    assert store.list() == []


def test_octet_stream_and_aliases_count_as_what_the_bytes_say(
    store: AssetStore, media: dict[str, Path]
) -> None:
    assert add_file(store, media["png"], mime="application/octet-stream").mime_type == "image/png"
    assert add_file(store, media["jpg"], mime="IMAGE/JPG; q=1").mime_type == "image/jpeg"


def test_an_unsupported_declared_type_is_refused_before_reading(store: AssetStore) -> None:
    stream = GeneratorStream(endless_png())
    with pytest.raises(AssetTypeError, match="text/html") as caught:
        store.add("page.png", stream, "text/html")
    assert "PNG" in caught.value.hint
    assert stream.produced == 0


def test_unknown_content_is_refused(store: AssetStore, assets_dir: Path) -> None:
    with pytest.raises(AssetTypeError, match="not recognised"):
        store.add("notes.png", io.BytesIO(b"<html>definitely not an image</html>"))
    with pytest.raises(AssetUnreadableError, match="empty"):
        store.add("empty.png", io.BytesIO(b""))
    assert everything_in(assets_dir) == []


def test_the_name_must_match_the_content(store: AssetStore, media: dict[str, Path]) -> None:
    with pytest.raises(AssetTypeMismatchError, match=r"ends in '\.png'") as caught:
        add_file(store, media["jpg"], name="photo.png")
    assert ".jpg or .jpeg" in caught.value.hint
    assert add_file(store, media["mov"], name="clip.mp4").mime_type == "video/quicktime"


def test_corrupt_files_are_refused(store: AssetStore, media: dict[str, Path]) -> None:
    png = media["png"].read_bytes()
    with pytest.raises(AssetUnreadableError, match="PNG image"):
        store.add("cut.png", io.BytesIO(png[: len(png) // 2]))
    mp4 = media["mp4"].read_bytes()
    with pytest.raises(AssetUnreadableError, match="MP4 video"):
        store.add("broken.mp4", io.BytesIO(mp4[:32] + b"\x00garbage" * 500))
    assert store.list() == []


def test_a_failing_stream_leaves_no_temporary_file(store: AssetStore, assets_dir: Path) -> None:
    with pytest.raises(ConnectionResetError):
        store.add("x.png", FailingStream(b"\x89PNG\r\n\x1a\n" + b"\0" * 1000))
    assert everything_in(assets_dir) == []


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\evil.png", "evil.png"),
        ("/abs/path/logo.png", "logo.png"),
        (".hidden.png", "hidden.png"),
        ("...png.png", "png.png"),
        ("-rf.png", "rf.png"),
        ("my logo (final) v2.PNG", "my_logo_final_v2.PNG"),
        ("café.jpg", "café.jpg"),
        ("a\x00b.png", "a_b.png"),
        ("x" * 300 + ".png", "x" * 196 + ".png"),
    ],
)
def test_safe_filename(given: str, stored: str) -> None:
    assert safe_filename(given) == stored


@pytest.mark.parametrize("given", ["", "..", "../", ".png", "nosuffix", "a/b/", "___.png"])
def test_names_with_nothing_usable_are_refused(given: str) -> None:
    with pytest.raises(AssetNameError) as caught:
        safe_filename(given)
    assert "logo.png" in caught.value.hint


def test_a_traversal_name_is_stored_inside_the_assets_folder(
    store: AssetStore, media: dict[str, Path], assets_dir: Path, tmp_path: Path
) -> None:
    before = everything_in(tmp_path)
    record = add_file(store, media["png"], name="../../../pwned.png")
    assert record.filename == "pwned.png"
    assert store.path_of(record) == assets_dir / "pwned.png"
    assert sorted(set(everything_in(tmp_path)) - set(before)) == ["srv/assets/pwned.png"]


# -- duplicates and collisions ----------------------------------------------------------------


def test_the_same_content_is_stored_once(
    store: AssetStore, media: dict[str, Path], assets_dir: Path
) -> None:
    first = add_file(store, media["png"], name="logo.png")
    again = add_file(store, media["png"], name="logo-copy.png")
    assert again == first
    assert everything_in(assets_dir) == ["logo.png"]
    assert store.list() == [first]


def test_a_duplicate_upload_restores_a_file_that_went_missing(
    store: AssetStore, media: dict[str, Path]
) -> None:
    record = add_file(store, media["png"], name="logo.png")
    store.path_of(record).unlink()
    assert add_file(store, media["png"], name="other.png") == record
    assert store.path_of(record).read_bytes() == media["png"].read_bytes()


def test_a_different_file_never_replaces_one_with_the_same_name(
    store: AssetStore, media: dict[str, Path], assets_dir: Path
) -> None:
    add_file(store, media["png"], name="logo.png")
    other = io.BytesIO()
    Image.new("RGB", (5, 5)).save(other, "PNG")
    other.seek(0)
    with pytest.raises(AssetNameTakenError, match=r"logo\.png") as caught:
        store.add("logo.png", other)
    assert "Rename" in caught.value.hint
    # a file put there by hand (not in the database) is protected too
    (assets_dir / "slate.gif").write_bytes(b"by hand")
    with pytest.raises(AssetNameTakenError):
        add_file(store, media["gif"], name="slate.gif")
    assert (assets_dir / "slate.gif").read_bytes() == b"by hand"
    assert everything_in(assets_dir) == ["logo.png", "slate.gif"]
    assert len(store.list()) == 1


@pytest.mark.timeout(60)
def test_four_threads_uploading_at_once(
    store: AssetStore, media: dict[str, Path], assets_dir: Path
) -> None:
    shared = media["png"].read_bytes()
    barrier = threading.Barrier(4)
    results: list[AssetRecord] = []
    errors: list[BaseException] = []

    def upload(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(store.add(f"same{number}.png", io.BytesIO(shared)))
            own = io.BytesIO()
            Image.new("RGB", (10 + number, 10)).save(own, "PNG")
            own.seek(0)
            results.append(store.add(f"own{number}.png", own))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=50)
        assert not thread.is_alive()
    assert errors == []
    assert len(store.list()) == 5
    assert len({r.id for r in results if r.checksum == hashlib.sha256(shared).hexdigest()}) == 1
    assert len(everything_in(assets_dir)) == 5


# -- deleting ---------------------------------------------------------------------------------


def marina_using(logo: str, slate: str) -> dict[str, Any]:
    return {
        "timeline": {
            "id": "marina",
            "name": "Marina",
            "duration": 60,
            "tracks": {
                "video": {"track_id": "v", "cues": [
                    {"id": "a", "start_time": 0, "duration": 30, "action": "show_camera",
                     "params": {"camera_id": 1}},
                ]},
                "overlays": [{"track_id": "o", "layer": 1, "cues": [
                    {"id": "l", "start_time": 0, "duration": 10, "action": "show_overlay",
                     "params": {"type": "logo", "image_url": logo, "position": "top_right"}},
                ]}],
            },
            "fallback": {"test_pattern": slate},
        }
    }  # fmt: skip


def test_delete_refuses_while_a_timeline_uses_the_asset(
    store: AssetStore, db: Database, media: dict[str, Path], assets_dir: Path
) -> None:
    logo = add_file(store, media["png"], name="logo.png")
    slate = add_file(store, media["jpg"], name="slate.jpg")
    spare = add_file(store, media["gif"], name="spare.gif")
    library = TimelineLibrary(db)
    timeline = library.create(marina_using("/assets/logo.png", "slate.jpg"))
    with pytest.raises(AssetInUseError) as caught:
        store.delete(logo.id)
    assert f"timeline {timeline.id} 'Marina'" in caught.value.problem
    assert "timeline.tracks.overlays[0].cues[0].params.image_url" in caught.value.problem
    assert caught.value.http_status == 409
    with pytest.raises(AssetInUseError, match=r"timeline\.fallback\.test_pattern"):
        store.delete(slate.id)
    assert store.path_of(logo).is_file()
    store.delete(spare.id)  # used by nobody
    assert not store.path_of(spare).exists()
    with pytest.raises(AssetNotFoundError) as missing:
        store.get(spare.id)
    assert missing.value.hint
    library.update(timeline.id, marina_using("/assets/other.png", "/assets/slate.jpg"))
    store.delete(logo.id)
    with pytest.raises(AssetInUseError):
        store.delete(slate.id)
    library.delete(timeline.id)
    store.delete(slate.id)
    assert store.list() == []
    assert everything_in(assets_dir) == []
    with pytest.raises(AssetNotFoundError):
        store.delete(slate.id)


def test_leftover_temporary_uploads_are_removed_at_start(db: Database, assets_dir: Path) -> None:
    """Every partial upload nobody holds goes at once (however recent); a live one stays."""
    assets_dir.mkdir(parents=True)
    old = assets_dir / ".upload-crashed.part"
    recent = assets_dir / ".upload-killed-just-now.part"
    inflight = assets_dir / ".upload-inflight.part"
    for leftover in (old, recent, inflight):
        leftover.write_bytes(b"partial")
    stale = time.time() - 2 * 3600
    os.utime(old, (stale, stale))
    with inflight.open("rb") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)  # as a live upload in another process
        AssetStore(db, assets_dir, LIMIT)
        assert not old.exists()
        assert not recent.exists()
        assert inflight.exists()
    AssetStore(db, assets_dir, LIMIT)  # its writer is gone: removed at the next start
    assert not inflight.exists()


def test_bad_limits_are_a_bug(db: Database, assets_dir: Path) -> None:
    make: Callable[[], AssetStore] = lambda: AssetStore(db, assets_dir, 0)  # noqa: E731
    with pytest.raises(ValueError, match="max_bytes"):
        make()
