"""The library routes a builder and a library page need: ETag / If-Match (412 conflicts),
rename (PATCH), the listing's columns and search, import errors per field."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_api_library import (
    Appliance,
    assert_error,
    open_appliance,
    post,
    small,
    snapshot,
    spec_assets,
)

CONFLICT = {
    "error": "conflict",
    "problem": "This timeline was changed elsewhere (in another tab or by another person) "
    "since you opened it.",
    "hint": "Reload it to see the other changes, or save yours as a copy.",
}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Appliance]:
    spec_assets(tmp_path / "assets")
    with open_appliance(tmp_path) as appliance:
        yield appliance


@pytest.fixture
def spec_document(spec_example_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(spec_example_path.read_text(encoding="utf-8"))
    return document


def looping(document: dict[str, Any]) -> dict[str, Any]:
    document["timeline"]["loop"] = True
    return document


def renamed(document: dict[str, Any], name: str) -> dict[str, Any]:
    document["timeline"]["name"] = name
    return document


# -- ETag and If-Match ------------------------------------------------------------------------


def test_get_answers_an_etag_that_changes_with_every_write(app: Appliance) -> None:
    created = app.client.post("/api/timelines", json=small())
    path = f"/api/timelines/{created.json()['id']}"
    first = app.client.get(path)
    assert first.headers["etag"] == first.json()["etag"] == created.headers["etag"]
    assert first.headers["etag"].startswith('"') and first.headers["etag"].endswith('"')
    assert created.json()["etag"] == first.headers["etag"]
    assert app.client.get(path).headers["etag"] == first.headers["etag"]  # nothing changed
    put = app.client.put(path, json=renamed(small(), "Other"))
    assert put.status_code == 200, put.text
    assert put.headers["etag"] == put.json()["etag"] != first.headers["etag"]
    assert app.client.get(path).headers["etag"] == put.headers["etag"]


def test_a_stale_if_match_is_412_and_stores_nothing(app: Appliance) -> None:
    created = post(app, small())
    path = f"/api/timelines/{created['id']}"
    opened_in_tab_a = app.client.get(path).headers["etag"]
    saved_in_tab_b = app.client.put(path, json=renamed(small(), "Tab B"),
                                    headers={"If-Match": opened_in_tab_a})  # fmt: skip
    assert saved_in_tab_b.status_code == 200, saved_in_tab_b.text
    before = snapshot(app.db)
    for response in (
        app.client.put(path, json=renamed(small(), "Tab A"), headers={"If-Match": opened_in_tab_a}),
        app.client.patch(path, json={"name": "Tab A"}, headers={"If-Match": opened_in_tab_a}),
        app.client.put(path, json=small(), headers={"If-Match": 'W/"whatever"'}),
    ):
        assert response.status_code == 412, response.text
        assert response.json() == CONFLICT
        assert response.headers["etag"] == saved_in_tab_b.headers["etag"]  # what is stored now
    assert snapshot(app.db) == before
    assert app.client.get(path).json()["name"] == "Tab B"
    # the current tag writes; no If-Match writes (API clients, as before)
    current = saved_in_tab_b.headers["etag"]
    again = app.client.put(path, json=renamed(small(), "Tab B2"), headers={"If-Match": current})
    assert again.status_code == 200, again.text
    assert app.client.put(path, json=renamed(small(), "Script")).json()["name"] == "Script"


def test_an_invalid_put_with_a_stale_if_match_is_still_422(app: Appliance) -> None:
    """The document's problems come first: they are what the editor must fix anyway."""
    created = post(app, small())
    path = f"/api/timelines/{created['id']}"
    bad = small()
    bad["timeline"]["fps"] = 0
    assert_error(app.client.put(path, json=bad, headers={"If-Match": '"0-0"'}), 422,
                 "TimelineInvalid")  # fmt: skip


def test_two_puts_with_the_same_if_match_exactly_one_wins(app: Appliance) -> None:
    created = post(app, small())
    path = f"/api/timelines/{created['id']}"
    etag = app.client.get(path).headers["etag"]
    start = threading.Barrier(2, timeout=30)
    statuses: dict[str, int] = {}

    def save(name: str) -> None:
        start.wait()
        response = app.client.put(path, json=renamed(small(), name), headers={"If-Match": etag})
        statuses[name] = response.status_code

    threads = [threading.Thread(target=save, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [200, 412], statuses
    winner = next(name for name, status in statuses.items() if status == 200)
    assert app.client.get(path).json()["name"] == winner


# -- rename -----------------------------------------------------------------------------------


def test_patch_renames_in_the_record_and_the_document(app: Appliance) -> None:
    created = post(app, small())
    path = f"/api/timelines/{created['id']}"
    etag = app.client.get(path).headers["etag"]
    response = app.client.patch(path, json={"name": "  Marina, évening "},
                                headers={"If-Match": etag})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Marina, évening"
    assert response.headers["etag"] == response.json()["etag"] != etag
    record = app.client.get(path).json()
    assert record["document"]["timeline"]["name"] == "Marina, évening"
    assert record["document"]["timeline"]["tracks"] == small()["timeline"]["tracks"]
    exported = app.client.get(f"{path}/export").json()
    assert exported["timeline"]["name"] == "Marina, évening"


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"name": ""}, "name", "at least 1 character"),
        ({"name": "   "}, "name", "at least 1 character"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": 5}, "name", "string"),
        ({}, "name", "required"),
        ({"name": "ok", "title": "x"}, "title", "not a known field"),
        (["name"], "", "object"),
    ],
)
def test_a_bad_rename_is_422_naming_the_field(
    app: Appliance, body: object, path: str, words: str
) -> None:
    created = post(app, small())
    before = snapshot(app.db)
    answer = assert_error(app.client.patch(f"/api/timelines/{created['id']}", json=body), 422,
                          "TimelineInvalid")  # fmt: skip
    assert [p["path"] for p in answer["problems"]] == [path], answer
    assert words in answer["problems"][0]["message"].lower(), answer
    assert answer["problems"][0]["hint"]
    assert snapshot(app.db) == before


def test_rename_of_an_unknown_timeline_is_404(app: Appliance) -> None:
    assert_error(app.client.patch("/api/timelines/41", json={"name": "x"}), 404,
                 "TimelineNotFoundError")  # fmt: skip
    assert_error(app.client.patch(f"/api/timelines/{2**70}", json={"name": "x"}), 404,
                 "TimelineNotFoundError")  # fmt: skip


# -- the listing ------------------------------------------------------------------------------


def test_the_listing_has_the_columns_of_a_library_page(
    app: Appliance, spec_document: dict[str, Any]
) -> None:
    marina = post(app, looping(spec_document))
    plain = post(app, small("plain", "Plain"))
    run = app.executions.start(marina["id"])
    app.executions.finish(run, "error", error="encoder died")
    live = app.executions.start(plain["id"])
    listing = {t["key"]: t for t in app.client.get("/api/timelines").json()["timelines"]}

    spec = listing["timeline_001"]
    assert (spec["name"], spec["duration_s"], spec["fps"], spec["resolution"]) == (
        "Daily Marina Stream", 3600, 30, "1920x1080")
    assert (spec["tracks"], spec["cues"], spec["loop"], spec["on_air"]) == (3, 6, True, False)
    assert spec["etag"] == app.client.get(f"/api/timelines/{marina['id']}").headers["etag"]
    assert spec["updated_at"] == spec["modified_at"]
    assert spec["last_run"]["result"] == "error"
    assert spec["last_run"]["error"] == "encoder died"
    assert spec["last_run"]["ended_at"] is not None
    small_one = listing["plain"]
    assert (small_one["tracks"], small_one["cues"], small_one["loop"]) == (1, 2, False)
    assert small_one["on_air"] is True and small_one["is_running"] is True
    assert small_one["last_run"]["result"] == "running"
    assert small_one["last_run"]["ended_at"] is None
    body = assert_error(app.client.delete(f"/api/timelines/{plain['id']}"), 409,
                        "TimelineRunningError")  # fmt: skip
    assert "on air" in body["problem"] and "Plain" in body["problem"]
    app.executions.finish(live, "stopped")
    after = {t["key"]: t for t in app.client.get("/api/timelines").json()["timelines"]}
    assert after["plain"]["on_air"] is False
    assert after["plain"]["last_run"]["result"] == "stopped"


def test_the_listing_searches_names_with_q(app: Appliance) -> None:
    for key, name in (("a", "Marina morning"), ("b", "Harbour"), ("c", "MARINA night")):
        post(app, small(key, name))
    found = app.client.get("/api/timelines", params={"q": "marina"}).json()["timelines"]
    assert [t["name"] for t in found] == ["Marina morning", "MARINA night"]
    assert app.client.get("/api/timelines", params={"q": "zzz"}).json() == {"timelines": []}
    assert len(app.client.get("/api/timelines", params={"q": ""}).json()["timelines"]) == 3


# -- import errors per field ------------------------------------------------------------------


def test_import_errors_say_line_and_column_or_the_field(app: Appliance) -> None:
    broken = b'{\n  "timeline": {\n    "id": "x",\n    "name": "A"\n    "duration": 30\n  }\n}'
    body = assert_error(app.client.post("/api/timelines/import", content=broken), 422,
                        "TimelineError")  # fmt: skip
    assert "line 5, column 5" in body["problem"], body
    schema_bad = small()
    schema_bad["timeline"]["tracks"]["video"]["cues"][1]["params"]["camera_id"] = "two"
    schema_bad["timeline"]["resolution"] = "huge"
    import_text = json.dumps(schema_bad).encode()
    body = assert_error(app.client.post("/api/timelines/import", content=import_text), 422,
                        "TimelineInvalid")  # fmt: skip
    problems = {p["path"]: p for p in body["problems"]}
    assert set(problems) == {"timeline.resolution",
                             "timeline.tracks.video.cues[1].params.camera_id"}
    located = problems["timeline.tracks.video.cues[1].params.camera_id"]
    assert (located["cue_id"], located["track_index"], located["track_id"]) == ("b", 0, "v")
    assert problems["timeline.resolution"]["cue_id"] is None
    assert app.library.list() == []


def test_with_a_token_rename_and_thumbnails_need_it(tmp_path: Path) -> None:
    with open_appliance(tmp_path, token="pages-token-for-tests") as app:
        created = app.library.create(small())
        for method, path in (("PATCH", f"/api/timelines/{created.id}"),
                             ("GET", "/api/assets/1/thumbnail.jpg")):  # fmt: skip
            assert_error(app.client.request(method, path, json={"name": "x"}), 401,
                         "UnauthorizedError")  # fmt: skip
        assert app.library.get(created.id).name == "Small"
        auth = {"Authorization": "Bearer pages-token-for-tests"}
        response = app.client.patch(f"/api/timelines/{created.id}", json={"name": "x"},
                                    headers=auth)  # fmt: skip
        assert response.status_code == 200, response.text
