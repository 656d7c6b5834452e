"""What degraded mode tells the operator: one alert per step, one when it is over.

Every report goes on the ``alert`` topic (see :mod:`vistter.alerts.model`); the alert
service keeps one alert per condition, so the steps of one episode update the same
``degraded_mode`` warning, and the return to the configured encode clears it and raises a
``degraded_recovered`` info alert (which the next episode resolves). Each message says what
happened, with the figures that caused it; each remediation what to do. Pure functions; any
thread.
"""

from __future__ import annotations

from typing import Any

from vistter.degraded.ladder import Step
from vistter.degraded.steps import Degradation

__all__ = ["ALERT_SOURCE", "DEGRADED_KIND", "RECOVERED_KIND", "recovered_report", "step_report"]

ALERT_SOURCE = "degraded"
DEGRADED_KIND = "degraded_mode"
RECOVERED_KIND = "degraded_recovered"

_NETWORK_HINT = (
    "Check the uplink's bandwidth to that platform (or what else uses it). The bitrate goes "
    "back up by itself after {stable:.0f} s of steady delivery; if this happens often, lower "
    "[encoding] bitrate_kbps."
)
_LOAD_HINT = (
    "The machine cannot keep up with the encode: choose a faster [encoding] preset or a "
    "lower resolution, or stop other work on the machine. The output steps back up by "
    "itself after {stable:.0f} s of steady running."
)


def step_report(step: Step, now: Degradation, stable: float) -> dict[str, Any]:
    """The ``alert`` payload for ``step`` (``now``: what the new level changes)."""
    active = ", ".join(now.steps) or "none"
    if step.down:
        change = _down_words(step, now)
        message = f"Degraded mode: {change} because {step.reason}. Active: {active}."
    else:
        message = f"Degraded mode: one {step.ladder} step back up. Still active: {active}."
    hint = (_NETWORK_HINT if step.ladder == "network" else _LOAD_HINT).format(stable=stable)
    return {
        "severity": "warning", "source": ALERT_SOURCE, "kind": DEGRADED_KIND,
        "message": message, "hint": hint, "resolves": [RECOVERED_KIND],
        "ladder": step.ladder, "steps": list(now.steps),
    }  # fmt: skip


def recovered_report(configured: str, lasted: float) -> dict[str, Any]:
    """The ``alert`` payloads when every step is undone: the warning cleared, an info
    alert raised (``configured``: the configured encode in words)."""
    return {
        "severity": "info", "source": ALERT_SOURCE, "kind": RECOVERED_KIND,
        "message": f"Degraded mode ended after {_duration(lasted)}: the output is back to "
                   f"the configured encode ({configured}).",
        "hint": "Nothing to do. If degraded mode comes back often, see the earlier "
                "degraded-mode alerts for the cause.",
        "resolves": [DEGRADED_KIND],
    }  # fmt: skip


def _down_words(step: Step, now: Degradation) -> str:
    last = now.steps[-1] if now.steps else ""
    if step.ladder == "network":
        bitrate = now.overrides.bitrate_kbps
        return f"the bitrate is lowered to {bitrate} kbps" if bitrate else "the bitrate is lowered"
    return {
        "overlays simplified": "overlays are simplified (only static ones are drawn)",
        "overlays off": "overlays are switched off",
    }.get(last, f"the {last.removeprefix('output ')} output is used") if last else "stepped down"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
