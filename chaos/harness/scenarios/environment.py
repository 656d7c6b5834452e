"""Faults of the machine around Vistter (scenarios 10 and 11): the disk where recordings go
fills up; the wall clock jumps an hour forward and back.

Disk: a 128 MiB tmpfs mounted (as root) where the recorder writes, filled by a file until
ENOSPC; a loop-mounted ext4 image when tmpfs cannot be mounted; NOT RUN (with the reason)
when neither can. Clock: the real system clock is shared with everything else on the host, so
it is never changed; instead Vistter runs with a small preload shim
(:class:`~chaos.harness.wallclock.WallClockShift`: its wall clock only, monotonic untouched)
whose offset the harness changes at run time: +1 h, back, -1 h, back. The static ffmpeg
binaries are not affected by it. Each jump is verified on the telemetry bus (its ``ts``
stamps); the cues (camera 1 and camera 3 in turn, 4 s each) are judged from the pixels.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import subprocess
from pathlib import Path
from typing import Any

from chaos.harness.measures import count_changes, fmt
from chaos.harness.recordings import DestinationTrace
from chaos.harness.rig import FPS, RigOptions
from chaos.harness.scenario import Check, Context, Measured, NotInjectable, Scenario
from chaos.harness.scenarios.common import healthy_frames, restarts_check
from chaos.harness.wallclock import WallClockShift

__all__ = ["ClockJump", "DiskFull", "alternating_cues", "cue_runs"]

DISK_MB = 128  # above the recorder's own 64 MiB free-space floor, so space can return


def _mount_small_disk(target: Path) -> str:
    """Mount a small filesystem at ``target``; returns how, or raises NotInjectable."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        raise NotInjectable("mounting a small filesystem needs root; run the harness as root")
    tmpfs = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs",
                            str(target)], capture_output=True, check=False)  # fmt: skip
    if tmpfs.returncode == 0:
        return f"tmpfs {DISK_MB} MiB"
    image = target.with_suffix(".img")
    with image.open("wb") as handle:
        handle.truncate(DISK_MB * 2**20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, check=False)
    loop = subprocess.run(["mount", "-o", "loop", str(image), str(target)], capture_output=True,
                          check=False)  # fmt: skip
    if made.returncode == 0 and loop.returncode == 0:
        return f"loop-mounted ext4 image {DISK_MB} MiB"
    raise NotInjectable(
        f"cannot mount a small filesystem: tmpfs: {tmpfs.stderr.decode()[:200]}; "
        f"loop: {loop.stderr.decode()[:200]}"
    )


def _fill(directory: Path) -> int:
    """Write zeros into ``directory/filler`` until the disk is full; returns bytes written."""
    written = 0
    block = b"\0" * 2**16
    with (directory / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(block)
                handle.flush()
                written += len(block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return written


class DiskFull(Scenario):
    number = 10
    title = "disk full where recordings go"
    criteria = (
        "live outputs unaffected; recorder degrades with an alert; recording resumes "
        "when space returns; the database keeps working or fails soft"
    )
    _mount: Path | None = None

    def options(self, workdir: Path, short: bool) -> RigOptions:
        self._mount = workdir / "small-disk"
        how = _mount_small_disk(self._mount)
        self._how = how
        return RigOptions(recorder_dir=self._mount / "recordings")

    def inject(self, ctx: Context) -> None:
        assert self._mount is not None
        ctx.notes.append(f"recordings on a {self._how}")
        live = ctx.wait_for(lambda s: s.destinations.get("rec") == "live", 30.0)
        if live is None:
            raise RuntimeError(f"the recorder never went live on the {self._how}")
        fault = ctx.mark("fault")
        ctx.figures["filler_mb"] = round(_fill(self._mount) / 2**20, 1)
        ctx.hold(15.0)
        self._db_ok = self._database_answers(ctx)
        (self._mount / "filler").unlink()
        restored = ctx.mark("restored")
        ctx.window("disk full", fault, restored)
        size_at_restore = self._recorded_bytes()
        resumed = None
        for _ in range(60 if ctx.short else 130):
            ctx.hold(0.5)
            if self._recorded_bytes() > size_at_restore + 50_000:
                resumed = ctx.now()
                break
        ctx.figures["resume_s"] = None if resumed is None else round(resumed - restored, 2)

    def _recorded_bytes(self) -> int:
        assert self._mount is not None
        return sum(p.stat().st_size for p in self._mount.rglob("*") if p.is_file()
                   and p.name != "filler")  # fmt: skip

    @staticmethod
    def _database_answers(ctx: Context) -> str:
        try:
            ctx.rig.app.get("/api/timelines", timeout=5.0)
            return "GET /api/timelines answered"
        except Exception as exc:  # an ApiError is a failure to report, not to raise
            return f"failed: {exc}"

    def cleanup(self) -> None:
        if self._mount is not None:
            subprocess.run(["umount", "-l", str(self._mount)], capture_output=True, check=False)
            with contextlib.suppress(OSError):
                self._mount.with_suffix(".img").unlink()

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault = ctx.marks["fault"]
        rec_states = {s.destinations.get("rec") for s in ctx.samples(fault)
                      if s.t <= ctx.marks["restored"]}  # fmt: skip
        alerts = [
            e.text()
            for e in ctx.tap.alerts(fault)
            if any(w in e.text() for w in ("rec", "disk", "space", "full"))
        ]
        resume = measured.figures.get("resume_s")
        return [
            healthy_frames(ctx, measured, 0),
            Check(
                "recorder degrades with an alert",
                bool(alerts) and rec_states != {"live"},
                f"rec states {sorted(str(s) for s in rec_states)}; {len(alerts)} alerts"
                + (f": {alerts[0][:100]}" if alerts else ""),
            ),
            Check("recording resumes when space returns", resume is not None, fmt(resume)),
            Check("the database keeps working", self._db_ok.startswith("GET"), self._db_ok),
        ]


CUE_SECONDS = 4
"""Scenario 11's timeline: camera 1 and camera 3 take turns, a cut every 4 s."""
JUMPS: tuple[tuple[str, float], ...] = (
    ("+1 h", 3600.0), ("back (-1 h)", 0.0), ("-1 h", -3600.0), ("back (+1 h)", 0.0),
)  # fmt: skip


def alternating_cues(seconds: int = 3600) -> list[dict[str, Any]]:
    """Cues of :data:`CUE_SECONDS` each for ``seconds``: camera 1, camera 3, camera 1..."""
    return [
        {"id": f"cue_{n}", "start_time": start, "duration": CUE_SECONDS,
         "action": "show_camera", "params": {"camera_id": 1 if n % 2 == 0 else 3,
                                             "transition": "cut"}}
        for n, start in enumerate(range(0, seconds, CUE_SECONDS))
    ]  # fmt: skip


def cue_runs(trace: DestinationTrace, start: float, end: float) -> list[tuple[str, int]]:
    """What destination ``trace`` received between ``start`` and ``end``, as runs of one
    label: (label, frames), per session in pts order; the first and last run of each session
    are cut by the window or the session, so they are left out."""
    runs: list[tuple[str, int]] = []
    for session in trace.sessions:
        inside = sorted((f for f in session.frames if start <= f.wall <= end),
                        key=lambda f: f.pts)  # fmt: skip
        mine: list[tuple[str, int]] = []
        for frame in inside:
            if mine and mine[-1][0] == frame.label:
                mine[-1] = (frame.label, mine[-1][1] + 1)
            else:
                mine.append((frame.label, 1))
        runs += mine[1:-1]
    return runs


class ClockJump(Scenario):
    number = 11
    title = (
        "wall clock jumps +1 h, back, -1 h, back (a real jump of Vistter's wall clock: "
        "LD_PRELOAD shim, host clock untouched)"
    )
    criteria = "no restarts, no skipped or repeated cues"
    _shift: WallClockShift | None = None

    def options(self, workdir: Path, short: bool) -> RigOptions:
        self._shift = WallClockShift(workdir / "wallclock")
        return RigOptions(vistter_env=self._shift.env(), video_cues=alternating_cues())

    def _offset(self, ctx: Context, since: float) -> float | None:
        seen = [o for t, o in ctx.tap.clock_offsets if t >= since + 1.0]
        return None if not seen else round(seen[-1], 1)

    def inject(self, ctx: Context) -> None:
        assert self._shift is not None
        hold = 6.0 if ctx.short else 12.0
        fault = ctx.mark("fault")
        seen: dict[str, float | None] = {}
        for name, offset in JUMPS:
            moment = ctx.mark(f"jump {name}")
            self._shift.set_offset(offset)
            ctx.hold(hold)
            seen[name] = self._offset(ctx, moment)
        ctx.figures["offsets_seen_s"] = seen
        ctx.window("wall clock moved", fault, ctx.mark("restored"))
        ctx.notes.append(
            "Vistter's wall clock (CLOCK_REALTIME, gettimeofday, time) moved by an LD_PRELOAD "
            "shim; its monotonic clock and the host's clock untouched"
        )

    def cleanup(self) -> None:
        if self._shift is not None:
            self._shift.close()

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault, end = ctx.marks["fault"], ctx.marks["end"]
        seen: dict[str, float | None] = measured.figures.get("offsets_seen_s", {})
        reached = all(
            seen.get(name) is not None and abs(float(seen[name] or 0) - offset) < 30
            for name, offset in JUMPS
        )
        want = CUE_SECONDS * FPS
        runs = cue_runs(measured.traces["b"], fault, end)
        labels = [label for label, _ in runs]
        wrong_length = [(label, n) for label, n in runs if abs(n - want) > 2]
        alternate = all(a != b for a, b in itertools.pairwise(labels))
        measured.figures["cue_runs_b"] = [f"{label} {n}" for label, n in runs]
        changes = count_changes(ctx.samples(), lambda s: s.on_air, fault, end)
        expected = (end - fault) / CUE_SECONDS
        measured.figures["on_air_changes"] = changes
        return [
            Check(
                "every jump reached Vistter (its telemetry ts)",
                reached,
                ", ".join(f"{name}: {fmt(seen.get(name))}" for name, _ in JUMPS),
            ),
            restarts_check(measured, 0),
            Check(
                f"no cue skipped or repeated: every cue on air {want} +/- 2 frames at b, "
                "cameras 1 and 3 in turn",
                bool(runs)
                and not wrong_length
                and alternate
                and set(labels) <= {"camera:1", "camera:3"},
                f"{len(runs)} whole cues, lengths {sorted({n for _, n in runs})} frames"
                + (f", off: {wrong_length[:4]}" if wrong_length else "")
                + ("" if alternate else ", a camera twice in a row"),
            ),
            Check(
                "the API saw one cut per cue",
                abs(changes - expected) <= 1.5,
                f"{changes} on-air changes in {end - fault:.1f} s (expected {expected:.1f})",
            ),
            healthy_frames(ctx, measured, 0),
        ]
