"""The chaos harness measures what it injects.

The fast tests check the measuring parts on synthetic input (pixel labels, frame losses,
server starvation). The slow one runs ``python -m chaos run --short`` for scenarios 1, 4 and 7
on the real rig (GStreamer cameras, nginx-rtmp, SRT listener, fault proxies, ``vistter run``)
and checks the report: JSON, charts, and figures of the faults the harness itself injected
(a black-holed destination starved at the server for most of the black hole while the healthy
ones kept receiving every frame; the killed camera left the pixels; the encoder was really
killed). It asserts what the harness measured, not recovery behaviour the engine lacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chaos.harness.measures import restarts_between
from chaos.harness.recordings import DestinationTrace, Frame, Session, classify
from chaos.harness.rig import FPS
from chaos.harness.sampler import Sample

REPO = Path(__file__).resolve().parents[2]


def solid(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((9, 16, 3), rgb, dtype=np.uint8)


def test_pixels_name_the_camera_on_air() -> None:
    assert classify(solid((250, 3, 2))) == "camera:1"
    assert classify(solid((1, 2, 252))) == "camera:2"
    assert classify(solid((3, 250, 4))) == "camera:3"
    assert classify(solid((2, 2, 2))) == "black"
    assert classify(solid((128, 128, 128))) == "other"


def session(path: str, pts: list[float], offset: float, label: str = "camera:1") -> Session:
    return Session(Path(path), [Frame(p, p + offset, label) for p in pts])


def test_lost_frames_and_gaps_from_pts_and_between_sessions() -> None:
    first = [n / FPS for n in range(60)]
    with_hole = [p for p in first if not 0.5 <= p < 0.6]  # 3 frames missing
    second = [n / FPS for n in range(30)]
    got = DestinationTrace(
        "a",
        [session("1", with_hole, 10.0), session("2", second, 13.0)],
        arrivals=[10.0, 10.2, 10.4, 13.0, 13.2, 13.8],
    )
    assert got.sessions[0].lost_frames() == 3
    # session 1 ends at 10 + 59/30, session 2 starts at 13.0: about 1.03 s = 30 frames lost
    assert got.lost_frames(0, 20) == 3 + round((13.0 - (10 + 59 / FPS)) * FPS) - 1
    assert got.longest_gap(10.0, 14.0) == pytest.approx(13.0 - (10 + 59 / FPS))
    assert got.arrival_gap(10.0, 14.0) == pytest.approx(2.6)
    assert got.first("camera:1", 12.0) == pytest.approx(13.0)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_short_run_measures_the_faults_it_injected(tmp_path: Path) -> None:
    out = tmp_path / "chaos"
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "--short", "--scenario", "1", "--scenario", "4",
         "--scenario", "7", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "| # | fault | result |" in done.stdout
    report = json.loads((out / "report.json").read_text())
    runs = {run["number"]: run for run in report["runs"]}
    assert sorted(runs) == [1, 4, 7]
    for run in runs.values():
        assert run["status"] in ("PASS", "FAIL"), (run["number"], run["notes"])
        assert run["checks"], run
        chart = Path(run["chart"])
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 20_000
        for key in ("b", "srt"):
            assert run["figures"][f"frames_{key}"] > 0, (run["number"], key)
        assert run["figures"]["leftover_processes"] == 0
        assert run["figures"]["rss_mb_before"] > 0 and run["figures"]["threads_after"] > 0
    blackhole = runs[4]["figures"]
    # 12 s of black hole: the server got nothing from a for most of it, while b kept
    # receiving: at least 90 % of the frames its window implies, none missing in its pts
    assert blackhole["starved_a_s"] >= 6.0, blackhole
    assert blackhole["starved_b_s"] < 1.0, blackhole
    assert blackhole["lost_b"] == 0, blackhole
    assert blackhole["frames_b"] >= 0.9 * FPS * (12 + 1), blackhole
    kill = runs[1]["figures"]
    # the pixels show camera 1 (red) on air and then something else while its server was dead
    assert kill["labels_b"].get("camera:1", 0) > FPS, kill["labels_b"]
    assert sum(n for label, n in kill["labels_b"].items() if label != "camera:1") > FPS // 2
    encoder = runs[7]["figures"]
    assert encoder["encoder_pid"] > 0 and encoder["restarts"] >= 1, encoder


def test_a_deliberate_lower_frame_rate_is_no_loss_but_a_missing_frame_in_it_is() -> None:
    """Degraded mode may drop the output to 15 fps: its steps are the stream's cadence."""
    pts = [i / FPS for i in range(60)]  # 2 s at 30 fps
    pts += [pts[-1] + (i + 1) * 2 / FPS for i in range(30)]  # then 15 fps
    del pts[75]  # one frame missing at 15 fps
    session = Session(Path("x.flv"), [Frame(t, t, "camera:1") for t in pts])
    assert session.missing_runs() == [1]
    assert session.lost_frames() == 1 and session.worst_run() == 1
    steady = Session(Path("y.flv"), [Frame(i / FPS, i / FPS, "camera:1") for i in range(90)])
    assert steady.missing_runs() == []


def test_losses_are_counted_in_their_window_only() -> None:
    """A soak judges each fault on its own window: a loss an hour earlier is not this
    fault's (the 2-hour soak once put the same 11 frames on every fault)."""
    pts = [n / FPS for n in range(300)]  # 10 s
    del pts[250]  # one frame lost at about 8.3 s
    del pts[30:33]  # three lost at about 1 s
    trace_ = DestinationTrace("b", [session("1", pts, 100.0)], arrivals=[])
    assert trace_.lost_frames(100.0, 105.0) == 3
    assert trace_.lost_frames(105.0, 110.0) == 1
    assert trace_.lost_frames(0.0, 200.0) == 4
    assert trace_.sessions[0].worst_run(105.0, 110.0) == 1
    assert trace_.sessions[0].worst_run() == 3


def test_restarts_are_those_between_the_marks_not_those_after() -> None:
    samples = [Sample(t=float(t), ok=True, restarts=r) for t, r in
               [(0, 2), (10, 2), (20, 3), (30, 3), (40, 5), (3600, 9)]]  # fmt: skip
    assert restarts_between(samples, 10.0, 30.0) == 1
    assert restarts_between(samples, 30.0, 40.0) == 2
    assert restarts_between([], 0.0, 1.0) is None
