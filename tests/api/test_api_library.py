"""Timeline library and execution routes of the control API, against a real store in tmp_path."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

with warnings.catch_warnings():
    # Starlette >= 1.x prefers httpx2 for its TestClient and warns when it falls back to
    # httpx (what the test extras install). Either client works for these tests.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.api.errors import status_for
from vistter.api.library import LibraryDeps, export_disposition
from vistter.clock import FakeClock
from vistter.models.config import ApplianceConfig, load_config
from vistter.store import (
    AssetStore,
    Database,
    DatabaseError,
    ExecutionLog,
    TimelineLibrary,
    TimelineRunningError,
)

TOKEN = "library-token-for-tests"
MAX_BODY = 64 * 1024
MAX_UPLOAD = 256 * 1024


@dataclass
class Appliance:
    """A control API app over a real store, and the store itself to check what it holds."""

    client: TestClient
    db: Database
    library: TimelineLibrary
    executions: ExecutionLog
    assets: AssetStore
    assets_dir: Path


def appliance_config(assets_dir: Path) -> ApplianceConfig:
    """The demo config (cameras 1 to 3) with its assets folder in the test's tmp_path."""
    config = load_config(env={})
    return config.model_copy(
        update={"paths": config.paths.model_copy(update={"assets_dir": assets_dir})}
    )


def spec_assets(assets_dir: Path) -> None:
    """The image files the spec's example timeline refers to."""
    assets_dir.mkdir(parents=True, exist_ok=True)
    for name in ("logo.png", "transition_slide.png", "technical_difficulties.png"):
        Image.new("RGBA", (64, 32), (10, 120, 200, 255)).save(assets_dir / name, "PNG")


@contextmanager
def open_appliance(
    root: Path, *, token: str | None = None, with_config: bool = True
) -> Iterator[Appliance]:
    assets_dir = root / "assets"
    with Database(root / "vistter.db") as db:
        library, executions = TimelineLibrary(db), ExecutionLog(db)
        assets = AssetStore(db, assets_dir, MAX_UPLOAD)
        deps = ApiDeps(
            tree=lambda: {"id": "root", "state": "running", "children": []},
            validate_timeline=lambda document: [], started_at=0.0, version="t",
            token=token, max_body_bytes=MAX_BODY, clock=FakeClock(),
            library=LibraryDeps(
                timelines=library, executions=executions, assets=assets,
                config=appliance_config(assets_dir) if with_config else None,
                max_upload_bytes=MAX_UPLOAD,
            ),
        )  # fmt: skip
        with TestClient(create_app(deps), raise_server_exceptions=True) as client:
            yield Appliance(client, db, library, executions, assets, assets_dir)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Appliance]:
    spec_assets(tmp_path / "assets")
    with open_appliance(tmp_path) as appliance:
        yield appliance


@pytest.fixture
def spec_text(spec_example_path: Path) -> str:
    return spec_example_path.read_text(encoding="utf-8")


@pytest.fixture
def spec_document(spec_text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(spec_text)
    return document


def small(key: str = "t1", name: str = "Small") -> dict[str, Any]:
    return {
        "timeline": {
            "id": key, "name": name, "duration": 30,
            "tracks": {"video": {"track_id": "v", "cues": [
                {"id": "a", "start_time": 0, "duration": 10, "action": "show_camera",
                 "params": {"camera_id": 1}},
                {"id": "b", "start_time": 10, "duration": 10.5, "action": "show_camera",
                 "params": {"camera_id": 2, "transition": "dissolve", "transition_duration": 0.5}},
            ]}},
        }
    }  # fmt: skip


def strict(document: object) -> str:
    """JSON text that tells 1 from 1.0, so a comparison catches lost types too."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as connection:
        return {
            table: [tuple(row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY id")]
            for table in ("timelines", "timeline_tracks", "timeline_cues")
        }


def assert_error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == kind
    assert body["problem"] and body["hint"]
    return body


def post(app: Appliance, document: object) -> dict[str, Any]:
    response = app.client.post("/api/timelines", json=document)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# -- create, list, get ---------------------------------------------------------------------


def test_create_the_spec_example_then_list_and_get_it(
    app: Appliance, spec_document: dict[str, Any]
) -> None:
    assert app.client.get("/api/timelines").json() == {"timelines": []}
    response = app.client.post("/api/timelines", json=spec_document)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/timelines/{created['id']}"
    assert created["key"] == "timeline_001"
    assert created["name"] == "Daily Marina Stream"
    assert (created["duration"], created["fps"], created["resolution"]) == (3600, 30, "1920x1080")
    assert "document" not in created

    listing = app.client.get("/api/timelines").json()["timelines"]
    assert [(t["id"], t["key"], t["is_running"]) for t in listing] == [
        (created["id"], "timeline_001", False)
    ]
    record = app.client.get(f"/api/timelines/{created['id']}").json()
    assert strict(record["document"]) == strict(spec_document)
    assert record["created_at"] == created["created_at"]


def test_an_invalid_timeline_is_422_with_paths_and_stores_nothing(app: Appliance) -> None:
    post(app, small("keep"))
    before = snapshot(app.db)
    bad = small("bad")
    cues = bad["timeline"]["tracks"]["video"]["cues"]
    cues[0]["params"]["camera_id"] = 99  # not in the config
    cues[1]["start_time"] = 5  # overlaps cue a
    body = assert_error(app.client.post("/api/timelines", json=bad), 422, "TimelineInvalid")
    paths = sorted(problem["path"] for problem in body["problems"])
    assert paths == [
        "timeline.tracks.video.cues[0].params.camera_id",
        "timeline.tracks.video.cues[1].start_time",
    ]
    assert all(problem["message"] and problem["hint"] for problem in body["problems"])
    # a schema error too: a field path and a hint, nothing stored
    schema_bad = small("bad2")
    schema_bad["timeline"]["fps"] = 0
    body = assert_error(app.client.post("/api/timelines", json=schema_bad), 422, "TimelineInvalid")
    assert [problem["path"] for problem in body["problems"]] == ["timeline.fps"]
    assert snapshot(app.db) == before


def test_a_missing_asset_is_a_problem_when_validated_against_the_config(
    app: Appliance, spec_document: dict[str, Any]
) -> None:
    (app.assets_dir / "logo.png").unlink()
    body = assert_error(
        app.client.post("/api/timelines", json=spec_document), 422, "TimelineInvalid"
    )
    assert [p["path"] for p in body["problems"]] == [
        "timeline.tracks.overlays[0].cues[1].params.image_url"
    ]
    assert app.library.list() == []


def test_create_refuses_non_json_bodies_and_a_taken_key(app: Appliance) -> None:
    text = json.dumps(small())
    assert_error(
        app.client.post("/api/timelines", content=text, headers={"content-type": "text/plain"}),
        415, "UnsupportedMediaTypeError",
    )  # fmt: skip
    body = assert_error(
        app.client.post(
            "/api/timelines", content=b'{"timeline": ', headers={"content-type": "application/json"}
        ),
        422, "MalformedJsonError",
    )  # fmt: skip
    assert "line 1" in body["problem"]
    assert app.library.list() == []
    first = post(app, small("same"))
    body = assert_error(
        app.client.post("/api/timelines", json=small("same", "Other")), 409, "TimelineKeyTakenError"
    )
    assert f"timeline {first['id']}" in body["problem"]
    assert [summary.name for summary in app.library.list()] == ["Small"]


def test_unknown_ids_are_404(app: Appliance) -> None:
    for method, path in [
        ("GET", "/api/timelines/41"), ("DELETE", "/api/timelines/41"),
        ("POST", "/api/timelines/41/clone"), ("GET", "/api/timelines/41/export"),
        ("GET", "/api/timelines/41/executions"),
        ("GET", f"/api/timelines/{2**70}"),  # more than SQLite can hold: still just unknown
    ]:  # fmt: skip
        body = assert_error(app.client.request(method, path), 404, "TimelineNotFoundError")
        assert "41" in body["problem"] or str(2**70) in body["problem"]
    assert_error(app.client.put("/api/timelines/41", json=small()), 404, "TimelineNotFoundError")
    # not a number: no such route
    assert_error(app.client.get("/api/timelines/abc"), 404, "NotFoundError")


# -- update, delete, clone -------------------------------------------------------------------


def test_put_replaces_and_an_invalid_put_leaves_the_stored_one(app: Appliance) -> None:
    created = post(app, small("t1", "Before"))
    path = f"/api/timelines/{created['id']}"
    changed = small("t1", "After")
    changed["timeline"]["duration"] = 40
    response = app.client.put(path, json=changed)
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["duration"]) == ("After", 40)
    assert app.client.get(path).json()["document"] == changed

    before = snapshot(app.db)
    broken = copy.deepcopy(changed)
    broken["timeline"]["tracks"]["video"]["cues"][1]["duration"] = 100  # past the end
    body = assert_error(app.client.put(path, json=broken), 422, "TimelineInvalid")
    assert [p["path"] for p in body["problems"]] == ["timeline.tracks.video.cues[1].duration"]
    assert snapshot(app.db) == before
    assert app.client.get(path).json()["document"] == changed


def test_delete_refuses_a_running_timeline(app: Appliance) -> None:
    created = post(app, small())
    path = f"/api/timelines/{created['id']}"
    execution = app.executions.start(created["id"])
    assert app.client.get("/api/timelines").json()["timelines"][0]["is_running"] is True
    body = assert_error(app.client.delete(path), 409, "TimelineRunningError")
    assert "running" in body["problem"]
    assert app.client.get(path).status_code == 200
    app.executions.finish(execution, "stopped")
    response = app.client.delete(path)
    assert (response.status_code, response.json()) == (200, {"deleted": created["id"]})
    assert_error(app.client.get(path), 404, "TimelineNotFoundError")
    # its history is kept
    assert [e["id"] for e in app.client.get("/api/executions").json()["executions"]] == [execution]


def test_clone_with_and_without_a_name(app: Appliance) -> None:
    created = post(app, small("show", "Show"))
    response = app.client.post(f"/api/timelines/{created['id']}/clone")
    assert response.status_code == 201, response.text
    copy_1 = response.json()
    assert (copy_1["key"], copy_1["name"]) == ("show_copy", "Show (copy)")
    assert response.headers["location"] == f"/api/timelines/{copy_1['id']}"

    response = app.client.post(f"/api/timelines/{created['id']}/clone", json={"name": "Evening"})
    assert response.status_code == 201, response.text
    assert (response.json()["key"], response.json()["name"]) == ("show_copy_2", "Evening")

    clone_path = f"/api/timelines/{created['id']}/clone"
    assert_error(app.client.post(clone_path, json={"name": 5}), 400, "BadRequestError")
    assert_error(app.client.post(clone_path, json={"title": "x"}), 400, "BadRequestError")
    assert_error(
        app.client.post(clone_path, content=b"name=x", headers={"content-type": "text/plain"}),
        415, "UnsupportedMediaTypeError",
    )  # fmt: skip
    body = assert_error(app.client.post(clone_path, json={"name": ""}), 422, "TimelineInvalid")
    assert [p["path"] for p in body["problems"]] == ["timeline.name"]
    assert len(app.library.list()) == 3


# -- export and import -----------------------------------------------------------------------


def test_spec_example_round_trips_losslessly_through_import_and_export(
    app: Appliance, spec_text: str, tmp_path: Path
) -> None:
    response = app.client.post(
        "/api/timelines/import", content=spec_text.encode("utf-8"),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    timeline_id = response.json()["id"]
    exported = app.client.get(f"/api/timelines/{timeline_id}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    assert exported.headers["content-disposition"] == (
        'attachment; filename="timeline_001.timeline.json"'
    )
    assert strict(exported.json()) == strict(json.loads(spec_text))

    # the exported file imports elsewhere (raw text, any content type) to the same document
    other_root = tmp_path / "other"
    spec_assets(other_root / "assets")
    with open_appliance(other_root) as other:
        response = other.client.post(
            "/api/timelines/import", content=exported.content,
            headers={"content-type": "text/plain"},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        again = other.client.get(f"/api/timelines/{response.json()['id']}/export")
        assert again.content == exported.content


def test_import_refuses_bad_text_and_forms(app: Appliance) -> None:
    body = assert_error(
        app.client.post("/api/timelines/import", content=b'{"timeline": {,}}'), 422, "TimelineError"
    )
    assert "line 1, column" in body["problem"]
    assert_error(app.client.post("/api/timelines/import", content=b"NaN"), 422, "TimelineError")
    invalid = json.dumps(small("x")).replace('"duration": 30', '"duration": -1')
    body = assert_error(
        app.client.post("/api/timelines/import", content=invalid.encode()), 422, "TimelineInvalid"
    )
    assert [p["path"] for p in body["problems"]] == ["timeline.duration"]
    assert_error(
        app.client.post("/api/timelines/import", files={"file": ("t.json", b"{}")}),
        415, "UnsupportedMediaTypeError",
    )  # fmt: skip
    assert app.library.list() == []


@pytest.mark.parametrize(
    ("key", "header"),
    [
        ("timeline_001", 'attachment; filename="timeline_001.timeline.json"'),
        ('Ma"rina/évening', 'attachment; filename="Ma_rina_vening.timeline.json"; '
         "filename*=UTF-8''Ma%22rina%2F%C3%A9vening.timeline.json"),
        ("...", 'attachment; filename="timeline.timeline.json"; '
                "filename*=UTF-8''....timeline.json"),
    ],
)  # fmt: skip
def test_export_disposition_is_a_safe_header(key: str, header: str) -> None:
    assert export_disposition(key) == header


# -- executions ------------------------------------------------------------------------------


def test_executions_of_a_timeline_and_of_all(app: Appliance) -> None:
    first = post(app, small("one", "One"))["id"]
    second = post(app, small("two", "Two"))["id"]
    run_1 = app.executions.start(first)
    app.executions.finish(run_1, "completed", metrics={"frames": 900})
    run_2 = app.executions.start(second)
    app.executions.finish(run_2, "error", error="encoder died")
    run_3 = app.executions.start(first)

    runs = app.client.get(f"/api/timelines/{first}/executions").json()["executions"]
    assert [(r["id"], r["status"]) for r in runs] == [(run_3, "running"), (run_1, "completed")]
    assert runs[1]["metrics"] == {"frames": 900}
    assert runs[1]["duration_seconds"] is not None and runs[0]["completed_at"] is None
    everything = app.client.get("/api/executions").json()["executions"]
    assert [r["id"] for r in everything] == [run_3, run_2, run_1]
    assert everything[1]["error_message"] == "encoder died"
    assert everything[1]["timeline_name"] == "Two"
    limited = app.client.get("/api/executions", params={"limit": 2}).json()["executions"]
    assert [r["id"] for r in limited] == [run_3, run_2]
    one = app.client.get(f"/api/timelines/{first}/executions?limit=1").json()["executions"]
    assert [r["id"] for r in one] == [run_3]
    for bad in ("0", "abc", "1001", "-1", "2.5"):
        body = assert_error(
            app.client.get("/api/executions", params={"limit": bad}), 400, "BadRequestError"
        )
        assert "limit" in body["problem"]


# -- limits, auth, wiring --------------------------------------------------------------------


def test_the_general_body_limit_still_applies_to_library_routes(app: Appliance) -> None:
    padded = small()
    padded["timeline"]["description"] = "x" * (MAX_BODY + 1)
    for path in ("/api/timelines", "/api/timelines/import", "/api/timelines/validate"):
        body = assert_error(app.client.post(path, json=padded), 413, "PayloadTooLargeError")
        assert f"{MAX_BODY} bytes" in body["problem"]
        assert "max_body_bytes" in body["hint"]
    assert app.library.list() == []


def test_with_a_token_the_library_routes_need_it(tmp_path: Path) -> None:
    with open_appliance(tmp_path, token=TOKEN) as app:
        created = app.library.create(small())
        routes = [
            ("GET", "/api/timelines"), ("POST", "/api/timelines"),
            ("POST", "/api/timelines/import"), ("GET", f"/api/timelines/{created.id}"),
            ("PUT", f"/api/timelines/{created.id}"), ("DELETE", f"/api/timelines/{created.id}"),
            ("POST", f"/api/timelines/{created.id}/clone"),
            ("GET", f"/api/timelines/{created.id}/export"),
            ("GET", f"/api/timelines/{created.id}/executions"), ("GET", "/api/executions"),
            ("GET", "/api/assets"), ("POST", "/api/assets?name=a.png"),
            ("GET", "/api/assets/1"), ("DELETE", "/api/assets/1"),
        ]  # fmt: skip
        for method, path in routes:
            assert_error(app.client.request(method, path), 401, "UnauthorizedError")
            assert_error(
                app.client.request(method, path, headers={"Authorization": "Bearer wrong"}),
                401, "UnauthorizedError",
            )  # fmt: skip
        assert len(app.library.list()) == 1
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert app.client.get("/api/timelines", headers=auth).status_code == 200
        response = app.client.delete(f"/api/timelines/{created.id}", headers=auth)
        assert response.status_code == 200
        assert app.library.list() == []


def test_without_a_config_only_schema_and_timing_are_checked(tmp_path: Path) -> None:
    with open_appliance(tmp_path, with_config=False) as app:
        document = small()
        document["timeline"]["tracks"]["video"]["cues"][0]["params"]["camera_id"] = 99
        assert post(app, document)["key"] == "t1"


def test_without_a_library_the_routes_are_absent(tmp_path: Path) -> None:
    deps = ApiDeps(
        tree=lambda: {"id": "root", "state": "running", "children": []},
        validate_timeline=lambda document: [], started_at=0.0, version="t", clock=FakeClock(),
    )  # fmt: skip
    with TestClient(create_app(deps)) as client:
        body = assert_error(client.get("/api/timelines"), 404, "NotFoundError")
        assert "/api/timelines" not in body["hint"].replace("/api/timelines/validate", "")
        assert_error(client.post("/api/assets?name=a.png", content=b"x"), 404, "NotFoundError")


def test_the_404_hint_lists_the_library_routes(app: Appliance) -> None:
    body = assert_error(app.client.get("/api/nothing"), 404, "NotFoundError")
    for route in ("GET /api/timelines", "POST /api/assets", "GET /api/executions",
                  "GET /api/timelines/{record_id:int}/export"):  # fmt: skip
        assert route in body["hint"]


def test_store_errors_map_to_their_http_status() -> None:
    assert status_for(TimelineRunningError("running.", hint="stop it")) == 409
    assert status_for(DatabaseError("locked.", hint="retry")) == 503
