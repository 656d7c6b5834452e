"""Asset routes of the control API: streamed uploads, limits, types, names, deletes in use."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

with warnings.catch_warnings():
    # Starlette >= 1.x prefers httpx2 for its TestClient and warns when it falls back to
    # httpx (what the test extras install). Either client works for these tests.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.api.body import BodyLimit, PathLimit
from vistter.api.library import LibraryDeps
from vistter.clock import FakeClock
from vistter.store import AssetStore, Database, ExecutionLog, TimelineLibrary

TOKEN = "assets-token-for-tests"
MAX_BODY = 16 * 1024
MAX_UPLOAD = 200 * 1024
CHUNK = 4096


@dataclass
class Appliance:
    app: Any
    client: TestClient
    library: TimelineLibrary
    assets: AssetStore
    assets_dir: Path


@contextmanager
def open_appliance(
    root: Path, *, token: str | None = None, store_limit: int = MAX_UPLOAD,
    inflight_limit: int | None = None,
) -> Iterator[Appliance]:
    assets_dir = root / "assets"
    with Database(root / "vistter.db") as db:
        library = TimelineLibrary(db)
        assets = AssetStore(db, assets_dir, store_limit, max_inflight_bytes=inflight_limit)
        deps = ApiDeps(
            tree=lambda: {"id": "root", "state": "running", "children": []},
            validate_timeline=lambda document: [], started_at=0.0, version="t",
            token=token, max_body_bytes=MAX_BODY, clock=FakeClock(),
            library=LibraryDeps(
                timelines=library, executions=ExecutionLog(db), assets=assets, config=None,
                max_upload_bytes=MAX_UPLOAD,
            ),
        )  # fmt: skip
        app = create_app(deps)
        with TestClient(app, raise_server_exceptions=True) as client:
            yield Appliance(app, client, library, assets, assets_dir)


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    with open_appliance(tmp_path) as opened:
        yield opened


def png(size: tuple[int, int] = (32, 16), *, noise: bool = False, seed: int = 1) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    if noise:
        rng = random.Random(seed)
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def files_in(folder: Path) -> list[str]:
    """Every file in the assets folder, hidden temporary uploads included."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def assert_error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == kind
    assert body["problem"] and body["hint"]
    return body


def upload(
    appliance: Appliance,
    content: Any,
    *,
    name: str | None = "logo.png",
    mime: str | None = "image/png",
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(headers or {})
    if mime is not None:
        sent["content-type"] = mime
    params = {"name": name} if name is not None else None
    return appliance.client.post("/api/assets", params=params, content=content, headers=sent)


# -- uploads that work -----------------------------------------------------------------------


def test_upload_a_png_made_with_pillow(appliance: Appliance) -> None:
    data = png((48, 20))
    response = upload(appliance, data)
    assert response.status_code == 201, response.text
    asset = response.json()
    assert response.headers["location"] == f"/api/assets/{asset['id']}"
    assert asset["filename"] == "logo.png"
    assert asset["file_path"] == "/assets/logo.png"
    assert (asset["asset_type"], asset["mime_type"]) == ("image", "image/png")
    assert asset["file_size"] == len(data)
    assert asset["checksum"] == hashlib.sha256(data).hexdigest()
    assert (asset["metadata"]["width"], asset["metadata"]["height"]) == (48, 20)
    assert (appliance.assets_dir / "logo.png").read_bytes() == data
    assert files_in(appliance.assets_dir) == ["logo.png"]

    assert appliance.client.get("/api/assets").json() == {"assets": [asset]}
    assert appliance.client.get(f"/api/assets/{asset['id']}").json() == asset
    # the same content again is the same asset, stored once
    again = upload(appliance, data, name="other.png")
    assert (again.status_code, again.json()["id"]) == (201, asset["id"])
    assert files_in(appliance.assets_dir) == ["logo.png"]


def test_an_upload_is_not_bound_by_the_general_body_limit(appliance: Appliance) -> None:
    data = png((160, 160), noise=True)
    assert MAX_BODY < len(data) < MAX_UPLOAD
    response = upload(appliance, data, name="noise.png")
    assert response.status_code == 201, response.text
    assert (appliance.assets_dir / "noise.png").read_bytes() == data
    # ... which still holds everywhere else
    big = {"timeline": {"id": "x", "name": "y" * MAX_BODY}}
    assert_error(appliance.client.post("/api/timelines", json=big), 413, "PayloadTooLargeError")


@pytest.mark.parametrize(
    ("headers", "stored"),
    [
        ({"X-Filename": quote("café sign.png")}, "café_sign.png"),
        ({"X-Filename": "plain.png"}, "plain.png"),
        ({"Content-Disposition": 'attachment; filename="from-cd.png"'}, "from-cd.png"),
        ({"Content-Disposition": "attachment; filename*=UTF-8''%C3%A9t%C3%A9.png"}, "été.png"),
    ],
)
def test_the_name_can_come_from_a_header(
    appliance: Appliance, headers: dict[str, str], stored: str
) -> None:
    response = upload(appliance, png(), name=None, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == stored
    assert (appliance.assets_dir / stored).is_file()


def test_the_query_name_wins_over_headers(appliance: Appliance) -> None:
    response = upload(appliance, png(), name="query.png", headers={"X-Filename": "header.png"})
    assert response.json()["filename"] == "query.png"


def test_without_a_declared_type_the_content_decides(appliance: Appliance) -> None:
    response = upload(appliance, png(), mime=None)
    assert response.status_code == 201, response.text
    octet = upload(appliance, png((8, 8)), name="b.png", mime="application/octet-stream")
    assert octet.status_code == 201, octet.text
    assert octet.json()["mime_type"] == "image/png"


# -- uploads that are refused ----------------------------------------------------------------


@pytest.mark.timeout(60)
def test_an_upload_over_the_limit_streamed_in_chunks_is_413_and_leaves_no_file(
    appliance: Appliance,
) -> None:
    produced = 0

    def chunks() -> Iterator[bytes]:
        nonlocal produced
        head = png()
        produced += len(head)
        yield head
        while produced < 3 * MAX_UPLOAD:
            produced += CHUNK
            yield b"\0" * CHUNK

    body = assert_error(upload(appliance, chunks()), 413, "PayloadTooLargeError")
    assert f"{MAX_UPLOAD} bytes" in body["problem"]
    assert "max_upload_bytes" in body["hint"]
    assert files_in(appliance.assets_dir) == []
    assert appliance.client.get("/api/assets").json() == {"assets": []}


def test_a_declared_length_over_the_limit_is_413(appliance: Appliance) -> None:
    body = assert_error(upload(appliance, b"\0" * (MAX_UPLOAD + 1)), 413, "PayloadTooLargeError")
    assert "max_upload_bytes" in body["hint"]
    assert files_in(appliance.assets_dir) == []


def test_the_stores_own_limit_is_413_too(tmp_path: Path) -> None:
    with open_appliance(tmp_path, store_limit=10_000) as appliance:
        data = png((160, 160), noise=True)
        body = assert_error(upload(appliance, data), 413, "AssetTooLargeError")
        assert "limit" in body["problem"]
        assert files_in(appliance.assets_dir) == []


def test_uploads_in_progress_beyond_their_space_are_507(tmp_path: Path) -> None:
    with open_appliance(tmp_path, inflight_limit=8 * 1024) as appliance:
        data = png((160, 160), noise=True)  # ~77 kB: under the upload limit, over the space
        body = assert_error(upload(appliance, data), 507, "AssetStorageFullError")
        assert "in progress" in body["problem"]
        assert "max_inflight_upload_bytes" in body["hint"]
        assert files_in(appliance.assets_dir) == []
        assert appliance.assets.spool.inflight_bytes == 0, "the space is given back"
        assert upload(appliance, png()).status_code == 201  # a small one still fits


@pytest.mark.parametrize(
    ("content", "name", "mime"),
    [
        (png((64, 64), noise=True)[:200], "broken.png", "image/png"),
        # starts like an MP4; the decoder's own message names the file it was given
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x01" * 3000,
         "broken.mp4", "video/mp4"),
    ],
)
def test_an_unreadable_upload_names_the_asset_not_a_server_path(
    appliance: Appliance, content: bytes, name: str, mime: str
) -> None:
    body = assert_error(upload(appliance, content, name=name, mime=mime), 422,
                        "AssetUnreadableError")  # fmt: skip
    text = json.dumps(body)
    assert ".upload-" not in text and ".part" not in text
    assert str(appliance.assets_dir) not in text
    assert "cannot be read" in body["problem"]
    assert files_in(appliance.assets_dir) == []


@pytest.mark.parametrize(
    ("content", "mime", "name", "kind"),
    [
        (png(), "text/plain", "logo.png", "AssetTypeError"),
        (png(), "image/jpeg", "logo.png", "AssetTypeMismatchError"),
        (b"just some text, not an image\n" * 20, "image/png", "logo.png", "AssetTypeError"),
        (png(), "image/png", "logo.jpg", "AssetTypeMismatchError"),
    ],
)
def test_a_wrong_type_is_415(
    appliance: Appliance, content: bytes, mime: str, name: str, kind: str
) -> None:
    assert_error(upload(appliance, content, name=name, mime=mime), 415, kind)
    assert files_in(appliance.assets_dir) == []
    assert appliance.assets.list() == []


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("../../evil.png", None),
        ("..\\..\\evil.png", None),
        ("/etc/evil.png", None),
        ("..", None),
        ("", None),
        (None, None),
        (None, {"X-Filename": quote("../evil.png", safe="")}),
        (None, {"X-Filename": "%FF%FE.png"}),
        (None, {"Content-Disposition": 'attachment; filename="../evil.png"'}),
    ],
)
def test_a_traversal_or_missing_name_is_422(
    appliance: Appliance, tmp_path: Path, name: str | None, headers: dict[str, str] | None
) -> None:
    body = assert_error(upload(appliance, png(), name=name, headers=headers), 422, "AssetNameError")
    assert "name" in body["problem"]
    assert files_in(appliance.assets_dir) == []
    assert not list(tmp_path.rglob("evil.png"))


@pytest.mark.parametrize(
    "reference",
    ["/etc/passwd", "/proc/self/environ", "/assets/../vistter.db", "file:///etc/passwd",
     "http://169.254.169.254/latest/meta-data", "http://127.0.0.1:8080/api/status"],
)
def test_a_timeline_cannot_name_media_outside_the_assets(
    appliance: Appliance, tmp_path: Path, reference: str
) -> None:
    document = {"timeline": {
        "id": "sneaky", "name": "Sneaky", "duration": 20,
        "tracks": {"video": {"track_id": "v", "cues": [
            {"id": "a", "start_time": 0, "duration": 20, "action": "show_media",
             "params": {"media_url": reference}}]}},
    }}  # fmt: skip
    response = appliance.client.post("/api/timelines", json=document)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["problems"]
    assert problem["path"] == "timeline.tracks.video.cues[0].params.media_url"
    assert "/assets/NAME" in problem["hint"]
    assert str(tmp_path) not in response.text
    assert appliance.library.list() == []


def test_an_asset_a_stored_timeline_uses_cannot_be_deleted(appliance: Appliance) -> None:
    asset = upload(appliance, png()).json()
    other = upload(appliance, png((8, 8)), name="spare.png").json()
    timeline = appliance.library.create({"timeline": {
        "id": "show", "name": "Show with logo", "duration": 20,
        "tracks": {
            "video": {"track_id": "v", "cues": [{"id": "a", "start_time": 0, "duration": 20,
                                                 "action": "show_camera",
                                                 "params": {"camera_id": 1}}]},
            "overlays": [{"track_id": "o", "layer": 1, "cues": [
                {"id": "logo", "start_time": 0, "duration": 10, "action": "show_overlay",
                 "params": {"type": "logo", "image_url": "/assets/logo.png"}}]}],
        },
    }})  # fmt: skip
    body = assert_error(
        appliance.client.delete(f"/api/assets/{asset['id']}"), 409, "AssetInUseError"
    )
    assert f"timeline {timeline.id} 'Show with logo'" in body["problem"]
    assert "image_url" in body["problem"]
    assert (appliance.assets_dir / "logo.png").is_file()

    response = appliance.client.delete(f"/api/assets/{other['id']}")
    assert (response.status_code, response.json()) == (200, {"deleted": other["id"]})
    assert not (appliance.assets_dir / "spare.png").exists()
    assert appliance.client.delete(f"/api/timelines/{timeline.id}").status_code == 200
    assert appliance.client.delete(f"/api/assets/{asset['id']}").status_code == 200
    assert files_in(appliance.assets_dir) == []
    assert_error(appliance.client.get(f"/api/assets/{asset['id']}"), 404, "AssetNotFoundError")
    assert_error(appliance.client.delete(f"/api/assets/{asset['id']}"), 404, "AssetNotFoundError")
    assert_error(appliance.client.get(f"/api/assets/{2**64}"), 404, "AssetNotFoundError")


def test_with_a_token_uploads_need_it(tmp_path: Path) -> None:
    with open_appliance(tmp_path, token=TOKEN) as appliance:
        assert_error(upload(appliance, png()), 401, "UnauthorizedError")
        assert files_in(appliance.assets_dir) == []
        response = upload(appliance, png(), headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 201, response.text


# -- the body really streams: the app as a raw ASGI callable ----------------------------------


def call(
    app: Any,
    receive_messages: Iterator[dict[str, Any]],
    *,
    headers: list[tuple[bytes, bytes]],
    query: bytes = b"name=logo.png",
) -> tuple[int, dict[str, Any], int]:
    """POST /api/assets with a body from ``receive_messages``.

    Returns the status, the JSON body and how many messages the app pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return next(receive_messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/assets", "raw_path": b"/api/assets",
        "query_string": query, "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def chunked(data: bytes, size: int) -> Iterator[dict[str, Any]]:
    for offset in range(0, len(data), size):
        more = offset + size < len(data)
        yield {"type": "http.request", "body": data[offset : offset + size], "more_body": more}


PNG_HEADERS = [(b"content-type", b"image/png")]


@pytest.mark.timeout(60)
def test_an_endless_upload_is_cut_off_at_the_chunk_that_passes_the_limit(
    appliance: Appliance,
) -> None:
    def endless() -> Iterator[dict[str, Any]]:
        head = png()
        yield {"type": "http.request", "body": head + b"\0" * (CHUNK - len(head)),
               "more_body": True}  # fmt: skip
        for _ in range(100 * MAX_UPLOAD // CHUNK):  # finite, so a broken limit fails, not hangs
            yield {"type": "http.request", "body": b"\0" * CHUNK, "more_body": True}

    status, body, pulled = call(appliance.app, endless(), headers=PNG_HEADERS)
    assert (status, body["error"]) == (413, "PayloadTooLargeError")
    assert pulled == MAX_UPLOAD // CHUNK + 1
    assert files_in(appliance.assets_dir) == []


@pytest.mark.timeout(60)
def test_the_store_stops_reading_at_its_own_limit(tmp_path: Path) -> None:
    with open_appliance(tmp_path, store_limit=10_000) as appliance:
        data = png((160, 160), noise=True)
        status, body, pulled = call(appliance.app, chunked(data, CHUNK), headers=PNG_HEADERS)
        assert (status, body["error"]) == (413, "AssetTooLargeError")
        assert pulled == 10_000 // CHUNK + 1
        assert files_in(appliance.assets_dir) == []


@pytest.mark.timeout(60)
def test_a_declared_length_over_the_limit_reads_nothing(appliance: Appliance) -> None:
    headers = [*PNG_HEADERS, (b"content-length", str(MAX_UPLOAD + 1).encode())]
    status, body, pulled = call(appliance.app, chunked(b"\0" * (MAX_UPLOAD + 1), CHUNK),
                                headers=headers)  # fmt: skip
    assert (status, body["error"], pulled) == (413, "PayloadTooLargeError", 0)


@pytest.mark.timeout(60)
def test_a_file_in_many_small_chunks_is_stored_whole(appliance: Appliance) -> None:
    data = png((160, 160), noise=True, seed=7)
    on_disk_before_the_last_chunk: list[int] = []

    def watched() -> Iterator[dict[str, Any]]:
        messages = list(chunked(data, 1000))
        yield from messages[:-1]
        # the store has written what came so far to its temporary file: it streams
        on_disk_before_the_last_chunk.extend(
            part.stat().st_size for part in appliance.assets_dir.glob(".upload-*.part")
        )
        yield messages[-1]

    status, body, pulled = call(appliance.app, watched(), headers=PNG_HEADERS)
    assert status == 201, body
    assert pulled == -(-len(data) // 1000)
    assert len(on_disk_before_the_last_chunk) == 1
    assert on_disk_before_the_last_chunk[0] >= len(data) - 1000 - 8192
    assert (appliance.assets_dir / "logo.png").read_bytes() == data
    assert body["checksum"] == hashlib.sha256(data).hexdigest()


@pytest.mark.timeout(60)
def test_a_client_that_goes_away_mid_upload_leaves_nothing(appliance: Appliance) -> None:
    def then_gone() -> Iterator[dict[str, Any]]:
        data = png((160, 160), noise=True)
        yield {"type": "http.request", "body": data[:CHUNK], "more_body": True}
        yield {"type": "http.request", "body": data[CHUNK : 2 * CHUNK], "more_body": True}
        while True:
            yield {"type": "http.disconnect"}

    status, body, _ = call(appliance.app, then_gone(), headers=PNG_HEADERS)
    assert (status, body["error"]) == (400, "UploadInterruptedError")
    assert files_in(appliance.assets_dir) == []
    assert appliance.assets.list() == []


# -- per-path body limits --------------------------------------------------------------------


def test_path_limits_cover_their_prefix_only_and_the_longest_wins() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    limit = BodyLimit(app, max_body_bytes=100, path_limits=[
        PathLimit("/api/assets", 1000, "upload hint"),
        PathLimit("/api/assets/big", 5000, "big hint"),
    ])  # fmt: skip
    assert limit.limit_for("/api/assets") == (1000, "upload hint")
    assert limit.limit_for("/api/assets/3") == (1000, "upload hint")
    assert limit.limit_for("/api/assets/big/1") == (5000, "big hint")
    assert limit.limit_for("/api/assetsX")[0] == 100
    assert limit.limit_for("/api/timelines")[0] == 100
    for prefix in ("api/assets", "/api/assets/"):
        with pytest.raises(ValueError, match="prefix"):
            PathLimit(prefix, 1, "")
    with pytest.raises(ValueError, match="max_bytes"):
        PathLimit("/api/assets", -1, "")
