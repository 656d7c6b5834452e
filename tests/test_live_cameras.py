"""LiveCameras (add, replace, remove while live) on a fake ``sources`` supervisor, the
fallback policy following the new backups, and the camera change routes' answers."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import pytest

from vistter.actors.program.fallback import FallbackPolicy
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.api.app import ApiDeps, create_app
from vistter.api.cameras import CameraDeps
from vistter.clock import FakeClock
from vistter.errors import ChildStartError, ConfigError, SupervisionError, UnknownChildError
from vistter.live_cameras import CameraInUseError, CameraParts, LiveCameras, TimelineCameras
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.cameras import CameraConfig
from vistter.supervisors import ChildSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

URL = "lavfi:testsrc"
FMT = FrameFormat(16, 8, 30)


class FakeSources:
    """The ``sources`` supervisor's handle as LiveCameras uses it: children by id."""

    def __init__(self, running: Iterable[str] = ()) -> None:
        self.running = list(running)
        self.calls: list[tuple[str, str]] = []
        self.refuse: str | None = None

    def start_child(self, spec: ChildSpec) -> str:
        self.calls.append(("start", spec.id))
        if spec.id == self.refuse:
            raise ChildStartError(f"{spec.id} did not start", hint="test")
        assert spec.id not in self.running
        self.running.append(spec.id)
        return spec.id

    def terminate_child(self, child_id: str) -> None:
        self.calls.append(("terminate", child_id))

    def delete_child(self, child_id: str) -> None:
        self.calls.append(("delete", child_id))
        self.running.remove(child_id)


class Backups:
    def __init__(self) -> None:
        self.seen: list[dict[int, int | None]] = []

    def set_cameras(self, cameras: Iterable[CameraConfig]) -> None:
        self.seen.append({c.id: c.backup_camera_id for c in cameras})


def _child(camera: CameraConfig) -> ChildSpec:
    return ChildSpec(f"camera-{camera.id}", lambda link: None)  # type: ignore[arg-type,return-value]


class Rig:
    def __init__(self, *cameras: CameraConfig) -> None:
        self.sources = FakeSources(f"camera-{c.id}" for c in cameras)
        self.backups = Backups()
        self.timeline: TimelineCameras | None = None
        self.on_air: str | None = None
        self.cameras = LiveCameras(cameras, CameraParts(
            sources=lambda: self.sources,  # type: ignore[arg-type,return-value]
            child=_child, fallback=self.backups, timeline=lambda: self.timeline,
            on_air=lambda: self.on_air,
        ))


@pytest.fixture
def rig() -> Rig:
    return Rig(CameraConfig(id=1, name="Wide", url=URL, backup_camera_id=2),
               CameraConfig(id=2, name="Close", url=URL))


def test_add_starts_a_child_and_teaches_the_fallback(rig: Rig) -> None:
    assert rig.cameras.add(CameraConfig(id=3, url=URL, backup_camera_id=1)) == "camera-3"
    assert rig.cameras.ids() == [1, 2, 3]
    assert rig.sources.running == ["camera-1", "camera-2", "camera-3"]
    assert rig.backups.seen[-1] == {1: 2, 2: None, 3: 1}
    assert rig.cameras.backups() == {1, 2}


def test_duplicate_id_and_bad_backup_are_refused_before_anything_starts(rig: Rig) -> None:
    with pytest.raises(SupervisionError, match=r"already a camera 2 \('Close'\)"):
        rig.cameras.add(CameraConfig(id=2, url=URL))
    with pytest.raises(ConfigError, match="camera 9, does not exist"):
        rig.cameras.add(CameraConfig(id=3, url=URL, backup_camera_id=9))
    with pytest.raises(ConfigError, match="its own backup"):
        rig.cameras.add(CameraConfig(id=3, url=URL, backup_camera_id=3))
    assert rig.sources.calls == [] and rig.backups.seen == []


def test_replace_restarts_and_keeps_what_it_leaves_out(rig: Rig) -> None:
    rig.cameras.add(CameraConfig(id=3, url=URL, username="op", password="s3cret",
                                 stall_timeout=2))
    edited = CameraConfig.model_validate({"id": 3, "name": "Pier", "url": "rtsp://h/s"})
    assert rig.cameras.replace(edited) == "camera-3"
    assert rig.sources.calls[-3:] == [("terminate", "camera-3"), ("delete", "camera-3"),
                                      ("start", "camera-3")]
    camera = rig.cameras.cameras()[-1]
    assert (camera.name, camera.username, camera.stall_timeout) == ("Pier", "op", 2)
    assert camera.authenticated_url() == "rtsp://op:s3cret@h/s"
    renamed = CameraConfig.model_validate({"id": 3, "url": "rtsp://h/s", "username": "new"})
    rig.cameras.replace(renamed)
    assert rig.cameras.cameras()[-1].password is None  # another user: the password is not his


def test_a_replacement_that_fails_to_start_restores_the_old_camera(rig: Rig) -> None:
    rig.sources.refuse = "camera-2"
    with pytest.raises(ChildStartError):
        rig.cameras.replace(CameraConfig(id=2, name="Broken", url=URL))
    rig.sources.refuse = None
    assert rig.cameras.cameras()[1].name == "Close"
    with pytest.raises(UnknownChildError, match="no camera 5"):
        rig.cameras.replace(CameraConfig(id=5, url=URL))


def test_remove_refuses_while_used_then_stops_the_child(rig: Rig) -> None:
    with pytest.raises(CameraInUseError, match="backup of Wide"):
        rig.cameras.remove(2)
    rig.timeline = TimelineCameras("Daily marina", frozenset({1}))
    with pytest.raises(CameraInUseError, match="loaded timeline 'Daily marina'"):
        rig.cameras.remove(1)
    rig.timeline, rig.on_air = None, "camera:1"
    with pytest.raises(CameraInUseError, match="on air"):
        rig.cameras.remove(1)
    rig.on_air = None
    rig.cameras.remove(1)
    assert rig.sources.running == ["camera-2"]
    assert rig.backups.seen[-1] == {2: None}
    with pytest.raises(UnknownChildError):
        rig.cameras.remove(1)


def test_the_fallback_policy_follows_new_cameras() -> None:
    clock = FakeClock(start=100.0)
    table = SourceTable(FMT, clock)
    fallback = FallbackPolicy.from_cameras(table, [CameraConfig(id=1, url=URL)])
    assert fallback.chain("camera:1") == ()
    fallback.set_cameras([CameraConfig(id=1, url=URL, backup_camera_id=4),
                          CameraConfig(id=4, url=URL)])
    assert fallback.chain("camera:1") == ("camera:4",)
    table.slot("camera:4").publish(solid_frame(FMT, 100, 128, 128))
    table.set_health("camera:4", SourceState.ONLINE)
    table.set_health("camera:1", SourceState.OFFLINE)
    fallback.resolve("camera:1")
    clock.advance(0.6)
    assert fallback.resolve("camera:1").source == "camera:4"


@pytest.fixture
def client(rig: Rig) -> TestClient:
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda _: [], started_at=0.0, version="t",
                   cameras=CameraDeps(cameras=rig.cameras.cameras, health=dict,
                                      on_air=lambda: None, ptz=None, control=rig.cameras))
    return TestClient(create_app(deps))


def _problem(response: Any) -> str:
    return str(response.json()["problem"])


def test_routes_answer_201_409_404_and_never_echo_the_password(client: TestClient) -> None:
    body = {"id": 3, "name": "Pier", "url": "rtsp://h/s", "username": "op", "password": "pw-77"}
    added = client.post("/api/cameras", json=body)
    assert added.status_code == 201
    assert added.json() == {"id": 3, "child": "camera-3", "url": "rtsp://h/s"}
    listing = client.get("/api/cameras")
    assert [c["id"] for c in listing.json()["cameras"]] == [1, 2, 3]
    assert "pw-77" not in listing.text and "pw-77" not in added.text
    again = client.post("/api/cameras", json=body)
    assert again.status_code == 409 and "Pier" in _problem(again) and "pw-77" not in again.text
    assert client.delete("/api/cameras/2").status_code == 409
    assert client.delete("/api/cameras/8").status_code == 404
    put = client.put("/api/cameras/3", json={"id": 3, "url": URL, "backup_camera_id": 1})
    assert put.status_code == 200 and put.json()["url"] == URL
    mismatch = client.put("/api/cameras/3", json={"id": 4, "url": URL})
    assert mismatch.status_code == 400 and "Send id 3" in mismatch.json()["hint"]
    assert client.delete("/api/cameras/3").json() == {"removed": 3}


@pytest.mark.parametrize("body", [{"id": 4}, {"id": 4, "url": "rtsp://a:b@h/s"}, {"url": URL},
                                  {"id": "x", "url": URL}, {"id": 4, "url": URL, "extra": 1}])
def test_bad_bodies_are_4xx_with_the_field(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/cameras", json=body)
    assert 400 <= response.status_code < 500
    assert _problem(response)
    assert "b@h" not in response.text
