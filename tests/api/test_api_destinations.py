"""Managing destinations while live through the control API (stream keys write-only)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from vistter.api.app import ApiDeps, create_app
from vistter.errors import SupervisionError, UnknownChildError
from vistter.models.destinations import AnyDestination, RtmpDestination, SrtDestination

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

KEY = "super-secret-key-123"


class FakeOutputs:
    def __init__(self) -> None:
        self.added: list[AnyDestination] = []
        self.removed: list[str] = []

    def list_destinations(self) -> list[dict[str, Any]]:
        return [{"child": f"destination-{d.id}", "url": d.display_url} for d in self.added]

    def add_destination(self, destination: AnyDestination) -> str:
        if any(d.id == destination.id for d in self.added):
            raise SupervisionError(f"outputs already has a child 'destination-{destination.id}'",
                                   hint="choose another id")
        self.added.append(destination)
        return f"destination-{destination.id}"

    def remove_destination(self, destination_id: str) -> None:
        if destination_id not in {d.id for d in self.added}:
            raise UnknownChildError(f"there is no destination {destination_id!r}", hint="list")
        self.removed.append(destination_id)


@pytest.fixture
def outputs() -> FakeOutputs:
    return FakeOutputs()


@pytest.fixture
def client(outputs: FakeOutputs) -> TestClient:
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda _: [], started_at=0.0,
                   version="t", destinations=outputs)
    return TestClient(create_app(deps))


def test_add_list_remove(client: TestClient, outputs: FakeOutputs) -> None:
    body = {"id": "yt", "platform": "youtube", "stream_key": KEY}
    added = client.post("/api/destinations", json=body)
    assert added.status_code == 201, added.text
    assert added.json()["child"] == "destination-yt"
    assert KEY not in added.text
    assert isinstance(outputs.added[0], RtmpDestination)
    assert outputs.added[0].publish_url().endswith(KEY)
    listing = client.get("/api/destinations")
    assert listing.status_code == 200
    assert KEY not in listing.text
    assert listing.json()["destinations"][0]["child"] == "destination-yt"
    assert client.delete("/api/destinations/yt").json() == {"removed": "yt"}
    assert outputs.removed == ["yt"]


def test_invalid_destination_lists_problems_and_never_echoes_the_key(client: TestClient) -> None:
    response = client.post("/api/destinations",
                           json={"id": "x", "platform": "youtub", "stream_key": KEY})
    assert response.status_code == 422
    body = response.json()
    assert body["problems"][0]["path"] == "platform"
    assert KEY not in response.text


def test_missing_key_for_a_platform_says_how_to_fix(client: TestClient) -> None:
    response = client.post("/api/destinations", json={"id": "fb", "platform": "facebook"})
    assert response.status_code == 422
    assert "VISTTER_DESTINATION_FB_STREAM_KEY" in response.json()["problems"][0]["hint"]


def test_duplicate_is_a_conflict_and_unknown_is_not_found(client: TestClient) -> None:
    body = {"id": "t", "platform": "custom_rtmp", "url": "rtmp://127.0.0.1/live",
            "stream_key": KEY}
    assert client.post("/api/destinations", json=body).status_code == 201
    again = client.post("/api/destinations", json=body)
    assert again.status_code == 409
    assert client.delete("/api/destinations/nope").status_code == 404


def test_recorders_cannot_be_added_over_the_api(client: TestClient) -> None:
    response = client.post("/api/destinations",
                           json={"id": "r", "platform": "recorder", "path": "/etc"})
    assert response.status_code == 422


def test_an_srt_destination_is_added_with_its_passphrase_kept_secret(
    client: TestClient, outputs: FakeOutputs
) -> None:
    body = {"id": "contrib", "platform": "srt", "passphrase": KEY,
            "url": "srt://127.0.0.1:9000?latency=200000&streamid=%23!::r=live/k9"}
    added = client.post("/api/destinations", json=body)
    assert added.status_code == 201, added.text
    assert added.json()["url"] == "srt://127.0.0.1:9000?latency=200000&streamid=***"
    assert KEY not in added.text and "live/k9" not in added.text
    assert KEY not in client.get("/api/destinations").text
    destination = outputs.added[0]
    assert isinstance(destination, SrtDestination)
    assert destination.passphrase_value() == KEY


@pytest.mark.parametrize(
    ("url", "field"),
    [(f"srt://127.0.0.1:9000?passphrase={KEY}", "url"),
     ("srt://127.0.0.1:9000?mode=listener", "url"),
     ("srt://127.0.0.1", "url")],
)
def test_an_unusable_srt_destination_lists_its_problem(
    client: TestClient, url: str, field: str
) -> None:
    response = client.post("/api/destinations",
                           json={"id": "s", "platform": "srt", "url": url})
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == field
    assert KEY not in response.text
