"""Scenario 11's tools: the wall-clock shim moves only the wall clock of the process it is
preloaded into (a real subprocess, the host clock untouched), and the cue judge reads whole
cues from the pixels."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaos.harness.recordings import DestinationTrace, Frame, Session
from chaos.harness.rig import FPS
from chaos.harness.scenarios.environment import CUE_SECONDS, alternating_cues, cue_runs
from chaos.harness.wallclock import WallClockShift

PROBE = """
import json, sqlite3, sys, time
sys.stdout.write("ready\\n"); sys.stdout.flush()
for line in sys.stdin:
    started = time.monotonic()
    time.sleep(0.05)  # libfaketime 0.9.10 leaving monotonic alone: EINVAL here
    slept = time.monotonic() - started
    sql = sqlite3.connect(":memory:").execute("select strftime('%s', 'now')").fetchone()[0]
    print(json.dumps({"wall": time.time(), "sqlite": int(sql), "slept": slept}), flush=True)
"""


@pytest.mark.timeout(60)
def test_shim_moves_the_wall_clock_of_a_running_process_and_nothing_else(tmp_path: Path) -> None:
    shift = WallClockShift(tmp_path)
    probe = subprocess.Popen(
        [sys.executable, "-c", PROBE], env={**shift.env(), "PATH": "/usr/bin:/bin"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert probe.stdin is not None and probe.stdout is not None
    try:
        assert probe.stdout.readline() == "ready\n"

        def look() -> dict[str, float]:
            assert probe.stdin is not None and probe.stdout is not None
            probe.stdin.write("\n")
            probe.stdin.flush()
            seen: dict[str, float] = json.loads(probe.stdout.readline())
            return {**seen, "offset": seen["wall"] - time.time()}

        assert abs(look()["offset"]) < 1.0
        for hours in (1, -1, 0):
            shift.set_offset(hours * 3600.0)
            assert shift.offset() == hours * 3600.0
            seen = look()
            assert seen["offset"] == pytest.approx(hours * 3600, abs=1.0)
            assert seen["sqlite"] == pytest.approx(time.time() + hours * 3600, abs=2.0)
            assert 0.04 <= seen["slept"] < 1.0  # sleeps run on the untouched monotonic clock
    finally:
        probe.stdin.close()
        probe.wait(10)
        probe.stdout.close()
        shift.close()
    assert abs(time.time() - time.clock_gettime(time.CLOCK_REALTIME)) < 1.0  # host untouched


def _frames(labels: list[tuple[str, int]], offset: float) -> list[Frame]:
    frames: list[Frame] = []
    for label, count in labels:
        for _ in range(count):
            pts = len(frames) / FPS
            frames.append(Frame(pts, pts + offset, label))
    return frames


def test_cue_runs_are_whole_cues_in_turn_without_the_cut_edges() -> None:
    want = CUE_SECONDS * FPS
    frames = _frames([("camera:1", 50), ("camera:3", want), ("camera:1", want),
                      ("camera:3", 2 * want), ("camera:1", 30)], 10.0)  # fmt: skip
    trace = DestinationTrace("b", [Session(Path("b-1.flv"), frames)])
    assert cue_runs(trace, 0.0, 100.0) == [
        ("camera:3", want), ("camera:1", want), ("camera:3", 2 * want)  # a skipped cue shows
    ]  # fmt: skip
    assert cue_runs(trace, 10.0 + 50 / FPS, 10.0 + (50 + want) / FPS) == []  # one cue, cut


def test_alternating_cues_cover_the_hour_in_turn() -> None:
    cues = alternating_cues()
    assert len(cues) == 3600 // CUE_SECONDS
    assert [c["params"]["camera_id"] for c in cues[:3]] == [1, 3, 1]
    assert all(
        b["start_time"] - a["start_time"] == CUE_SECONDS for a, b in itertools.pairwise(cues)
    )
