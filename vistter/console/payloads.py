"""Payloads of the operator console's event stream, typed so the checker sees their keys.

Sent to browsers as Server-Sent Events and in the console's ``hello`` snapshot.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["BusEventPayload"]


class BusEventPayload(TypedDict):
    """One bus message as the console shows it: hub sequence number, topic, wall-clock
    unix time received, and the message's own (free-form) payload."""

    seq: int
    topic: str
    ts: float
    payload: dict[str, Any]
