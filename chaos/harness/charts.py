"""One picture per scenario run: a time chart a person would rather look at than read.

Four panels on one time axis (harness seconds, the fault shaded): what was on air (the
program's choice from the API, and the pixels each destination received), every destination's
state, the time between consecutive frames each destination received (output gaps), and the
CPU of the Vistter process tree. Drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from chaos.harness.recordings import DestinationTrace
from chaos.harness.scenario import Context, Scenario

__all__ = ["draw"]

LABEL_COLOURS = {
    "camera:1": "#d62728", "camera:2": "#1f77b4", "camera:3": "#2ca02c", "slate": "#ff7f0e",
    "black": "#000000", "other": "#9467bd", "": "#dddddd",
}  # fmt: skip
STATE_COLOURS = {
    "live": "#2ca02c", "connecting": "#bcbd22", "retrying": "#ff7f0e", "failed": "#d62728",
    "stopped": "#7f7f7f",
}  # fmt: skip


def _runs(points: list[tuple[float, str]]) -> list[tuple[float, float, str]]:
    runs: list[tuple[float, float, str]] = []
    for (t, value), following in itertools.zip_longest(points, points[1:]):
        end = following[0] if following else t + 0.2
        if runs and runs[-1][2] == value and t - runs[-1][1] < 1.0:
            runs[-1] = (runs[-1][0], end, value)
        else:
            runs.append((t, end, value))
    return runs


def draw(path: Path, scenario: Scenario, ctx: Context, traces: dict[str, DestinationTrace]) -> None:
    """Write the chart of one run to ``path`` (PNG)."""
    samples = [s for s in ctx.sampler.samples if s.ok]
    figure, (air, states, gaps, cpu) = plt.subplots(
        4, 1, figsize=(12, 8), sharex=True, height_ratios=[1.2, 1.2, 1.6, 1]
    )
    figure.suptitle(f"#{scenario.number} {scenario.title}", fontsize=11)
    rows = ["program (API)", *[f"pixels @ {key}" for key in traces]]
    for row, (start, end, value) in [
        *((0, r) for r in _runs([(s.t, s.on_air) for s in samples])),
        *((i + 1, (a, b, label)) for i, got in enumerate(traces.values())
          for a, b, label in got.segments()),
    ]:  # fmt: skip
        air.broken_barh(
            [(start, max(end - start, 0.05))],
            (row - 0.4, 0.8),
            color=LABEL_COLOURS.get(value, "#9467bd"),
        )
    air.set_yticks(range(len(rows)), rows, fontsize=7)
    air.set_title("on air (red cam 1, blue cam 2, green cam 3, orange slate, black)", fontsize=8)
    keys = sorted({k for s in samples for k in s.destinations})
    for row, key in enumerate(keys):
        for start, end, value in _runs([(s.t, s.destinations.get(key, "")) for s in samples]):
            states.broken_barh(
                [(start, max(end - start, 0.05))],
                (row - 0.4, 0.8),
                color=STATE_COLOURS.get(value, "#9467bd"),
            )
    states.set_yticks(range(len(keys)), keys, fontsize=7)
    states.set_title(
        "destination state (green live, yellow connecting, orange retrying, red failed)", fontsize=8
    )
    for key, got in traces.items():
        walls = [f.wall for f in got.frames]
        if len(walls) > 1:
            gaps.plot(
                walls[1:], [1000 * (b - a) for a, b in itertools.pairwise(walls)], lw=0.8, label=key
            )
    gaps.set_ylim(bottom=0)
    gaps.set_ylabel("ms between frames", fontsize=8)
    gaps.legend(fontsize=7, loc="upper right")
    cpu.plot([s.t for s in samples], [s.cpu_pct for s in samples], lw=0.8, color="#444444")
    cpu.set_ylabel("CPU % (tree)", fontsize=8)
    cpu.set_xlabel("seconds since the rig started", fontsize=8)
    for axis in (air, states, gaps, cpu):
        for start, end, _label in ctx.windows:
            axis.axvspan(start, end, color="#ffcccc", alpha=0.4, lw=0)
        for name, t in ctx.marks.items():
            if name not in ("start", "end"):
                axis.axvline(t, color="#888888", lw=0.6, ls="--")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
