"""RGB to yuv420p: compared with what the real ffmpeg produces, and still-image fitting."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat, planes
from vistter.media.yuv import image_to_frame, rgb_to_frame, rgb_to_yuv, rgb_to_yuv420

COLOURS = [
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 255),
    (0, 0, 0),
    (128, 128, 128),
    (12, 200, 77),
    (250, 120, 3),
    (30, 60, 200),
    (255, 255, 0),
]


def ffmpeg_yuv420p(png: Path, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Convert a PNG to raw yuv420p with ffmpeg's default settings."""
    result = subprocess.run(
        [
            *(find_ffmpeg().path, "-v", "error", "-nostdin", "-i", str(png)),
            *("-f", "rawvideo", "-pix_fmt", "yuv420p", "-"),
        ],
        capture_output=True,
        timeout=30,
        check=True,
    )
    data = np.frombuffer(result.stdout, dtype=np.uint8)
    assert data.size == width * height * 3 // 2
    return data


@pytest.mark.parametrize("colour", COLOURS)
def test_solid_colour_matches_ffmpeg(tmp_path: Path, colour: tuple[int, int, int]) -> None:
    png = tmp_path / "solid.png"
    Image.new("RGB", (16, 8), colour).save(png)
    theirs = ffmpeg_yuv420p(png, 16, 8)
    y, u, v = rgb_to_yuv(*colour)
    fmt = FrameFormat(16, 8, 30)
    their_y, their_u, their_v = planes(theirs, fmt)
    assert abs(int(their_y[0, 0]) - y) <= 1
    assert abs(int(their_u[0, 0]) - u) <= 1
    assert abs(int(their_v[0, 0]) - v) <= 1
    ours = rgb_to_frame(np.asarray(Image.open(png).convert("RGB")), fmt)
    assert np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max() <= 1


def test_reference_values_are_bt601_limited_range() -> None:
    assert rgb_to_yuv(0, 0, 0) == (16, 128, 128)
    assert rgb_to_yuv(255, 255, 255) == (235, 128, 128)
    assert rgb_to_yuv(255, 0, 0) == (81, 90, 240)
    assert rgb_to_yuv(0, 255, 0) == (145, 54, 34)
    assert rgb_to_yuv(0, 0, 255) == (41, 240, 110)


def test_block_image_matches_ffmpeg(tmp_path: Path) -> None:
    # 16x16 blocks of random colours: luma everywhere, chroma inside flat blocks (swscale's
    # chroma filter reaches a little past the 2x2 block, so block edges are left out).
    rng = np.random.default_rng(7)
    block_colours = rng.integers(0, 256, size=(6, 10, 3), dtype=np.uint8)
    rgb = np.repeat(np.repeat(block_colours, 16, axis=0), 16, axis=1)
    height, width = rgb.shape[:2]
    png = tmp_path / "blocks.png"
    Image.fromarray(rgb).save(png)
    fmt = FrameFormat(width, height, 30)
    their_y, their_u, their_v = planes(ffmpeg_yuv420p(png, width, height), fmt)
    y, u, v = rgb_to_yuv420(rgb)
    assert np.abs(their_y.astype(np.int16) - y).max() <= 1
    # Chroma is 8x8 per block; compare the inner 4x4 samples, away from block edges.
    inner = np.zeros(u.shape, dtype=bool)
    for row in range(u.shape[0]):
        for col in range(u.shape[1]):
            inner[row, col] = 2 <= row % 8 <= 5 and 2 <= col % 8 <= 5
    assert np.abs(their_u.astype(np.int16) - u)[inner].max() <= 1
    assert np.abs(their_v.astype(np.int16) - v)[inner].max() <= 1


def test_chroma_is_2x2_average() -> None:
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[1, 1] = (255, 0, 0)
    _, u, v = rgb_to_yuv420(rgb)
    # Half red, half black: chroma offset is half of red's (90-128, 240-128).
    assert int(u[0, 0]) == 109
    assert int(v[0, 0]) == 184


FMT = FrameFormat(64, 36, 30)


def test_image_to_frame_contain_letterboxes_with_black() -> None:
    square = Image.new("RGB", (100, 100), (255, 255, 255))
    frame = image_to_frame(square, FMT, "contain")
    y, u, v = planes(frame, FMT)
    assert (y[:, :8] == 16).all(), "left bar is black"
    assert (y[:, -8:] == 16).all(), "right bar is black"
    assert (y[:, 16:48] >= 234).all(), "the picture is in the middle"
    assert (u == 128).all()
    assert (v == 128).all()


def test_image_to_frame_cover_fills_and_stretch_distorts() -> None:
    tall = Image.new("RGB", (20, 100), (0, 0, 255))
    covered = image_to_frame(tall, FMT, "cover")
    y, _, _ = planes(covered, FMT)
    assert np.abs(y.astype(int) - 41).max() <= 1, "cover leaves no bars"
    stretched = image_to_frame(tall, FMT, "stretch")
    assert np.abs(planes(stretched, FMT)[0].astype(int) - 41).max() <= 1


def test_image_to_frame_transparency_is_black() -> None:
    image = Image.new("RGBA", (64, 36), (255, 255, 255, 0))
    frame = image_to_frame(image, FMT)
    assert (planes(frame, FMT)[0] == 16).all()


def test_image_to_frame_rejects_unknown_fit() -> None:
    with pytest.raises(ValueError, match="unknown fit"):
        image_to_frame(Image.new("RGB", (10, 10)), FMT, "zoom")  # type: ignore[arg-type]
