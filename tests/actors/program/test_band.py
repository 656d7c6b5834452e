"""Banded program frames: a band of composited rows over an untouched base frame gives exactly
the frame the old path (copy the whole frame, composite in place) gave, byte for byte."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vistter.actors.encoder.encoder import _write_all
from vistter.actors.program.band import BandPool, FrameBand, band_bytes, composite_band
from vistter.actors.program.frame_queue import ProgramFrame
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.media.frames import Frame, FrameFormat, planes, solid_frame

FMT = FrameFormat(64, 48, 30)


def random_frame(seed: int, fmt: FrameFormat = FMT) -> Frame:
    frame = np.random.default_rng(seed).integers(0, 256, fmt.frame_bytes, dtype=np.uint8)
    frame.flags.writeable = False  # like a published slot frame
    return frame


def old_path(base: Frame, layers: Sequence[tuple[OverlayLayer, float]]) -> Frame:
    """What the mixer did before bands: copy the whole frame, composite in place."""
    out = base.copy()
    frame_planes = planes(out, FMT)
    for layer, opacity in layers:
        layer.composite(frame_planes, opacity)
    return out


LayerSpec = tuple[int, int, int, int, str, float, int]

layer_specs = st.tuples(
    st.integers(1, 80),  # width
    st.integers(1, 60),  # height
    st.integers(-50, 70),  # x (clipped at both edges)
    st.integers(-40, 56),  # y
    st.sampled_from(["opaque", "translucent", "mixed", "clear"]),
    st.one_of(st.sampled_from([0.0, 1.0, 0.001, 0.5]), st.floats(0.0, 1.0)),
    st.integers(0, 2**32 - 1),  # pixel seed
)


def make_layer(spec: LayerSpec) -> tuple[OverlayLayer, float]:
    width, height, x, y, kind, opacity, seed = spec
    rng = np.random.default_rng(seed)
    rgba = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    if kind == "opaque":
        rgba[:, :, 3] = 255
    elif kind == "clear":
        rgba[:, :, 3] = 0
    elif kind == "mixed":
        rgba[: height // 2, :, 3] = 255
    return OverlayLayer.from_rgba(Image.fromarray(rgba, "RGBA"), x, y, FMT), opacity


@settings(max_examples=300, deadline=None)
@given(specs=st.lists(layer_specs, min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_banded_pixels_equal_the_whole_frame_composite(
    specs: list[LayerSpec], seed: int
) -> None:
    base = random_frame(seed)
    before = base.copy()
    layers = [make_layer(spec) for spec in specs]
    expected = old_path(base, layers)
    pool = BandPool(FMT, 2)
    dirty = pool.acquire(0, FMT.height)  # a used buffer full of junk comes back below
    dirty.y[...] = 7
    del dirty
    band = composite_band(pool, base, layers)
    item = ProgramFrame(3, base, band)
    pixels = item.pixels()
    assert np.array_equal(pixels, expected)
    assert b"".join(item.segments(FMT)) == pixels.tobytes()
    assert item.nbytes == FMT.frame_bytes
    assert np.array_equal(base, before), "the base frame was written"
    drawing = [layer for layer, opacity in layers if layer.draws(opacity)]
    if not drawing:
        assert band is None
        assert pixels is base
    else:
        assert band is not None
        assert band.top == min(layer.y for layer in drawing)
        assert band.bottom == max(layer.y + layer.height for layer in drawing)
        assert band.top % 2 == 0 and band.bottom % 2 == 0
        assert pool.allocated == 1  # the junk buffer was reused (it is large enough)
        # rows outside the band are the base's, untouched by the overlay
        y = pixels[: FMT.y_bytes].reshape(FMT.height, FMT.width)
        base_y = base[: FMT.y_bytes].reshape(FMT.height, FMT.width)
        assert np.array_equal(y[: band.top], base_y[: band.top])
        assert np.array_equal(y[band.bottom :], base_y[band.bottom :])


def test_a_lower_third_band_on_720p_is_rows_604_to_704() -> None:
    fmt = FrameFormat(1280, 720, 30)
    base = np.full(fmt.frame_bytes, 50, dtype=np.uint8)
    base.flags.writeable = False
    image = Image.new("RGBA", (1236, 100), (255, 255, 255, 200))
    layer = OverlayLayer.from_rgba(image, 22, 604, fmt)
    band = composite_band(BandPool(fmt, 1), base, [(layer, 1.0)])
    assert band is not None
    assert (band.top, band.bottom, band.nbytes) == (604, 704, 100 * 1280 * 3 // 2)
    item = ProgramFrame(0, base, band)
    segments = item.segments(fmt)
    assert [s.nbytes for s in segments] == [
        604 * 1280, 100 * 1280, 16 * 1280,
        302 * 640, 50 * 640, 8 * 640,
        302 * 640, 50 * 640, 8 * 640,
    ]
    assert sum(s.nbytes for s in segments) == fmt.frame_bytes


def test_frame_without_band_is_its_base() -> None:
    base = random_frame(1)
    item = ProgramFrame(0, base)
    assert item.pixels() is base
    (only,) = item.segments(FMT)
    assert only.nbytes == FMT.frame_bytes and bytes(only) == base.tobytes()


@pytest.mark.parametrize(("top", "bottom"), [(0, 10), (20, 48), (0, 48), (46, 48)])
def test_segments_leave_out_empty_views_at_the_edges(top: int, bottom: int) -> None:
    base = random_frame(2)
    band = FrameBand.copy_of(base, FMT, top, bottom)
    band.y[...] = 255
    item = ProgramFrame(0, base, band)
    segments = item.segments(FMT)
    assert all(s.nbytes for s in segments)
    edges = (top > 0) + (bottom < FMT.height)
    assert len(segments) == 3 * (1 + edges)
    pixels = item.pixels()
    assert b"".join(segments) == pixels.tobytes()
    y = pixels[: FMT.y_bytes].reshape(FMT.height, FMT.width)
    assert (y[top:bottom] == 255).all()
    assert np.array_equal(pixels[FMT.y_bytes :], base[FMT.y_bytes :])  # chroma copied as is


def test_band_validation() -> None:
    buffer = np.zeros(band_bytes(FMT, 0, 48), dtype=np.uint8)
    with pytest.raises(ValueError, match="even"):
        FrameBand.over(buffer, FMT, 1, 9)
    with pytest.raises(ValueError, match="even"):
        FrameBand.over(buffer, FMT, 40, 50)
    with pytest.raises(ValueError, match="cannot hold"):
        FrameBand.over(buffer[:100], FMT, 0, 10)
    y = np.zeros((4, FMT.width), dtype=np.uint8)
    chroma = np.zeros((2, FMT.chroma_width), dtype=np.uint8)
    with pytest.raises(ValueError, match="band plane u"):
        FrameBand(FMT, 0, 4, y, np.zeros((2, 5), dtype=np.uint8), chroma)
    with pytest.raises(ValueError, match="not contiguous"):
        FrameBand(FMT, 0, 4, np.zeros((4, 2 * FMT.width), dtype=np.uint8)[:, ::2], chroma,
                  chroma)
    band = FrameBand(FMT, 0, 4, y, chroma, chroma)
    other = FrameFormat(32, 16, 30)
    with pytest.raises(ValueError, match="does not fit"):
        ProgramFrame(0, random_frame(3, other), band)
    with pytest.raises(ValueError, match="not a 64x48 frame"):
        band.fill_from(random_frame(3, other))


def test_layer_composite_into_a_band_that_does_not_cover_it_is_refused() -> None:
    layer = OverlayLayer.from_rgba(Image.new("RGBA", (8, 8), (255, 0, 0, 128)), 0, 20, FMT)
    band = FrameBand.copy_of(random_frame(4), FMT, 10, 24)
    with pytest.raises(ValueError, match="do not cover"):
        layer.composite(band.planes, 1.0, origin_row=10)
    with pytest.raises(ValueError, match="do not cover"):
        layer.composite(band.planes, 1.0, origin_row=22)
    layer.composite(band.planes, 0.0, origin_row=22)  # nothing to draw: no check needed
    whole = random_frame(5).copy()
    layer.composite(planes(whole, FMT), 1.0)  # the old signature still works


def test_pool_never_hands_out_a_held_buffer_and_settles() -> None:
    pool = BandPool(FMT, 3)
    first = pool.acquire(10, 20)
    second = pool.acquire(10, 20)
    assert first.y.base is not second.y.base
    del second
    third = pool.acquire(10, 20)  # the second's buffer is free again
    assert pool.allocated == 2
    smaller = pool.acquire(12, 16)  # fits in a free, larger buffer? none free: a new one
    assert pool.allocated == 3
    del smaller
    shrunk = pool.acquire(14, 18)  # the third buffer is free and large enough
    assert pool.allocated == 3
    del shrunk
    taller = pool.acquire(0, 30)  # every free buffer is too small: one is replaced
    assert pool.allocated == 4 and len(pool) == 3
    held = [first, third, taller]
    fresh = pool.acquire(0, 4)  # all held: a fresh one, the held ones untouched
    assert pool.allocated == 5
    assert all(fresh.y.base is not band.y.base for band in held)
    del fresh, held, first, third, taller
    for _ in range(20):  # steady state: nothing new
        band = pool.acquire(0, 30)
        del band
    assert pool.allocated == 5


def test_write_all_loops_over_short_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    base = random_frame(6)
    band = FrameBand.copy_of(base, FMT, 8, 30)
    band.u[...] = 1
    item = ProgramFrame(0, base, band)
    expected = item.pixels().tobytes()
    real_writev = os.writev
    sizes = iter([1, 700, 3, 64 * 48 - 701, 5000, 1, 1] * 100)
    calls: list[int] = []

    def short_writev(fd: int, buffers: Sequence[memoryview]) -> int:
        budget = next(sizes)
        parts: list[memoryview] = []
        for buffer in buffers:
            if budget <= 0:
                break
            parts.append(buffer[:budget])
            budget -= min(budget, buffer.nbytes)
        written = real_writev(fd, parts)
        calls.append(written)
        return written

    read_fd, write_fd = os.pipe()
    received = bytearray()

    def reader() -> None:
        while chunk := os.read(read_fd, 65536):
            received.extend(chunk)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    with os.fdopen(write_fd, "wb", buffering=0) as stdin:
        monkeypatch.setattr(os, "writev", short_writev)
        _write_all(stdin, item.segments(FMT))
        monkeypatch.undo()
        _write_all(stdin, item.segments(FMT))  # and once at full speed
    thread.join(10)
    os.close(read_fd)
    assert not thread.is_alive()
    assert bytes(received) == expected * 2
    # cut into short writes, some inside a view, some across views (the first view is 512)
    assert calls == [1, 700, 3, 64 * 48 - 701, FMT.frame_bytes - 64 * 48 - 3]
    with pytest.raises(ValueError, match="closed file"):
        _write_all(stdin, item.segments(FMT))  # closed stdin


def ys(frame: Frame) -> npt.NDArray[np.uint8]:
    return frame[: FMT.y_bytes].reshape(FMT.height, FMT.width)


def test_solid_frames_stay_solid_outside_the_band() -> None:
    base = solid_frame(FMT, 40, 128, 128)
    base.flags.writeable = False
    layer = OverlayLayer.from_rgba(Image.new("RGBA", (64, 6), (255, 255, 255, 255)), 0, 42, FMT)
    band = composite_band(BandPool(FMT, 1), base, [(layer, 1.0)])
    assert band is not None and (band.top, band.bottom) == (42, 48)
    y = ys(ProgramFrame(0, base, band).pixels())
    assert (y[42:] == 235).all() and (y[:42] == 40).all()
