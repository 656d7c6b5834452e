"""The preview over HTTP on a running appliance: the real program stream, its viewer limit,
a stalled viewer dropped while the recorder loses nothing, the JPEG stills."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from support.mediapath import (
    FPS,
    HEIGHT,
    REPO,
    WIDTH,
    output_states,
    receive,
    recordings,
    running_appliance,
    wait_for,
)

from bench.preview import BLUE, RED, PreviewReader, near
from vistter.appliance import Appliance
from vistter.models.config import parse_config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

MAX_VIEWERS = 2


def colour_camera(camera_id: int, colour: str) -> dict[str, Any]:
    return {"id": camera_id, "name": colour,
            "url": f"lavfi:color=c={colour}:size={WIDTH}x{HEIGHT}:rate={FPS}"}


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    folder = tmp_path_factory.mktemp("preview")
    config = parse_config({
        "encoding": {"profile": "reliability", "bitrate_kbps": 800, "preset": "ultrafast",
                     "width": WIDTH, "height": HEIGHT, "fps": FPS},
        "cameras": [colour_camera(1, "red"), colour_camera(2, "blue")],
        "destinations": [{"id": "rec", "platform": "recorder", "path": str(folder / "rec"),
                          "segment_seconds": 600}],
        "preview": {"max_viewers": MAX_VIEWERS},
        "api": {"port": 0},
        "telemetry": {"endpoint": "tcp://127.0.0.1:*", "system_interval": 5},
        "paths": {"assets_dir": str(REPO / "assets"), "data_dir": str(folder / "var")},
    }, base_dir=folder, env={})
    with running_appliance(config) as running:
        wait_for(lambda: output_states(running).get("rec") == "live", 30, "the recorder live")
        yield running


@pytest.fixture(scope="module")
def base(appliance: Appliance) -> str:
    port = appliance.root.handle.child("api").proxy().bound_port().get(timeout=10)
    return f"http://127.0.0.1:{port}"


def preview_status(appliance: Appliance) -> dict[str, Any]:
    return next(d for d in appliance.list_destinations() if d.get("kind") == "preview")


def no_viewers(appliance: Appliance) -> bool:
    return not preview_status(appliance)["viewers"]


def force(base: str, camera_id: int) -> None:
    response = httpx.post(f"{base}/api/show/overrides/force-camera",
                          json={"camera_id": camera_id}, timeout=10)
    assert response.status_code == 200, response.text


def test_the_preview_is_the_program_from_a_keyframe_and_follows_a_forced_camera(
    appliance: Appliance, base: str
) -> None:
    force(base, 1)
    reader = PreviewReader(f"{base}/api/preview.ts").start()
    try:
        frames = reader.wait_frames(FPS, 20)
        first = frames[0]
        assert first.keyframe, "the preview must start on a keyframe"
        assert (first.width, first.height) == (WIDTH, HEIGHT)
        wait_for(lambda: near(reader.snapshot()[-1].centre, RED), 5, "camera 1 (red) in it")
        force(base, 2)
        wait_for(lambda: near(reader.snapshot()[-1].centre, BLUE), 5, "camera 2 (blue) in it")
        assert preview_status(appliance)["state"] == "live"
    finally:
        reader.stop()
    assert reader.error is None, reader.error
    wait_for(lambda: no_viewers(appliance), 10, "the viewer closed when the reader left")


def test_a_viewer_that_stops_reading_is_dropped_and_the_recorder_loses_nothing(
    appliance: Appliance, base: str, tmp_path: Path
) -> None:
    wait_for(lambda: no_viewers(appliance), 10, "no viewer left by another test")
    before = preview_status(appliance)["viewers_dropped_slow"]
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", port))
        stalled.sendall(b"GET /api/preview.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert stalled.recv(64).startswith(b"HTTP/1.1 200")
        # ... and never reads again: its socket buffers fill, then its queue
        wait_for(lambda: preview_status(appliance)["viewers_dropped_slow"] > before, 40,
                 "the stalled viewer dropped")
    assert no_viewers(appliance)
    fanout = appliance.status()["program"]["fanout"]["destinations"]
    assert fanout["rec"]["dropped_bytes"] == 0 and fanout["rec"]["overflows"] == 0
    recorded = receive(recordings(appliance.config.destinations[0].path)[0])  # type: ignore[union-attr]
    recorded.assert_every_frame("the recording while a preview viewer stalled")


def test_viewers_beyond_the_limit_get_503_with_a_hint(appliance: Appliance, base: str) -> None:
    wait_for(lambda: no_viewers(appliance), 10, "no viewer left by another test")
    with httpx.Client(base_url=base, timeout=10) as client:
        streams = [client.stream("GET", "/api/preview.ts") for _ in range(MAX_VIEWERS)]
        responses = [stream.__enter__() for stream in streams]
        try:
            assert [r.status_code for r in responses] == [200] * MAX_VIEWERS
            assert responses[0].headers["content-type"] == "video/mp2t"
            refused = client.get("/api/preview.ts")
            assert refused.status_code == 503
            assert refused.headers["retry-after"]
            assert "max_viewers" in refused.json()["hint"]
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
        wait_for(lambda: no_viewers(appliance), 10, "both viewers closed")
        head = client.head("/api/preview.ts")  # headers only: takes no slot
        assert head.status_code == 200 and head.headers["content-type"] == "video/mp2t"
        assert no_viewers(appliance)
        with client.stream("GET", "/api/preview.ts") as again:
            assert again.status_code == 200


def test_program_jpeg_and_camera_thumbnails(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        program = client.get("/api/preview.jpg")
        assert program.status_code == 200 and program.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(program.content))
        assert (image.format, image.size) == ("JPEG", (WIDTH, HEIGHT))
        first = client.get("/api/cameras/1/thumbnail.jpg")
        thumbnail = Image.open(io.BytesIO(first.content))
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 180))
        centre = thumbnail.convert("RGB").getpixel((160, 90))
        assert isinstance(centre, tuple) and near((centre[0], centre[1], centre[2]), RED)
        assert client.get("/api/cameras/1/thumbnail.jpg").content == first.content  # cached
        time.sleep(1.1)
        assert client.get("/api/cameras/2/thumbnail.jpg").status_code == 200
        unknown = client.get("/api/cameras/9/thumbnail.jpg")
        assert unknown.status_code == 404
        assert "1, 2" in unknown.json()["hint"]


def test_the_preview_routes_are_in_the_openapi_document(base: str) -> None:
    paths = httpx.get(f"{base}/api/openapi.json", timeout=10).json()["paths"]
    for path in ("/api/preview.ts", "/api/preview.jpg", "/api/cameras/{camera_id}/thumbnail.jpg"):
        assert "get" in paths[path], path
    assert "503" in paths["/api/preview.ts"]["get"]["responses"]
