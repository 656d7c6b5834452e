"""Overlay layers: compositing against a float reference, clipping, alignment and placement."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from vistter.actors.program.overlay_layer import ANCHORS, OverlayLayer, OverlayPositionError, place
from vistter.errors import TimelineError
from vistter.media.frames import Frame, FrameFormat, planes, solid_frame
from vistter.media.yuv import rgb_to_yuv420, rgb_to_yuv_float

FMT = FrameFormat(128, 72, 30)


def random_frame(seed: int) -> Frame:
    rng = np.random.default_rng(seed)
    return rng.integers(16, 236, FMT.frame_bytes, dtype=np.uint8)


def random_rgba(width: int, height: int, seed: int) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    rgba[: height // 3, :, 3] = 255  # some opaque rows
    rgba[-2:, :, 3] = 0  # some transparent rows
    return rgba


def float_reference(
    frame: Frame, rgba: npt.NDArray[np.uint8], x: int, y: int, opacity: float
) -> npt.NDArray[np.float64]:
    """Composite in float at full resolution, then 2x2-average chroma: the ground truth."""
    height, width = rgba.shape[:2]
    y_plane, u_plane, v_plane = (p.astype(np.float64) for p in planes(frame, FMT))
    yuv = rgb_to_yuv_float(np.ascontiguousarray(rgba[:, :, :3])).astype(np.float64)
    alpha = rgba[:, :, 3].astype(np.float64) / 255.0 * opacity
    result = []
    for index, plane in enumerate((y_plane, u_plane, v_plane)):
        full = plane if index == 0 else np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)
        full = full.copy()
        region = full[y : y + height, x : x + width]
        region[...] = region * (1 - alpha) + yuv[:, :, index] * alpha
        if index:
            full = full.reshape(FMT.chroma_height, 2, FMT.chroma_width, 2).mean(axis=(1, 3))
        result.append(full.ravel())
    return np.concatenate(result)


@pytest.mark.parametrize("opacity", [1.0, 0.8, 0.5, 0.13])
def test_composite_matches_float_reference(opacity: float) -> None:
    rgba = random_rgba(40, 20, seed=3)
    frame = random_frame(seed=1)
    reference = float_reference(frame, rgba, 10, 6, opacity)
    layer = OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), 10, 6, FMT)
    assert (layer.x, layer.y, layer.width, layer.height) == (10, 6, 40, 20)
    layer.composite_frame(frame, opacity)
    assert np.abs(frame - reference).max() <= 1.0
    # Twice at the same opacity uses the cached weights and gives the same answer.
    again = random_frame(seed=1)
    layer.composite(planes(again, FMT), opacity)
    assert (again == frame).all()


def test_opacity_zero_is_a_no_op() -> None:
    frame = random_frame(seed=2)
    before = frame.copy()
    layer = OverlayLayer.from_rgba(Image.fromarray(random_rgba(30, 10, 4), "RGBA"), 0, 0, FMT)
    layer.composite_frame(frame, 0.0)
    layer.composite_frame(frame, -1.0)
    assert (frame == before).all()


def test_opaque_layer_at_full_opacity_is_a_copy() -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (12, 24, 3), dtype=np.uint8)
    layer = OverlayLayer.from_rgba(Image.fromarray(rgb, "RGB"), 20, 30, FMT)
    assert layer.opaque
    frame = random_frame(seed=6)
    before = frame.copy()
    layer.composite_frame(frame, 1.0)
    y, u, v = planes(frame, FMT)
    want_y, want_u, want_v = rgb_to_yuv420(rgb)
    assert (y[30:42, 20:44] == want_y).all()
    assert (u[15:21, 10:22] == want_u).all()
    assert (v[15:21, 10:22] == want_v).all()
    changed = frame != before
    by, _, _ = planes(changed, FMT)
    assert not by[:30].any(), "nothing outside the layer changes"
    assert not by[:, 44:].any()


def test_transparent_pixels_do_not_bleed_colour_into_chroma() -> None:
    # Left column of each 2x2 block opaque white, right column fully transparent red.
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[:, 0::2] = (255, 255, 255, 255)
    rgba[:, 1::2] = (255, 0, 0, 0)
    frame = solid_frame(FMT, 16, 128, 128)
    OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), 0, 0, FMT).composite_frame(frame)
    _, u, v = planes(frame, FMT)
    assert (u[:4, :4] == 128).all()
    assert (v[:4, :4] == 128).all()


def test_position_is_aligned_to_even_and_clipped() -> None:
    rgba = random_rgba(21, 11, seed=8)
    layer = OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), 5, 7, FMT)
    assert (layer.x, layer.y) == (4, 6)
    assert (layer.width, layer.height) == (22, 12), "odd sizes are padded with transparency"
    clipped = OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), -9, 65, FMT)
    assert (clipped.x, clipped.y) == (0, 64)
    assert (clipped.width, clipped.height) == (22 - 10, 8)
    frame = random_frame(seed=9)
    # The visible part equals compositing the whole overlay on a bigger canvas.
    clipped.composite_frame(frame)
    big = FrameFormat(FMT.width + 64, FMT.height + 64, 30)
    canvas = np.zeros(big.frame_bytes, dtype=np.uint8)
    cy, cu, cv = planes(canvas, big)
    fy, fu, fv = planes(random_frame(seed=9), FMT)
    cy[32:-32, 32:-32], cu[16:-16, 16:-16], cv[16:-16, 16:-16] = fy, fu, fv
    OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), 32 - 9, 32 + 65, big).composite(
        (cy, cu, cv)
    )
    y, u, v = planes(frame, FMT)
    assert (y == cy[32:-32, 32:-32]).all()
    assert (u == cu[16:-16, 16:-16]).all()
    assert (v == cv[16:-16, 16:-16]).all()


def test_layer_entirely_outside_is_empty() -> None:
    rgba = random_rgba(10, 10, seed=10)
    for x, y in [(FMT.width, 0), (-10, 0), (0, FMT.height + 4), (-30, -30)]:
        layer = OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), x, y, FMT)
        assert layer.empty
        frame = random_frame(seed=11)
        before = frame.copy()
        layer.composite_frame(frame)
        assert (frame == before).all()


def test_composite_rejects_planes_of_another_format() -> None:
    layer = OverlayLayer.from_rgba(Image.new("RGBA", (4, 4), (0, 0, 0, 128)), 0, 0, FMT)
    other = FrameFormat(64, 36, 30)
    with pytest.raises(ValueError, match="not 128x72"):
        layer.composite(planes(solid_frame(other, 16, 128, 128), other))


def test_place_anchors() -> None:
    fmt = FrameFormat(1280, 720, 30)
    expected = {
        "top_left": (20, 20),
        "top_center": (340, 20),
        "top_right": (660, 20),
        "center_left": (20, 300),
        "center": (340, 300),
        "center_right": (660, 300),
        "bottom_left": (20, 580),
        "bottom_center": (340, 580),
        "bottom_right": (660, 580),
    }
    assert set(expected) == set(ANCHORS)
    for anchor, corner in expected.items():
        assert place(anchor, 600, 120, fmt, 20) == corner, anchor
    assert place("bottom_right", 600, 120, fmt) == (680, 600)
    assert place("bottom_right", 600, 120, fmt, 20, x=100) == (100, 580)
    assert place("top_left", 600, 120, fmt, 20, x=7, y=9) == (7, 9)


def test_place_rejects_unknown_anchor_with_a_hint() -> None:
    fmt = FrameFormat(1280, 720, 30)
    with pytest.raises(OverlayPositionError) as caught:
        place("upper_left", 10, 10, fmt)
    assert isinstance(caught.value, TimelineError)
    assert "upper_left" in caught.value.problem
    assert "bottom_right" in caught.value.hint
