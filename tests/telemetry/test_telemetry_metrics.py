"""Metrics: OpenTelemetry instruments, JSON snapshot, Prometheus text."""

from __future__ import annotations

import re

import pytest
from opentelemetry import metrics as otel_metrics
from prometheus_client.parser import text_string_to_metric_families

from vistter.telemetry import Metrics, MetricsError
from vistter.telemetry.payloads import MetricPoint
from vistter.telemetry.prometheus import metric_name


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the one sample ``name{labels}`` in a Prometheus text exposition."""
    found = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels == labels
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def points(metrics: Metrics, name: str) -> list[MetricPoint]:
    result: list[MetricPoint] = metrics.snapshot()["metrics"][name]["points"]
    return result


def test_restart_counter_appears_after_increments() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.record_restart("root/sources", "cam-dock")
    metrics.record_restart("root/outputs", "youtube")
    snapshot = metrics.snapshot()
    restarts = snapshot["metrics"]["vistter.supervision.restarts"]
    assert restarts["kind"] == "counter"
    by_child = {p["attributes"]["child"]: p for p in restarts["points"]}
    assert by_child["cam-dock"]["value"] == 3
    assert by_child["cam-dock"]["attributes"]["supervisor"] == "root/sources"
    assert by_child["youtube"]["value"] == 1
    assert isinstance(snapshot["time"], float)

    text = metrics.prometheus_text()
    assert "# TYPE vistter_supervision_restarts_total counter" in text
    expected = 'vistter_supervision_restarts_total{child="cam-dock",supervisor="root/sources"} 3'
    assert expected in text


def test_instruments_by_name_are_reused_and_kinds_do_not_clash() -> None:
    metrics = Metrics()
    counter = metrics.counter("vistter.fanout.dropped", unit="{packet}")
    assert metrics.counter("vistter.fanout.dropped") is counter
    counter.add(2, {"destination": "yt"})
    metrics.counter("vistter.fanout.dropped").add(1, {"destination": "yt"})
    assert points(metrics, "vistter.fanout.dropped")[0]["value"] == 3
    with pytest.raises(MetricsError) as caught:
        metrics.gauge("vistter.fanout.dropped")
    assert "vistter.fanout.dropped" in str(caught.value)


def test_gauges_histograms_and_up_down_counters() -> None:
    metrics = Metrics()
    gauge = metrics.gauge("vistter.program.fps", description="Frames per second on air.")
    gauge.set(29.5)
    gauge.set(30.0)
    clients = metrics.up_down_counter("vistter.api.clients")
    clients.add(2)
    clients.add(-1)
    latency = metrics.histogram("vistter.cue.lateness", unit="s", boundaries=[0.01, 0.1, 1.0])
    for value in (0.005, 0.05, 0.05, 5.0):
        latency.record(value, {"track": "video"})

    snapshot = metrics.snapshot()["metrics"]
    assert snapshot["vistter.program.fps"]["points"][0]["value"] == 30.0
    assert snapshot["vistter.api.clients"]["kind"] == "up_down_counter"
    assert snapshot["vistter.api.clients"]["points"][0]["value"] == 1
    hist = snapshot["vistter.cue.lateness"]["points"][0]
    assert hist["count"] == 4
    assert hist["sum"] == pytest.approx(5.105)
    assert hist["min"] == 0.005
    assert hist["max"] == 5.0
    assert hist["buckets"] == [
        {"le": 0.01, "count": 1},
        {"le": 0.1, "count": 3},
        {"le": 1.0, "count": 3},
        {"le": "+Inf", "count": 4},
    ]

    text = Metrics.prometheus_text(metrics)
    assert "# HELP vistter_program_fps Frames per second on air." in text
    assert "vistter_program_fps 30.0" in text
    assert "# TYPE vistter_api_clients gauge" in text
    # prometheus_client writes labels sorted by name (le before track): compare parsed samples
    assert sample(text, "vistter_cue_lateness_seconds_bucket", track="video", le="0.1") == 3
    assert sample(text, "vistter_cue_lateness_seconds_bucket", track="video", le="+Inf") == 4
    assert 'vistter_cue_lateness_seconds_count{track="video"} 4' in text
    sample_line = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="[^"]*",?)*\})? \S+$')
    assert "# TYPE vistter_supervision_restarts_total counter" in text  # listed, no sample
    for line in text.splitlines():
        assert line.startswith("# ") or sample_line.match(line), line


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.counter("vistter.alerts").add(1, {"message": 'say "hi"\\\nbye', "1bad-key": True})
    text = metrics.prometheus_text()
    assert 'vistter_alerts_total{_1bad_key="true",message="say \\"hi\\"\\\\\\nbye"} 1' in text


def test_instances_are_isolated_and_the_global_provider_is_untouched() -> None:
    before = otel_metrics.get_meter_provider()
    one, two = Metrics(), Metrics()
    one.record_restart("root", "a")
    assert points(one, "vistter.supervision.restarts")[0]["value"] == 1
    assert points(two, "vistter.supervision.restarts") == []
    assert otel_metrics.get_meter_provider() is before
    one.shutdown()
    two.shutdown()


def test_prometheus_names_follow_the_conventions() -> None:
    assert metric_name("vistter.system.memory.used", "By", "gauge") == (
        "vistter_system_memory_used_bytes"
    )
    assert metric_name("vistter.supervision.restarts", "{restart}", "counter") == (
        "vistter_supervision_restarts_total"
    )
    assert metric_name("9lives", "s", "histogram") == "_9lives_seconds"
