"""Checks several scenarios share: healthy destinations kept every frame, the program
switched in time, the supervisor did not restart anything."""

from __future__ import annotations

from chaos.harness.measures import first, fmt, since
from chaos.harness.rig import FPS
from chaos.harness.scenario import Check, Context, Measured

__all__ = ["healthy_frames", "on_air_change", "pixels_switch", "restarts_check"]


def healthy_frames(ctx: Context, measured: Measured, max_missing: int = 0) -> Check:
    """Every healthy destination (b, srt) lost at most ``max_missing`` frames in a row and
    received frames throughout; the figure names each destination's worst gap and losses."""
    parts: list[str] = []
    passed = True
    for key in ctx.rig.healthy_destinations:
        got = measured.traces.get(key)
        if got is None or not got.frames:
            parts.append(f"{key}: nothing received")
            passed = False
            continue
        gap = measured.figures[f"gap_{key}_s"]
        lost = measured.figures[f"lost_{key}"]
        worst_run = max(
            (s.worst_run(measured.start, measured.end) for s in got.sessions if s.frames),
            default=0,
        )
        parts.append(
            f"{key}: {lost} lost, worst run {worst_run} frames, gap {gap:.2f} s, "
            f"{measured.figures[f'frames_{key}']} frames"
        )
        passed = passed and worst_run <= max_missing and gap <= (max_missing + 1.5) / FPS + 0.25
    return Check(f"healthy destinations: no gap > {max_missing} frames", passed, "; ".join(parts))


def on_air_change(ctx: Context, fault: float, limit: float, wanted: str | None) -> Check:
    """The program left camera 1 (for ``wanted``, if given) within ``limit`` s of ``fault``."""
    samples = ctx.samples()
    took = first(samples, lambda s: s.on_air == wanted if wanted else s.on_air != "camera:1", fault)
    earlier = [s.t for s in samples if took is not None and s.t < took]
    # it changed between the last sample before and the first sample showing it: the
    # figure is the middle of that bracket, and the bracket is printed
    low = max(fault, earlier[-1]) if earlier else fault
    delay = None if took is None else (low + took) / 2 - fault
    ctx.figures["switch_s"] = None if delay is None else round(delay, 2)
    bracket = "" if took is None else f" (between {low - fault:.2f} and {took - fault:.2f})"
    target = wanted or "another source"
    return Check(
        f"{target} on air <= {limit:g} s (API)",
        delay is not None and delay <= limit,
        fmt(delay) + bracket,
    )


def pixels_switch(ctx: Context, measured: Measured, fault: float, label: str) -> float | None:
    """When ``label`` first reached destination b's server after the fault (includes the
    encode+publish latency); recorded as a figure, not judged alone."""
    got = measured.traces.get("b")
    moment = got.first(label, fault) if got is not None else None
    delay = since(moment, fault)
    ctx.figures[f"pixels_{label}_s"] = None if delay is None else round(delay, 2)
    return delay


def restarts_check(measured: Measured, limit: int = 0) -> Check:
    restarts = measured.figures.get("restarts")
    return Check(
        f"supervisor restarts <= {limit}", restarts is not None and restarts <= limit, f"{restarts}"
    )
