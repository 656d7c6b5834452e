"""Faults of the machine around Vistter (scenarios 10 and 11): the disk where recordings go
fills up; the wall clock jumps an hour forward and back.

Disk: a 128 MiB tmpfs mounted (as root) where the recorder writes, filled by a file until
ENOSPC; a loop-mounted ext4 image when tmpfs cannot be mounted; NOT RUN (with the reason)
when neither can. Clock: the real system clock is shared with everything else on the host, so
it is never changed; instead Vistter runs under libfaketime (``LD_PRELOAD``, wall clock only,
monotonic untouched) whose offset the harness changes at run time. The static ffmpeg binaries
are not affected by it. The jump is verified on the telemetry bus (its ``ts`` stamps).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from pathlib import Path

from chaos.harness.measures import count_changes, fmt
from chaos.harness.rig import RigOptions
from chaos.harness.scenario import Check, Context, Measured, NotInjectable, Scenario
from chaos.harness.scenarios.common import healthy_frames, restarts_check

__all__ = ["ClockJump", "DiskFull"]

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
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


class ClockJump(Scenario):
    number = 11
    title = "wall clock jumps +1 h, then back (libfaketime, Vistter's process only)"
    criteria = "no restarts, no skipped or repeated cues"

    def options(self, workdir: Path, short: bool) -> RigOptions:
        if not LIBFAKETIME.is_file():
            raise NotInjectable(
                f"{LIBFAKETIME} is missing (apt-get install libfaketime); "
                "the host clock is shared and is never changed"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        self._offset_file = workdir / "faketime-offset"
        self._offset_file.write_text("+0\n")
        env = {
            "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(self._offset_file),
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }  # fmt: skip
        probe = subprocess.run(
            [sys.executable, "-c", "import time; time.sleep(0.01)"],
            env={**os.environ, **env}, capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            raise NotInjectable(
                "libfaketime here cannot move only the wall clock: with the monotonic clock "
                "left alone, its clock_nanosleep fails (time.sleep raises EINVAL: "
                f"{probe.stderr.decode(errors='replace').strip().splitlines()[-1][:80]}), and "
                "faking the monotonic clock too is not a wall-clock jump; the host clock is "
                "shared and is never changed. Not simulated either: a jump of the injected Clock "
                "is a unit test of the engine, not a black-box fault of this harness"
            )
        return RigOptions(vistter_env=env)

    def _offset(self, ctx: Context) -> float | None:
        recent = [o for t, o in ctx.tap.clock_offsets if t >= ctx.now() - 2.0]
        return recent[-1] if recent else None

    def inject(self, ctx: Context) -> None:
        fault = ctx.mark("fault")
        self._offset_file.write_text("+3600\n")
        ctx.hold(10.0)
        ctx.figures["seen_offset_forward_s"] = self._offset(ctx)
        back = ctx.mark("jump_back")
        self._offset_file.write_text("+0\n")
        ctx.hold(10.0)
        ctx.figures["seen_offset_back_s"] = self._offset(ctx)
        ctx.window("clock +1 h", fault, back)
        ctx.mark("restored")

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        fault, end = ctx.marks["fault"], ctx.marks["end"]
        forward = measured.figures.get("seen_offset_forward_s")
        show_events = ctx.tap.of("event.show", fault)
        cue_events = [e.text() for e in show_events if "cue" in e.text()]
        changes = count_changes(ctx.samples(), lambda s: s.on_air, fault, end)
        return [
            Check(
                "the jump reached Vistter (telemetry ts)",
                forward is not None and abs(forward - 3600) < 60,
                f"publisher clock offset {fmt(forward)} during, "
                f"{fmt(measured.figures.get('seen_offset_back_s'))} after",
            ),
            restarts_check(measured, 0),
            Check(
                "no cue skipped or repeated",
                not cue_events and changes == 0,
                f"{len(cue_events)} cue events, {changes} on-air changes",
            ),
            healthy_frames(ctx, measured, 0),
        ]
