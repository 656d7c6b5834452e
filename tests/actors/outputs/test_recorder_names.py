"""Recorder segment names never collide, even when the wall clock goes back an hour."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from vistter.actors.outputs.recorder import recorder_argv, run_stamp, segment_pattern
from vistter.media.ffmpeg import FfmpegBinary

DST_END = datetime(2026, 10, 25, 2, 30, 0)


def _program(ffmpeg: FfmpegBinary, seconds: float) -> bytes:
    """A short MPEG-TS program (H.264 test pattern), like the encoder's output."""
    argv = [
        ffmpeg.path, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
        "-i", f"testsrc2=size=160x90:rate=30:duration={seconds}",
        "-c:v", "libx264", "-g", "30", "-preset", "ultrafast", "-f", "mpegts", "pipe:1",
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def _record(ffmpeg: FfmpegBinary, folder: Path, started: datetime, program: bytes) -> None:
    pattern = segment_pattern(folder, "archive", run_stamp(folder, "archive", started))
    argv = recorder_argv(ffmpeg.path, pattern, 1)
    subprocess.run(argv, input=program, capture_output=True, check=True, timeout=60)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.ts")}


def test_a_reused_stamp_gets_a_suffix(tmp_path: Path) -> None:
    assert run_stamp(tmp_path, "archive", DST_END) == "20261025-023000"
    (tmp_path / "archive-20261025-023000-000000.ts").write_bytes(b"x")
    (tmp_path / "other-20261025-023000-2-000000.ts").write_bytes(b"x")  # another recorder
    assert run_stamp(tmp_path, "archive", DST_END) == "20261025-023000-2"
    (tmp_path / "archive-20261025-023000-2-000004.ts").write_bytes(b"x")
    assert run_stamp(tmp_path, "archive", DST_END) == "20261025-023000-3"
    assert run_stamp(tmp_path, "archive", DST_END + timedelta(seconds=1)) == "20261025-023001"


@pytest.mark.timeout(120)
def test_clock_going_back_an_hour_never_overwrites_a_recording(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    program = _program(ffmpeg_binary, 3.0)
    _record(ffmpeg_binary, tmp_path, DST_END, program)
    first = _digests(tmp_path)
    assert len(first) >= 2, first  # several 1 s segments
    # An hour later the clock goes back an hour (DST end): the new run starts at the very
    # same local time as the first one.
    _record(ffmpeg_binary, tmp_path, DST_END, program[: len(program) // 2])
    after = _digests(tmp_path)
    assert {name: after[name] for name in first} == first  # nothing overwritten
    added = sorted(set(after) - set(first))
    assert added and all(name.startswith("archive-20261025-023000-2-") for name in added)
