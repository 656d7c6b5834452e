"""Status payloads of the appliance itself, typed so the checker sees their keys.

Built by :meth:`vistter.appliance.Appliance.status`; served as JSON by ``GET /api/status``.
"""

from __future__ import annotations

from typing import Any, TypedDict

from vistter.actors.fanout.on_air import AirStatus
from vistter.actors.program.payloads import FallbackRoute, OnAir
from vistter.degraded.state import DegradedStatus
from vistter.telemetry.payloads import StreamHealthPayload

__all__ = ["ApplianceStatus", "EncoderChoicePayload", "ShownOnAir", "SourceHealthPayload"]


class EncoderChoicePayload(TypedDict):
    """The encoder in use and why it was chosen."""

    name: str
    why: str


class ShownOnAir(OnAir):
    """What viewers see: ``source`` is what is on air after the fallback (a backup camera,
    the slate); ``scheduled`` is the source the timeline or the operator asked for."""

    scheduled: str | None


class SourceHealthPayload(TypedDict):
    """One source's health state and its detail line."""

    state: str
    detail: str


class ApplianceStatus(TypedDict):
    """What is on air and how every part of the program is doing (keys masked).

    ``program`` holds the mixer's, the encoder's and the fanout's status by name (or
    ``{"state": "unresponsive"}``); ``sources`` and ``fallback`` are keyed by source id.
    """

    on_air: ShownOnAir
    format: str
    encoder: EncoderChoicePayload
    program: dict[str, Any]
    sources: dict[str, SourceHealthPayload]
    fallback: dict[str, FallbackRoute]
    destinations: list[dict[str, Any]]
    publishing: AirStatus
    health: StreamHealthPayload
    degraded: DegradedStatus | None
    """Degraded mode: level, steps active, reason with figures, since (None: not running)."""
