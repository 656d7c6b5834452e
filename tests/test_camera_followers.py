"""A camera added while live is a first-class camera: timelines may use it (library saves,
validate, the show's load, render previews read the appliance's cameras now), the show's PTZ
controllers follow the changes (an old ONVIF client closed by its own close), and its
password may come from ``VISTTER_CAMERA_<ID>_PASSWORD`` as for a configured camera."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vistter.api.app import ApiDeps, create_app
from vistter.api.cameras import CameraDeps
from vistter.api.library import LibraryDeps
from vistter.api.show import ShowDeps
from vistter.clock import FakeClock
from vistter.live_cameras import CameraParts, LiveCameras, with_env_secrets
from vistter.models.cameras import CameraConfig, PtzConfig
from vistter.models.config import ApplianceConfig, parse_config
from vistter.models.validation import TimelineInvalid, validate_timeline
from vistter.ptz import PtzTimeouts
from vistter.render.previews import PreviewRangeError, PreviewRenders
from vistter.show import PtzControllers
from vistter.store import AssetStore, Database, ExecutionLog, TimelineLibrary
from vistter.supervisors import ChildSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

URL = "lavfi:testsrc"
SECRET = "pw-from-env-5521"
PTZ_SECRET = "ptz-from-env-8810"


class FakeSources:
    """The ``sources`` supervisor's handle as LiveCameras uses it; keeps each child's camera."""

    def __init__(self, running: Iterable[str]) -> None:
        self.running = list(running)

    def start_child(self, spec: ChildSpec) -> str:
        self.running.append(spec.id)
        return spec.id

    def terminate_child(self, child_id: str) -> None:
        pass

    def delete_child(self, child_id: str) -> None:
        self.running.remove(child_id)


class NoFallback:
    def set_cameras(self, cameras: Iterable[CameraConfig]) -> None:
        pass


class Held:
    """The appliance's part of the wiring: its configuration kept current by a follower."""

    def __init__(self, config: ApplianceConfig) -> None:
        self.config = config

    def follow(self, cameras: tuple[CameraConfig, ...]) -> None:
        self.config = self.config.model_copy(update={"cameras": list(cameras)})


def _config(tmp_path: Path) -> ApplianceConfig:
    assets = tmp_path / "assets"
    assets.mkdir(exist_ok=True)
    Image.new("RGB", (32, 18), (40, 40, 40)).save(assets / "technical_difficulties.png")
    return parse_config({
        "encoding": {"width": 320, "height": 180, "fps": 30, "bitrate_kbps": 500},
        "paths": {"assets_dir": str(assets), "data_dir": str(tmp_path / "var")},
        "cameras": [{"id": 1, "url": URL}],
    }, base_dir=tmp_path, env={})


def _live(held: Held, built: list[CameraConfig], env: dict[str, str] | None = None,
          *followers: Any) -> LiveCameras:
    def child(camera: CameraConfig) -> ChildSpec:
        built.append(camera)
        return ChildSpec(f"camera-{camera.id}", lambda link: None)  # type: ignore[arg-type,return-value]

    sources = FakeSources(f"camera-{c.id}" for c in held.config.cameras)
    return LiveCameras(held.config.cameras, CameraParts(
        sources=lambda: sources,  # type: ignore[arg-type,return-value]
        child=child, fallback=NoFallback(), timeline=lambda: None, on_air=lambda: None,
        followers=(held.follow, *followers),
    ), env=env or {})


def timeline(camera_id: int, key: str = "t") -> dict[str, Any]:
    return {"timeline": {"id": key, "name": f"On camera {camera_id}", "duration": 20,
                         "tracks": {"video": {"track_id": "v", "cues": [
                             {"id": "a", "start_time": 0, "duration": 20,
                              "action": "show_camera", "params": {"camera_id": camera_id}}]}}}}


class Orchestrator:
    """The show's orchestrator proxy as the show routes call it: records each load."""

    def __init__(self) -> None:
        self.loaded: list[tuple[str, int | None]] = []

    def load(self, document: Any, timeline_id: int | None, loop: bool | None) -> Any:
        self.loaded.append((document.timeline.id, timeline_id))
        return _Done({"state": "idle", "timeline": document.timeline.name})


class _Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self, timeout: float | None = None) -> Any:
        return self.value


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[TestClient, Held, Orchestrator]]:
    held = Held(_config(tmp_path))
    cameras = _live(held, [])
    orchestrator = Orchestrator()
    with Database(tmp_path / "vistter.db") as db:
        library = TimelineLibrary(db)
        deps = ApiDeps(
            tree=lambda: {}, started_at=0.0, version="t", clock=FakeClock(),
            validate_timeline=lambda document: validate_timeline(document, held.config),
            cameras=CameraDeps(cameras=cameras.cameras, health=dict, on_air=lambda: None,
                               ptz=None, control=cameras),
            show=ShowDeps(orchestrator=lambda: orchestrator, timelines=library,
                          config=lambda: held.config),
            library=LibraryDeps(timelines=library, executions=ExecutionLog(db),
                                assets=AssetStore(db, tmp_path / "assets", 1 << 20),
                                config=lambda: held.config, max_upload_bytes=1 << 20),
        )
        with TestClient(create_app(deps)) as client:
            yield client, held, orchestrator


def _camera_problems(response: Any) -> list[str]:
    return [p["message"] for p in response.json()["problems"] if "camera_id" in p["path"]]


def test_a_timeline_may_use_a_camera_added_through_the_api(
    wired: tuple[TestClient, Held, Orchestrator],
) -> None:
    client, held, orchestrator = wired
    refused = client.post("/api/timelines", json=timeline(9))
    assert refused.status_code == 422
    assert _camera_problems(refused), refused.text
    assert client.post("/api/timelines/validate", json=timeline(9)).json()["valid"] is False

    assert client.post("/api/cameras", json={"id": 9, "name": "Pier", "url": URL}).status_code \
        == 201
    assert [c.id for c in held.config.cameras] == [1, 9]
    assert client.post("/api/timelines/validate", json=timeline(9)).json()["valid"] is True
    stored = client.post("/api/timelines", json=timeline(9))
    assert stored.status_code == 201, stored.text
    stored_id = stored.json()["id"]
    imported = client.post("/api/timelines/import", content=json.dumps(timeline(9, "imp")),
                           headers={"Content-Type": "application/json"})
    assert imported.status_code == 201, imported.text

    loaded = client.post("/api/show/load", json={"timeline_id": stored_id})
    assert loaded.status_code == 200, loaded.text
    assert orchestrator.loaded == [("t", stored_id)]


def test_a_removed_camera_is_unknown_to_a_new_save_and_to_the_show(
    wired: tuple[TestClient, Held, Orchestrator],
) -> None:
    client, held, orchestrator = wired
    client.post("/api/cameras", json={"id": 9, "url": URL})
    stored = client.post("/api/timelines", json=timeline(9))
    assert stored.status_code == 201, stored.text
    assert client.delete("/api/cameras/9").status_code == 200
    assert [c.id for c in held.config.cameras] == [1]

    again = client.post("/api/timelines", json=timeline(9, "again"))
    assert again.status_code == 422
    assert any("9" in message for message in _camera_problems(again)), again.text
    record = client.get(f"/api/timelines/{stored.json()['id']}")
    assert record.status_code == 200, "a stored timeline still loads as stored"
    assert record.json()["document"]["timeline"]["tracks"]["video"]["cues"][0]["params"] == {
        "camera_id": 9}
    refused = client.post("/api/show/load", json={"timeline_id": stored.json()["id"]})
    assert refused.status_code == 422, refused.text
    assert "camera 9 is not configured" in refused.json()["problem"], refused.text
    assert orchestrator.loaded == []


def test_render_previews_check_the_cameras_now(tmp_path: Path) -> None:
    held = Held(_config(tmp_path))
    renders = PreviewRenders(lambda: held.config, tmp_path / "previews")
    try:
        with pytest.raises(TimelineInvalid, match="camera"):
            renders.submit(timeline(9), 0, 5)
        held.follow((*held.config.cameras, CameraConfig(id=9, url=URL)))
        # valid now: what is refused is only the range (past the end: no render starts)
        with pytest.raises(PreviewRangeError):
            renders.submit(timeline(9), 30, 5)
    finally:
        renders.close()


# -- PTZ -------------------------------------------------------------------------------


class FakePtzClient:
    def __init__(self, ptz: PtzConfig) -> None:
        self.ptz = ptz
        self.moves: list[str] = []
        self.closed = False

    def connect(self) -> None:
        pass

    def get_presets(self) -> dict[str, str]:
        return {}

    def goto_preset(self, preset_token: str) -> None:
        self.moves.append(preset_token)

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _ptz_camera(camera_id: int, host: str = "10.0.0.5", **extra: Any) -> CameraConfig:
    return CameraConfig.model_validate({
        "id": camera_id, "url": URL, **extra,
        "ptz": {"host": host, "presets": {"wide": "1"}, "settle_time": 0},
    })


def test_ptz_controllers_follow_added_edited_and_removed_cameras() -> None:
    clients: list[FakePtzClient] = []

    def factory(ptz: PtzConfig, timeouts: PtzTimeouts) -> FakePtzClient:
        clients.append(FakePtzClient(ptz))
        return clients[-1]

    ptz = PtzControllers.from_cameras([_ptz_camera(1)], clock=FakeClock(),
                                      client_factory=factory)
    assert not ptz.preroll(4, "wide", on_air=False).ok
    ptz.set_cameras([_ptz_camera(1), _ptz_camera(4)])
    assert ptz.cameras() == [1, 4]
    assert ptz.preroll(1, "wide", on_air=False).ok
    assert ptz.preroll(4, "wide", on_air=False).ok
    first, fourth = clients
    assert (first.ptz.host, fourth.moves) == ("10.0.0.5", ["1"])

    ptz.set_cameras([_ptz_camera(1), _ptz_camera(4, host="10.0.0.9")])  # 4 edited, 1 unchanged
    assert fourth.closed and not first.closed
    assert ptz.preroll(4, "wide", on_air=False).ok
    assert clients[-1].ptz.host == "10.0.0.9"
    assert ptz.settle_time(4) == 0.0

    ptz.set_cameras([_ptz_camera(4, host="10.0.0.9")])  # 1 removed
    assert first.closed and not clients[-1].closed
    assert ptz.settle_time(1) is None
    assert "has no PTZ" in ptz.preroll(1, "wide", on_air=False).message
    ptz.close()
    assert clients[-1].closed


def test_a_live_camera_change_reaches_the_ptz_controllers(tmp_path: Path) -> None:
    clients: list[FakePtzClient] = []

    def factory(ptz: PtzConfig, timeouts: PtzTimeouts) -> FakePtzClient:
        clients.append(FakePtzClient(ptz))
        return clients[-1]

    held = Held(_config(tmp_path))
    ptz = PtzControllers.from_cameras(held.config.cameras, clock=FakeClock(),
                                      client_factory=factory)
    cameras = _live(held, [], None, ptz.set_cameras)
    cameras.add(_ptz_camera(5))
    assert ptz.preroll(5, "wide", on_air=False).ok
    cameras.replace(_ptz_camera(5, host="10.0.0.7"))
    assert clients[0].closed
    cameras.remove(5)
    assert ptz.cameras() == [1]
    ptz.close()


# -- VISTTER_CAMERA_<ID>_PASSWORD ------------------------------------------------------


def test_the_password_variable_applies_to_an_added_and_an_edited_camera(tmp_path: Path) -> None:
    held = Held(_config(tmp_path))
    built: list[CameraConfig] = []
    env = {"VISTTER_CAMERA_9_PASSWORD": SECRET, "VISTTER_CAMERA_9_PTZ_PASSWORD": PTZ_SECRET,
           "VISTTER_CAMERA_10_PASSWORD": ""}
    cameras = _live(held, built, env)
    cameras.add(_ptz_camera(9, username="op", password="from-the-body"))
    camera = cameras.cameras()[-1]
    assert camera.password is not None and camera.password.get_secret_value() == SECRET
    assert camera.ptz is not None and camera.ptz.password is not None
    assert camera.ptz.password.get_secret_value() == PTZ_SECRET
    assert built[-1].authenticated_url() == URL  # lavfi: no credentials in its input
    assert held.config.cameras[-1].password == camera.password  # timelines see the same

    cameras.replace(CameraConfig.model_validate({"id": 9, "url": "rtsp://h/s",
                                                 "username": "other"}))
    assert built[-1].authenticated_url() == f"rtsp://other:{SECRET}@h/s"
    cameras.add(CameraConfig(id=10, url="rtsp://h/t", username="op", password="body"))
    assert built[-1].authenticated_url() == "rtsp://op:body@h/t", "an empty variable is unset"


def test_the_variable_wins_as_in_the_loader_and_leaves_other_cameras_alone() -> None:
    env = {"VISTTER_CAMERA_3_PASSWORD": SECRET}
    other = CameraConfig(id=4, url=URL, password="mine")
    assert with_env_secrets(other, env) is other
    loaded = parse_config({"cameras": [{"id": 3, "url": URL, "password": "x"}]}, env=env)
    added = with_env_secrets(CameraConfig(id=3, url=URL, password="x"), env)
    assert added.password == loaded.cameras[0].password
    no_ptz = with_env_secrets(CameraConfig(id=3, url=URL),
                              {"VISTTER_CAMERA_3_PTZ_PASSWORD": PTZ_SECRET})
    assert no_ptz.ptz is None


def test_the_password_from_the_environment_is_never_echoed(tmp_path: Path) -> None:
    held = Held(_config(tmp_path))
    cameras = _live(held, [], {"VISTTER_CAMERA_9_PASSWORD": SECRET})
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda _: [], started_at=0.0, version="t",
                   cameras=CameraDeps(cameras=cameras.cameras, health=dict,
                                      on_air=lambda: None, ptz=None, control=cameras))
    with TestClient(create_app(deps)) as client:
        added = client.post("/api/cameras",
                            json={"id": 9, "url": "rtsp://h/s", "username": "op"})
        assert added.status_code == 201, added.text
        edited = client.put("/api/cameras/9", json={"id": 9, "url": "rtsp://h/s2"})
        assert edited.status_code == 200, edited.text
        listing = client.get("/api/cameras")
        for response in (added, edited, listing):
            assert SECRET not in response.text
    assert cameras.cameras()[-1].authenticated_url() == f"rtsp://op:{SECRET}@h/s2"
