"""GET /api/alerts, the acknowledgements, /metrics: answers, 4xx for bad input, the contract."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from prometheus_client.parser import text_string_to_metric_families
from schemathesis.core.result import Ok

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.alerts import AlertReport, AlertService
from vistter.api import ApiDeps, create_app
from vistter.api.alerts import AlertList, MonitoringDeps
from vistter.clock import FakeClock
from vistter.telemetry import Metrics, TelemetryBus

TOKEN = "alerts-api-token"


def tree() -> dict[str, Any]:
    return {"id": "root", "path": "root", "kind": "supervisor", "state": "running",
            "children": []}  # fmt: skip


@pytest.fixture
def service() -> Iterator[AlertService]:
    alerts = AlertService(TelemetryBus(), history=20)
    alerts.open()
    alerts.report(AlertReport(kind="source_down", source="camera-2", severity="warning",
                              message="Camera 2 offline - switched to backup camera 3",
                              remediation="Check its power and network; Vistter retries "
                              "every 10 s."))  # fmt: skip
    alerts.report(AlertReport(kind="destination_failed", source="destination-yt",
                              severity="critical", message="YouTube failed"))  # fmt: skip
    alerts.report(AlertReport(kind="disk_low", source="disk", message="Disk low"))
    alerts.clear("disk/disk_low", "Free space is back.")
    yield alerts
    alerts.close()


def make_client(service: AlertService | None, metrics: Metrics | None = None,
                token: str | None = None) -> TestClient:
    deps = ApiDeps(
        tree=tree, validate_timeline=lambda document: [], started_at=0.0, version="1.2.3",
        clock=FakeClock(), token=token,
        monitoring=MonitoringDeps(alerts=service, prometheus_text=(
            metrics.prometheus_text if metrics is not None else None)),
    )  # fmt: skip
    return TestClient(create_app(deps), raise_server_exceptions=True)


@pytest.fixture
def client(service: AlertService) -> Iterator[TestClient]:
    with make_client(service, Metrics()) as test_client:
        yield test_client


def assert_error(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "problem", "hint"} and body["problem"] and body["hint"]
    return dict(body)


def test_list_active_and_history_with_counts(client: TestClient) -> None:
    response = client.get("/api/alerts")
    assert response.status_code == 200
    body = AlertList.model_validate(response.json())  # what the contract documents
    assert [(a.id, a.active) for a in body.alerts] == [(2, True), (1, True), (3, False)]
    assert body.total == 3 and body.counts.active == 2 and body.counts.critical == 1
    first = next(a for a in body.alerts if a.id == 1)
    assert first.remediation == "Check its power and network; Vistter retries every 10 s."
    assert first.source == "camera-2" and first.severity == "warning"
    active = client.get("/api/alerts", params={"state": "active", "limit": 1}).json()
    assert [a["id"] for a in active["alerts"]] == [2] and active["total"] == 2
    page = client.get("/api/alerts", params={"state": "active", "limit": 1, "offset": 1}).json()
    assert [a["id"] for a in page["alerts"]] == [1]
    history = client.get("/api/alerts", params={"state": "history"}).json()
    assert [(a["id"], a["resolution"]) for a in history["alerts"]] == [(3, "Free space is back.")]


@pytest.mark.parametrize("query", [
    {"state": "loud"}, {"limit": "0"}, {"limit": "501"}, {"limit": "x"}, {"offset": "-1"},
    {"limit": "²"},
])  # fmt: skip
def test_bad_queries_are_400(client: TestClient, query: dict[str, str]) -> None:
    assert_error(client.get("/api/alerts", params=query), 400)


def test_acknowledge_one_and_unknown_ids(client: TestClient, service: AlertService) -> None:
    response = client.post("/api/alerts/1/ack")
    assert response.status_code == 200
    alert = response.json()["alert"]
    assert (alert["id"], alert["acknowledged"], alert["active"]) == (1, True, True)
    assert service.counts()["unacknowledged"] == 1
    body = assert_error(client.post("/api/alerts/999/ack"), 404)
    assert "999" in body["problem"] and "GET /api/alerts" in body["hint"]
    assert_error(client.post(f"/api/alerts/{2**70}/ack"), 404)
    assert_error(client.post("/api/alerts/abc/ack"), 404)
    assert_error(client.get("/api/alerts/1/ack"), 405)


def test_acknowledge_all_with_and_without_a_filter(client: TestClient) -> None:
    response = client.post("/api/alerts/ack-all", json={"severity": "critical"})
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["alerts"]] == [2]
    response = client.post("/api/alerts/ack-all")  # no body: everything left
    assert response.json()["acknowledged"] == 2
    assert client.post("/api/alerts/ack-all").json() == {"acknowledged": 0, "alerts": []}
    assert client.get("/api/alerts").json()["counts"]["unacknowledged"] == 0


@pytest.mark.parametrize(("body", "status"), [
    ({"severity": "loud"}, 400), ({"source": ""}, 400), ({"colour": "red"}, 400),
    ([1, 2], 400), ("{not json", 422),
])  # fmt: skip
def test_ack_all_refuses_a_bad_body(client: TestClient, body: Any, status: int) -> None:
    if isinstance(body, str):
        response = client.post("/api/alerts/ack-all", content=body,
                               headers={"content-type": "application/json"})
    else:
        response = client.post("/api/alerts/ack-all", json=body)
    assert_error(response, status)
    assert client.get("/api/alerts").json()["counts"]["unacknowledged"] == 2  # nothing done


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert "vistter_supervision_restarts" in names


def test_without_an_appliance_the_routes_say_so(service: AlertService) -> None:
    with make_client(None) as bare:
        assert_error(bare.get("/api/alerts"), 400)
        assert_error(bare.post("/api/alerts/1/ack"), 400)
        assert_error(bare.get("/metrics"), 400)


def test_the_routes_are_in_the_contract_and_need_the_token(service: AlertService) -> None:
    with make_client(service, Metrics(), token=TOKEN) as secured:
        assert secured.get("/api/alerts").status_code == 401
        assert secured.get("/metrics").status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert secured.get("/api/alerts", headers=auth).status_code == 200
        document = secured.get("/api/openapi.json", headers=auth).json()
    paths = document["paths"]
    assert set(paths["/api/alerts"]) == {"get"}
    assert set(paths["/api/alerts/{alert_id}/ack"]) == {"post"}
    assert set(paths["/api/alerts/ack-all"]) == {"post"}
    assert set(paths["/metrics"]) == {"get"}
    ack_all = paths["/api/alerts/ack-all"]["post"]
    schema = ack_all["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/AckAllRequest"}
    assert set(document["components"]["schemas"]["AckAllRequest"]["properties"]) == {
        "severity", "source"}
    assert "404" in paths["/api/alerts/{alert_id}/ack"]["post"]["responses"]


def test_schemathesis_loads_every_monitoring_operation(service: AlertService) -> None:
    with make_client(service, Metrics()) as client:
        document = client.get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), results
    loaded = {(operation.method.upper(), operation.path) for operation in operations}
    assert {("GET", "/api/alerts"), ("POST", "/api/alerts/{alert_id}/ack"),
            ("POST", "/api/alerts/ack-all"), ("GET", "/metrics")} <= loaded  # fmt: skip
