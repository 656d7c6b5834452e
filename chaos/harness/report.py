"""The end of a run: a table (median and maximum of each figure over the repeats), the JSON
report, both written into the output directory."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos.harness.runner import ScenarioRun

__all__ = ["KEY_FIGURES", "summarise", "table", "write_json"]

#: the figures shown in the table (every figure is in the JSON)
KEY_FIGURES = (
    "switch_s", "pixels_camera:2_s", "pixels_slate_s", "detect_s", "restore_s", "resume_s",
    "gap_a_s", "starved_a_s", "gap_b_s", "gap_srt_s", "lost_b", "lost_srt", "restarts",
    "retry_cpu_pct",
    "key_attempts_per_min", "late_ticks_during", "late_ticks_after", "crash_cycles", "kills",
    "rss_growth_pct", "encoder_kbps_lowest", "leftover_processes",
)  # fmt: skip


def _numbers(runs: Sequence[ScenarioRun], name: str) -> list[float]:
    values = [run.figures.get(name) for run in runs]
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def summarise(runs: Sequence[ScenarioRun]) -> list[dict[str, Any]]:
    """One entry per scenario: result counts, and median/max of every numeric figure."""
    by_number: dict[int, list[ScenarioRun]] = {}
    for run in runs:
        by_number.setdefault(run.number, []).append(run)
    summary = []
    for number, group in sorted(by_number.items()):
        names = sorted({k for run in group for k in run.figures})
        figures = {}
        for name in names:
            values = _numbers(group, name)
            if values:
                figures[name] = {
                    "median": round(statistics.median(values), 3),
                    "max": round(max(values), 3),
                }
        statuses = [run.status for run in group]
        failed = sorted({c.criterion for run in group for c in run.checks if not c.passed})
        summary.append({
            "number": number, "title": group[0].title, "runs": len(group),
            "passed": statuses.count("PASS"),
            "result": "PASS" if set(statuses) == {"PASS"} else "/".join(sorted(set(statuses))),
            "failed_criteria": failed, "figures": figures,
            "notes": sorted({n for run in group for n in run.notes}),
        })  # fmt: skip
    return summary


def table(summary: Sequence[dict[str, Any]]) -> str:
    """A plain-text table: number, fault, result, key figures as median (max)."""
    lines = ["| # | fault | result | figures: median (max) over repeats |", "|---|---|---|---|"]
    for entry in summary:
        parts = []
        for name in KEY_FIGURES:
            figure = entry["figures"].get(name)
            if figure is not None:
                median, most = figure["median"], figure["max"]
                parts.append(f"{name} {median:g}" + (f" ({most:g})" if most != median else ""))
        result = f"{entry['result']} {entry['passed']}/{entry['runs']}"
        if entry["failed_criteria"]:
            result += " - fails: " + "; ".join(entry["failed_criteria"])
        lines.append(f"| {entry['number']} | {entry['title']} | {result} | {', '.join(parts)} |")
    return "\n".join(lines)


def write_json(
    path: Path,
    runs: Sequence[ScenarioRun],
    summary: Sequence[dict[str, Any]],
    arguments: dict[str, Any],
) -> None:
    """The whole report: arguments, machine, every run with its checks and figures, summary."""
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "arguments": arguments, "summary": list(summary), "runs": [r.as_dict() for r in runs],
    }  # fmt: skip
    path.write_text(json.dumps(report, indent=1, default=str))
