"""Alerts derived from events and metrics: cameras, destinations, disk, CPU, encoder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from vistter.alerts import AlertRules, AlertService, encoder_report
from vistter.models.alerts import AlertsConfig
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.topics import (
    ALERT_TOPIC,
    CAMERA_TOPIC,
    DESTINATION_TOPIC,
    SYSTEM_METRICS_TOPIC,
)

MB = 1024 * 1024


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    bus: TelemetryBus
    service: AlertService
    clock: Monotonic

    def active(self) -> dict[str, str]:
        return {a.key: a.message for a in self.service.listing("active")[0]}


@pytest.fixture
def rig() -> Iterator[Rig]:
    bus, clock = TelemetryBus(), Monotonic()
    service = AlertService(bus, history=50)
    service.open()
    config = AlertsConfig(disk_low_mb=500, cpu_high_percent=85, cpu_high_for=30)
    remove = bus.add_listener(AlertRules(service, config, monotonic=clock))
    try:
        yield Rig(bus, service, clock)
    finally:
        remove()
        service.close()


def camera(state: str, detail: str = "ingest exited with code 0") -> dict[str, object]:
    return {"camera_id": 2, "source_id": "camera:2", "name": "Camera 2", "state": state,
            "detail": detail, "retry_max_s": 10.0}  # fmt: skip


def test_camera_down_names_what_replaced_it_and_clears_when_back(rig: Rig) -> None:
    rig.bus.publish(CAMERA_TOPIC, camera("connecting", "starting"))
    assert rig.active() == {}
    rig.bus.publish(CAMERA_TOPIC, camera("offline"))
    [alert] = rig.service.listing("active")[0]
    assert (alert.key, alert.severity) == ("camera-2/source_down", "warning")
    assert alert.message == "Camera 2 offline: ingest exited with code 0."
    assert alert.remediation == "Check its power and network; Vistter retries every 10 s."
    # The fallback policy's report (as vistter.actors.program.fallback publishes it)
    rig.bus.publish(ALERT_TOPIC, {
        "severity": "warning", "kind": "source_fallback", "condition": "source_down",
        "cleared": False, "source": "camera:2", "on_air": "camera:3", "reason": "backup",
        "message": "Camera 2 offline - switched to backup camera 3"})
    # reconnect attempts say nothing new: the message keeps what replaced the camera
    rig.bus.publish(CAMERA_TOPIC, camera("connecting", "reconnecting"))
    rig.bus.publish(CAMERA_TOPIC, camera("offline", "ingest exited with code 1"))
    [alert] = rig.service.listing("active")[0]
    assert alert.message == "Camera 2 offline - switched to backup camera 3"
    assert alert.remediation == "Check its power and network; Vistter retries every 10 s."
    assert alert.details["on_air"] == "camera:3"
    # back online, but the program is still on the backup: the alert stays until the
    # fallback switches back (its own report clears it)
    rig.bus.publish(CAMERA_TOPIC, camera("online", "receiving frames"))
    assert set(rig.active()) == {"camera-2/source_down"}
    rig.bus.publish(ALERT_TOPIC, {
        "severity": "info", "kind": "source_recovered", "condition": "source_down",
        "cleared": True, "source": "camera:2", "on_air": "camera:2", "reason": "wanted",
        "message": "Camera 2 is back - switched back from backup camera 3"})
    assert rig.active() == {}
    [cleared] = rig.service.listing("history")[0]
    assert cleared.resolution == "Camera 2 is back - switched back from backup camera 3"

    # Down and back while not on air (nothing replaced it): cleared as soon as it is back
    rig.bus.publish(CAMERA_TOPIC, camera("offline"))
    assert set(rig.active()) == {"camera-2/source_down"}
    rig.bus.publish(CAMERA_TOPIC, camera("online", "receiving frames"))
    assert rig.active() == {}
    assert rig.service.listing("history")[0][0].resolution == "Camera 2 is back online."
    # stopped by its supervisor (shutdown, restart): not a fault
    rig.bus.publish(CAMERA_TOPIC, {**camera("offline", "Camera 2 stopped"), "stopping": True})
    assert rig.active() == {}


def test_a_replaced_camera_alert_clears_when_back_long_enough_without_a_switch_back(
    rig: Rig,
) -> None:
    rig.bus.publish(CAMERA_TOPIC, camera("offline"))
    rig.bus.publish(ALERT_TOPIC, {
        "severity": "warning", "kind": "source_fallback", "condition": "source_down",
        "source": "camera:2", "on_air": "camera:3", "reason": "backup",
        "message": "Camera 2 offline - switched to backup camera 3"})
    rig.bus.publish(CAMERA_TOPIC, camera("online", "receiving frames"))
    rig.clock.now += 2.9  # the show moved to another shot: no switch back comes
    rig.bus.publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": 5.0})
    assert set(rig.active()) == {"camera-2/source_down"}
    rig.clock.now += 0.2  # past the fallback's recover_after (2 s) + 1 s
    rig.bus.publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": 5.0})
    assert rig.active() == {}
    assert rig.service.listing("history")[0][0].resolution == "Camera 2 is back online."


def test_destination_failing_carries_its_retry_figures(rig: Rig) -> None:
    event = {"id": "yt", "kind": "destination", "state": "retrying", "attempt": 2,
             "max_attempts": 10, "next_retry_in": 4.0, "last_error": "Connection refused"}
    rig.bus.publish(DESTINATION_TOPIC, event)
    [alert] = rig.service.listing("active")[0]
    assert alert.key == "destination-yt/destination_failing"
    assert alert.message == "Destination yt is failing: Connection refused."
    assert "next try in 4 s" in alert.remediation
    assert "attempt 2 of 10" in alert.remediation
    rig.bus.publish(DESTINATION_TOPIC, {**event, "state": "live"})
    assert rig.active() == {}
    rig.bus.publish(DESTINATION_TOPIC, event)
    assert set(rig.active()) == {"destination-yt/destination_failing"}
    rig.bus.publish(DESTINATION_TOPIC, {**event, "state": "standby"})  # Stop: off air
    assert rig.active() == {}


def test_disk_low_uses_the_configured_threshold(rig: Rig) -> None:
    sample = {"disk_path": "/var/vistter", "disk_free_bytes": 600 * MB, "cpu_percent": 10.0}
    rig.bus.publish(SYSTEM_METRICS_TOPIC, sample)
    assert rig.active() == {}
    rig.bus.publish(SYSTEM_METRICS_TOPIC, {**sample, "disk_free_bytes": 400 * MB})
    [alert] = rig.service.listing("active")[0]
    assert (alert.source, alert.severity) == ("disk", "warning")
    assert alert.message == "Disk space low: less than 500 MB free under /var/vistter."
    rig.bus.publish(SYSTEM_METRICS_TOPIC, {**sample, "disk_free_bytes": 100 * MB})
    [alert] = rig.service.listing("active")[0]
    assert alert.severity == "critical"  # under a quarter of the threshold: worse
    rig.bus.publish(SYSTEM_METRICS_TOPIC, sample)
    assert rig.active() == {}


def test_cpu_high_only_when_sustained(rig: Rig) -> None:
    def sample(cpu: float, after: float) -> None:
        rig.clock.now += after
        rig.bus.publish(SYSTEM_METRICS_TOPIC, {"cpu_percent": cpu})

    sample(95, 0)
    sample(95, 20)
    sample(50, 5)  # a break restarts the window
    sample(95, 5)
    sample(95, 29)
    assert rig.active() == {}
    sample(96, 2)
    [alert] = rig.service.listing("active")[0]
    assert (alert.source, alert.kind) == ("cpu", "cpu_high")
    assert alert.message == "CPU high: above 85 % for more than 30 s."
    assert alert.details["cpu_percent"] == 96
    sample(40, 5)
    assert rig.active() == {}


@dataclass(frozen=True)
class Trial:
    encoder: str
    outcome: str
    reason: str = ""

    def describe(self) -> str:
        return f"{self.encoder} trial {self.outcome}: {self.reason}"


@dataclass(frozen=True)
class Choice:
    encoder: str
    hardware: bool
    trials: tuple[Trial, ...]


def test_encoder_fallback_to_software_is_reported_only_when_hardware_failed() -> None:
    failed = Choice("libx264", False, (Trial("h264_v4l2m2m", "not_built"),
                                       Trial("h264_vaapi", "failed", "No VA display"),
                                       Trial("libx264", "ok")))  # fmt: skip
    report = encoder_report(failed)
    assert report is not None and (report.source, report.kind) == ("encoder", "encoder_software")
    assert report.severity == "info"  # the stream runs, at a higher CPU cost
    assert report.message == ("The hardware encoder h264_vaapi failed to start; encoding in "
                              "software (libx264) instead.")  # one sentence, no ffmpeg text
    assert report.details["detail"] == "h264_vaapi trial failed: No VA display"  # kept there
    assert report.details["failed"] == ["h264_vaapi"]
    two = Choice("libx264", False, (Trial("h264_vaapi", "failed", "No VA display\n" * 50),
                                    Trial("h264_qsv", "timeout", "hung")))  # fmt: skip
    worse = encoder_report(two)
    assert worse is not None and worse.message == (
        "The hardware encoders h264_vaapi and h264_qsv failed to start; encoding in software "
        "(libx264) instead.")
    assert "No VA display" in worse.details["detail"] and "\n" not in worse.message
    assert "libx264" in report.remediation
    only_software = Choice("libx264", False, (Trial("h264_vaapi", "not_built"),
                                              Trial("libx264", "ok")))  # fmt: skip
    assert encoder_report(only_software) is None
    assert encoder_report(Choice("h264_vaapi", True, (Trial("h264_vaapi", "ok"),))) is None
