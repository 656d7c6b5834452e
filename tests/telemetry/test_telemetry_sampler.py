"""SystemSampler on a FakeClock, SystemProbe on the real machine."""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from collections import namedtuple
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]
import pykka
import pytest

from vistter.clock import FakeClock
from vistter.supervisors.link import ExitReason, Link
from vistter.telemetry import Metrics, SystemProbe, SystemSampler, TelemetryBus
from vistter.telemetry.sampler import cpu_temperature

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def listen(bus: TelemetryBus, topic: str) -> queue.Queue[dict[str, Any]]:
    received: queue.Queue[dict[str, Any]] = queue.Queue()
    bus.add_listener(lambda t, payload: received.put(payload) if t == topic else None)
    return received


def test_sampler_publishes_metrics_system_on_the_fake_clock(tmp_path: Path) -> None:
    fake = FakeClock()
    bus = TelemetryBus()
    metrics = Metrics()
    samples = listen(bus, "metrics.system")
    link = Link("test/sampler", clock=fake)
    ref = SystemSampler.start(link, bus, 5.0, metrics=metrics, data_dir=tmp_path)
    assert link.ready.wait(10)
    assert fake.pending() == 1
    fake.advance(4.9)
    assert samples.empty()

    fake.advance(0.1)
    first = samples.get(timeout=10)
    assert fake.pending() == 1  # re-armed before publishing
    assert 0.0 <= first["cpu_percent"] <= 100.0
    assert first["cpu_count"] >= 1
    assert first["memory_total_bytes"] > 0
    assert 0 < first["memory_available_bytes"] <= first["memory_total_bytes"]
    assert first["disk_path"] == str(tmp_path)
    assert first["disk_free_bytes"] is not None
    assert first["disk_free_bytes"] > 0
    assert first["process_rss_bytes"] > 0
    assert first["process_pid"] > 0
    assert first["interval_s"] == 5.0
    assert first["cpu_temperature_c"] is None or isinstance(first["cpu_temperature_c"], float)

    fake.advance(5.0)
    second = samples.get(timeout=10)
    assert second["process_rss_bytes"] > 0

    snapshot = metrics.snapshot()["metrics"]
    assert snapshot["vistter.system.memory.available"]["kind"] == "gauge"
    assert snapshot["vistter.system.memory.available"]["points"][0]["value"] > 0
    assert snapshot["vistter.process.memory.rss"]["unit"] == "By"
    assert "vistter_system_cpu_utilization_percent" in metrics.prometheus_text()

    ref.stop()
    assert link.exited.wait(10)
    assert fake.pending() == 0  # the timer was cancelled
    fake.advance(10.0)
    assert samples.empty()


def test_sampler_rejects_a_non_positive_interval() -> None:
    link = Link("test/sampler", clock=FakeClock())
    SystemSampler.start(link, TelemetryBus(), 0.0)
    assert link.exited.wait(10)
    assert link.exit is not None
    assert link.exit.reason is ExitReason.START_FAILED
    assert "system_interval" in (link.exit.error or "")


def test_probe_counts_child_processes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        probe = SystemProbe()
        deadline = time.monotonic() + 10
        sample = probe.sample()
        while sample.children_count < 1 and time.monotonic() < deadline:
            sample = probe.sample()
        assert sample.children_count >= 1
        assert sample.children_rss_bytes > 0
        assert sample.children_cpu_percent >= 0.0
    finally:
        child.terminate()
        child.wait(timeout=10)


def test_probe_survives_an_unreadable_data_dir(tmp_path: Path) -> None:
    sample = SystemProbe(tmp_path / "missing").sample()
    assert sample.disk_free_bytes is None
    assert sample.disk_path == str(tmp_path / "missing")


Temp = namedtuple("Temp", "label current high critical")


def test_cpu_temperature_without_sensors(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> dict[str, list[Temp]]:
        raise OSError("no hwmon")

    monkeypatch.setattr(psutil, "sensors_temperatures", broken, raising=False)
    assert cpu_temperature() is None
    monkeypatch.setattr(psutil, "sensors_temperatures", dict, raising=False)
    assert cpu_temperature() is None
    monkeypatch.delattr(psutil, "sensors_temperatures", raising=False)
    assert cpu_temperature() is None


def test_cpu_temperature_prefers_the_cpu_chip(monkeypatch: pytest.MonkeyPatch) -> None:
    chips = {
        "nvme": [Temp("Composite", 70.0, None, None)],
        "acpitz": [Temp("", 40.0, None, None)],
        "coretemp": [Temp("Package id 0", 55.0, 80, 100), Temp("Core 0", 53.0, 80, 100)],
    }
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: chips, raising=False)
    assert cpu_temperature() == 55.0
