"""The monitoring bundle the appliance holds: open, rules on the bus, counters, the buffer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from test_alerts_rules import Choice, Trial

from vistter.alerts.monitoring import Monitoring, show_buffer
from vistter.models.config import parse_config
from vistter.store.db import Database
from vistter.telemetry import Metrics, TelemetryBus
from vistter.telemetry.topics import ALERT_TOPIC, CAMERA_TOPIC

NO_LIMIT = 2**62


def test_monitoring_opens_on_the_database_and_counts_alerts(tmp_path: Path) -> None:
    config = parse_config({"alerts": {"history": 10}}, base_dir=tmp_path, env={})
    bus, metrics = TelemetryBus(), Metrics()
    monitoring = Monitoring(config, bus, metrics)
    with Database(tmp_path / "vistter.db") as db:
        alerts = monitoring.open(db)
        try:
            bus.publish(CAMERA_TOPIC, {"camera_id": 1, "name": "Dock", "state": "offline",
                                       "detail": "ingest exited", "retry_max_s": 8.0})
            monitoring.encoder_chosen(Choice("libx264", False, (Trial("h264_nvenc", "failed"),
                                                                 Trial("libx264", "ok"))))
            keys = {a.key: a for a in alerts.listing("active")[0]}
            assert set(keys) == {"camera-1/source_down", "encoder/encoder_software"}
            assert keys["camera-1/source_down"].remediation == (
                "Check its power and network; Vistter retries every 8 s.")
            deps = monitoring.api()
            assert deps.alerts is alerts and deps.prometheus_text is not None
            families = {f.name: f for f in text_string_to_metric_families(deps.prometheus_text())}
            raised = {(s.labels["severity"], s.labels["source"]): s.value
                      for s in families["vistter_alerts_raised"].samples
                      if s.name == "vistter_alerts_raised_total"}  # fmt: skip
            assert raised == {("warning", "camera-1"): 1.0, ("info", "encoder"): 1.0}
            active = {s.labels["severity"]: s.value
                      for s in families["vistter_alerts_active"].samples}
            assert active == {"critical": 0.0, "warning": 1.0, "info": 1.0}
            assert monitoring.health()["state"] == "unknown"  # no stream reading yet
        finally:
            monitoring.close()
        bus.publish(ALERT_TOPIC, {"message": "after close"})  # not routed any more
        assert alerts.listing("all")[1] == 2
        with db.read() as connection:
            assert connection.execute("SELECT count(*) FROM alerts").fetchone()[0] == 2


@dataclass
class Program:
    horizon: int


@dataclass
class Settings:
    lookahead: float


@dataclass
class ShowState:
    armed: int

    def armed_through(self) -> int:
        return self.armed


@dataclass
class Context:
    show: ShowState
    program: Program
    settings: Settings

    def frames(self, seconds: float) -> int:
        return int(seconds * 30)


def test_buffer_fullness_is_the_armed_share_of_the_lookahead() -> None:
    context = Context(ShowState(armed=1045), Program(horizon=1000), Settings(lookahead=3.0))
    fullness = show_buffer(context)
    assert fullness() == 50.0  # 45 of 90 frames armed ahead
    context.show.armed = 1200
    assert fullness() == 100.0
    context.show.armed = 990  # behind the program: nothing ahead
    assert fullness() == 0.0
    context.show.armed = NO_LIMIT  # no show plays: nothing to arm
    assert fullness() is None
