"""Telemetry: the ZeroMQ + msgpack bus, the system sampler and OpenTelemetry metrics.

Actors publish through the :class:`TelemetryBus` (the process's ``EventSink``); the
:class:`TelemetryPublisher` actor puts messages on a ZeroMQ PUB socket; the
:class:`SystemSampler` actor publishes ``metrics.system``; :class:`Metrics` keeps the
OpenTelemetry instruments the API exposes as JSON and as Prometheus text (``/metrics``,
:mod:`vistter.telemetry.prometheus`); the :class:`StreamSampler` actor publishes the spec's
``STREAM_METRICS`` and their :func:`check_stream_health` every second. Every topic name
published on the bus is in :mod:`vistter.telemetry.topics`.
"""

from vistter.telemetry.bus import Publish, TelemetryBus
from vistter.telemetry.codec import TelemetryDecodeError, TelemetryMessage, decode, encode, to_wire
from vistter.telemetry.health import HealthThresholds, StreamHealth, check_stream_health
from vistter.telemetry.metrics import Metrics, MetricsError
from vistter.telemetry.publisher import DEFAULT_ENDPOINT, TelemetryBindError, TelemetryPublisher
from vistter.telemetry.sampler import SystemProbe, SystemSample, SystemSampler
from vistter.telemetry.stream import STREAM_FIELDS, StreamInputs, StreamSampler, StreamTargets
from vistter.telemetry.subscriber import (
    GapCounter,
    TelemetryConnectError,
    TelemetrySubscriber,
    run_telemetry_cli,
)

__all__ = [
    "DEFAULT_ENDPOINT",
    "STREAM_FIELDS",
    "GapCounter",
    "HealthThresholds",
    "Metrics",
    "MetricsError",
    "Publish",
    "StreamHealth",
    "StreamInputs",
    "StreamSampler",
    "StreamTargets",
    "SystemProbe",
    "SystemSample",
    "SystemSampler",
    "TelemetryBindError",
    "TelemetryBus",
    "TelemetryConnectError",
    "TelemetryDecodeError",
    "TelemetryMessage",
    "TelemetryPublisher",
    "TelemetrySubscriber",
    "check_stream_health",
    "decode",
    "encode",
    "run_telemetry_cli",
    "to_wire",
]
