"""Still, slate and looped video file sources: right pixels in their slots, clear start
failures for bad files, and a video file ingest that loops and restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pykka
import pytest
from PIL import Image

from vistter.actors.sources.camera import DEFAULT_RECONNECT
from vistter.actors.sources.files import (
    MediaSourceError,
    SlateSource,
    StillSource,
    VideoFileSource,
    load_image,
)
from vistter.actors.sources.table import SLATE_SOURCE_ID, SourceState, SourceTable, media_source_id
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat, planes
from vistter.media.yuv import fit_image, image_to_frame, rgb_to_yuv
from vistter.supervisors import Backoff
from vistter.supervisors.link import ExitReason, Link

ASSETS = Path(__file__).resolve().parents[3] / "assets"
SLATE_IMAGE = ASSETS / "technical_difficulties.png"


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=15)



def started(link: Link, timeout: float = 10.0) -> Link:
    assert link.settled.wait(timeout), f"{link.path} neither started nor failed in {timeout} s"
    return link


def wait_for_state(
    sources: SourceTable, source_id: str, state: SourceState, timeout: float = 10.0,
    after_since: float | None = None,
) -> None:
    reached = threading.Event()

    def check(_id: str | None = None, _health: Any = None) -> None:
        health = sources.health(source_id)
        if health is not None and health.state is state and (
            after_since is None or health.since > after_since
        ):
            reached.set()

    remove = sources.add_listener(check)
    try:
        check()
        assert reached.wait(timeout), (
            f"{source_id} never became {state}; last: {sources.health(source_id)}"
        )
    finally:
        remove()


# -- stills ------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_still_png_is_letterboxed_into_the_program_with_exact_colours(tmp_path: Path) -> None:
    colour = (30, 144, 255)
    path = tmp_path / "blue.png"
    Image.new("RGB", (64, 48), colour).save(path)  # 4:3 into 16:9: black bars left and right
    fmt = FrameFormat(160, 90, 25)
    sources = SourceTable(fmt, MonotonicClock())
    source_id = media_source_id(str(path))
    link = Link("sources/still")
    ref = StillSource.start(link, source_id, path, fmt, sources)
    assert started(link).exit is None

    latest = sources.slot(source_id).latest()
    assert latest is not None and latest.seq == 1
    y, u, v = planes(latest.frame, fmt)
    expected = rgb_to_yuv(*colour)
    # 64x48 -> 120x90, centred: columns 20..139 are picture, the rest black.
    assert np.all(y[:, 22:138] == expected[0])
    assert np.all(u[:, 11:69] == expected[1]) and np.all(v[:, 11:69] == expected[2])
    assert np.all(y[:, :20] == 16) and np.all(y[:, 140:] == 16)
    assert np.all(u[:, :10] == 128) and np.all(v[:, 150 // 2 :] == 128)
    health = sources.health(source_id)
    assert health is not None and health.state is SourceState.ONLINE
    assert ref.proxy().status().get(timeout=5)["frames_published"] == 1
    ref.stop(timeout=5)
    assert sources.health(source_id).state is SourceState.OFFLINE  # type: ignore[union-attr]


@pytest.mark.timeout(20)
def test_still_jpeg_shows_its_colour(tmp_path: Path) -> None:
    colour = (200, 40, 40)
    path = tmp_path / "red.jpg"
    Image.new("RGB", (160, 90), colour).save(path, quality=95)
    fmt = FrameFormat(160, 90, 25)
    sources = SourceTable(fmt, MonotonicClock())
    link = Link("sources/jpeg")
    StillSource.start(link, "media:red", path, fmt, sources)
    assert started(link).exit is None
    latest = sources.slot("media:red").latest()
    assert latest is not None
    y, u, v = planes(latest.frame, fmt)
    expected = rgb_to_yuv(*colour)
    for plane, want in ((y, expected[0]), (u, expected[1]), (v, expected[2])):
        assert np.abs(plane.astype(int) - want).max() <= 3


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (None, "missing.png", "does not exist"),
        (b"this is not an image at all", "text.png", "not an image"),
        ("truncated", "truncated.png", "damaged"),
    ],
)
def test_bad_still_fails_the_start_with_a_clear_error(
    tmp_path: Path, content: bytes | str | None, name: str, problem: str
) -> None:
    path = tmp_path / name
    if content == "truncated":
        whole = tmp_path / "whole.png"
        rng = np.random.default_rng(1)
        Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(whole)
        path.write_bytes(whole.read_bytes()[:5000])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(MediaSourceError, match=problem) as caught:
        load_image(path)
    assert caught.value.hint  # says how to fix it

    fmt = FrameFormat(160, 90, 25)
    sources = SourceTable(fmt, MonotonicClock())
    link = Link("sources/bad-still")
    StillSource.start(link, "media:bad", path, fmt, sources)
    exit_ = started(link).exit
    assert exit_ is not None and exit_.reason is ExitReason.START_FAILED
    assert "MediaSourceError" in (exit_.error or "") and problem in (exit_.error or "")
    assert sources.slot("media:bad").latest() is None


# -- slate -------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_slate_shows_the_image_and_renders_its_message() -> None:
    fmt = FrameFormat(320, 180, 25)
    sources = SourceTable(fmt, MonotonicClock())
    slot = sources.slot(SLATE_SOURCE_ID)
    link = Link("sources/slate")
    ref = SlateSource.start(link, fmt, sources, SLATE_IMAGE, None)
    assert started(link).exit is None

    plain = slot.latest()
    assert plain is not None
    reference = image_to_frame(fit_image(load_image(SLATE_IMAGE), 320, 180), fmt)
    assert np.array_equal(plain.frame, reference)
    y, u, _ = planes(plain.frame, fmt)
    grey = rgb_to_yuv(192, 192, 192)  # the first colour bar, top left
    assert abs(int(y[10, 20]) - grey[0]) <= 1 and abs(int(u[5, 10]) - 128) <= 1

    ref.proxy().set_message("Back at 14:00").get(timeout=5)
    with_message = slot.latest()
    assert with_message is not None and with_message.seq == plain.seq + 1
    y_msg, _, _ = planes(with_message.frame, fmt)
    band = slice(int(180 * 0.70), int(180 * 0.90))
    assert not np.array_equal(y_msg[band], y[band])
    assert int(y_msg[band].max()) >= 200  # white text on the dark band
    assert np.array_equal(y_msg[:40], y[:40])  # the colour bars are untouched
    status = ref.proxy().status().get(timeout=5)
    assert status["message"] == "Back at 14:00" and status["frames_published"] == 2
    health = sources.health(SLATE_SOURCE_ID)
    assert health is not None and health.state is SourceState.ONLINE
    assert "Back at 14:00" in health.detail

    ref.proxy().set_message(None).get(timeout=5)
    cleared = slot.latest()
    assert cleared is not None and np.array_equal(cleared.frame, reference)


@pytest.mark.timeout(20)
def test_slate_with_missing_image_fails_to_start(tmp_path: Path) -> None:
    fmt = FrameFormat(320, 180, 25)
    link = Link("sources/slate")
    SlateSource.start(link, fmt, SourceTable(fmt, MonotonicClock()), tmp_path / "nope.png")
    exit_ = started(link).exit
    assert exit_ is not None and exit_.reason is ExitReason.START_FAILED
    assert "does not exist" in (exit_.error or "")


# -- video files -------------------------------------------------------------------------


def make_video(ffmpeg_binary: FfmpegBinary, path: Path, seconds: float = 1.0) -> Path:
    subprocess.run(
        [
            ffmpeg_binary.path, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", f"color=c=blue:size=320x240:rate=15:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", str(path),
        ],
        check=True,
        timeout=30,
    )
    return path


@pytest.mark.timeout(40)
def test_video_file_loops_in_real_time_and_restarts_when_its_ingest_dies(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    video = make_video(ffmpeg_binary, tmp_path / "blue.mp4", seconds=1.0)
    fmt = FrameFormat(160, 120, 15)
    sources = SourceTable(fmt, MonotonicClock())
    source_id = media_source_id(str(video))
    link = Link("sources/video")
    ref = VideoFileSource.start(
        link, source_id, video, fmt, sources, ffmpeg=ffmpeg_binary,
        reconnect=Backoff(initial=0.2, maximum=1.0, reset_after=5.0),
    )
    assert started(link).exit is None
    wait_for_state(sources, source_id, SourceState.ONLINE)

    slot = sources.slot(source_id)
    latest = slot.latest()
    assert latest is not None
    y, u, v = planes(latest.frame, fmt)
    blue = rgb_to_yuv(0, 0, 255)
    assert abs(int(y[60, 80]) - blue[0]) <= 2 and abs(int(u[30, 40]) - blue[1]) <= 2
    assert abs(int(v[30, 40]) - blue[2]) <= 2

    # Longer than the 1 s file: it loops, in real time, without restarting the ingest.
    seq = latest.seq
    end = MonotonicClock().monotonic() + 2.5
    while MonotonicClock().monotonic() < end:
        newer = slot.wait_newer(seq, timeout=1.0)
        assert newer is not None, "the looped file stopped producing frames"
        seq = newer.seq
    status = ref.proxy().status().get(timeout=5)
    assert status["restarts"] == 0 and status["state"] == "online"
    assert 10.0 <= status["fps"] <= 20.0, status

    online_since = sources.health(source_id).since  # type: ignore[union-attr]
    os.kill(status["pid"], signal.SIGKILL)
    wait_for_state(sources, source_id, SourceState.OFFLINE, after_since=online_since)
    wait_for_state(sources, source_id, SourceState.ONLINE, after_since=online_since)
    assert ref.proxy().status().get(timeout=5)["restarts"] == 1
    assert ref.is_alive()


@pytest.mark.timeout(20)
def test_missing_video_file_fails_to_start(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    fmt = FrameFormat(160, 120, 15)
    link = Link("sources/video")
    VideoFileSource.start(
        link, "media:gone", tmp_path / "gone.mp4", fmt, SourceTable(fmt, MonotonicClock()),
        ffmpeg=ffmpeg_binary, reconnect=DEFAULT_RECONNECT,
    )
    exit_ = started(link).exit
    assert exit_ is not None and exit_.reason is ExitReason.START_FAILED
    assert "video file" in (exit_.error or "") and "does not exist" in (exit_.error or "")
    assert link.processes.pids() == []
