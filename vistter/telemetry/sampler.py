"""The system sampler: how the box itself is doing, every few seconds.

:class:`SystemProbe` reads psutil (CPU, load, memory, disk, CPU temperature, and this
process with its child processes, i.e. the ffmpegs); :class:`SystemSampler` is the actor
that runs it on a timer, publishes ``metrics.system`` on the bus and records the figures as
OpenTelemetry gauges.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]

from vistter.clock import Timer
from vistter.errors import ConfigError
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.metrics import Metrics
from vistter.telemetry.topics import SYSTEM_METRICS_TOPIC

logger = logging.getLogger(__name__)

# Chips that report the CPU itself, in order of preference (Intel, Raspberry Pi, AMD, ARM SoCs,
# then ACPI's thermal zone as a last resort).
_CPU_SENSORS = (
    "coretemp", "cpu_thermal", "cpu-thermal", "k10temp", "zenpower", "soc_thermal", "acpitz",
)

# sample field -> (OpenTelemetry gauge name, unit, description)
_GAUGES: dict[str, tuple[str, str, str]] = {
    "cpu_percent": ("vistter.system.cpu.utilization", "%", "Machine-wide CPU busy share."),
    "load_1m": ("vistter.system.load.1m", "", "Load average over 1 minute."),
    "load_5m": ("vistter.system.load.5m", "", "Load average over 5 minutes."),
    "load_15m": ("vistter.system.load.15m", "", "Load average over 15 minutes."),
    "memory_used_bytes": ("vistter.system.memory.used", "By", "Memory in use."),
    "memory_available_bytes": (
        "vistter.system.memory.available", "By", "Memory available without swapping."
    ),
    "memory_percent": ("vistter.system.memory.utilization", "%", "Memory in use, share."),
    "disk_free_bytes": ("vistter.system.disk.free", "By", "Free space where data is kept."),
    "cpu_temperature_c": ("vistter.system.cpu.temperature", "Cel", "CPU temperature."),
    "process_rss_bytes": ("vistter.process.memory.rss", "By", "Resident memory of Vistter."),
    "process_cpu_percent": (
        "vistter.process.cpu.utilization", "%", "CPU used by Vistter, in % of one core."
    ),
    "children_count": ("vistter.process.children", "", "Child processes (ffmpeg and co)."),
    "children_rss_bytes": (
        "vistter.process.children.memory.rss", "By", "Resident memory of child processes."
    ),
    "children_cpu_percent": (
        "vistter.process.children.cpu.utilization",
        "%",
        "CPU used by child processes, in % of one core.",
    ),
}


@dataclasses.dataclass(frozen=True)
class SystemSample:
    """One reading. Percentages are of one core for processes (so 150.0 is 1.5 cores) and of
    the whole machine for ``cpu_percent``. A figure the platform cannot give is None."""

    cpu_percent: float
    cpu_count: int
    load_1m: float | None
    load_5m: float | None
    load_15m: float | None
    memory_total_bytes: int
    memory_used_bytes: int
    memory_available_bytes: int
    memory_percent: float
    disk_path: str | None
    disk_total_bytes: int | None
    disk_free_bytes: int | None
    cpu_temperature_c: float | None
    process_pid: int
    process_rss_bytes: int
    process_cpu_percent: float
    children_count: int
    children_rss_bytes: int
    children_cpu_percent: float

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class SystemProbe:
    """Reads the figures. Keeps the previous CPU counters, so percentages cover the time
    since the previous :meth:`sample` (or since construction). Not thread-safe: one owner."""

    def __init__(self, data_dir: str | Path | None = None, pid: int | None = None) -> None:
        self._data_dir = str(data_dir) if data_dir is not None else None
        self._process = psutil.Process(pid if pid is not None else os.getpid())
        self._cpu_times = psutil.cpu_times()
        self._children: dict[int, psutil.Process] = {}
        self._process.cpu_percent(None)
        self._disk_warned = False

    def sample(self) -> SystemSample:
        now = psutil.cpu_times()
        cpu_percent = _busy_percent(self._cpu_times, now)
        self._cpu_times = now
        load = _load_average()
        memory = psutil.virtual_memory()
        disk_total, disk_free = self._disk()
        children_count, children_rss, children_cpu = self._read_children()
        return SystemSample(
            cpu_percent=cpu_percent,
            cpu_count=psutil.cpu_count() or 1,
            load_1m=load[0] if load else None,
            load_5m=load[1] if load else None,
            load_15m=load[2] if load else None,
            memory_total_bytes=int(memory.total),
            memory_used_bytes=int(memory.used),
            memory_available_bytes=int(memory.available),
            memory_percent=float(memory.percent),
            disk_path=self._data_dir,
            disk_total_bytes=disk_total,
            disk_free_bytes=disk_free,
            cpu_temperature_c=cpu_temperature(),
            process_pid=self._process.pid,
            process_rss_bytes=int(self._process.memory_info().rss),
            process_cpu_percent=float(self._process.cpu_percent(None)),
            children_count=children_count,
            children_rss_bytes=children_rss,
            children_cpu_percent=children_cpu,
        )

    def _disk(self) -> tuple[int | None, int | None]:
        if self._data_dir is None:
            return None, None
        try:
            usage = psutil.disk_usage(self._data_dir)
        except OSError as exc:
            if not self._disk_warned:
                logger.warning("cannot read free space of %s: %s", self._data_dir, exc)
                self._disk_warned = True
            return None, None
        return int(usage.total), int(usage.free)

    def _read_children(self) -> tuple[int, int, float]:
        try:
            current = self._process.children(recursive=True)
        except psutil.Error:
            current = []
        seen: dict[int, psutil.Process] = {}
        rss = 0
        cpu = 0.0
        for child in current:
            known = self._children.get(child.pid)
            if known is None or known != child:  # new, or the pid was reused
                known = child
            try:
                with known.oneshot():
                    rss += int(known.memory_info().rss)
                    cpu += float(known.cpu_percent(None))  # 0.0 on the first reading
            except psutil.Error:
                continue
            seen[child.pid] = known
        self._children = seen
        return len(seen), rss, cpu


def cpu_temperature() -> float | None:
    """The CPU temperature in Celsius, or None where psutil has no (known) CPU sensor."""
    read = getattr(psutil, "sensors_temperatures", None)
    if read is None:
        return None
    try:
        chips = read()
    except Exception:  # sensors drivers fail in creative ways; a reading is optional
        return None
    for name in _CPU_SENSORS:
        readings = [entry.current for entry in chips.get(name, []) if entry.current is not None]
        if readings:
            return float(max(readings))
    return None


def _load_average() -> tuple[float, float, float] | None:
    with contextlib.suppress(OSError, AttributeError):
        one, five, fifteen = psutil.getloadavg()
        return float(one), float(five), float(fifteen)
    return None


def _busy_percent(before: Any, after: Any) -> float:
    """Machine-wide busy share between two ``psutil.cpu_times()`` readings (own state, so
    other users of ``psutil.cpu_percent`` do not disturb it)."""

    def totals(times: Any) -> tuple[float, float]:
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        idle = times.idle + getattr(times, "iowait", 0.0)
        return total, idle

    total_before, idle_before = totals(before)
    total_after, idle_after = totals(after)
    elapsed = total_after - total_before
    if elapsed <= 0:
        return 0.0
    busy = elapsed - (idle_after - idle_before)
    return round(min(100.0, max(0.0, 100.0 * busy / elapsed)), 1)


class _Sample:
    """Timer tick: take a sample now."""


class SystemSampler(SupervisedActor):
    """Publishes a :class:`SystemSample` on ``metrics.system`` every ``interval`` seconds.

    The timer runs on ``link.clock`` and only tells the actor; sampling happens in the
    actor's thread. ``sample_now()`` may be asked through a proxy.
    """

    def __init__(
        self,
        link: Link,
        bus: TelemetryBus,
        interval: float,
        *,
        metrics: Metrics | None = None,
        data_dir: str | Path | None = None,
    ) -> None:
        super().__init__(link)
        self._bus = bus
        self._interval = interval
        self._metrics = metrics
        self._data_dir = data_dir
        self._probe: SystemProbe | None = None
        self._timer: Timer | None = None

    def setup(self) -> None:
        """Prime the CPU counters and arm the first tick. Runs in the actor's thread; raises
        :class:`~vistter.errors.ConfigError` for an interval that is not positive."""
        if not self._interval > 0:
            raise ConfigError(
                f"system sampling interval must be positive, got {self._interval!r}.",
                hint="Set `system_interval` in the `[telemetry]` section to e.g. 5 seconds.",
            )
        self._probe = SystemProbe(self._data_dir)
        self._arm()

    def teardown(self) -> None:
        """Cancel the pending tick. Runs in the actor's thread (supervisor's when hung)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_receive(self, message: Any) -> Any:
        """Handle a tick: re-arm first (so the period does not drift by the sampling time),
        then sample and publish. Runs in the actor's thread; a psutil failure crashes the
        actor and its supervisor restarts it."""
        if isinstance(message, _Sample):
            self._arm()
            self.sample_now()
            return None
        return super().on_receive(message)

    def sample_now(self) -> dict[str, Any]:
        """Take, publish and record one sample; returns its payload."""
        if self._probe is None:
            self._probe = SystemProbe(self._data_dir)
        sample = self._probe.sample()
        payload = sample.to_payload()
        payload["interval_s"] = self._interval
        self._bus.publish(SYSTEM_METRICS_TOPIC, payload)
        if self._metrics is not None:
            record_sample(self._metrics, sample)
        return payload

    def _arm(self) -> None:
        self._timer = self.post_later(self._interval, _Sample())


def record_sample(metrics: Metrics, sample: SystemSample) -> None:
    """Set the system gauges from ``sample``; figures that are None are left alone."""
    for field, (name, unit, description) in _GAUGES.items():
        value = getattr(sample, field)
        if value is not None:
            metrics.gauge(name, unit=unit, description=description).set(value)
