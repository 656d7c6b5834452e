"""``python -m chaos soak --hours H --fault-every M``: one rig on air for hours, with a random
scenario's fault (its short form) every M minutes.

Unlike ``run`` (a fresh rig per scenario), the soak keeps ONE Vistter process for the whole
time, so what leaks shows: it samples RSS / open fds / threads / descendants once a minute.
Each fault is judged by its scenario on its own window (from its fault mark to its end mark);
at the end the report holds every fault's checks, the footprint over time (``soak.png``), RSS
growth per hour, and what the healthy destinations received from the moment every one was on
air to the end of the fault loop: lost frames, the longest time between two frames, frames and
sessions (decoded at the end).
While it runs, ``soak-progress.json`` and ``soak.png`` are rewritten after every footprint sample,
so a soak that is stopped early (or is still running) shows what it has seen so far.
Scenarios that need another rig (6 key rejected, 10 disk full, 11 clock jump) are not drawn.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from chaos.harness.recordings import DestinationTrace, trace
from chaos.harness.rig import Rig
from chaos.harness.runner import TAIL_SECONDS, _common_figures, _note_footprints, _warm
from chaos.harness.sampler import Sampler
from chaos.harness.scenario import Context, Measured, Scenario
from chaos.harness.scenarios import by_number
from chaos.harness.telemetry_tap import TelemetryTap

__all__ = ["SOAK_SCENARIOS", "healthy_figures", "soak"]

SOAK_SCENARIOS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 13)
FOOTPRINT_EVERY = 60.0


def _checkpoint(
    out: Path,
    footprints: list[dict[str, float]],
    injected: list[dict[str, Any]],
    sampler: Sampler,
) -> None:
    """Rewrite the progress file and the footprint chart (runs on the soak's own thread)."""
    progress = {
        "minutes": round(footprints[-1]["t"] / 60, 1) if footprints else 0.0,
        "injected": injected, "footprints": footprints,
        "rss_mb_per_hour": _per_hour(footprints, "rss_mb"),
        "fds_per_hour": _per_hour(footprints, "open_fds"),
        "threads_per_hour": _per_hour(footprints, "threads"),
    }  # fmt: skip
    (out / "soak-progress.json").write_text(json.dumps(progress, indent=1, default=str))
    try:
        _chart(out / "soak.png", footprints, sampler)
    except (ValueError, OSError) as exc:  # a picture that failed must not end the soak
        print(f"soak: the chart was not drawn this time: {type(exc).__name__}: {exc}", flush=True)


def _loop(
    base: Context,
    hours: float,
    fault_every_min: float,
    chooser: random.Random,
    footprints: list[dict[str, float]],
) -> list[tuple[Scenario, Context]]:
    """Keep the show on air, sample the footprint, inject a fault every ``fault_every_min``."""
    contexts: list[tuple[Scenario, Context]] = []
    injected: list[dict[str, Any]] = []
    deadline = time.monotonic() + hours * 3600
    next_fault = time.monotonic() + fault_every_min * 60
    next_footprint = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_footprint:
            footprint = base.rig.app.footprint()
            if footprint is not None:
                footprints.append({"t": base.now(), **footprint.as_dict()})
                _checkpoint(base.workdir, footprints, injected, base.sampler)
            next_footprint = now + FOOTPRINT_EVERY
        if now >= next_fault:
            number = chooser.choice(SOAK_SCENARIOS)
            scenario = by_number(number)
            ctx = Context(base.rig, base.sampler, base.tap, True, base.workdir)
            before = base.rig.app.footprint()
            ctx.mark("start")
            try:
                scenario.inject(ctx)
                ctx.hold(TAIL_SECONDS)
                ctx.mark("end")
            finally:
                scenario.cleanup()
            _note_footprints(ctx, before, base.rig.app.footprint())
            contexts.append((scenario, ctx))  # its judge reads what its inject kept
            fault_min = round(ctx.marks.get("fault", 0.0) / 60, 1)
            injected.append({"number": number, "at_min": fault_min})
            print(
                f"soak {base.now() / 60:.1f} min: injected #{number} {scenario.title}", flush=True
            )
            next_fault = time.monotonic() + fault_every_min * 60
        time.sleep(1.0)
    return contexts


def _judge_faults(
    contexts: list[tuple[Scenario, Context]], traces: dict[str, DestinationTrace]
) -> list[dict[str, Any]]:
    faults = []
    for scenario, ctx in contexts:
        start, end = ctx.marks["fault"] - 1.0, ctx.marks["end"]
        figures = {**_common_figures(ctx, traces, start, end), **ctx.figures}
        try:
            checks = scenario.judge(ctx, Measured(traces, start, end, figures))
        except (KeyError, AttributeError, ValueError) as exc:  # needs what this rig lacks
            checks = []
            figures["judge_error"] = f"{type(exc).__name__}: {exc}"
        faults.append(
            {
                "number": scenario.number,
                "at_min": round(start / 60, 1),
                "passed": bool(checks) and all(c.passed for c in checks),
                "checks": [c.__dict__ for c in checks],
                "figures": figures,
            }
        )
    return faults


def soak(hours: float, fault_every_min: float, out: Path, seed: int | None) -> int:
    """Run the soak; returns 0 when every fault passed, else 1."""
    chooser = random.Random(seed)  # noqa: S311 (picking faults, not secrets)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rig = Rig(out / "rig")
    t0 = time.monotonic()
    footprints: list[dict[str, float]] = []
    try:
        rig.start()
        dirs = [rig.ingest.record_dir, *([rig.srt.workdir] if rig.srt else [])]
        sampler = Sampler(rig.app, rig.ingest.bytes_in, dirs, t0, interval=0.5)
        tap = TelemetryTap(rig.telemetry_endpoint, t0)
        sampler.start()
        tap.start()
        base = Context(rig, sampler, tap, True, out)
        _warm(base)
        on_air = sampler.now()  # every destination has had its first frame by now
        contexts = _loop(base, hours, fault_every_min, chooser, footprints)
        # the soak's end on the harness's axis, taken now: decoding hours of recordings
        # below takes minutes, and that time is not a gap in what the servers received
        whole = (on_air, sampler.now())
        sampler.stop()
        tap.stop()
    finally:
        rig.close()
    traces = {
        key: trace(key, rig.ingest.sessions(key), sampler.file_sizes, 0.5)
        for key in rig.rtmp_destinations
    }
    if rig.srt is not None:
        traces["srt"] = trace("srt", rig.srt_recordings(), sampler.file_sizes, 0.5)
    faults = _judge_faults(contexts, traces)
    growth = _per_hour(footprints, "rss_mb")
    report = {
        "hours": hours, "fault_every_min": fault_every_min, "faults": faults,
        "footprints": footprints, "rss_mb_per_hour": growth,
        "fds_per_hour": _per_hour(footprints, "open_fds"),
        "threads_per_hour": _per_hour(footprints, "threads"),
        "healthy": {k: healthy_figures(t, *whole)
                    for k, t in traces.items() if k in rig.healthy_destinations},
    }  # fmt: skip
    (out / "soak.json").write_text(json.dumps(report, indent=1, default=str))
    _chart(out / "soak.png", footprints, sampler)
    passed = sum(1 for f in faults if f["passed"])
    print(
        f"soak: {len(faults)} faults, {passed} passed; RSS {growth:+.1f} MB/h; healthy "
        f"{report['healthy']}; report {out / 'soak.json'}, chart {out / 'soak.png'}"
    )
    return 0 if passed == len(faults) else 1


def healthy_figures(trace: DestinationTrace, start: float, end: float) -> dict[str, Any]:
    """What a healthy destination received over the soak's window ``start``..``end`` (from
    the first footprint on air to the end of the fault loop, harness time): frames lost
    inside it, the longest time between two frames, how many frames and sessions, and when
    its first and last frame came (seconds after ``start`` and before ``end``)."""
    frames = [f.wall for f in trace.frames if start <= f.wall <= end]
    sessions = sum(1 for s in trace.sessions if any(start <= f.wall <= end for f in s.frames))
    return {
        "lost": trace.lost_frames(start, end),
        "gap_s": round(trace.frame_gap(start, end), 3),
        "frames": len(frames),
        "sessions": sessions,
        "first_frame_after_s": round(frames[0] - start, 3) if frames else None,
        "last_frame_before_end_s": round(end - frames[-1], 3) if frames else None,
    }


def _per_hour(footprints: list[dict[str, float]], name: str) -> float:
    """Least-squares slope of ``name`` over time, per hour (0 with fewer than 2 points)."""
    points = [(f["t"], f[name]) for f in footprints]
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    denominator = sum((t - mean_t) ** 2 for t, _ in points)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / denominator if denominator else 0
    return round(slope * 3600, 2)


def _chart(path: Path, footprints: list[dict[str, float]], sampler: Sampler) -> None:
    figure, axes = plt.subplots(4, 1, figsize=(12, 8), sharex=True)
    hours = [f["t"] / 3600 for f in footprints]
    for axis, name in zip(axes[:3], ("rss_mb", "open_fds", "threads"), strict=True):
        axis.plot(hours, [f[name] for f in footprints], lw=0.9)
        axis.set_ylabel(name, fontsize=8)
    # one copy: the sampler's thread appends while a soak draws (two reads of the live list
    # once differed by one sample and ended a soak after 106 minutes)
    samples = list(sampler.samples)
    axes[3].plot(
        [s.t / 3600 for s in samples],
        [s.cpu_pct for s in samples],
        lw=0.5,
        color="#444444",
    )
    axes[3].set_ylabel("CPU % (tree)", fontsize=8)
    axes[3].set_xlabel("hours", fontsize=8)
    figure.suptitle("soak: Vistter's footprint over time")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
