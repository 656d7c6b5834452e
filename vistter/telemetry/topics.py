"""Every topic published on the telemetry bus, by name, in one place.

A subscriber filters by topic prefix (``vistter telemetry --topic event.``), so these strings
are part of the public interface: the operator's page, ``vistter telemetry`` and any
external consumer read them. Publishers import the constant; nobody spells a topic twice.

The supervision topic is defined by the OTP runtime (:mod:`vistter.supervisors`, which
imports no domain package) and only re-exported here.
"""

from __future__ import annotations

from typing import Final

from vistter.supervisors.supervisor import SUPERVISION_TOPIC

__all__ = [
    "ALERT_TOPIC",
    "CAMERA_TOPIC",
    "DESTINATION_TOPIC",
    "PROGRAM_METRICS_TOPIC",
    "SHOW_TOPIC",
    "SOURCE_TOPIC",
    "STREAM_METRICS_TOPIC",
    "SUPERVISION_TOPIC",
    "SYSTEM_METRICS_TOPIC",
    "TELEMETRY_TOPIC",
]

ALERT_TOPIC: Final = "alert"
"""Something an operator should look at (a camera down and what replaced it, a destination
failing, the disk low...). Modules publish *reports* here (``severity``, ``kind``, ``source``,
``message``, ``hint``; see :mod:`vistter.alerts.model`); in the appliance the alert service
routes the topic to itself, so what reaches the wire is one message per change of an alert:
``event`` (raised, updated, cleared, acknowledged), ``id``, ``severity`` (info, warning,
critical), ``kind``, ``source``, ``message``, ``remediation``, times, ``active``,
``acknowledged``."""

CAMERA_TOPIC: Final = "event.camera"
"""A camera's health changed (connecting, online, stalled, offline)."""

SOURCE_TOPIC: Final = "event.source"
"""A media source's (still, video file, slate) health changed."""

DESTINATION_TOPIC: Final = "event.destination"
"""A destination's or recorder's state changed (connecting, live, retrying, failed...)."""

SHOW_TOPIC: Final = "event.show"
"""The show (orchestrator and track executors) did something: go-live, cue armed, ..."""

TELEMETRY_TOPIC: Final = "event.telemetry"
"""The bus itself: messages dropped from its backlog before the publisher was attached."""

STREAM_METRICS_TOPIC: Final = "metrics.stream"
"""Encoder and fanout counters, every second (``component``: ``encoder`` / ``fanout``), and
the spec's ``STREAM_METRICS`` with the stream's health (``component``: ``stream``, see
:mod:`vistter.telemetry.stream`)."""

PROGRAM_METRICS_TOPIC: Final = "metrics.program"
"""The program mixer's counters, every second."""

SYSTEM_METRICS_TOPIC: Final = "metrics.system"
"""CPU, memory, temperature and disk of the appliance."""
