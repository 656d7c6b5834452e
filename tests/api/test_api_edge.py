"""No 500 for any input: the causes the hostile-client run found, each refused with a 4xx.

Integer literals of hundreds of digits, runaway nesting, lone UTF-16 surrogates, wrong types
and absurd numbers in the show controls, ids beyond SQLite's integer range, and media types
that only look like JSON. The app runs over a real library in ``tmp_path``, the real timeline
validator and a recording stand-in for the orchestrator, so each test can also show that a
refused request reached no actor and stored nothing.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_api_library import appliance_config, spec_assets

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.api.library import LibraryDeps
from vistter.api.show import ShowDeps
from vistter.clock import FakeClock
from vistter.models.validation import validate_timeline
from vistter.store import AssetStore, Database, ExecutionLog, TimelineLibrary

HUGE = "9" * 400
SURROGATE = "\\ud800"  # as JSON text: a lone high surrogate escape


class _Done:
    def __init__(self, value: dict[str, Any]) -> None:
        self._value = value

    def get(self, timeout: float | None = None) -> dict[str, Any]:
        return self._value


class RecordingOrchestrator:
    """Stands in for the orchestrator's proxy: records every call, answers a live status."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> _Done:
            self.calls.append((method, args, kwargs))
            return _Done({"state": "live"})

        return call


class Edge:
    def __init__(self, client: TestClient, orchestrator: RecordingOrchestrator,
                 library: TimelineLibrary) -> None:
        self.client = client
        self.orchestrator = orchestrator
        self.library = library

    def post(self, path: str, text: str, content_type: str = "application/json") -> Any:
        return self.client.post(path, content=text.encode("utf-8"),
                                headers={"content-type": content_type})


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Edge]:
    assets_dir = tmp_path / "assets"
    spec_assets(assets_dir)
    config = appliance_config(assets_dir)
    orchestrator = RecordingOrchestrator()
    with Database(tmp_path / "vistter.db") as db:
        library = TimelineLibrary(db)
        deps = ApiDeps(
            tree=lambda: {"id": "root", "state": "running", "children": []},
            validate_timeline=functools.partial(validate_timeline, config=config),
            started_at=0.0, version="t", clock=FakeClock(),
            show=ShowDeps(orchestrator=lambda: orchestrator, timelines=library, config=config),
            library=LibraryDeps(timelines=library, executions=ExecutionLog(db),
                                assets=AssetStore(db, assets_dir, 1 << 20), config=config,
                                max_upload_bytes=1 << 20),
        )
        with TestClient(create_app(deps), raise_server_exceptions=True) as client:
            yield Edge(client, orchestrator, library)


def assert_refused(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    if kind is not None:
        assert body.get("error") == kind, body
    return body


def spec_text(spec_example_path: Path, old: str, new: str) -> str:
    text = spec_example_path.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


# -- numbers of hundreds of digits -----------------------------------------------------------


@pytest.mark.parametrize("field", ['"duration": 3600', '"start_time": 0', '"duration": 60',
                                   '"opacity": 0.8', '"fade_in": 0.5'])
def test_an_integer_of_400_digits_is_a_problem_with_its_path(
    edge: Edge, spec_example_path: Path, field: str
) -> None:
    name = field.split(":", maxsplit=1)[0]
    text = spec_text(spec_example_path, field, f"{name}: {HUGE}")
    validated = assert_refused(edge.post("/api/timelines/validate", text), 422)
    problem = validated["problems"][0]
    assert problem["path"].endswith(name.strip('"'))
    assert "2**53" in problem["message"]
    for path in ("/api/timelines", "/api/timelines/import"):
        body = assert_refused(edge.post(path, text), 422, "TimelineInvalid")
        assert body["problems"][0]["path"] == problem["path"]
    stored = edge.library.create(json.loads(spec_example_path.read_text(encoding="utf-8")))
    replaced = edge.client.put(f"/api/timelines/{stored.id}", content=text.encode(),
                               headers={"content-type": "application/json"})
    assert_refused(replaced, 422, "TimelineInvalid")
    assert edge.library.get(stored.id).document == stored.document


# -- nesting and surrogates ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/timelines/import", "/api/timelines/validate",
                                  "/api/timelines", "/api/show/jump"])
def test_runaway_nesting_is_malformed_json(edge: Edge, path: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = assert_refused(edge.post(path, deep), 422, "MalformedJsonError")
    assert "nested too deeply" in body["problem"]
    assert edge.library.list() == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/api/timelines/validate", '{"timeline": {"id": "a%s"}}'),
        ("/api/timelines", '{"timeline": {"id": "a", "name": "x%s"}}'),
        ("/api/timelines/import", '{"timeline": {"id": "a", "description": "%s"}}'),
        ("/api/timelines/import", '{"timeline": {"%s": 1}}'),
        ("/api/show/text", '{"cue_id": "cue_o3", "text": "%s"}'),
        ("/api/show/jump", '{"cue_id": "%s"}'),
        ("/api/supervision/restart", '{"path": "%s"}'),
    ],
)
def test_a_lone_surrogate_is_refused_at_the_edge(edge: Edge, path: str, text: str) -> None:
    body = assert_refused(edge.post(path, text % SURROGATE), 422, "MalformedJsonError")
    assert "surrogate" in body["problem"]
    assert edge.orchestrator.calls == []
    assert edge.library.list() == []


def test_a_surrogate_pair_is_a_character_and_passes(edge: Edge) -> None:
    response = edge.post("/api/show/text", '{"cue_id": "cue_o3", "text": "\\ud83c\\udf0a"}')
    assert response.status_code == 200, response.text
    assert edge.orchestrator.calls == [("update_text", ("cue_o3", "\N{WATER WAVE}"), {})]


# -- the show controls -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"cue_id": ["x"]}', '{"cue_id": {"a": 1}}', '{"cue_id": 5}', '{"cue_id": ""}',
        '{"seconds": 1e308}', '{"seconds": -1}', f'{{"seconds": {HUGE}}}', '{"seconds": "12"}',
        '{"seconds": true}', '{"seconds": null}', '{"cue_id": "v1", "seconds": 2}', "{}", "[]",
        '"x"', "null", '{"cue_id": "v1", "extra": 1}',
    ],
)
def test_a_bad_jump_is_refused_before_the_orchestrator(edge: Edge, body: str) -> None:
    refused = assert_refused(edge.post("/api/show/jump", body), 400, "BadRequestError")
    assert refused["hint"] == 'Send {"cue_id": "cue_v3"} or {"seconds": 65}.'
    assert edge.orchestrator.calls == []


def test_good_jumps_reach_the_orchestrator(edge: Edge) -> None:
    assert edge.post("/api/show/jump", '{"cue_id": "cue_v3"}').status_code == 200
    assert edge.post("/api/show/jump", '{"seconds": 65.5}').status_code == 200
    assert edge.orchestrator.calls == [
        ("jump", (), {"cue_id": "cue_v3"}), ("jump", (), {"seconds": 65.5}),
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/show/text", '{"cue_id": "cue_o3", "text": ["x"]}'),
        ("/api/show/text", '{"cue_id": {"a": 1}, "text": "x"}'),
        ("/api/show/text", '{"cue_id": "cue_o3"}'),
        ("/api/show/text", f'{{"cue_id": "cue_o3", "text": {HUGE}}}'),
        ("/api/show/overrides/force-camera", f'{{"camera_id": {HUGE}}}'),
        ("/api/show/overrides/force-camera", '{"camera_id": 2.5}'),
        ("/api/show/overrides/force-camera", '{"camera_id": true}'),
        ("/api/show/load", f'{{"timeline_id": {HUGE}}}'),
        ("/api/show/load", '{"timeline_id": 9223372036854775808}'),
        ("/api/show/load", '{"timeline_id": 1, "loop": "yes"}'),
        ("/api/show/go-live", '{"force": "yes"}'),
        ("/api/supervision/restart", '{"path": ["x"]}'),
        ("/api/supervision/restart", '{"path": "/"}'),
    ],
)
def test_wrong_types_and_huge_numbers_are_400(edge: Edge, path: str, body: str) -> None:
    refused = assert_refused(edge.post(path, body), 400, "BadRequestError")
    assert refused["hint"]
    assert edge.orchestrator.calls == []


def test_the_largest_sqlite_id_is_not_found_not_an_error(edge: Edge) -> None:
    body = '{"timeline_id": 9223372036854775807}'
    assert_refused(edge.post("/api/show/load", body), 404, "TimelineNotFoundError")
    for path in (f"/api/timelines/{HUGE}", f"/api/timelines/{HUGE}/export",
                 f"/api/assets/{HUGE}", "/api/timelines/9223372036854775808/executions"):
        assert_refused(edge.client.get(path), 404)
    assert_refused(edge.client.delete(f"/api/timelines/{HUGE}"), 404)
    assert edge.orchestrator.calls == []


# -- media types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/evil+json", "application/problem+json", "text/json",
     "application/json; charset=latin-1", "application/x-www-form-urlencoded"],
)
def test_only_json_passes_as_json(edge: Edge, content_type: str) -> None:
    refused = assert_refused(
        edge.post("/api/show/jump", '{"cue_id": "cue_v3"}', content_type), 415,
        "UnsupportedMediaTypeError",
    )
    assert "Content-Type: application/json" in refused["hint"]
    assert edge.orchestrator.calls == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=UTF-8",
     "application/vnd.vistter.timeline+json"],
)
def test_json_and_our_own_vendor_type_pass(edge: Edge, content_type: str) -> None:
    response = edge.post("/api/show/jump", '{"cue_id": "cue_v3"}', content_type)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "limit", ["\N{SUPERSCRIPT TWO}", "1\N{SUPERSCRIPT THREE}", HUGE, "-1", "0"]
)
def test_a_limit_that_is_no_whole_number_in_range_is_400(edge: Edge, limit: str) -> None:
    refused = assert_refused(edge.client.get("/api/executions", params={"limit": limit}), 400,
                             "BadRequestError")
    assert "1 to 1000" in refused["problem"]
