"""The benchmark's camera-like clip: made once, cached, really 1080p30 H.264 with a GOP of 2 s."""

from __future__ import annotations

import sys
from pathlib import Path

import av
import pytest

from vistter.media.ffmpeg import FfmpegBinary

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.camera_clip import camera_clip, clip_seconds  # noqa: E402


def test_clip_covers_warmup_window_and_start_up() -> None:
    assert clip_seconds(5.0, 30.0) == 65
    assert clip_seconds(1.0, 3.2) == 35  # rounded up, never short


@pytest.mark.timeout(90)
def test_clip_is_a_1080p_h264_camera_and_is_cached(
    tmp_path: Path, ffmpeg_binary: FfmpegBinary
) -> None:
    clip = camera_clip(ffmpeg_binary, tmp_path / "cache", 2)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)
        keyframes = []
        frames = 0
        for index, frame in enumerate(container.decode(stream)):
            frames += 1
            if frame.key_frame:
                keyframes.append(index)
    assert frames == 60  # 2 s at 30 fps
    assert keyframes == [0]  # GOP 60: the next keyframe would be frame 60
    assert not list((tmp_path / "cache").glob("*.partial.mp4"))

    made = clip.stat().st_mtime_ns
    again = camera_clip(ffmpeg_binary, tmp_path / "cache", 2)
    assert again == clip and again.stat().st_mtime_ns == made  # taken from the cache


def test_a_clip_that_cannot_be_made_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    broken = FfmpegBinary(path="/bin/false", version="none", source="configured")
    with pytest.raises(RuntimeError, match="could not make the camera clip"):
        camera_clip(broken, tmp_path, 2)
    assert not list(tmp_path.glob("*.mp4"))
