"""The media-path benchmark script runs end to end (a short run; the figures are not judged).

Runs ``bench/media_path.py`` for 3 s per side (after 1 s of warm-up) with real nginx-rtmp,
real ffmpeg and the real appliance, and checks that it measured all three sides (plain
ffmpeg, the floor of Vistter's process layout, Vistter), computed the ratios and verified
delivery on every stream key. The CPU target is NOT asserted here: the
benchmark reports it (see bench/README.md), CI machines are too noisy to judge it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "media_path.py"
RUN_TIMEOUT = 210.0


def _end_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill the script and whatever it left running, each by PID."""
    with contextlib.suppress(psutil.NoSuchProcess):
        descendants = psutil.Process(process.pid).children(recursive=True)
        for child in [psutil.Process(process.pid), *descendants]:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(descendants, timeout=5)
    process.wait(10)


def _run_benchmark(workdir: Path) -> tuple[int, str, str]:
    argv = [
        sys.executable, str(SCRIPT), "--seconds", "3", "--warmup", "1",
        "--workdir", str(workdir), "--json-out", str(workdir / "result.json"),
    ]  # fmt: skip
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        _end_tree(process)
        pytest.fail(f"the benchmark did not finish within {RUN_TIMEOUT:.0f} s")
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_benchmark_measures_both_sides_and_prints_the_ratio(tmp_path: Path) -> None:
    code, out, err = _run_benchmark(tmp_path)
    assert code == 0, f"exit code {code}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"

    last_line = out.strip().splitlines()[-1]
    report = json.loads(last_line)
    assert report == json.loads((tmp_path / "result.json").read_text())
    assert "CPU seconds in window" in out and "CPU ratio Vistter/plain" in out
    assert report["setup"]["order"] == ["plain", "floor", "vistter"]

    for side in ("plain", "floor", "vistter"):
        measured = report[side]
        assert measured["delivered"], measured["problems"]
        assert measured["window_seconds"] == pytest.approx(3.0, abs=0.5)
        assert measured["cpu_seconds"] > 0.1
        assert measured["peak_rss_mib"] > 10
        assert measured["peak_pss_mib"] > 10
        assert measured["lifetime_cpu_seconds"] >= measured["cpu_seconds"]
        assert len(measured["bytes_in_window"]) == 3
        assert all(count > 0 for count in measured["bytes_in_window"].values())
        recordings = measured["recordings"]
        assert [r["key"] for r in recordings] == [f"{side}-{i}" for i in (1, 2, 3)]
        for recording in recordings:
            assert recording["error"] is None
            assert recording["frames"] >= 30 * 3  # at least the window's worth at 30 fps
            assert (recording["width"], recording["height"]) == (1280, 720)

    vistter = report["vistter"]
    assert {"python (vistter)", "ffmpeg encoder", "ffmpeg ingest", "publisher (PyAV)"} <= set(
        vistter["cpu_by_role"]
    )
    assert any(name == "vistter-mixer" for name, _ in vistter["python_threads_cpu"])
    assert report["plain"]["cpu_by_role"].keys() == {"ffmpeg (plain)"}
    # The floor: Vistter's own ffmpeg processes wired directly, the launcher idle.
    floor = report["floor"]
    assert {"ffmpeg encoder", "ffmpeg ingest", "ffmpeg publisher", "tee (floor)"} <= set(
        floor["cpu_by_role"]
    )
    assert floor["cpu_by_role"]["python (floor launcher, idle)"] < 0.05 * floor["cpu_seconds"]
    assert report["floor_ratio"]["cpu"] == pytest.approx(
        floor["cpu_seconds"] / report["plain"]["cpu_seconds"], rel=0.01
    )
    assert report["bus_cpu_seconds"] == pytest.approx(
        vistter["cpu_seconds"] - floor["cpu_seconds"], abs=0.01
    )
    assert "floor (Vistter's processes, no Python program bus) / plain" in out

    ratio = report["ratio"]
    assert ratio["cpu"] == pytest.approx(
        vistter["cpu_seconds"] / report["plain"]["cpu_seconds"], rel=0.01
    )
    assert ratio["rss"] > 0 and ratio["pss"] > 0
    assert report["meets_cpu_target"] == (ratio["cpu"] <= report["cpu_target"])
    assert report["delivered"] is True
