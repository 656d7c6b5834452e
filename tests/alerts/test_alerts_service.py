"""The alert service: raise, deduplicate, update, clear, acknowledge, bound, persist, publish."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vistter.alerts import AlertNotFoundError, AlertReport, AlertService, AlertStore
from vistter.alerts.service import RESTARTED
from vistter.store.db import Database
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.topics import ALERT_TOPIC


class WallClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Wire:
    """What reaches the bus's listeners on ``alert`` (what the wire and the page see)."""

    def __init__(self, bus: TelemetryBus) -> None:
        self.payloads: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        bus.add_listener(self._listen)

    def _listen(self, topic: str, payload: dict[str, Any]) -> None:
        if topic == ALERT_TOPIC:
            with self._lock:
                self.payloads.append(payload)

    def events(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(p["event"], p["id"]) for p in self.payloads]


def camera_down(camera: int = 2, message: str = "Camera 2 offline") -> AlertReport:
    return AlertReport(kind="source_down", source=f"camera-{camera}", message=message,
                       severity="warning", remediation="Check its power and network.")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db") as database:
        yield database


def service_on(
    db: Database, bus: TelemetryBus, clock: WallClock, history: int = 50
) -> AlertService:
    service = AlertService(bus, store=AlertStore(db, history), wall_clock=clock)
    service.open()
    return service


def test_raise_dedupe_update_clear_and_acknowledge() -> None:
    bus, clock = TelemetryBus(), WallClock()
    wire = Wire(bus)
    service = AlertService(bus, history=10, wall_clock=clock)
    service.open()
    try:
        raised = service.report(camera_down())
        assert raised is not None and raised.id == 1 and raised.active
        assert not raised.acknowledged and raised.raised_at == clock.now

        clock.now += 1
        assert service.report(camera_down()) is None  # the same words: counted, not announced
        updated = service.report(camera_down(message="Camera 2 offline - switched to backup "
                                                      "camera 3"))  # fmt: skip
        assert updated is not None and updated.id == 1
        assert updated.repeats == 2 and updated.remediation == "Check its power and network."
        assert service.counts() == {"active": 1, "critical": 0, "warning": 1, "info": 0,
                                    "unacknowledged": 1}  # fmt: skip

        acknowledged = service.acknowledge(1)
        assert acknowledged.acknowledged and acknowledged.active  # seen, still going on
        clock.now += 5
        cleared = service.clear("camera-2/source_down", "Camera 2 is back online.")
        assert cleared is not None and not cleared.active
        assert cleared.cleared_at == clock.now and cleared.resolution == "Camera 2 is back online."
        assert cleared.acknowledged  # the flag survives the clear
        assert service.clear("camera-2/source_down") is None  # not active any more

        again = service.report(camera_down())  # a new occurrence is a new alert
        assert again is not None and again.id == 2
        active, total = service.listing("active")
        assert [a.id for a in active] == [2] and total == 1
        history, _ = service.listing("history")
        assert [a.id for a in history] == [1]
        assert [a.id for a in service.listing("all")[0]] == [2, 1]
        assert wire.events() == [("raised", 1), ("updated", 1), ("acknowledged", 1),
                                 ("cleared", 1), ("raised", 2)]  # fmt: skip
        assert wire.payloads[0]["remediation"] == wire.payloads[0]["hint"]
    finally:
        service.close()


def test_reports_on_the_bus_are_routed_through_the_service() -> None:
    bus, clock = TelemetryBus(), WallClock()
    wire = Wire(bus)
    service = AlertService(bus, history=10, wall_clock=clock)
    service.open()
    try:
        report = {"severity": "error", "source": "destination:yt", "kind": "destination_failed",
                  "message": "Destination yt failed after 10 attempts", "hint": "Fix the key."}
        bus.publish(ALERT_TOPIC, report)
        bus.publish(ALERT_TOPIC, report)  # deduplicated: nothing more on the wire
        assert len(wire.payloads) == 1
        [alert] = wire.payloads
        assert (alert["event"], alert["id"], alert["severity"], alert["source"]) == (
            "raised", 1, "critical", "destination-yt")
        assert alert["remediation"] == "Fix the key."
        bus.publish(ALERT_TOPIC, {"kind": "destination_failed", "source": "destination:yt",
                                  "severity": "info", "cleared": True,
                                  "message": "Destination yt is live again."})  # fmt: skip
        assert [p["event"] for p in wire.payloads] == ["raised", "cleared"]
        assert wire.payloads[-1]["resolution"] == "Destination yt is live again."
    finally:
        service.close()
    bus.publish(ALERT_TOPIC, {"message": "after close"})  # no route: published as is
    assert wire.payloads[-1] == {"message": "after close"}


def test_resolves_and_subjects_keep_conditions_apart() -> None:
    bus = TelemetryBus()
    service = AlertService(bus, history=10)
    service.open()
    try:
        for location in ("https://a.example/tide.json", "https://b.example/wind.json"):
            service.report(AlertReport(kind="overlay_data", source="data-provider",
                                       subject=location, message=f"{location} fails"))
        service.report(AlertReport(kind="destination_failing", source="destination-yt",
                                   message="failing"))  # fmt: skip
        assert service.counts()["active"] == 3
        service.report(AlertReport(kind="overlay_data", source="data-provider", cleared=True,
                                   subject="https://a.example/tide.json", message="reads"))
        service.report(AlertReport(kind="destination_live", source="destination-yt",
                                   cleared=True, resolves=("destination_failing",),
                                   message="live"))  # fmt: skip
        [left] = service.listing("active")[0]
        assert left.key == "data-provider/overlay_data/https://b.example/wind.json"
    finally:
        service.close()


def test_acknowledge_unknown_all_filters_and_one_shot() -> None:
    bus = TelemetryBus()
    service = AlertService(bus, history=10)
    service.open()
    try:
        with pytest.raises(AlertNotFoundError) as caught:
            service.acknowledge(99)
        assert "no alert 99" in caught.value.problem and "GET /api/alerts" in caught.value.hint
        service.report(camera_down(2))
        service.report(camera_down(3, "Camera 3 offline"))
        service.report(AlertReport(kind="disk_low", source="disk", severity="critical",
                                   message="Disk low"))  # fmt: skip
        service.report(AlertReport(kind="ptz_failed", source="camera-2", message="PTZ failed",
                                   details={"one_shot": True}))  # fmt: skip
        done = service.acknowledge_all(severity="critical")
        assert [a.kind for a in done] == ["disk_low"]
        done = service.acknowledge_all(source="camera-3")
        assert [a.source for a in done] == ["camera-3"]
        one_shot = service.acknowledge(4)
        assert one_shot.acknowledged and not one_shot.active  # nothing else would end it
        assert one_shot.resolution == "Acknowledged by an operator."
        assert [a.id for a in service.acknowledge_all()] == [1]
        assert service.acknowledge_all() == []
        assert service.counts()["unacknowledged"] == 0
    finally:
        service.close()


def test_history_is_bounded_in_memory_and_in_the_database(db: Database) -> None:
    bus, clock = TelemetryBus(), WallClock()
    service = service_on(db, bus, clock, history=10)
    try:
        service.report(camera_down(1, "kept active"))
        for n in range(25):
            service.report(AlertReport(kind="flap", source="camera-9", message=f"flap {n}"))
            service.clear("camera-9/flap")
        alerts, total = service.listing("history", limit=100)
        assert total == 10
        assert [a.message for a in alerts] == [f"flap {n}" for n in range(24, 14, -1)]
        page, total_all = service.listing("all", limit=3, offset=1)
        assert total_all == 11
        assert [a.message for a in page] == ["flap 24", "flap 23", "flap 22"]
    finally:
        service.close()  # waits for the writer
    with db.read() as connection:
        rows = connection.execute("SELECT count(*), sum(cleared_at IS NULL) FROM alerts").fetchone()
    assert (rows[0], rows[1]) == (11, 1)  # 10 cleared kept + the active one, never dropped


def test_alerts_survive_a_restart(db: Database) -> None:
    bus, clock = TelemetryBus(), WallClock()
    service = service_on(db, bus, clock)
    service.report(AlertReport(kind="destination_failed", source="destination-yt",
                               severity="critical", message="YouTube failed",
                               remediation="Check the stream key."))  # fmt: skip
    service.report(camera_down())
    service.acknowledge(2)
    service.clear("camera-2/source_down", "back")
    service.close()

    clock.now += 60
    wire_bus = TelemetryBus()
    wire = Wire(wire_bus)
    reopened = service_on(db, wire_bus, clock)
    try:
        assert reopened.listing("active") == ([], 0)  # conditions are checked afresh
        history, total = reopened.listing("history")
        assert total == 2
        by_id = {a.id: a for a in history}
        assert by_id[1].severity == "critical" and by_id[1].remediation == "Check the stream key."
        assert by_id[1].resolution == RESTARTED and by_id[1].cleared_at == clock.now
        assert by_id[2].acknowledged and by_id[2].resolution == "back"
        fresh = reopened.report(camera_down())
        assert fresh is not None and fresh.id == 3  # ids never repeat
        assert wire.events() == [("raised", 3)]
    finally:
        reopened.close()


def test_odd_report_fields_become_strict_json() -> None:
    bus = TelemetryBus()
    service = AlertService(bus, history=10)
    service.open()
    try:
        bus.publish(ALERT_TOPIC, {"kind": "odd", "source": "encoder", "message": "odd",
                                  "figure": float("nan"), "nested": {"inf": float("inf")}})
        [alert] = service.listing("active")[0]
        assert alert.details == {"figure": None, "nested": {"inf": None}}
        json.dumps(alert.to_payload("listed"), allow_nan=False)  # what the API sends
    finally:
        service.close()
