"""On a running appliance: a killed camera ingest becomes an alert with what replaced it and
what to do, within 2 s; health is in /api/status; STREAM_METRICS are on /metrics."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.mediapath import media_config, running_appliance, wait_for

from vistter.appliance import Appliance
from vistter.telemetry.stream import STREAM_FIELDS
from vistter.telemetry.topics import ALERT_TOPIC

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def lavfi_camera(camera_id: int, graph: str, backup: int | None = None) -> dict[str, Any]:
    camera: dict[str, Any] = {"id": camera_id, "name": f"Cam {camera_id}",
                              "url": f"lavfi:{graph}=size=320x240:rate=30"}
    if backup is not None:
        camera["backup_camera_id"] = backup
    return camera


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    config = media_config(tmp_path, [
        lavfi_camera(1, "testsrc2", backup=3), lavfi_camera(3, "rgbtestsrc"),
    ], [{"id": "rec", "platform": "recorder", "path": str(tmp_path / "rec"),
         "segment_seconds": 600}])
    with running_appliance(config) as running:
        yield running


class AlertLog:
    """Every ``alert`` message the bus delivers, with the monotonic time it came."""

    def __init__(self, appliance: Appliance) -> None:
        self._lock = threading.Lock()
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.remove = appliance.bus.add_listener(self._listen)

    def _listen(self, topic: str, payload: dict[str, Any]) -> None:
        if topic == ALERT_TOPIC:
            with self._lock:
                self.messages.append((time.monotonic(), payload))

    def first(self, since: float, **fields: Any) -> tuple[float, dict[str, Any]] | None:
        with self._lock:
            return next(((at, p) for at, p in self.messages if at >= since
                         and all(p.get(k) == v for k, v in fields.items())), None)  # fmt: skip


def test_a_killed_camera_ingest_raises_an_alert_with_its_remediation_within_2_s(
    appliance: Appliance,
) -> None:
    port = appliance.root.handle.child("api").proxy().bound_port().get(timeout=10)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
        check_the_alert_health_and_metrics(appliance, api)
    alerts = appliance.monitoring.alerts
    assert alerts is not None
    stopped_cleanly = {a.key for a in alerts.listing("active")[0]}
    appliance.stop()  # cameras stopped on purpose raise nothing
    assert {a.key for a in alerts.listing("active")[0]} == stopped_cleanly


def check_the_alert_health_and_metrics(appliance: Appliance, api: httpx.Client) -> None:
    camera = appliance.root.handle.child("sources/camera-1").proxy()
    wait_for(lambda: camera.status().get(timeout=5)["state"] == "online", 30, "camera 1 online")
    appliance.program.state.take("camera:1")
    wait_for(lambda: api.get("/api/status").json()["on_air"]["source"] == "camera:1", 10,
             "camera 1 on air")
    log = AlertLog(appliance)
    try:
        pid = camera.status().get(timeout=5)["pid"]
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)

        wait_for(lambda: log.first(killed_at, source="camera-1", event="raised") is not None,
                 2.0, "the camera-down alert on the bus")
        raised_at, raised = log.first(killed_at, source="camera-1", event="raised") or (0, {})
        assert raised["kind"] == "source_down" and raised["severity"] == "warning"
        assert raised["message"].startswith("Cam 1 offline: ingest exited")
        assert raised["remediation"] == (
            "Check its power and network; Vistter retries every 10 s.")

        def replaced() -> bool:
            return log.first(killed_at, source="camera-1", event="updated") is not None

        wait_for(replaced, 2.0 - (time.monotonic() - killed_at), "what replaced the camera")
        _, updated = log.first(killed_at, source="camera-1", event="updated") or (0, {})
        assert updated["id"] == raised["id"]
        assert updated["message"].startswith("Camera 1 ")  # the fallback's words: what
        assert updated["message"].endswith(" - switched to backup camera 3")  # replaced it
        assert updated["details"]["on_air"] == "camera:3"
        assert updated["remediation"] == raised["remediation"]  # kept from the camera's report

        listed = api.get("/api/alerts", params={"state": "active"}).json()
        mine = next(a for a in listed["alerts"] if a["id"] == raised["id"])  # while the
        assert mine["remediation"] == raised["remediation"]  # backup is on air: active
        assert api.get("/api/status").json()["fallback"]["camera:1"]["on_air"] == "camera:3"
        assert raised_at - killed_at < 2.0

        # the camera reconnects by itself: the condition ends, the alert moves to history
        wait_for(lambda: log.first(killed_at, source="camera-1", event="cleared") is not None,
                 15.0, "the alert cleared when camera 1 is back")
        history = api.get("/api/alerts", params={"state": "history"}).json()["alerts"]
        cleared = next(a for a in history if a["id"] == raised["id"])
        assert cleared["active"] is False  # the program switched back to camera 1:
        assert cleared["resolution"] == "Camera 1 is back - switched back from backup camera 3"
        acknowledged = api.post(f"/api/alerts/{raised['id']}/ack")
        assert acknowledged.status_code == 200 and acknowledged.json()["alert"]["acknowledged"]
    finally:
        log.remove()

    health = api.get("/api/status").json()["health"]
    assert health["state"] in ("healthy", "degraded", "unhealthy")
    assert set(health) == {"state", "reasons", "warnings", "errors"}
    def names() -> set[str]:
        metrics = api.get("/metrics")
        assert metrics.status_code == 200
        return {family.name for family in text_string_to_metric_families(metrics.text)}

    wanted = {f"vistter_stream_{field}" for field in STREAM_FIELDS} | {
        "vistter_stream_health", "vistter_stream_destination_bitrate",
        "vistter_system_cpu_utilization_percent",  # sampled every 5 s: kept from before
        "vistter_supervision_restarts"}
    wait_for(lambda: wanted <= names(), 10, f"{wanted - names()} on /metrics")
