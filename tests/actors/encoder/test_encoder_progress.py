"""Parsing ffmpeg's -progress blocks, on text and on a real ffmpeg run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vistter.actors.encoder.progress import EncoderProgress, ProgressParser, parse_progress

BLOCKS = """\
frame=0
fps=0.00
stream_0_0_q=0.0
bitrate=N/A
total_size=0
out_time_us=N/A
out_time_ms=N/A
out_time=N/A
dup_frames=0
drop_frames=0
speed=N/A
progress=continue
frame=75
fps=36.28
stream_0_0_q=-1.0
bitrate= 367.1kbits/s
total_size=111672
out_time_us=2433333
out_time_ms=2433333
out_time=00:00:02.433333
dup_frames=1
drop_frames=2
speed=1.18x
progress=end
frame=9
"""


def test_blocks_are_parsed_with_units_and_na() -> None:
    first, last = parse_progress(BLOCKS)
    assert first == EncoderProgress(
        frame=0, fps=0.0, total_size=0, dup_frames=0, drop_frames=0,
        extra={"stream_0_0_q": "0.0"},
    )
    assert last.frame == 75
    assert last.fps == pytest.approx(36.28)
    assert last.bitrate_kbps == pytest.approx(367.1)
    assert last.total_size == 111672
    assert last.out_time == pytest.approx(2.433333)
    assert last.speed == pytest.approx(1.18)
    assert (last.dup_frames, last.drop_frames) == (1, 2)
    assert last.ended
    assert not first.ended
    assert last.to_dict()["bitrate_kbps"] == pytest.approx(367.1)


def test_incomplete_and_odd_lines_are_ignored() -> None:
    parser = ProgressParser()
    assert parser.feed("garbage without equals") is None
    assert parser.feed("=nokey") is None
    assert parser.feed("bitrate=2.5Mbits/s") is None
    assert parser.feed("out_time=-00:00:00.500000") is None
    block = parser.feed("progress=continue")
    assert block is not None
    assert block.bitrate_kbps == pytest.approx(2500.0)
    assert block.out_time == pytest.approx(-0.5)
    assert block.frame is None


def test_progress_of_a_real_ffmpeg_run(ffmpeg: str, tmp_path: Path) -> None:
    progress = tmp_path / "progress.txt"
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
            "-progress", str(progress), "-stats_period", "0.25",
            "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
            "-t", "1.5", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "500k",
            "-f", "mpegts", "-y", str(tmp_path / "out.ts"),
        ],
        check=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    blocks = parse_progress(progress.read_text())
    assert len(blocks) >= 3
    assert [b.ended for b in blocks] == [False] * (len(blocks) - 1) + [True]
    frames = [b.frame for b in blocks]
    assert frames == sorted(frames)  # type: ignore[type-var]
    last = blocks[-1]
    assert last.frame == 45
    assert last.out_time == pytest.approx(1.5, abs=0.05)
    assert last.total_size == (tmp_path / "out.ts").stat().st_size
    assert last.bitrate_kbps is not None
    assert last.bitrate_kbps > 50
    assert last.speed is not None
    assert 0.5 < last.speed < 2.0  # -re: about real time
    assert all(b.fps is not None for b in blocks)  # 0.0 early on, never missing
