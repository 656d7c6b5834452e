"""RGB(A) to yuv420p conversion, matching what ffmpeg does by default.

ffmpeg (swscale) converts RGB input to ``-pix_fmt yuv420p`` with the BT.601 matrix in limited
(TV) range unless told otherwise: Y in 16..235, U and V in 16..240, so RGB black is
(16, 128, 128) and RGB white is (235, 128, 128). Chroma is the average of each 2x2 block of
pixels. The tests compare this module with the bundled ffmpeg: Y within +-1 everywhere, chroma
within +-1 wherever colour is flat over a few pixels (swscale filters chroma over a slightly
wider window, so single-pixel colour detail differs by a few steps; invisible in practice).

Everything here runs once per still, slate or overlay change, never per frame, so it uses
float32 math for clarity.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from vistter.media.frames import Frame, FrameFormat, Plane, new_frame, planes

FloatArray = npt.NDArray[np.float32]

Fit = Literal["contain", "cover", "stretch"]
"""How a still that does not have the program's aspect ratio is fitted:
``contain`` letterboxes with black, ``cover`` fills and crops the centre, ``stretch`` distorts."""

# BT.601, limited range, for 8-bit RGB input (ITU-R BT.601 with 219/224 excursions).
_MATRIX = (
    np.array(
        [
            [65.481, 128.553, 24.966],
            [-37.797, -74.203, 112.0],
            [112.0, -93.786, -18.214],
        ],
        dtype=np.float64,
    )
    / 255.0
)
_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb_to_yuv(r: int, g: int, b: int) -> tuple[int, int, int]:
    """One 8-bit RGB colour as limited-range BT.601 (Y, U, V), rounded to integers."""
    for name, value in (("r", r), ("g", g), ("b", b)):
        if not 0 <= value <= 255:
            raise ValueError(f"{name}={value} is outside 0..255")
    y, u, v = _MATRIX @ np.array([r, g, b], dtype=np.float64) + _OFFSET
    return _round_byte(y), _round_byte(u), _round_byte(v)


def _round_byte(value: float) -> int:
    return int(min(255.0, max(0.0, np.floor(value + 0.5))))


def rgb_to_yuv_float(rgb: npt.NDArray[np.uint8]) -> FloatArray:
    """Full-resolution Y, U, V of an (H, W, 3) uint8 RGB array as (H, W, 3) float32, unrounded."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB array, got shape {rgb.shape}")
    matrix = _MATRIX.astype(np.float32)
    yuv = rgb.astype(np.float32) @ matrix.T
    yuv += _OFFSET.astype(np.float32)
    return yuv


def average_2x2(plane: FloatArray) -> FloatArray:
    """The mean of each 2x2 block of an (H, W) float array with even H and W."""
    height, width = plane.shape
    if height % 2 or width % 2:
        raise ValueError(f"average_2x2 needs even dimensions, got {width}x{height}")
    blocks = plane.reshape(height // 2, 2, width // 2, 2)
    averaged: FloatArray = blocks.mean(axis=(1, 3), dtype=np.float32)
    return averaged


def to_bytes(values: FloatArray) -> npt.NDArray[np.uint8]:
    """Round half up and clip a float array to uint8."""
    rounded: npt.NDArray[np.uint8] = np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)
    return rounded


def rgb_to_yuv420(rgb: npt.NDArray[np.uint8]) -> tuple[Plane, Plane, Plane]:
    """Y, U, V planes (uint8) of an (H, W, 3) RGB array with even H and W; chroma 2x2-averaged."""
    yuv = rgb_to_yuv_float(rgb)
    y = to_bytes(yuv[:, :, 0])
    u = to_bytes(average_2x2(np.ascontiguousarray(yuv[:, :, 1])))
    v = to_bytes(average_2x2(np.ascontiguousarray(yuv[:, :, 2])))
    return y, u, v


def rgb_to_frame(rgb: npt.NDArray[np.uint8], fmt: FrameFormat) -> Frame:
    """A new yuv420p frame from an RGB array of exactly the program's size."""
    if rgb.shape != (fmt.height, fmt.width, 3):
        raise ValueError(f"RGB array of shape {rgb.shape} is not {fmt.size}")
    frame = new_frame(fmt)
    y_plane, u_plane, v_plane = planes(frame, fmt)
    y_plane[...], u_plane[...], v_plane[...] = rgb_to_yuv420(rgb)
    return frame


def _flatten_on_black(image: Image.Image) -> Image.Image:
    """The image as RGB; transparent parts become black (the program's background)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")


def fit_image(image: Image.Image, width: int, height: int, fit: Fit = "contain") -> Image.Image:
    """An RGB image of exactly ``width`` x ``height``, fitted as ``fit`` says (black bars)."""
    rgb = _flatten_on_black(image)
    src_w, src_h = rgb.size
    if (src_w, src_h) == (width, height):
        return rgb
    resample = Image.Resampling.LANCZOS
    if fit == "stretch":
        return rgb.resize((width, height), resample)
    if fit == "contain":
        scale = min(width / src_w, height / src_h)
        new_w = max(1, min(width, round(src_w * scale)))
        new_h = max(1, min(height, round(src_h * scale)))
        canvas = Image.new("RGB", (width, height), (0, 0, 0))
        canvas.paste(
            rgb.resize((new_w, new_h), resample), ((width - new_w) // 2, (height - new_h) // 2)
        )
        return canvas
    if fit == "cover":
        scale = max(width / src_w, height / src_h)
        new_w = max(width, round(src_w * scale))
        new_h = max(height, round(src_h * scale))
        left = (new_w - width) // 2
        top = (new_h - height) // 2
        return rgb.resize((new_w, new_h), resample).crop((left, top, left + width, top + height))
    raise ValueError(f"unknown fit {fit!r}; use 'contain', 'cover' or 'stretch'")


def image_to_frame(image: Image.Image, fmt: FrameFormat, fit: Fit = "contain") -> Frame:
    """A new yuv420p program frame showing a still image (a slate, a media cue).

    Runs in the calling thread (a media actor), once per still; a 1080p still takes tens of
    milliseconds. Transparent parts of the image are shown black.
    """
    fitted = fit_image(image, fmt.width, fmt.height, fit)
    rgb = np.asarray(fitted, dtype=np.uint8)
    return rgb_to_frame(rgb, fmt)
