"""POST /api/timelines/validate wired to the real timeline validator and the spec example."""

from __future__ import annotations

import copy
import functools
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from vistter.api import ApiDeps, create_app
from vistter.clock import FakeClock
from vistter.models.config import load_config
from vistter.models.locators import LOCATOR_KEYS
from vistter.models.validation import validate_timeline

with warnings.catch_warnings():
    # Starlette >= 1.x prefers httpx2 for its TestClient and warns when it falls back to httpx.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from conftest import SPEC_EXAMPLE


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(params=["no config", "demo config"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    validator = (
        validate_timeline
        if request.param == "no config"
        else functools.partial(validate_timeline, config=load_config())
    )
    deps = ApiDeps(tree=lambda: {"id": "root", "state": "running", "children": []},
                   validate_timeline=validator, started_at=0.0, version="t", clock=FakeClock())
    with TestClient(create_app(deps)) as c:
        yield c


def test_spec_example_is_valid(client: TestClient, example: dict[str, Any]) -> None:
    response = client.post(
        "/api/timelines/validate", content=SPEC_EXAMPLE.read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "problems": []}


def test_broken_example_lists_problems_with_paths(
    client: TestClient, example: dict[str, Any]
) -> None:
    broken = copy.deepcopy(example)
    cues = broken["timeline"]["tracks"]["video"]["cues"]
    cues[1]["duration"] = -5
    cues[2]["start_time"] = 30  # overlaps cue_v1 (0..60)
    response = client.post("/api/timelines/validate", json=broken)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["valid"] is False
    paths = [problem["path"] for problem in body["problems"]]
    assert any(path.startswith("timeline.tracks.video.cues[1]") for path in paths), paths
    for problem in body["problems"]:
        assert set(problem) == {"path", "message", "hint", *LOCATOR_KEYS}
        assert problem["message"]
