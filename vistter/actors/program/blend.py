"""Transitions between two program frames: dissolve and fade through black.

Math (exact, integer, the same for Y, U and V bytes)::

    w   = floor(t * 256 + 0.5)                  # 0..256, t clamped to [0, 1]
    out = (a * (256 - w) + b * w + 128) >> 8    # uint16, cannot overflow (max 65408)

so t=0 gives ``a`` and t=1 gives ``b`` exactly, and every value is the float blend
``a*(1-t) + b*t`` rounded half up, within one step of the 1/256 weight grid. Example: a solid
Y=235 and b solid Y=16 at t=0.25 (w=64) give ``(235*192 + 16*64 + 128) >> 8 = 180``.

A fade through black is two dissolves against limited-range black (Y=16, U=V=128), so the
*offset from black* is what fades, never the raw byte: for t < 0.5 it is ``dissolve(a, black,
2t)``, for t >= 0.5 ``dissolve(black, b, 2t - 1)``. At t=0.5 the frame is exactly black.

Cost: five numpy passes over the frame with preallocated uint16 scratch buffers and no
allocation per call (about 1.9 ms for 1080p and 0.85 ms for 720p on the 2-core reference box).
The mixer owns one :class:`Blender` and calls it from its own thread.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vistter.media.frames import BLACK_Y, NEUTRAL_CHROMA, Frame, FrameFormat, black_frame

Scratch = tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint16]]
"""Two uint16 work buffers of a frame's size, reused between calls."""


def blend_weight(t: float) -> int:
    """The integer weight of ``b`` (0..256) for a transition position ``t`` (clamped to 0..1)."""
    clamped = min(1.0, max(0.0, float(t)))
    return int(clamped * 256.0 + 0.5)


def new_scratch(size: int) -> Scratch:
    """Work buffers for :func:`dissolve` and :func:`fade_through_black` (frames of ``size``)."""
    return np.empty(size, dtype=np.uint16), np.empty(size, dtype=np.uint16)


def _check(a: Frame, b: Frame, out: Frame) -> None:
    if not a.shape == b.shape == out.shape or a.ndim != 1:
        raise ValueError(f"frames differ in shape: a {a.shape}, b {b.shape}, out {out.shape}")
    if out.dtype != np.uint8 or a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError("frames must be uint8 yuv420p buffers")


def _mix(a: Frame, b: Frame, weight: int, out: Frame, scratch: Scratch) -> Frame:
    if weight <= 0:
        np.copyto(out, a)
        return out
    if weight >= 256:
        np.copyto(out, b)
        return out
    acc, term = scratch
    if acc.shape != a.shape or term.shape != a.shape:
        raise ValueError(f"scratch buffers of shape {acc.shape} do not fit frames of {a.shape}")
    np.multiply(a, np.uint16(256 - weight), out=acc)
    np.multiply(b, np.uint16(weight), out=term)
    np.add(acc, term, out=acc)
    np.add(acc, np.uint16(128), out=acc)
    np.right_shift(acc, np.uint16(8), out=out, casting="unsafe")
    return out


def dissolve(a: Frame, b: Frame, t: float, out: Frame, *, scratch: Scratch | None = None) -> Frame:
    """Cross-fade from ``a`` (t=0) to ``b`` (t=1) into ``out`` and return ``out``.

    ``out`` may be ``a`` or ``b``. Without ``scratch`` two work buffers are allocated per call;
    the mixer should use a :class:`Blender` instead. Runs in the calling thread.
    """
    _check(a, b, out)
    return _mix(a, b, blend_weight(t), out, scratch or new_scratch(a.shape[0]))


def black_like(frame: Frame) -> Frame:
    """A limited-range black frame with the size of ``frame`` (Y=16 for 2/3, then U=V=128)."""
    black = np.full(frame.shape, NEUTRAL_CHROMA, dtype=np.uint8)
    black[: frame.shape[0] * 2 // 3] = BLACK_Y
    return black


def fade_through_black(
    a: Frame,
    b: Frame,
    t: float,
    out: Frame,
    *,
    black: Frame | None = None,
    scratch: Scratch | None = None,
) -> Frame:
    """Fade ``a`` to black over t in [0, 0.5), then black to ``b`` over [0.5, 1]; into ``out``.

    ``black`` (a black frame of the same size) and ``scratch`` are allocated per call when not
    given; the mixer should use a :class:`Blender`. Runs in the calling thread.
    """
    _check(a, b, out)
    black_frame_ = black if black is not None else black_like(a)
    work = scratch or new_scratch(a.shape[0])
    t = min(1.0, max(0.0, float(t)))
    if t < 0.5:
        return _mix(a, black_frame_, blend_weight(2.0 * t), out, work)
    return _mix(black_frame_, b, blend_weight(2.0 * t - 1.0), out, work)


class Blender:
    """Transitions for one program format, with buffers allocated once.

    Owned and called by the mixer thread only (not thread-safe: the scratch buffers are shared
    between calls). Methods write into ``out`` and return it; they raise ``ValueError`` only
    for frames of the wrong size, which is a bug in the caller.
    """

    def __init__(self, fmt: FrameFormat) -> None:
        self.fmt = fmt
        self._scratch = new_scratch(fmt.frame_bytes)
        self._black = black_frame(fmt)
        self._black.flags.writeable = False

    @property
    def black(self) -> Frame:
        """A read-only black frame of the program's format."""
        return self._black

    def dissolve(self, a: Frame, b: Frame, t: float, out: Frame) -> Frame:
        """See :func:`dissolve`."""
        return dissolve(a, b, t, out, scratch=self._scratch)

    def fade_through_black(self, a: Frame, b: Frame, t: float, out: Frame) -> Frame:
        """See :func:`fade_through_black`."""
        return fade_through_black(a, b, t, out, black=self._black, scratch=self._scratch)
