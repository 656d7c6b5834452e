"""Transitions: exact reference values, the integer formula, and no per-call allocation."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vistter.actors.program.blend import Blender, blend_weight, dissolve, fade_through_black
from vistter.media.frames import Frame, FrameFormat, black_frame, new_frame, planes, solid_frame

FMT = FrameFormat(32, 18, 30)
WHITE = (235, 128, 128)
RED = (81, 90, 240)
BLUE = (41, 240, 110)


def colour_of(frame: Frame) -> tuple[int, int, int]:
    y, u, v = planes(frame, FMT)
    assert (y == y[0, 0]).all()
    assert (u == u[0, 0]).all()
    assert (v == v[0, 0]).all()
    return int(y[0, 0]), int(u[0, 0]), int(v[0, 0])


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (0.0, (235, 90, 240)),
        (0.1, (213, 105, 227)),
        (0.25, (180, 128, 208)),
        (0.5, (126, 165, 175)),
        (0.75, (71, 203, 143)),
        (1.0, (16, 240, 110)),
        (-3.0, (235, 90, 240)),
        (7.0, (16, 240, 110)),
    ],
)
def test_dissolve_reference_values(t: float, expected: tuple[int, int, int]) -> None:
    # a: Y=235 with red's chroma; b: Y=16 with blue's chroma.
    a = solid_frame(FMT, 235, 90, 240)
    b = solid_frame(FMT, 16, 240, 110)
    out = new_frame(FMT)
    assert dissolve(a, b, t, out) is out
    assert colour_of(out) == expected
    assert colour_of(Blender(FMT).dissolve(a, b, t, new_frame(FMT))) == expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (0.0, WHITE),
        (0.1, (191, 128, 128)),
        (0.25, (126, 128, 128)),
        (0.4999, (16, 128, 128)),
        (0.5, (16, 128, 128)),
        (0.75, (49, 109, 184)),
        (0.9, (68, 98, 218)),
        (1.0, RED),
    ],
)
def test_fade_through_black_reference_values(t: float, expected: tuple[int, int, int]) -> None:
    a = solid_frame(FMT, *WHITE)
    b = solid_frame(FMT, *RED)
    out = new_frame(FMT)
    assert colour_of(fade_through_black(a, b, t, out)) == expected
    assert colour_of(Blender(FMT).fade_through_black(a, b, t, new_frame(FMT))) == expected


def test_fade_through_black_fades_the_offset_from_black() -> None:
    # A black source stays exactly black through the whole fade: nothing dips below Y=16.
    black = black_frame(FMT)
    blender = Blender(FMT)
    out = new_frame(FMT)
    for step in range(31):
        blender.fade_through_black(black, black, step / 30, out)
        assert colour_of(out) == (16, 128, 128)


def test_blend_weight_rounding() -> None:
    assert blend_weight(0.0) == 0
    assert blend_weight(1.0) == 256
    assert blend_weight(0.25) == 64
    assert blend_weight(0.1) == 26
    assert blend_weight(float("-inf")) == 0


def test_out_may_alias_an_input() -> None:
    a = solid_frame(FMT, 235, 90, 240)
    b = solid_frame(FMT, 16, 240, 110)
    Blender(FMT).dissolve(a, b, 0.25, a)
    assert colour_of(a) == (180, 128, 208)


def test_mismatched_frames_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        dissolve(new_frame(FMT), np.zeros(10, dtype=np.uint8), 0.5, new_frame(FMT))


@settings(max_examples=200, deadline=None)
@given(
    a=st.binary(min_size=FMT.frame_bytes, max_size=FMT.frame_bytes),
    b=st.binary(min_size=FMT.frame_bytes, max_size=FMT.frame_bytes),
    t=st.floats(min_value=0.0, max_value=1.0),
)
def test_dissolve_is_the_documented_integer_formula(a: bytes, b: bytes, t: float) -> None:
    fa = np.frombuffer(a, dtype=np.uint8)
    fb = np.frombuffer(b, dtype=np.uint8)
    out = dissolve(fa, fb, t, new_frame(FMT))
    w = int(t * 256 + 0.5)
    expected = (fa.astype(np.int64) * (256 - w) + fb.astype(np.int64) * w + 128) >> 8
    assert (out == expected).all()
    exact = fa * (1 - w / 256) + fb * (w / 256)
    assert np.abs(out - exact).max() <= 0.5 + 1e-9
    assert np.abs(out - (fa * (1 - t) + fb * t)).max() <= 1.0


def test_blender_does_not_allocate_per_frame() -> None:
    fmt = FrameFormat(1280, 720, 30)
    blender = Blender(fmt)
    a = solid_frame(fmt, 200, 100, 50)
    b = solid_frame(fmt, 30, 150, 250)
    out = new_frame(fmt)
    blender.dissolve(a, b, 0.3, out)
    blender.fade_through_black(a, b, 0.3, out)
    tracemalloc.start()
    try:
        for step in range(10):
            blender.dissolve(a, b, step / 10, out)
            blender.fade_through_black(a, b, step / 10, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"{peak} bytes allocated while blending 720p frames"
