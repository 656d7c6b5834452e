"""What an alert is, and how a report on the ``alert`` topic becomes one.

An :class:`AlertReport` is what a part of the appliance says ("camera 2 is down"); the
:class:`~vistter.alerts.service.AlertService` turns reports into :class:`Alert` records: one
per *condition* (its :attr:`AlertReport.key`: source, kind and an optional subject), raised
once, updated while the condition lasts, cleared when it ends, acknowledged by an operator.

Reports arrive as plain payloads on the bus topic ``alert`` (every module that publishes
there today keeps doing so); :func:`parse_report` reads them leniently, because a report
must never be lost for a missing field:

* ``severity``: ``info``, ``warning`` or ``critical`` (``error`` reads as ``critical``);
* ``kind``: what happened (``source_down``, ``destination_failed``, ...); ``condition``, when
  given, names the condition instead (the fallback's ``source_fallback`` report is about
  the condition ``source_down``);
* ``source``: the part concerned; ``camera:2`` is written ``camera-2``;
* ``message``: the sentence an operator reads; ``remediation`` (or ``hint``): what to do;
* ``subject``: tells apart two conditions of one source and kind (two data sources);
* ``resolves``: a kind or a list of kinds of the same source that this report ends;
* ``cleared``: true when the report only says that the condition ``kind`` ended.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vistter.alerts.payloads import AlertPayload

__all__ = ["SEVERITIES", "Alert", "AlertReport", "Severity", "parse_report"]

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")

_SEVERITY_ALIASES: dict[str, Severity] = {
    "info": "info", "notice": "info", "warning": "warning", "warn": "warning",
    "error": "critical", "critical": "critical", "fatal": "critical",
}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
_MAX_TEXT = 2000
_KNOWN = frozenset({
    "severity", "kind", "condition", "source", "message", "remediation", "hint", "subject",
    "resolves", "cleared", "event",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class AlertReport:
    """One statement about a condition. ``details`` keeps the report's other fields
    (``on_air``, ``preset``...) for the page and webhooks."""

    kind: str
    source: str
    message: str
    severity: Severity = "warning"
    remediation: str = ""
    subject: str = ""
    cleared: bool = False
    resolves: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The condition this report is about: ``source/kind`` (``/subject`` when given)."""
        return _key(self.source, self.kind, self.subject)

    def resolved_keys(self) -> tuple[str, ...]:
        """The conditions this report ends (its own when ``cleared``)."""
        kinds = (self.kind, *self.resolves) if self.cleared else self.resolves
        return tuple(_key(self.source, kind, self.subject) for kind in kinds)


@dataclass(frozen=True, slots=True)
class Alert:
    """One condition an operator should know about, from raised to cleared.

    Times are Unix seconds. ``repeats`` counts the reports that arrived while it was
    active (deduplicated: the same condition is one alert). ``resolution`` is the message
    of the report that cleared it, if any.
    """

    id: int
    key: str
    severity: Severity
    kind: str
    source: str
    message: str
    remediation: str
    raised_at: float
    updated_at: float
    cleared_at: float | None = None
    acknowledged_at: float | None = None
    repeats: int = 0
    resolution: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def to_payload(self, event: str) -> AlertPayload:
        """The alert as the bus, the API and webhooks show it; ``event`` says what just
        happened to it (``raised``, ``updated``, ``cleared``, ``acknowledged``, or
        ``listed``). ``hint`` repeats ``remediation`` for older readers of the topic."""
        return {
            "event": event,
            "id": self.id,
            "key": self.key,
            "severity": self.severity,
            "kind": self.kind,
            "source": self.source,
            "message": self.message,
            "remediation": self.remediation,
            "hint": self.remediation,
            "raised_at": self.raised_at,
            "updated_at": self.updated_at,
            "cleared_at": self.cleared_at,
            "active": self.active,
            "acknowledged": self.acknowledged,
            "acknowledged_at": self.acknowledged_at,
            "repeats": self.repeats,
            "resolution": self.resolution,
            "details": dict(self.details),
        }


def parse_report(payload: Mapping[str, Any]) -> AlertReport:
    """A bus payload on the ``alert`` topic as a report; never raises for a bad field
    (a missing message becomes the kind, an unknown severity ``warning``)."""
    kind = _name(payload.get("condition")) or _name(payload.get("kind")) or "alert"
    source = _name(payload.get("source")) or "vistter"
    message = _text(payload.get("message")) or _text(payload.get("problem")) or kind
    remediation = _text(payload.get("remediation")) or _text(payload.get("hint"))
    severity = _SEVERITY_ALIASES.get(str(payload.get("severity", "")).lower(), "warning")
    resolves_raw = payload.get("resolves") or ()
    if isinstance(resolves_raw, str):
        resolves_raw = (resolves_raw,)
    resolves = tuple(
        name for name in (_name(item) for item in resolves_raw if isinstance(item, str)) if name
    )
    details = _json_safe({key: value for key, value in payload.items() if key not in _KNOWN})
    return AlertReport(
        kind=kind,
        source=source,
        message=message,
        severity=severity,
        remediation=remediation,
        subject=_text(payload.get("subject"))[:200],
        cleared=bool(payload.get("cleared")) or payload.get("event") == "cleared",
        resolves=resolves,
        details=details,
    )


def _json_safe(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` as strict JSON: odd values as text, NaN and infinities as null, so the
    API, the database and webhooks can always write them."""
    try:
        text = json.dumps(details, default=str)
        safe = json.loads(text, parse_constant=lambda _constant: None)
    except (TypeError, ValueError, RecursionError):
        return {}
    return safe if isinstance(safe, dict) else {}


def _key(source: str, kind: str, subject: str) -> str:
    return f"{source}/{kind}" + (f"/{subject}" if subject else "")


def _name(value: object) -> str:
    """``camera:2`` -> ``camera-2``: ids as the page and webhooks use them."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    return _UNSAFE.sub("-", str(value)).strip("-")[:128]


def _text(value: object) -> str:
    return value[:_MAX_TEXT] if isinstance(value, str) else ""
