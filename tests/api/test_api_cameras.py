"""``GET /api/cameras``, ``POST /api/cameras/{id}/ptz/{preset}`` and ``GET /api/platforms``:
what the console's cameras and destinations pages read and send."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.actors.sources.table import SourceHealth, SourceState
from vistter.api.app import ApiDeps, create_app
from vistter.api.cameras import CameraDeps
from vistter.api.show import ShowDeps
from vistter.models.cameras import CameraConfig, PtzConfig
from vistter.models.config import ApplianceConfig
from vistter.ptz.controller import PtzResult


@dataclass
class Mover:
    """Records PTZ moves; ``ok`` says whether the camera obeys."""

    ok: bool = True
    moves: list[tuple[int, str, bool]] | None = None

    def preroll(self, camera_id: int, preset: str, *, on_air: bool) -> PtzResult:
        self.moves = [*(self.moves or []), (camera_id, preset, on_air)]
        return PtzResult(camera_id=camera_id, preset=preset, ok=self.ok, on_air=on_air,
                         message="moved" if self.ok else "the camera does not answer",
                         hint="" if self.ok else "Check its network.", settle_time=0.0)


CAMERAS = (
    CameraConfig(id=1, name="Dock", url="rtsp://10.0.0.5:554/stream", username="admin",
                 password=SecretStr("hunter2-secret"), backup_camera_id=2,
                 ptz=PtzConfig(host="10.0.0.5", presets={"wide": "1", "close": "2"},
                           password=SecretStr("ptz-secret"), settle_time=0)),
    CameraConfig(id=2, url="lavfi:testsrc2=size=320x240:rate=30"),
)


def client(on_air: str | None, mover: Mover) -> TestClient:
    health: Mapping[str, Any] = {
        "camera:1": SourceHealth(SourceState.ONLINE, 0.0, "receiving frames"),
    }
    deps = ApiDeps(
        tree=lambda: {}, validate_timeline=lambda document: [], started_at=0.0, version="t",
        cameras=CameraDeps(cameras=lambda: CAMERAS, health=lambda: health,
                           on_air=lambda: on_air, ptz=mover),
    )
    return TestClient(create_app(deps), base_url="http://127.0.0.1")


def test_cameras_with_state_on_air_presets_and_no_credential() -> None:
    answer = client("camera:2", Mover()).get("/api/cameras")
    assert answer.status_code == 200
    assert "secret" not in answer.text and "admin" not in answer.text
    cameras = answer.json()["cameras"]
    assert [c["id"] for c in cameras] == [1, 2]
    dock, second = cameras
    assert (dock["name"], dock["state"], dock["detail"]) == ("Dock", "online", "receiving frames")
    assert dock["ptz"] == {"presets": ["close", "wide"], "settle_time": 0.0}
    assert dock["on_air"] is False and second["on_air"] is True
    assert second["state"] == "unknown" and second["ptz"] is None
    assert dock["thumbnail"] == "/api/cameras/1/thumbnail.jpg"


def test_go_to_preset_moves_an_off_air_camera() -> None:
    mover = Mover()
    answer = client("camera:2", mover).post("/api/cameras/1/ptz/wide")
    assert answer.status_code == 200, answer.text
    assert answer.json()["preset"] == "wide"
    assert mover.moves == [(1, "wide", False)]


def test_go_to_preset_is_refused_while_the_camera_is_on_air() -> None:
    mover = Mover()
    answer = client("camera:1", mover).post("/api/cameras/1/ptz/wide")
    assert answer.status_code == 409
    assert "on air" in answer.json()["problem"] and answer.json()["hint"]
    assert mover.moves is None


@pytest.mark.parametrize(("path", "status", "words"), [
    ("/api/cameras/9/ptz/wide", 404, "no camera 9"),
    ("/api/cameras/2/ptz/wide", 404, "no PTZ"),
    ("/api/cameras/1/ptz/nowhere", 404, "no preset"),
])
def test_go_to_preset_names_what_is_missing(path: str, status: int, words: str) -> None:
    answer = client(None, Mover()).post(path)
    assert answer.status_code == status
    assert words in answer.json()["problem"] and answer.json()["hint"]


def test_a_camera_that_does_not_move_is_a_502_with_what_to_check() -> None:
    answer = client(None, Mover(ok=False)).post("/api/cameras/1/ptz/close")
    assert answer.status_code == 502
    assert answer.json()["problem"] == "the camera does not answer"
    assert answer.json()["hint"] == "Check its network."


def test_platforms_fill_the_url_and_give_the_bitrate_limits() -> None:
    config = ApplianceConfig.model_validate({"encoding": {"bitrate_kbps": 5000}})
    app = create_app(ApiDeps(tree=lambda: {}, validate_timeline=lambda d: [], started_at=0.0,
                             version="t", show=ShowDeps(orchestrator=lambda: None,
                                                        timelines=None, config=config)))
    answer = TestClient(app, base_url="http://127.0.0.1").get("/api/platforms").json()
    platforms = {p["id"]: p for p in answer["platforms"]}
    assert set(platforms) == {"youtube", "facebook", "twitch", "custom_rtmp", "srt"}
    assert platforms["facebook"]["url"].startswith("rtmps://")
    assert platforms["facebook"]["max_bitrate_kbps"] == 4000
    assert platforms["custom_rtmp"]["url"] is None
    assert platforms["srt"]["secret"] == "passphrase"
    assert answer["program_bitrate_kbps"] == 5000
