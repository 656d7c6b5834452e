"""``/metrics``: the OpenTelemetry instruments of :class:`~vistter.telemetry.metrics.Metrics`
in the Prometheus text format, written by ``prometheus_client``.

:class:`SnapshotCollector` is a ``prometheus_client`` collector that reads the metrics'
snapshot at each scrape; each :class:`~vistter.telemetry.metrics.Metrics` registers it in
a ``CollectorRegistry`` of its own (never the process-wide ``REGISTRY``, so tests and
several appliances in one process do not see each other). Names follow the
OpenTelemetry-to-Prometheus conventions (:func:`metric_name`): dots become underscores, the
unit becomes a suffix (``By`` -> ``_bytes``, ``s`` -> ``_seconds``...), counters end in
``_total``. Label names are made valid the same way; label values are escaped by the library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "SnapshotCollector", "metric_name", "own_registry", "render"]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format 0.0.4, which every Prometheus version scrapes."""

_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")
_UNIT_SUFFIX = {
    "By": "bytes",
    "s": "seconds",
    "ms": "milliseconds",
    "%": "percent",
    "Cel": "celsius",
    "1": "ratio",
    "Hz": "hertz",
    "bit/s": "bits_per_second",
    "By/s": "bytes_per_second",
    "Mbit/s": "megabits_per_second",
}


def metric_name(name: str, unit: str, kind: str) -> str:
    """The Prometheus name of an OpenTelemetry metric (with ``_total`` for a counter)."""
    base = _INVALID_NAME.sub("_", name)
    if base[:1].isdigit():
        base = "_" + base
    suffix = _UNIT_SUFFIX.get(unit, "")
    if suffix and not base.endswith("_" + suffix):
        base = f"{base}_{suffix}"
    if kind == "counter" and not base.endswith("_total"):
        base += "_total"
    return base


class SnapshotCollector(Collector):
    """Turns ``snapshot()`` (see ``Metrics.snapshot``) into metric families at each scrape.

    ``collect`` runs in the scraping thread (the API's worker pool); the snapshot call is
    thread-safe.
    """

    def __init__(self, snapshot: Callable[[], Mapping[str, Any]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        for name, metric in sorted(self._snapshot().get("metrics", {}).items()):
            yield _family(name, metric)


def own_registry(snapshot: Callable[[], Mapping[str, Any]]) -> CollectorRegistry:
    """A registry of its own holding one :class:`SnapshotCollector` (no process metrics:
    the system sampler's gauges cover the box and its ffmpegs)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return registry


def render(registry: CollectorRegistry) -> str:
    """The registry in the Prometheus text format 0.0.4 (:data:`CONTENT_TYPE`)."""
    return generate_latest(registry).decode("utf-8")


def _family(name: str, metric: Mapping[str, Any]) -> Metric:
    kind = str(metric.get("kind", "gauge"))
    unit = str(metric.get("unit", ""))
    documentation = str(metric.get("description", "")) or name
    points = list(metric.get("points", []))
    labels = sorted({_label_name(str(key)) for p in points for key in p.get("attributes", {})})
    family_name = metric_name(name, unit, kind)
    if kind == "histogram":
        histogram = HistogramMetricFamily(family_name, documentation, labels=labels)
        for point in points:
            buckets = [
                ("+Inf" if b["le"] == "+Inf" else _bound(b["le"]), float(b["count"]))
                for b in point.get("buckets", [])
            ]
            histogram.add_metric(_values(labels, point), buckets, float(point.get("sum") or 0))
        return histogram
    family: CounterMetricFamily | GaugeMetricFamily
    if kind == "counter":
        family = CounterMetricFamily(family_name, documentation, labels=labels)
    else:  # gauges and up-down counters
        family = GaugeMetricFamily(family_name, documentation, labels=labels)
    for point in points:
        if "value" in point:
            family.add_metric(_values(labels, point), _number(point["value"]))
    return family


def _values(labels: list[str], point: Mapping[str, Any]) -> list[str]:
    attributes = {
        _label_name(str(key)): _label_text(value)
        for key, value in point.get("attributes", {}).items()
    }
    return [attributes.get(label, "") for label in labels]


def _label_name(key: str) -> str:
    name = _INVALID_LABEL.sub("_", key)
    return "_" + name if name[:1].isdigit() else name


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bound(value: Any) -> str:
    return repr(float(value))


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value)
