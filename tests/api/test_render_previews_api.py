"""``/api/render-previews``: a range of a timeline rendered in the background, over HTTP.

A real render (a child process running ``render_timeline``) of a 2-s range of a timeline of
two stills: the progress comes from the frames written and ends at 1, the MP4 decodes with the
right frame count, size and colours (the range starts mid-timeline, so its first second is
the first still and its second the second), Range requests work, and the job expires. A
cancelled render leaves no process behind; the queue is bounded; bad input is a 4xx in words.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import psutil
import pytest
from PIL import Image
from support.asgi_server import serving
from support.browser import chromium

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.api.render_previews import RenderPreviewDeps
from vistter.models.config import parse_config
from vistter.models.validation import validate_timeline
from vistter.render.previews import PreviewRenders, PreviewSettings
from vistter.store import Database, TimelineLibrary

pytestmark = [pytest.mark.slow]

W, H, FPS = 640, 360, 30
RED, BLUE = (220, 30, 30), (30, 30, 220)
KEEP_SECONDS = 600.0


def still(start: float, duration: float, name: str, cue_id: str) -> dict[str, Any]:
    return {"id": cue_id, "start_time": start, "duration": duration, "action": "show_media",
            "params": {"media_url": f"/assets/{name}"}}


def timeline(duration: float = 10) -> dict[str, Any]:
    """Red for the first 5 s, blue after."""
    return {"timeline": {
        "id": "preview-test", "name": "Preview test", "duration": duration, "fps": FPS,
        "resolution": f"{W}x{H}",
        "tracks": {"video": {"track_id": "v", "type": "video", "cues": [
            still(0, 5, "red.png", "red"), still(5, duration - 5, "blue.png", "blue")]}},
    }}  # fmt: skip


class Offset:
    """The runner's clock: real monotonic time plus what a test adds."""

    def __init__(self) -> None:
        self.added = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.added


class Harness:
    def __init__(self, client: TestClient, renders: PreviewRenders, clock: Offset,
                 library: TimelineLibrary, folder: Path, deps: ApiDeps) -> None:
        self.client, self.renders, self.clock = client, renders, clock
        self.library, self.folder, self.deps = library, folder, deps

    def wait(self, url: str, until: Any, timeout: float = 90.0) -> list[dict[str, Any]]:
        """Poll ``url`` until ``until(body)``; every body seen."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.client.get(url)
            assert response.status_code == 200, response.text
            seen.append(response.json())
            if until(seen[-1]):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"{url} did not get there in {timeout:g} s: {seen[-1]}")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    assets = tmp_path / "assets"
    assets.mkdir()
    Image.new("RGB", (W, H), (40, 40, 40)).save(assets / "technical_difficulties.png")
    Image.new("RGB", (W, H), RED).save(assets / "red.png")
    Image.new("RGB", (W, H), BLUE).save(assets / "blue.png")
    config = parse_config({
        "encoding": {"width": W, "height": H, "fps": FPS, "bitrate_kbps": 800},
        "paths": {"assets_dir": str(assets), "data_dir": str(tmp_path / "var")},
        "show": {"loop": False},
    }, base_dir=tmp_path, env={})
    clock = Offset()
    folder = tmp_path / "var" / "previews"
    renders = PreviewRenders(config, folder, PreviewSettings(max_pending=2,
                                                             keep_seconds=KEEP_SECONDS),
                             clock=clock)
    with Database(tmp_path / "vistter.db") as db:
        library = TimelineLibrary(db)
        deps = ApiDeps(
            tree=lambda: {"id": "root", "path": "root", "kind": "supervisor",
                          "state": "running", "children": []},
            validate_timeline=lambda document: validate_timeline(document, config),
            started_at=0.0, version="1.0",
            render_previews=RenderPreviewDeps(renders, library),
        )
        try:
            with TestClient(create_app(deps)) as client:
                yield Harness(client, renders, clock, library, folder, deps)
        finally:
            renders.close()


def decode(data: bytes) -> tuple[list[np.ndarray], float]:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        assert stream.duration is not None and stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
    return frames, duration


def near(frame: np.ndarray, colour: tuple[int, int, int]) -> bool:
    mean = frame.reshape(-1, 3).mean(axis=0)
    return bool(np.all(np.abs(mean - np.array(colour)) < 12))


def play_in_chromium(harness: Harness, video_path: str) -> dict[str, Any]:
    """Open the video's URL in Debian's Chromium (served by a real uvicorn) and play it."""
    with serving(create_app(harness.deps)) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}{video_path}")
        played: dict[str, Any] = page.evaluate("""() => new Promise((resolve) => {
            const video = document.querySelector('video');
            if (!video) { resolve({error: 'no video element'}); return; }
            video.muted = true;
            video.onerror = () => resolve({error: String(video.error && video.error.code)});
            video.play().then(() => setTimeout(() => resolve({
                time: video.currentTime, width: video.videoWidth,
                height: video.videoHeight, duration: video.duration}), 700))
              .catch((e) => resolve({error: String(e)}));
        })""")
        page.close()
    return played


@pytest.mark.timeout(150)
def test_a_range_renders_with_real_progress_and_plays_as_h264(harness: Harness) -> None:
    client = harness.client
    asked = time.monotonic()
    response = client.post("/api/render-previews",
                           json={"document": timeline(), "start_s": 4, "duration_s": 2})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued" and job["progress"] == 0.0
    assert job["status_url"] == f"/api/render-previews/{job['id']}"
    assert response.headers["location"] == job["status_url"]
    assert (job["frames_total"], job["width"], job["height"]) == (2 * FPS, W, H)

    seen = harness.wait(job["status_url"], lambda body: body["state"] == "done")
    took = time.monotonic() - asked
    done = seen[-1]
    progress = [body["progress"] for body in seen]
    assert progress == sorted(progress), "progress went backwards"
    assert progress[0] < 1.0 and done["progress"] == 1.0
    assert done["frames_done"] == done["frames_total"] == 2 * FPS
    partial = [body["frames_done"] for body in seen if body["state"] == "rendering"]
    print(f"2 s of {W}x{H} rendered in {took:.1f} s ({2 / took:.2f}x real time; frames seen "
          f"while rendering: {sorted(set(partial))[:5]}..., speed field {done['speed']})")
    assert done["video_url"] == f"{job['status_url']}/video.mp4"
    assert done["problem"] is None and done["video_bytes"] > 0

    video = client.get(done["video_url"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp" and video.content.find(b"moov") < video.content.find(
        b"mdat"), "the moov atom must come first (faststart) for the page to play it at once"
    frames, duration = decode(video.content)
    assert abs(len(frames) - 2 * FPS) <= 1
    assert abs(duration - 2.0) <= 1 / FPS
    assert frames[0].shape == (H, W, 3)
    assert near(frames[0], RED) and near(frames[FPS - 2], RED), "0:04-0:05 is the red still"
    assert near(frames[FPS + 1], BLUE) and near(frames[-1], BLUE), "0:05-0:06 is blue"

    part = client.get(done["video_url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.content == video.content[:100]

    harness.clock.added += KEEP_SECONDS + 1  # the job expires: its file goes with it
    gone = client.get(job["status_url"])
    assert gone.status_code == 404 and "expired" in gone.json()["problem"]
    assert list(harness.folder.iterdir()) == []


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_debian_chromium_plays_the_preview(harness: Harness) -> None:
    response = harness.client.post("/api/render-previews",
                                   json={"document": timeline(), "start_s": 4.5, "duration_s": 1})
    assert response.status_code == 202, response.text
    done = harness.wait(response.json()["status_url"], lambda body: body["state"] == "done")[-1]
    played = play_in_chromium(harness, done["video_url"])
    assert "error" not in played, played
    assert (played["width"], played["height"]) == (W, H)
    assert played["time"] > 0 and abs(played["duration"] - 1.0) <= 0.1, played


def _family(pid: int) -> list[psutil.Process]:
    process = psutil.Process(pid)
    return [process, *process.children(recursive=True)]


@pytest.mark.timeout(150)
def test_cancel_ends_the_render_and_its_ffmpegs_and_the_queue_is_bounded(
    harness: Harness,
) -> None:
    client = harness.client
    record = harness.library.create(timeline(60), None)
    long = {"timeline_id": record.id, "start_s": 10, "duration_s": 30}
    first = client.post("/api/render-previews", json=long)
    assert first.status_code == 202, first.text
    second = client.post("/api/render-previews", json={**long, "start_s": 0})
    assert second.status_code == 202, second.text
    full = client.post("/api/render-previews", json=long)
    assert full.status_code == 429, full.text
    assert "2 previews are already queued or rendering" in full.json()["problem"]

    queued = client.delete(second.json()["status_url"])
    assert queued.status_code == 200 and queued.json()["state"] == "cancelled"
    assert client.get(second.json()["status_url"]).status_code == 404  # forgotten

    url = first.json()["status_url"]
    harness.wait(url, lambda body: body["frames_done"] > 0)
    pid = harness.renders.status(first.json()["id"]).pid
    assert pid is not None
    family = _family(pid)
    assert len(family) >= 2, "the render runs its encoder ffmpeg under it"
    assert family[0].nice() == 19, "the render must run at the lowest priority"
    cancelled = client.delete(url)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["state"] == "cancelled" and body["video_url"] is None
    assert 0 < body["frames_done"] < body["frames_total"]
    _, alive = psutil.wait_procs(family, timeout=10)
    assert alive == [], f"left running after the cancel: {alive}"
    assert not (harness.folder / first.json()["id"]).exists()
    assert client.get(url).status_code == 404  # a cancelled preview is forgotten
    assert client.get(f"{url}/video.mp4").status_code == 404

    again = client.post("/api/render-previews", json=long)  # room again
    assert again.status_code == 202
    assert client.delete(again.json()["status_url"]).json()["state"] == "cancelled"


def test_bad_requests_are_refused_in_words(harness: Harness) -> None:
    client = harness.client
    past = client.post("/api/render-previews",
                       json={"document": timeline(10), "start_s": 9, "duration_s": 2})
    assert past.status_code == 422
    assert "0:09 to 0:11" in past.json()["problem"] and "0:10 (10 s) long" in \
        past.json()["problem"]

    broken = timeline()
    broken["timeline"]["tracks"]["video"]["cues"][1]["start_time"] = 4  # overlaps red
    invalid = client.post("/api/render-previews",
                          json={"document": broken, "start_s": 0, "duration_s": 2})
    assert invalid.status_code == 422
    validated = client.post("/api/timelines/validate", json=broken).json()["problems"]
    def words(problems: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(p["path"], p["message"], p["hint"]) for p in problems]

    assert words(invalid.json()["problems"]) == words(validated) and validated

    for body in ({"document": timeline(), "start_s": 0, "duration_s": 31},
                 {"document": timeline(), "start_s": -1, "duration_s": 2},
                 {"document": timeline(), "start_s": 0, "duration_s": 0},
                 {"start_s": 0, "duration_s": 2},
                 {"document": timeline(), "timeline_id": 1, "start_s": 0, "duration_s": 2}):
        refused = client.post("/api/render-previews", json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["problem"].startswith("The preview request is not valid")

    missing = client.post("/api/render-previews",
                          json={"timeline_id": 99, "start_s": 0, "duration_s": 2})
    assert missing.status_code == 404 and "99" in missing.json()["problem"]
    for method, path in (("GET", ""), ("GET", "/video.mp4"), ("DELETE", "")):
        unknown = client.request(method, f"/api/render-previews/nosuchpreview{path}")
        assert unknown.status_code == 404, unknown.text
        assert "there is no preview 'nosuchpreview'" in unknown.json()["problem"]
    assert list(harness.folder.iterdir()) == []


def test_the_contract_documents_the_preview_operations(harness: Harness) -> None:
    document = harness.client.get("/api/openapi.json").json()
    paths = document["paths"]
    post = paths["/api/render-previews"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RenderPreviewRequest"}
    assert {"202", "400", "404", "422", "429"} <= set(post["responses"])
    assert set(paths["/api/render-previews/{preview_id}"]) == {"get", "delete"}
    video = paths["/api/render-previews/{preview_id}/video.mp4"]["get"]["responses"]["200"]
    assert "video/mp4" in video["content"]
    ids = {entry["operationId"] for methods in paths.values() for entry in methods.values()}
    for link in post["responses"]["202"]["links"].values():
        assert link["operationId"] in ids
    schema = document["components"]["schemas"]["RenderPreviewRequest"]
    assert schema["properties"]["duration_s"]["maximum"] == 30
