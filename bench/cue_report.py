"""The cue-latency benchmark's JSON result as a table a person reads."""

from __future__ import annotations

from typing import Any

__all__ = ["format_table"]


def _v(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _histogram(histogram: dict[str, int]) -> str:
    return "  ".join(f"{k}:{v}" for k, v in histogram.items()) or "-"


def format_table(report: dict[str, Any]) -> str:
    """Setup line, one row per mode and measurement, then the details of each run."""
    setup, machine, runs = report["setup"], report["machine"], report["runs"]
    lines = [
        f"Cue latency, live: {setup['cues']} cues over {setup['timeline_seconds']:g} s per run, "
        f"{setup['size']}@{setup['fps']}, lookahead {setup['lookahead']:g} s, tick "
        f"{setup['tick']:g} s, sources: {setup['sources']}",
        f"{machine['cpus']} x {machine['cpu']}, Python {machine['python']}",
        "latency = (frame on which the change appears) - (scheduled frame), in frames",
        "",
        f"{'mode':8}{'measure':10}{'count':>7}{'min':>6}{'p50':>6}{'p99':>6}{'p100':>6}"
        f"  histogram (frames:cues)",
    ]
    for mode, run in runs.items():
        for label, key in (("on air", "on_air"), ("planned", "planned"),
                           ("ovl ends", "overlay_ends")):
            d = run[key]
            lines.append(
                f"{mode:8}{label:10}{d['count']:>7}{_v(d['min']):>6}{_v(d['p50']):>6}"
                f"{_v(d['p99']):>6}{_v(d['p100']):>6}  {_histogram(d['histogram'])}"
            )
    lines.append("")
    for mode, run in runs.items():
        target, mixer, burners = run["target"], run["mixer"], run["burners"]
        lead = run["arm_lead_frames"]
        emission, cue_emission = run["emission_delay_all_frames"], \
            run["emission_delay_cue_frames"]
        lines += [
            f"[{mode}] target {target['statistic']} <= {target['limit_frames']} frame(s): "
            f"{_v(target['value'])} -> {'MET' if target['met'] else 'MISSED'}",
            f"  on air by kind: takes p100 {_v(run['on_air_by_kind']['take']['p100'])}, "
            f"overlays p100 {_v(run['on_air_by_kind']['overlay']['p100'])}; never seen: "
            f"{len(run['never_seen'])}; frames differing from the timeline: "
            f"{run['mismatched_frames']} of {run['checked_track_frames']} (track x frame)",
            f"  planned vs on air differ on {run['on_air_vs_planned_differ']} cues; no effect "
            f"recorded for {run['planned_missing']}; ChangeEffect.late_frames p100 "
            f"{_v(run['effects_late_frames']['p100'])}; armed for another frame than "
            f"scheduled: {run['requested_not_scheduled']}",
            f"  armed ahead (frames): min {_v(lead['min'])}, p1 {_v(lead['p1'])}, "
            f"p50 {_v(lead['p50'])}",
            f"  mixer: {_v(mixer['frames'])} frames, late ticks {_v(mixer['late_ticks'])}, "
            f"repeated {_v(mixer['repeated'])}, compose mean/max "
            f"{mixer['compose_ms_mean']:.2f}/{mixer['compose_ms_max']:.2f} ms; watcher "
            f"missed {run['frames_missing']} frames",
            f"  frame out vs due (ms): all p50 {_v(emission.get('p50_ms'))} p99 "
            f"{_v(emission.get('p99_ms'))} max {_v(emission.get('max_ms'))}; cue frames p99 "
            f"{_v(cue_emission.get('p99_ms'))} max {_v(cue_emission.get('max_ms'))}",
            f"  burners: {burners['count']} ({burners['cpu_seconds']:g} CPU-s in "
            f"{burners['wall_seconds']:g} s); load avg 1 min {run['loadavg_1m']['before']} -> "
            f"{run['loadavg_1m']['end']}; Python CPU {run['python_cpu_seconds']:g} s",
        ]
        if run["alerts"]:
            lines.append(f"  alerts: {run['alerts']}")
        if run["worst_cues"]:
            lines.append(f"  worst cues: {run['worst_cues']}")
    lines.append("")
    lines.append(f"complete: {report['complete']}; targets met: {report['targets_met']}")
    return "\n".join(lines)
