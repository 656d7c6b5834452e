"""GO LIVE and live controls over HTTP, on a running appliance with simulated cameras."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SPEC_EXAMPLE
from support.mediapath import (
    media_config,
    output_states,
    receive,
    recordings,
    running_appliance,
    wait_for,
)

from vistter.appliance import Appliance

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def lavfi_camera(camera_id: int, graph: str) -> dict[str, Any]:
    return {"id": camera_id, "name": f"Cam {camera_id}",
            "url": f"lavfi:{graph}=size=320x240:rate=30"}


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    config = media_config(tmp_path, [
        lavfi_camera(1, "testsrc2"), lavfi_camera(2, "smptebars"), lavfi_camera(3, "rgbtestsrc"),
    ], [{"id": "rec", "platform": "recorder", "path": str(tmp_path / "rec"),
         "segment_seconds": 600}])
    with running_appliance(config) as running:
        yield running
    # the program never stopped: overrides, pause, jump and live text caused no gap
    recorded = receive(recordings(tmp_path / "rec")[0])
    recorded.assert_every_frame("the recording across every show control")
    assert recorded.span >= 3.0


class Api:
    def __init__(self, appliance: Appliance) -> None:
        port = appliance.root.handle.child("api").proxy().bound_port().get(timeout=10)
        self.base = f"http://127.0.0.1:{port}"

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.base + path, json=body, timeout=30)

    def get(self, path: str) -> Any:
        return httpx.get(self.base + path, timeout=30).json()

    def on_air(self) -> str:
        return str(self.get("/api/status")["on_air"]["source"])


def test_go_live_controls_and_overrides(appliance: Appliance) -> None:
    api = Api(appliance)
    wait_for(lambda: output_states(appliance)["rec"] == "live", 30, "the recorder live")
    created = api.post("/api/timelines", json.loads(SPEC_EXAMPLE.read_text()))
    assert created.status_code == 201, created.text
    timeline_id = created.json()["id"]

    assert api.post("/api/show/pause").status_code == 409  # nothing is live yet
    loaded = api.post("/api/show/load", {"timeline_id": timeline_id})
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["state"] == "idle"
    refused = api.post("/api/show/pause")
    assert refused.status_code == 409
    assert refused.json()["hint"]

    assert api.post("/api/show/go-live").status_code == 200
    wait_for(lambda: api.on_air() == "camera:1", 10, "camera 1 on air")

    assert api.post("/api/show/overrides/slate").status_code == 200
    wait_for(lambda: api.on_air() == "slate", 5, "the emergency slate")
    assert api.post("/api/show/overrides/release-slate").status_code == 200
    wait_for(lambda: api.on_air() == "camera:1", 5, "camera 1 back after the slate")

    assert api.post("/api/show/overrides/force-camera", {"camera_id": 2}).status_code == 200
    wait_for(lambda: api.on_air() == "camera:2", 5, "camera 2 forced")
    assert api.post("/api/show/overrides/force-camera", {"camera_id": 9}).status_code in (400, 409)
    assert api.post("/api/show/overrides/release-camera").status_code == 200
    wait_for(lambda: api.on_air() == "camera:1", 5, "camera 1 after release")

    paused = api.post("/api/show/pause").json()
    assert paused["state"] == "paused"
    position = paused["position"]
    time.sleep(1)
    assert api.get("/api/show")["position"] == position, "a paused show holds its position"
    assert api.post("/api/show/resume").json()["state"] == "live"

    assert api.post("/api/show/jump", {"cue_id": "cue_v3"}).status_code == 200
    wait_for(lambda: api.on_air() == "camera:2", 10, "the jump to cue_v3 (camera 2)")
    assert api.post("/api/show/jump", {}).status_code == 400

    text = api.post("/api/show/text", {"cue_id": "cue_o3", "text": "Tide: High 4:10 PM"})
    assert text.status_code == 200, text.text
    assert api.post("/api/show/overrides/nope").status_code == 400

    assert api.post("/api/show/stop").json()["state"] == "stopped"
    runs = api.get(f"/api/timelines/{timeline_id}/executions")
    assert runs["executions"][0]["status"] in ("stopped", "completed")
