"""``POST /api/destinations`` refuses a bad ``max_session_hours`` with a 422 that says why."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from vistter.api.app import ApiDeps, create_app
from vistter.models.destinations import AnyDestination, RtmpDestination

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEY = "session-limit-key-123"


class Outputs:
    def __init__(self) -> None:
        self.added: list[AnyDestination] = []

    def list_destinations(self) -> list[dict[str, Any]]:
        return []

    def add_destination(self, destination: AnyDestination) -> str:
        self.added.append(destination)
        return f"destination-{destination.id}"

    def remove_destination(self, destination_id: str) -> None:
        raise AssertionError("not used")


@pytest.fixture
def outputs() -> Outputs:
    return Outputs()


@pytest.fixture
def client(outputs: Outputs) -> TestClient:
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda _: [], started_at=0.0,
                   version="t", destinations=outputs)
    return TestClient(create_app(deps))


@pytest.mark.parametrize(
    ("fields", "path", "words"),
    [
        ({"platform": "facebook", "max_session_hours": 12}, "max_session_hours",
         "facebook ends a live video after 8 hours"),
        ({"platform": "twitch", "max_session_hours": -2}, "max_session_hours",
         "greater than or equal to 0"),
        ({"platform": "twitch", "max_session_hours": 1, "reconnect_margin_minutes": 90},
         "reconnect_margin_minutes", "must be shorter than the session limit (60 minutes)"),
    ],
)  # fmt: skip
def test_bad_session_limit_is_a_422_in_words(
    client: TestClient, outputs: Outputs, fields: dict[str, Any], path: str, words: str
) -> None:
    response = client.post("/api/destinations", json={"id": "d", "stream_key": KEY, **fields})
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert any(p["path"] == path and words in p["message"] for p in problems), problems
    assert KEY not in response.text
    assert outputs.added == []


def test_a_session_limit_is_accepted(client: TestClient, outputs: Outputs) -> None:
    body = {"id": "fb", "platform": "facebook", "stream_key": KEY, "max_session_hours": 4,
            "reconnect_margin_minutes": 5}
    response = client.post("/api/destinations", json=body)
    assert response.status_code == 201, response.text
    (added,) = outputs.added
    assert isinstance(added, RtmpDestination)
    assert added.session_limit_seconds == 4 * 3600 and added.reconnect_margin_minutes == 5
