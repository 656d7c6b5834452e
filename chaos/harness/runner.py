"""Runs one scenario on a fresh rig and measures it.

Order: start the rig (t0), start the sampler and the telemetry tap, wait until the show is on
air on camera 1 and every destination is live, note the footprint, let the scenario inject its
fault, note the footprint again and which processes Vistter owns, stop the rig (by PID), see
which of those processes outlived it, decode the recordings, judge, draw the chart.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from chaos.harness import charts
from chaos.harness.appliance import ProcessFootprint
from chaos.harness.measures import max_api_ms, restarts_between
from chaos.harness.recordings import DestinationTrace, trace
from chaos.harness.rig import Rig
from chaos.harness.sampler import Sampler
from chaos.harness.scenario import Check, Context, Measured, NotInjectable, Scenario
from chaos.harness.telemetry_tap import TelemetryTap

__all__ = ["ScenarioRun", "run_scenario"]

WARM_UP_TIMEOUT = 90.0
TAIL_SECONDS = 3.0


@dataclass
class ScenarioRun:
    """The outcome of one run of one scenario (PASS, FAIL, ERROR or NOT RUN)."""

    number: int
    title: str
    repeat: int
    status: str
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    chart: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number, "title": self.title, "repeat": self.repeat,
            "status": self.status, "seconds": round(self.seconds, 1), "chart": self.chart,
            "checks": [c.__dict__ for c in self.checks], "figures": self.figures,
            "notes": self.notes,
        }  # fmt: skip

    def pass_line(self) -> str:
        checks = "; ".join(
            f"{'ok' if c.passed else 'FAIL'} {c.criterion}: {c.measured}" for c in self.checks
        )
        extra = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"[{self.status}] #{self.number} {self.title}: {checks}{extra}"


def _warm(ctx: Context) -> None:
    wanted = set(ctx.rig.rtmp_destinations) | ({"srt"} if ctx.rig.srt is not None else set())
    ready = ctx.wait_for(
        lambda s: (
            s.on_air == "camera:1" and all(s.destinations.get(key) == "live" for key in wanted)
        ),
        WARM_UP_TIMEOUT,
    )
    if ready is None:
        last = ctx.sampler.latest()
        raise RuntimeError(
            f"the rig never went live on camera 1 with {sorted(wanted)} live within "
            f"{WARM_UP_TIMEOUT:g} s (last look: on_air={last.on_air if last else '?'}, "
            f"destinations={last.destinations if last else '?'})"
        )


def _common_figures(
    ctx: Context, traces: dict[str, DestinationTrace], start: float, end: float
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for key, got in traces.items():
        figures[f"gap_{key}_s"] = round(got.longest_gap(start, end), 3)
        figures[f"starved_{key}_s"] = round(got.arrival_gap(start, end), 2)
        figures[f"frames_{key}"] = got.count(start, end)
        figures[f"lost_{key}"] = got.lost_frames(start, end)
        figures[f"sessions_{key}"] = len(got.sessions)
        figures[f"labels_{key}"] = got.labels(start, end)
    samples = ctx.sampler.samples
    figures["restarts"] = restarts_between(samples, start, end)
    figures["cpu_max_pct"] = round(max((s.cpu_pct for s in samples), default=0.0), 1)
    figures["api_max_ms"] = round(max_api_ms(samples, start, end), 1)
    figures["telemetry_missed"] = ctx.tap.missed
    return figures


def _drive(scenario: Scenario, ctx: Context) -> list[psutil.Process]:
    """Warm up, inject, note the footprints; returns the processes Vistter owned at the end."""
    ctx.sampler.start()
    ctx.tap.start()
    _warm(ctx)
    ctx.hold(scenario.lead_in)
    before = ctx.rig.app.footprint()
    ctx.mark("start")
    scenario.inject(ctx)
    ctx.hold(TAIL_SECONDS)
    ctx.mark("end")
    after = ctx.rig.app.footprint()
    owned = ctx.rig.app.descendants()
    _note_footprints(ctx, before, after)
    return owned


def _note_footprints(
    ctx: Context, before: ProcessFootprint | None, after: ProcessFootprint | None
) -> None:
    """Vistter's footprint before the fault and after its tail, as ``rss_mb_before`` and
    so on in the scenario's figures (a look that failed is left out)."""
    for label, footprint in (("before", before), ("after", after)):
        if footprint is not None:
            for name, value in footprint.as_dict().items():
                ctx.figures[f"{name}_{label}"] = round(value, 1)


def _judge(scenario: Scenario, ctx: Context, result: ScenarioRun, leftover: list[int]) -> None:
    """Decode the recordings, judge, draw the chart, write ``run.json``."""
    rig = ctx.rig
    start, end = ctx.marks.get("fault", ctx.marks["start"]) - 1.0, ctx.marks["end"]
    keys = [*rig.rtmp_destinations, *(["k"] if rig.options.rejected_key_destination else [])]
    traces = {key: trace(key, rig.ingest.sessions(key), ctx.sampler.file_sizes) for key in keys}
    if rig.srt is not None:
        traces["srt"] = trace("srt", rig.srt_recordings(), ctx.sampler.file_sizes)
    figures = _common_figures(ctx, traces, start, end)
    figures["leftover_processes"] = len(leftover)
    figures.update(ctx.figures)
    try:
        result.checks = scenario.judge(ctx, Measured(traces, start, end, figures))
        result.checks.append(
            Check("no process outlives Vistter", not leftover, f"{len(leftover)} left {leftover}")
        )
        result.status = "PASS" if all(c.passed for c in result.checks) else "FAIL"
    except Exception as exc:
        result.notes.append(f"judging failed: {type(exc).__name__}: {exc}")
        (ctx.workdir / "error.txt").write_text(traceback.format_exc())
    figures.update(ctx.figures)  # judge() may add figures (switch times from the pixels)
    result.figures = figures
    chart = ctx.workdir / f"scenario-{scenario.number:02d}.png"
    charts.draw(chart, scenario, ctx, traces)
    result.chart = str(chart)


def run_scenario(scenario: Scenario, workdir: Path, short: bool, repeat: int) -> ScenarioRun:
    """Run ``scenario`` once in ``workdir``; never raises (errors become an ERROR run)."""
    began = time.monotonic()
    result = ScenarioRun(scenario.number, scenario.title, repeat, "ERROR")
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        options = scenario.options(workdir, short)
    except NotInjectable as exc:
        result.status, result.notes = "NOT RUN", [str(exc)]
        return result
    rig = Rig(workdir / "rig", options)
    t0 = time.monotonic()
    ctx: Context | None = None
    owned: list[psutil.Process] = []
    try:
        rig.start()
        recording_dirs = [rig.ingest.record_dir, *([rig.srt.workdir] if rig.srt else [])]
        sampler = Sampler(rig.app, rig.ingest.bytes_in, recording_dirs, t0)
        ctx = Context(rig, sampler, TelemetryTap(rig.telemetry_endpoint, t0), short, workdir)
        owned = _drive(scenario, ctx)
    except NotInjectable as exc:
        result.status = "NOT RUN"
        result.notes.append(str(exc))
    except BaseException as exc:  # pytest.fail from a real part is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        result.notes.append(f"{type(exc).__name__}: {exc}")
        (workdir / "error.txt").write_text(traceback.format_exc())
    finally:
        if ctx is not None:
            ctx.sampler.stop()
            ctx.tap.stop()
        rig.close()
        scenario.cleanup()
    time.sleep(0.5)
    leftover = [p.pid for p in owned if _alive(p)]
    if ctx is not None and result.status != "NOT RUN" and not result.notes:
        _judge(scenario, ctx, result, leftover)
    if ctx is not None:
        result.notes += ctx.notes
    result.seconds = time.monotonic() - began
    (workdir / "run.json").write_text(json.dumps(result.as_dict(), indent=1, default=str))
    return result


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
