"""``/api/openapi.json`` and ``/api/docs``: every route documented, generated from the models
that parse the requests, and a page a person can read without anything from elsewhere."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from pydantic import BaseModel, TypeAdapter
from schemathesis.core.result import Ok
from starlette.routing import Route
from test_api_edge import RecordingOrchestrator
from test_api_library import appliance_config

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.api.auth import LoginSettings
from vistter.api.contract import ModelBody, adapter, openapi_path
from vistter.api.library import LibraryDeps, library_operations
from vistter.api.render_previews import RenderPreviewDeps
from vistter.api.requests import (
    CloneRequest,
    ForceCameraRequest,
    JumpToCue,
    JumpToTime,
    LiveTextRequest,
    LoadRequest,
    RestartRequest,
)
from vistter.api.show import ShowDeps, show_operations
from vistter.clock import FakeClock
from vistter.passwords import hash_password
from vistter.render.previews import PreviewRenders
from vistter.store import AssetStore, Database, ExecutionLog, TimelineLibrary

TOKEN = "openapi-test-token"


class Outputs:
    def list_destinations(self) -> list[dict[str, Any]]:
        return []

    def add_destination(self, destination: Any) -> str:
        return f"destination-{destination.id}"

    def remove_destination(self, destination_id: str) -> None:
        return None


def full_deps(root: Path, token: str | None = None) -> Iterator[ApiDeps]:
    config = appliance_config(root / "assets")
    with Database(root / "vistter.db") as db:
        library = TimelineLibrary(db)
        yield ApiDeps(
            tree=lambda: {"id": "root", "path": "root", "kind": "supervisor",
                          "state": "running", "children": []},
            validate_timeline=lambda document: [], started_at=0.0, version="4.5.6",
            token=token, clock=FakeClock(), restart_child=lambda path: None,
            destinations=Outputs(), status=lambda: {"on_air": {}, "encoder": {}},
            show=ShowDeps(orchestrator=RecordingOrchestrator, timelines=library, config=config),
            library=LibraryDeps(timelines=library, executions=ExecutionLog(db),
                                assets=AssetStore(db, root / "assets", 1 << 20),
                                config=config, max_upload_bytes=1 << 20),
            render_previews=RenderPreviewDeps(PreviewRenders(config, root / "previews"),
                                              library),
        )


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[ApiDeps]:
    yield from full_deps(tmp_path)


@pytest.fixture
def client(deps: ApiDeps) -> Iterator[TestClient]:
    with TestClient(create_app(deps), raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_every_api_route_is_documented_and_nothing_else(
    deps: ApiDeps, document: dict[str, Any]
) -> None:
    app = create_app(deps)
    served = {
        (method.lower(), openapi_path(route.path))
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or ())
        if method != "HEAD"
    }
    documented = {
        (method, path) for path, methods in document["paths"].items() for method in methods
    }
    assert served == documented
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "4.5.6"


def test_the_document_loads_in_schemathesis_with_every_operation(
    document: dict[str, Any],
) -> None:
    schema = schemathesis.openapi.from_dict(document)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    assert len(results) == sum(len(methods) for methods in document["paths"].values())


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def test_every_reference_resolves_and_numbers_use_json_schema_bounds(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for node in _walk(document):
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert ref.startswith("#/components/schemas/")
            assert ref.rsplit("/", 1)[1] in schemas, ref
        # pydantic's own names for bounds are not JSON Schema: they would be ignored
        assert not {"ge", "le", "gt", "lt"} & set(node) or "properties" in node, node
    duration = schemas["Timeline"]["properties"]["duration"]
    assert duration["type"] == "number"
    assert duration["exclusiveMinimum"] == 0
    assert duration["maximum"] == 7 * 24 * 3600


def test_every_link_names_an_operation(document: dict[str, Any]) -> None:
    ids = {entry["operationId"] for methods in document["paths"].values()
           for entry in methods.values()}
    links = [link for node in _walk(document) for link in (node.get("links") or {}).values()]
    assert links
    for link in links:
        assert link["operationId"] in ids, link


def _body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    body: dict[str, Any] = document["paths"][path][method]["requestBody"]
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema


def test_request_bodies_are_the_models_that_parse_them(document: dict[str, Any]) -> None:
    ref = "#/components/schemas/{}".format
    assert _body_schema(document, "post", "/api/show/jump") == {
        "anyOf": [{"$ref": ref("JumpToCue")}, {"$ref": ref("JumpToTime")}]
    }
    bodies: list[tuple[str, str, type[BaseModel]]] = [
        ("post", "/api/show/load", LoadRequest),
        ("post", "/api/show/next", LoadRequest),
        ("post", "/api/show/text", LiveTextRequest),
        ("post", "/api/show/overrides/force-camera", ForceCameraRequest),
        ("post", "/api/supervision/restart", RestartRequest),
        ("post", "/api/timelines/{record_id}/clone", CloneRequest),
    ]
    for method, path, model in bodies:
        assert _body_schema(document, method, path) == {"$ref": ref(model.__name__)}
        generated = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        assert document["components"]["schemas"][model.__name__] == generated
    for path in ("/api/timelines", "/api/timelines/validate"):
        assert _body_schema(document, "post", path) == {"$ref": ref("TimelineDocument")}


def test_the_operations_parse_with_the_models_they_document(tmp_path: Path) -> None:
    """The registry is the one place both come from: each body the route parses is the one
    the document names (no second model could be documented by mistake)."""
    [deps] = list(full_deps(tmp_path))
    for operation in [*show_operations(deps.show), *library_operations(deps.library)]:
        if isinstance(operation.body, ModelBody):
            model = adapter(operation.body.model)
            for example in (model.json_schema().get("examples") or []):
                model.validate_python(example)  # the documented example is accepted


@pytest.mark.parametrize(
    ("model", "example"),
    [(JumpToCue, {"cue_id": "cue_v3"}), (JumpToTime, {"seconds": 65}),
     (LoadRequest, {"timeline_id": 1, "loop": True}), (ForceCameraRequest, {"camera_id": 2})],
)
def test_documented_examples_are_accepted(model: Any, example: dict[str, Any]) -> None:
    assert model.model_json_schema()["examples"] == [example]
    model.model_validate(example)


def test_errors_are_documented_with_the_error_shape(document: dict[str, Any]) -> None:
    jump = document["paths"]["/api/show/jump"]["post"]["responses"]
    for status in ("400", "409", "413", "415", "422", "503"):
        assert jump[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorReply"
        }, status
    error = document["components"]["schemas"]["ErrorReply"]
    assert set(error["required"]) == {"error", "problem", "hint"}


def test_docs_page_shows_every_route_with_nothing_from_elsewhere(
    client: TestClient, document: dict[str, Any]
) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    for path, methods in document["paths"].items():
        for entry in methods.values():
            assert f'id="{entry["operationId"]}"' in page
        assert f"<code>{path}</code>" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "the page loads nothing remote"


def test_with_a_token_the_document_says_so_and_needs_it(tmp_path: Path) -> None:
    [deps] = list(full_deps(tmp_path, token=TOKEN))
    with TestClient(create_app(deps)) as client:
        assert client.get("/api/openapi.json").status_code == 401
        assert client.get("/api/docs").status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        document = client.get("/api/openapi.json", headers=auth).json()
    assert document["security"] == [{"bearer": []}, {"session": []}]  # either one
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie",
                                  "name": "vistter_session"}
    health = document["paths"]["/api/health"]["get"]
    assert health["security"] == []
    assert "401" not in health["responses"]
    show = document["paths"]["/api/show"]["get"]
    assert "401" in show["responses"]
    assert show["security"] == [{"bearer": []}, {"session": []}]


def test_with_an_admin_password_alone_the_session_cookie_is_the_scheme(tmp_path: Path) -> None:
    [deps] = list(full_deps(tmp_path))
    deps = replace(deps, login=LoginSettings(password_hash=hash_password("an admin password")))
    with TestClient(create_app(deps)) as client:
        assert client.get("/api/openapi.json").status_code == 401
        assert client.post("/api/login", json={"password": "an admin password"}).is_success
        document = client.get("/api/openapi.json").json()  # with the cookie: the scheme works
    assert set(document["components"]["securitySchemes"]) == {"session"}  # no token: no bearer
    assert document["security"] == [{"session": []}]
    assert document["paths"]["/api/show/go-live"]["post"]["security"] == [{"session": []}]
    assert document["paths"]["/api/login"]["post"]["security"] == []


def test_a_wrong_method_names_every_documented_method_of_the_path(
    client: TestClient, document: dict[str, Any]
) -> None:
    """Found by the fuzzer: Starlette's 405 named only the methods of the first route with
    the path (one route per method here)."""
    for path, methods in document["paths"].items():
        concrete = path.replace("{record_id}", "1").replace("{destination_id}", "x").replace(
            "{name}", "slate")
        wrong = next(m for m in ("PATCH", "TRACE") if m.lower() not in methods)
        response = client.request(wrong, concrete)
        assert response.status_code == 405, (path, response.text)
        allowed = {method.strip().lower() for method in response.headers["allow"].split(",")}
        assert set(methods) <= allowed, (path, allowed)
        assert response.json()["error"] == "MethodNotAllowedError"
