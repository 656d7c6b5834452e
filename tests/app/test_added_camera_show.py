"""End to end: a camera added through the API is a first-class camera of the running
appliance (``vistter run`` on the demo configuration, its show loaded, not live).

A timeline that uses the new camera is stored (``POST /api/timelines``, 201) and loaded into
the show; its PTZ goes to a preset on a fake ONVIF camera of 127.0.0.1, with the PTZ password
taken from ``VISTTER_CAMERA_<ID>_PTZ_PASSWORD`` (never in a request or an answer). A camera
removed again is unknown to a new save.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.demo_appliance import DemoAppliance, demo_appliance
from support.fake_onvif import FakeOnvifCamera

LAVFI = "lavfi:testsrc2=size=320x180:rate=30"
PTZ_PASSWORD = "ptz-env-only-3391"


def _no_autostart(config: dict[str, Any]) -> None:
    config["show"]["autostart"] = False


@pytest.fixture(scope="module")
def onvif() -> Iterator[FakeOnvifCamera]:
    with FakeOnvifCamera(password=PTZ_PASSWORD) as camera:
        yield camera


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory,
         onvif: FakeOnvifCamera) -> Iterator[DemoAppliance]:
    """The demo appliance, its timeline loaded but not live; camera 9's PTZ password in its
    environment (the child process inherits it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VISTTER_CAMERA_9_PTZ_PASSWORD", PTZ_PASSWORD)
        with demo_appliance(Path(tmp_path_factory.mktemp("demo")), _no_autostart,
                            ready="idle") as appliance:
            yield appliance


def timeline(camera_id: int, key: str) -> dict[str, Any]:
    return {"timeline": {"id": key, "name": f"Pier on camera {camera_id}", "duration": 30,
                         "tracks": {"video": {"track_id": "v", "cues": [
                             {"id": "wide", "start_time": 0, "duration": 15,
                              "action": "show_camera", "params": {"camera_id": 1}},
                             {"id": "pier", "start_time": 15, "duration": 15,
                              "action": "show_camera",
                              "params": {"camera_id": camera_id, "preset_id": "wide"}}]}}}}


def test_a_timeline_on_an_added_camera_is_stored_and_loaded(
    demo: DemoAppliance, onvif: FakeOnvifCamera,
) -> None:
    unknown = demo.post("/api/timelines", timeline(9, "pier"))
    assert unknown.status_code == 422, unknown.text

    added = demo.post("/api/cameras", {
        "id": 9, "name": "Pier", "url": LAVFI,
        "ptz": {"host": onvif.host, "port": onvif.port, "username": onvif.username,
                "presets": {"wide": "1"}, "settle_time": 0.1},
    })
    assert added.status_code == 201, added.text
    stored = demo.post("/api/timelines", timeline(9, "pier"))
    assert stored.status_code == 201, stored.text
    timeline_id = stored.json()["id"]

    loaded = demo.post("/api/show/load", {"timeline_id": timeline_id})
    assert loaded.status_code == 200, loaded.text
    show = demo.get("/api/show")
    assert show["state"] == "idle", show
    assert "Pier on camera 9" in str(show), show
    in_use = httpx.delete(demo.base_url + "/api/cameras/9", timeout=30)
    assert in_use.status_code == 409 and "loaded timeline" in in_use.json()["problem"]

    moved = demo.post("/api/cameras/9/ptz/wide")
    assert moved.status_code == 200, moved.text
    assert [c.operation for c in onvif.calls if c.username == onvif.username][-1:] \
        == ["GotoPreset"], onvif.calls
    assert onvif.auth_failures == 0
    assert PTZ_PASSWORD not in httpx.get(demo.base_url + "/api/cameras", timeout=10).text


def test_a_removed_camera_is_unknown_to_a_new_save(demo: DemoAppliance) -> None:
    added = demo.post("/api/cameras", {"id": 11, "name": "Jetty", "url": LAVFI})
    assert added.status_code == 201, added.text
    assert demo.post("/api/timelines", timeline(11, "jetty")).status_code == 201
    removed = httpx.delete(demo.base_url + "/api/cameras/11", timeout=30)
    assert removed.status_code == 200, removed.text
    again = demo.post("/api/timelines", timeline(11, "jetty-2"))
    assert again.status_code == 422, again.text
    assert "camera 11" in again.text
