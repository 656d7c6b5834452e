"""The asset routes an asset page needs: kind, size, dimensions, duration, where each asset
is used, and thumbnails (made once with Pillow or ffmpeg, kept next to the assets folder)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from test_api_assets import Appliance, assert_error, files_in, open_appliance, png, upload

from chaos.realparts import run_ffmpeg
from vistter.store.thumbnails import MAX_HEIGHT, THUMBNAIL_WIDTH


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    with open_appliance(tmp_path) as opened:
        yield opened


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clips")
    video, tone = folder / "clip.mp4", folder / "tone.mp3"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video)],
               timeout=60)  # fmt: skip
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                "-c:a", "libmp3lame", str(tone)], timeout=60)  # fmt: skip
    return {"mp4": video.read_bytes(), "mp3": tone.read_bytes()}


def show_using(key: str, name: str, logo: str) -> dict[str, Any]:
    return {"timeline": {
        "id": key, "name": name, "duration": 20,
        "tracks": {
            "video": {"track_id": "v", "cues": [{"id": "a", "start_time": 0, "duration": 20,
                                                 "action": "show_camera",
                                                 "params": {"camera_id": 1}}]},
            "overlays": [{"track_id": "o", "layer": 1, "cues": [
                {"id": "logo", "start_time": 0, "duration": 10, "action": "show_overlay",
                 "params": {"type": "logo", "image_url": logo}}]}],
        },
    }}  # fmt: skip


def jpeg_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        return image.size


def test_the_listing_has_kind_size_dimensions_duration_and_thumbnail(
    appliance: Appliance, clips: dict[str, bytes]
) -> None:
    picture = upload(appliance, png((64, 48))).json()
    clip = upload(appliance, clips["mp4"], name="clip.mp4", mime="video/mp4").json()
    tone = upload(appliance, clips["mp3"], name="tone.mp3", mime="audio/mpeg").json()
    listing = {a["name"]: a for a in appliance.client.get("/api/assets").json()["assets"]}
    assert set(listing) == {"logo.png", "clip.mp4", "tone.mp3"}

    logo = listing["logo.png"]
    assert (logo["kind"], logo["size"], logo["width"], logo["height"], logo["duration_s"]) == (
        "image", len(png((64, 48))), 64, 48, None)
    assert logo["thumbnail_url"] == f"/api/assets/{picture['id']}/thumbnail.jpg"
    assert logo["used_by"] == []
    video = listing["clip.mp4"]
    assert (video["kind"], video["width"], video["height"]) == ("video", 320, 240)
    assert video["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert video["thumbnail_url"] == f"/api/assets/{clip['id']}/thumbnail.jpg"
    audio = listing["tone.mp3"]
    assert (audio["kind"], audio["width"], audio["thumbnail_url"]) == ("audio", None, None)
    assert audio["duration_s"] == pytest.approx(1.0, abs=0.1)
    assert appliance.client.get(f"/api/assets/{tone['id']}").json() == audio


def test_used_by_names_the_timelines_and_delete_names_them_too(appliance: Appliance) -> None:
    asset = upload(appliance, png()).json()
    spare = upload(appliance, png((8, 8)), name="spare.png").json()
    first = appliance.library.create(show_using("one", "Marina morning", "/assets/logo.png"))
    second = appliance.library.create(show_using("two", "Harbour night", "logo.png"))
    appliance.library.create(show_using("three", "Elsewhere", "/assets/spare.png"))
    listing = {a["name"]: a for a in appliance.client.get("/api/assets").json()["assets"]}
    assert listing["logo.png"]["used_by"] == [
        {"id": first.id, "name": "Marina morning"}, {"id": second.id, "name": "Harbour night"},
    ]
    assert [u["name"] for u in listing["spare.png"]["used_by"]] == ["Elsewhere"]
    assert appliance.client.get(f"/api/assets/{asset['id']}").json()["used_by"] == (
        listing["logo.png"]["used_by"])
    body = assert_error(appliance.client.delete(f"/api/assets/{asset['id']}"), 409,
                        "AssetInUseError")  # fmt: skip
    assert "'Marina morning'" in body["problem"] and "'Harbour night'" in body["problem"]
    appliance.library.delete(first.id)
    appliance.library.delete(second.id)
    assert appliance.client.get(f"/api/assets/{asset['id']}").json()["used_by"] == []
    assert appliance.client.delete(f"/api/assets/{asset['id']}").status_code == 200
    assert spare["id"] in [a["id"] for a in appliance.client.get("/api/assets").json()["assets"]]


def test_an_image_thumbnail_is_made_once_and_kept_outside_the_assets_folder(
    appliance: Appliance, tmp_path: Path
) -> None:
    asset = upload(appliance, png((320, 180))).json()
    url = f"/api/assets/{asset['id']}/thumbnail.jpg"
    first = appliance.client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/jpeg"
    assert "max-age" in first.headers["cache-control"]
    assert jpeg_size(first.content) == (THUMBNAIL_WIDTH, 90)
    kept = appliance.assets.thumbnails.path_for(asset["checksum"])
    assert kept.is_file() and kept.parent.parent == tmp_path  # next to the assets folder
    assert files_in(appliance.assets_dir) == ["logo.png"]
    made_at = kept.stat().st_mtime_ns
    assert appliance.client.get(url).content == first.content
    assert kept.stat().st_mtime_ns == made_at  # served from disk, not made again
    assert appliance.client.delete(f"/api/assets/{asset['id']}").status_code == 200
    assert not kept.exists()  # goes with its asset


def test_a_very_tall_image_gets_a_bounded_thumbnail(appliance: Appliance) -> None:
    asset = upload(appliance, png((20, 2000)), name="tall.png").json()
    response = appliance.client.get(f"/api/assets/{asset['id']}/thumbnail.jpg")
    assert response.status_code == 200, response.text
    assert jpeg_size(response.content) == (THUMBNAIL_WIDTH, MAX_HEIGHT)


def test_a_video_thumbnail_comes_from_ffmpeg(
    appliance: Appliance, clips: dict[str, bytes]
) -> None:
    clip = upload(appliance, clips["mp4"], name="clip.mp4", mime="video/mp4").json()
    response = appliance.client.get(f"/api/assets/{clip['id']}/thumbnail.jpg")
    assert response.status_code == 200, response.text
    assert jpeg_size(response.content) == (THUMBNAIL_WIDTH, 120)


def test_audio_and_unknown_ids_have_no_thumbnail_with_words(
    appliance: Appliance, clips: dict[str, bytes]
) -> None:
    tone = upload(appliance, clips["mp3"], name="tone.mp3", mime="audio/mpeg").json()
    body = assert_error(appliance.client.get(f"/api/assets/{tone['id']}/thumbnail.jpg"), 409,
                        "AssetThumbnailError")  # fmt: skip
    assert "'tone.mp3' is audio" in body["problem"]
    body = assert_error(appliance.client.get("/api/assets/41/thumbnail.jpg"), 404,
                        "AssetNotFoundError")  # fmt: skip
    assert "41" in body["problem"]
    assert_error(appliance.client.get(f"/api/assets/{2**70}/thumbnail.jpg"), 404,
                 "AssetNotFoundError")  # fmt: skip


def test_a_missing_or_damaged_file_is_409_not_500(appliance: Appliance) -> None:
    asset = upload(appliance, png((64, 48))).json()
    (appliance.assets_dir / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n damaged")
    body = assert_error(appliance.client.get(f"/api/assets/{asset['id']}/thumbnail.jpg"), 409,
                        "AssetThumbnailError")  # fmt: skip
    assert "cannot be read" in body["problem"]
    (appliance.assets_dir / "logo.png").unlink()
    body = assert_error(appliance.client.get(f"/api/assets/{asset['id']}/thumbnail.jpg"), 409,
                        "AssetThumbnailError")  # fmt: skip
    assert "missing" in body["problem"]
