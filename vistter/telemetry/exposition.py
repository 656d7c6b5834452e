"""Prometheus text exposition (format 0.0.4) of a :meth:`Metrics.snapshot`.

Written by hand so that no exporter registers itself in a process-wide registry. Names follow
the OpenTelemetry-to-Prometheus conventions: dots become underscores, the unit becomes a
suffix (``By`` -> ``_bytes``, ``s`` -> ``_seconds``, ...), counters end in ``_total``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

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
}
_PROM_TYPE = {
    "counter": "counter",
    "up_down_counter": "gauge",
    "gauge": "gauge",
    "histogram": "histogram",
}


def metric_name(name: str, unit: str, kind: str) -> str:
    """The Prometheus name of an OpenTelemetry metric."""
    base = _INVALID_NAME.sub("_", name)
    if base[:1].isdigit():
        base = "_" + base
    suffix = _UNIT_SUFFIX.get(unit, "")
    if suffix and not base.endswith("_" + suffix):
        base = f"{base}_{suffix}"
    if kind == "counter" and not base.endswith("_total"):
        base += "_total"
    return base


def render_prometheus(snapshot: Mapping[str, Any]) -> str:
    """``snapshot`` (see ``Metrics.snapshot``) as Prometheus text, one family per metric."""
    lines: list[str] = []
    for name, metric in sorted(snapshot.get("metrics", {}).items()):
        kind = str(metric.get("kind", "gauge"))
        prom_type = _PROM_TYPE.get(kind, "untyped")
        family = metric_name(name, str(metric.get("unit", "")), kind)
        description = str(metric.get("description", "")) or name
        lines.append(f"# HELP {family} {_escape_help(description)}")
        lines.append(f"# TYPE {family} {prom_type}")
        for point in metric.get("points", []):
            attributes = point.get("attributes", {})
            if prom_type == "histogram":
                lines.extend(_histogram_lines(family, attributes, point))
            elif "value" in point:
                lines.append(f"{family}{_labels(attributes)} {_number(point['value'])}")
    return "\n".join(lines) + "\n" if lines else ""


def _histogram_lines(family: str, attributes: Mapping[str, Any], point: Any) -> list[str]:
    lines = []
    for bucket in point.get("buckets", []):
        le = bucket["le"]
        le_text = "+Inf" if le == "+Inf" else _number(le)
        labels = _labels(attributes, extra=("le", le_text))
        lines.append(f"{family}_bucket{labels} {_number(bucket['count'])}")
    lines.append(f"{family}_sum{_labels(attributes)} {_number(point.get('sum', 0))}")
    lines.append(f"{family}_count{_labels(attributes)} {_number(point.get('count', 0))}")
    return lines


def _labels(attributes: Mapping[str, Any], extra: tuple[str, str] | None = None) -> str:
    pairs = [
        (_label_name(str(key)), _escape_value(_label_text(value)))
        for key, value in sorted(attributes.items())
    ]
    if extra is not None:
        pairs.append((extra[0], _escape_value(extra[1])))
    if not pairs:
        return ""
    return "{" + ",".join(f'{key}="{value}"' for key, value in pairs) + "}"


def _label_name(key: str) -> str:
    name = _INVALID_LABEL.sub("_", key)
    return "_" + name if name[:1].isdigit() else name


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)
