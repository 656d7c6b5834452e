"""OpenTelemetry metrics, kept in memory for the control API.

:class:`Metrics` owns its own ``MeterProvider`` (never the global one, so tests and several
appliances in one process do not see each other) with an in-memory reader. The API shows a
JSON :meth:`Metrics.snapshot` and a Prometheus text exposition
(:meth:`Metrics.prometheus_text`, written by ``prometheus_client`` from a registry of this
instance's own, see :mod:`vistter.telemetry.prometheus`) built from the same data points.

Instruments are created by name through :meth:`counter`, :meth:`up_down_counter`,
:meth:`gauge` and :meth:`histogram`; asking again for a name returns the same instrument.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from opentelemetry.metrics import Counter, Histogram, UpDownCounter
from opentelemetry.metrics import _Gauge as Gauge
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Gauge as GaugeData,
)
from opentelemetry.sdk.metrics.export import (
    Histogram as HistogramData,
)
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.resources import Resource

from vistter.errors import VistterError
from vistter.telemetry.payloads import HistogramBucket, MetricPayload, MetricPoint, MetricsSnapshot
from vistter.telemetry.prometheus import own_registry, render

RESTARTS = "vistter.supervision.restarts"

_I = TypeVar("_I")


class MetricsError(VistterError):
    """An instrument was asked for under a name that already belongs to another kind."""


class Metrics:
    """The appliance's metric instruments and their current values.

    Thread-safety: every method may be called from any thread; recording is lock-free in the
    OpenTelemetry SDK and never blocks on I/O.
    """

    def __init__(self, *, service_name: str = "vistter") -> None:
        self._reader = InMemoryMetricReader()
        self._provider = MeterProvider(
            metric_readers=[self._reader],
            resource=Resource({"service.name": service_name}),
            shutdown_on_exit=False,
        )
        self._meter = self._provider.get_meter("vistter")
        self._lock = threading.Lock()
        self._instruments: dict[str, _Known] = {}
        self._registry = own_registry(self.snapshot)
        self.restarts = self.counter(
            RESTARTS, unit="{restart}", description="Child restarts performed by supervisors."
        )

    # -- instruments ---------------------------------------------------------------------

    def counter(self, name: str, *, unit: str = "", description: str = "") -> Counter:
        """A monotonic counter (``add`` only non-negative amounts)."""
        return self._instrument(
            "counter", name, unit, description,
            lambda: self._meter.create_counter(name, unit, description),
        )

    def up_down_counter(
        self, name: str, *, unit: str = "", description: str = ""
    ) -> UpDownCounter:
        """A counter that may go down (queue depth, connected clients)."""
        return self._instrument(
            "up_down_counter", name, unit, description,
            lambda: self._meter.create_up_down_counter(name, unit, description),
        )

    def gauge(self, name: str, *, unit: str = "", description: str = "") -> Gauge:
        """A gauge: ``set`` records the current value; the last one is reported."""
        return self._instrument(
            "gauge", name, unit, description,
            lambda: self._meter.create_gauge(name, unit, description),
        )

    def histogram(
        self,
        name: str,
        *,
        unit: str = "",
        description: str = "",
        boundaries: Sequence[float] | None = None,
    ) -> Histogram:
        """A histogram with explicit bucket ``boundaries`` (the SDK's default if None)."""
        return self._instrument(
            "histogram", name, unit, description,
            lambda: self._meter.create_histogram(
                name, unit, description, explicit_bucket_boundaries_advisory=boundaries
            ),
        )

    def record_restart(self, supervisor: str, child: str) -> None:
        """Count one restart of ``child`` by ``supervisor`` (paths or ids)."""
        self.restarts.add(1, {"supervisor": supervisor, "child": child})

    # -- reading -------------------------------------------------------------------------

    def snapshot(self) -> MetricsSnapshot:
        """Current values as JSON-ready data; an instrument with no measurement yet is
        listed with no points.

        ``{"time": unix_seconds, "metrics": {name: {"kind", "unit", "description",
        "points": [...]}}}`` where ``kind`` is ``counter``, ``up_down_counter``, ``gauge`` or
        ``histogram``; a counter or gauge point is ``{"attributes", "value"}``, a histogram
        point ``{"attributes", "count", "sum", "min", "max", "buckets": [{"le", "count"}]}``
        with cumulative bucket counts, the last ``le`` being ``"+Inf"``.
        """
        data = self._reader.get_metrics_data()
        with self._lock:
            known = dict(self._instruments)
        metrics: dict[str, MetricPayload] = {
            name: {"kind": k.kind, "unit": k.unit, "description": k.description, "points": []}
            for name, k in sorted(known.items())
        }
        if data is not None:
            for resource_metrics in data.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        metrics[metric.name] = {
                            "kind": _kind(metric.data),
                            "unit": metric.unit or "",
                            "description": metric.description or "",
                            "points": [_point(point) for point in metric.data.data_points],
                        }
        return {"time": time.time(), "metrics": metrics}

    def prometheus_text(self) -> str:
        """The current values in the Prometheus text exposition format (version 0.0.4)."""
        return render(self._registry)

    def shutdown(self) -> None:
        """Release the SDK's resources; instruments record nothing afterwards."""
        self._provider.shutdown()

    # -- internals -----------------------------------------------------------------------

    def _instrument(
        self, kind: str, name: str, unit: str, description: str, create: Callable[[], _I]
    ) -> _I:
        with self._lock:
            known = self._instruments.get(name)
            if known is not None:
                if known.kind != kind:
                    raise MetricsError(
                        f"metric {name!r} already exists as a {known.kind}, not a {kind}.",
                        hint="Give the new instrument a different name.",
                    )
                return cast(_I, known.instrument)
            instrument = create()
            self._instruments[name] = _Known(kind, unit, description, instrument)
            return instrument


@dataclass(frozen=True)
class _Known:
    kind: str
    unit: str
    description: str
    instrument: Any


def _kind(data: Any) -> str:
    if isinstance(data, Sum):
        return "counter" if data.is_monotonic else "up_down_counter"
    if isinstance(data, GaugeData):
        return "gauge"
    if isinstance(data, HistogramData):
        return "histogram"
    return type(data).__name__.lower()


def _point(point: Any) -> MetricPoint:
    attributes = dict(point.attributes or {})
    if isinstance(point, NumberDataPoint):
        return {"attributes": attributes, "value": point.value}
    if isinstance(point, HistogramDataPoint):
        buckets: list[HistogramBucket] = []
        running = 0
        bounds: list[float | str] = [*point.explicit_bounds, "+Inf"]
        for bound, count in zip(bounds, point.bucket_counts, strict=False):
            running += count
            buckets.append({"le": bound, "count": running})
        return {
            "attributes": attributes,
            "count": point.count,
            "sum": point.sum,
            "min": point.min if point.count else None,
            "max": point.max if point.count else None,
            "buckets": buckets,
        }
    return {"attributes": attributes}
