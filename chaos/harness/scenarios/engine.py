"""Faults inside the machine (scenarios 7 and 9): the encoder ffmpeg is SIGKILLed; both
cores are saturated by busy-loop processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from chaos.harness.appliance import node_pids
from chaos.harness.measures import count_changes, late_tick_increase
from chaos.harness.scenario import Check, Context, Measured, NotInjectable, Scenario
from chaos.harness.scenarios.common import restarts_check

__all__ = ["CoresSaturated", "EncoderKill"]


class EncoderKill(Scenario):
    number = 7
    title = "encoder ffmpeg SIGKILL"
    criteria = (
        "no program frame lost (output gap <= 0.2 s); destinations keep their "
        "connections; cameras and the show untouched"
    )

    def inject(self, ctx: Context) -> None:
        pids = node_pids(ctx.rig.app.get("/api/supervision"), "encoder")
        if not pids:
            raise NotInjectable("/api/supervision names no PID for the encoder")
        ctx.figures["encoder_pid"] = pids[0]
        self._publishes = len(ctx.rig.ingest.events())
        self._srt_starts = ctx.rig.srt.starts if ctx.rig.srt else 0
        fault = ctx.mark("fault")
        os.kill(pids[0], signal.SIGKILL)
        ctx.hold(12.0)
        ctx.window("encoder killed", fault, fault + 0.5)

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault, end = ctx.marks["fault"], ctx.marks["end"]
        f = measured.figures
        keys = [k for k in measured.traces if measured.traces[k].frames]
        gaps = {k: f[f"gap_{k}_s"] for k in keys}
        lost = {k: f[f"lost_{k}"] for k in keys}
        publishes = [e for e in ctx.rig.ingest.events() if e.at - ctx.sampler.t0 > fault
                     and e.call == "publish"]  # fmt: skip
        samples = ctx.samples()
        camera_changes = sum(
            count_changes(samples, lambda s, c=c: s.sources.get(c, ""), fault, end)  # type: ignore[misc]
            for c in ("camera:1", "camera:2", "camera:3")
        )
        on_air = count_changes(samples, lambda s: s.on_air, fault, end)
        return [
            Check(
                "output gap <= 0.2 s on every destination",
                bool(gaps) and max(gaps.values()) <= 0.2,
                f"gaps {gaps} s; frames lost {lost}",
            ),
            Check(
                "destinations keep their connections",
                not publishes,
                f"{len(publishes)} new RTMP publishes after the kill",
            ),
            Check(
                "cameras and the show untouched",
                camera_changes == 0 and on_air == 0,
                f"{camera_changes} camera state changes, {on_air} on-air changes; "
                f"{measured.figures.get('restarts')} supervisor restarts (program subtree)",
            ),
        ]


def _busy_loop() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class CoresSaturated(Scenario):
    number = 9
    title = "both cores saturated by another process"
    criteria = (
        "frames dropped and counted, no crash, no false camera failover, back to 0 late ticks after"
    )
    _loads: list[subprocess.Popen[bytes]]

    def inject(self, ctx: Context) -> None:
        self._loads = []
        fault = ctx.mark("fault")
        for _ in range(os.cpu_count() or 2):
            self._loads.append(_busy_loop())
        ctx.hold(15.0 if ctx.short else 60.0)
        self._end_loads()
        restored = ctx.mark("restored")
        ctx.window("cores saturated", fault, restored)
        ctx.hold(10.0)
        ctx.mark("settled")

    def cleanup(self) -> None:
        self._end_loads()

    def _end_loads(self) -> None:
        for load in getattr(self, "_loads", []):
            if load.poll() is None:
                load.kill()
                load.wait()

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault, restored, settled = ctx.marks["fault"], ctx.marks["restored"], ctx.marks["settled"]
        samples = ctx.samples()
        late_during = late_tick_increase(samples, fault, restored)
        dropped = [s.dropped for s in samples if fault <= s.t <= restored]
        late_after = late_tick_increase(samples, restored + 2.0, settled)
        failovers = count_changes(samples, lambda s: s.on_air, fault, settled)
        measured.figures.update(
            late_ticks_during=late_during,
            dropped_during=(dropped[-1] - dropped[0]) if dropped else 0,
            late_ticks_after=late_after,
            on_air_changes=failovers,
        )
        return [
            Check(
                "every frame missing at b is counted by the mixer",
                bool(dropped)
                and measured.figures["lost_b"] <= late_during + measured.figures["dropped_during"],
                f"{measured.figures['lost_b']} lost at b; mixer counted {late_during} late "
                f"ticks, {measured.figures['dropped_during']} dropped",
            ),
            restarts_check(measured, 0),
            Check("no false camera failover", failovers == 0, f"{failovers} on-air changes"),
            Check(
                "0 late ticks after the load (from 2 s after)",
                late_after == 0,
                f"{late_after} late ticks in the {settled - restored - 2:.0f} s after",
            ),
        ]
