"""Payloads of the alerting package, typed so the checker sees their keys.

Built by alerts (published on the ``alert`` topic, served by the API, posted to webhooks)
and by the webhook sender (its counters).
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["AlertPayload", "WebhookStats"]


class AlertPayload(TypedDict):
    """An alert as the bus, the API and webhooks show it (times are Unix seconds; None:
    not yet). ``event`` says what just happened to it; ``hint`` repeats ``remediation``
    for older readers; ``details`` is the free-form context of the report."""

    event: str
    id: int
    key: str
    severity: str
    kind: str
    source: str
    message: str
    remediation: str
    hint: str
    raised_at: float
    updated_at: float
    cleared_at: float | None
    active: bool
    acknowledged: bool
    acknowledged_at: float | None
    repeats: int
    resolution: str
    details: dict[str, Any]


class WebhookStats(TypedDict):
    """Webhooks (scheme and host only), deliveries pending, made, retried, abandoned and
    dropped."""

    webhooks: list[str]
    pending: int
    delivered: int
    retried: int
    abandoned: int
    dropped: int
