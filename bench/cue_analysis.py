"""From what the live program showed to cue latencies: per cue, per frame, and as statistics.

Two measurements of the same cues, kept apart:

- **on air** (the figure the benchmark reports): for each cue, the first program frame whose
  probe pixel shows it (:mod:`bench.cue_probe`), minus its scheduled frame (go-live frame +
  ``round(start_time x fps)``). Frames are searched from the frame after the previous cue of
  the same track appeared, so an early change counts as negative. For overlay cues followed
  by a gap, the first frame without the picture minus the cue's end frame is reported apart
  (``overlay_ends``). Every observed frame of the show is also compared with what the
  timeline says it shows (``mismatched_frames``).
- **planned** (``ProgramState.effects()``): the frame on which the mixer first *planned* the
  change (``effective``) minus the scheduled frame. It measures arming against planning; the
  on-air figure measures what the mixer really composed, and the two must agree.
  ``ChangeEffect.late_frames`` itself (effective minus the frame the executor *asked for*)
  is reported too (``effects_late_frames``), but it cannot see a cue the executor armed late:
  an executor that is late asks for the first frame it can still change, not for the cue's
  frame (``requested_not_scheduled`` counts those).

Percentiles are nearest-rank: ``p99`` is the smallest value that at least 99 % of the cues
are at or below.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.cue_probe import ArmRecord, Observation
from bench.cue_timeline import OVERLAY_TRACKS, VIDEO_TRACK, ExpectedCue, ShowScript
from vistter.actors.program.changes import ChangeEffect

__all__ = ["CueLatency", "analyse", "distribution", "percentile"]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in 0..1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def distribution(values: Sequence[int]) -> dict[str, Any]:
    """Count, min, p50, p99, p100, mean and histogram (value -> count) of frame latencies."""
    return {
        "count": len(values),
        "min": min(values) if values else None,
        "p50": percentile(values, 0.50),
        "p99": percentile(values, 0.99),
        "p100": max(values) if values else None,
        "mean": round(sum(values) / len(values), 4) if values else None,
        "histogram": {str(k): v for k, v in sorted(Counter(values).items())},
    }


def _ms(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50_ms": round(1000 * (percentile(values, 0.50) or 0.0), 2),
        "p99_ms": round(1000 * (percentile(values, 0.99) or 0.0), 2),
        "max_ms": round(1000 * max(values), 2),
    }


@dataclass(frozen=True, slots=True)
class CueLatency:
    """One cue: scheduled program frame, the frame it appeared on (None: never seen) and its
    ``ProgramState.effects()`` record (None: none recorded)."""

    cue: ExpectedCue
    scheduled: int
    appeared: int | None
    effect: ChangeEffect | None

    @property
    def on_air_late(self) -> int | None:
        return None if self.appeared is None else self.appeared - self.scheduled

    @property
    def planned_late(self) -> int | None:
        return None if self.effect is None else self.effect.effective - self.scheduled


def _track_labels(observations: Sequence[Observation]) -> dict[str, dict[int, str | None]]:
    labels: dict[str, dict[int, str | None]] = {VIDEO_TRACK: {}}
    for track in OVERLAY_TRACKS:
        labels[track] = {}
    for obs in observations:
        labels[VIDEO_TRACK][obs.index] = obs.video
        for track, label in zip(OVERLAY_TRACKS, obs.overlays, strict=True):
            labels[track][obs.index] = label
    return labels


def _expected_label(cues: Sequence[ExpectedCue], frame: int) -> str | None:
    """What the timeline shows at timeline ``frame`` on a track (None: nothing)."""
    label: str | None = None
    for cue in cues:
        if cue.start > frame:
            break
        label = cue.state if frame < cue.end else None
    return label


def analyse(
    script: ShowScript,
    anchor: int,
    observations: Sequence[Observation],
    effects: Sequence[ChangeEffect],
    armed: Sequence[ArmRecord],
) -> dict[str, Any]:
    """The benchmark's figures for one live run whose timeline frame 0 played at program
    frame ``anchor`` (see the module doc)."""
    labels = _track_labels(observations)
    first_effect: dict[str, ChangeEffect] = {}
    for effect in effects:
        if effect.tag is not None and effect.kind in ("take", "overlay"):
            first_effect.setdefault(effect.tag, effect)
    first_arm: dict[str, ArmRecord] = {}
    for record in armed:
        if record.tag is not None:
            first_arm.setdefault(record.tag, record)

    cues: list[CueLatency] = []
    ends: list[int] = []
    mismatched = 0
    checked_frames = 0
    for track in (VIDEO_TRACK, *OVERLAY_TRACKS):
        seen = labels[track]
        indices = sorted(seen)
        track_cues = script.by_track(track)
        search_from = indices[0] if indices else 0
        for number, cue in enumerate(track_cues):
            scheduled = anchor + cue.start
            appeared = next((i for i in indices if i >= search_from and seen[i] == cue.state),
                            None)
            cues.append(CueLatency(cue, scheduled, appeared, first_effect.get(cue.cue_id)))
            if appeared is None:
                continue
            search_from = appeared + 1
            following = track_cues[number + 1] if number + 1 < len(track_cues) else None
            if cue.kind == "overlay" and (following is None or following.start > cue.end):
                gone = next((i for i in indices if i > appeared and seen[i] != cue.state), None)
                if gone is not None:
                    ends.append(gone - (anchor + cue.end))
        for index in indices:
            frame = index - anchor
            if 0 <= frame < script.length:
                checked_frames += 1
                if seen[index] != _expected_label(track_cues, frame):
                    mismatched += 1

    on_air = [c.on_air_late for c in cues if c.on_air_late is not None]
    planned = [c.planned_late for c in cues if c.planned_late is not None]
    own = [c.effect.late_frames for c in cues if c.effect is not None]
    leads = [r.lead_frames for r in first_arm.values() if r.lead_frames is not None]
    by_index = {obs.index: obs for obs in observations}
    emission = [max(0.0, obs.received - obs.due) for obs in observations
                if 0 <= obs.index - anchor < script.length]
    cue_emission = [max(0.0, by_index[c.appeared].received - by_index[c.appeared].due)
                    for c in cues if c.appeared is not None and c.appeared in by_index]
    return {
        "cues": len(cues),
        "on_air": distribution(on_air),
        "on_air_by_kind": {
            kind: distribution([c.on_air_late for c in cues
                                if c.cue.kind == kind and c.on_air_late is not None])
            for kind in ("take", "overlay")
        },
        "never_seen": [c.cue.cue_id for c in cues if c.appeared is None],
        "overlay_ends": distribution(ends),
        "planned": distribution(planned),
        "planned_missing": sum(1 for c in cues if c.effect is None),
        "on_air_vs_planned_differ": sum(
            1 for c in cues if c.on_air_late is not None and c.planned_late is not None
            and c.on_air_late != c.planned_late
        ),
        "effects_late_frames": distribution(own),
        "requested_not_scheduled": sum(
            1 for c in cues if c.effect is not None and c.effect.requested != c.scheduled
        ),
        "mismatched_frames": mismatched,
        "checked_track_frames": checked_frames,
        "arm_lead_frames": {
            "count": len(leads),
            "min": min(leads) if leads else None,
            "p1": percentile(leads, 0.01),
            "p50": percentile(leads, 0.50),
        },
        "emission_delay_all_frames": _ms(emission),
        "emission_delay_cue_frames": _ms(cue_emission),
        "worst_cues": [
            {"cue": c.cue.cue_id, "scheduled": c.scheduled, "appeared": c.appeared,
             "on_air_late": c.on_air_late, "planned_late": c.planned_late}
            for c in sorted(cues, key=lambda c: -(c.on_air_late or 0))[:5]
            if (c.on_air_late or 0) != 0 or (c.planned_late or 0) != 0
        ],
    }
