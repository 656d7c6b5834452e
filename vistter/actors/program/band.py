"""Frame bands: the rows of a program frame that differ from its base frame.

When the program is "a camera frame plus an overlay" only the rows the overlay covers change.
Instead of copying the whole camera frame (1.38 MB at 720p) to draw on it, the mixer copies
just those rows into a :class:`FrameBand` and draws there; the program frame is then the
camera frame (untouched, read-only) with the band pasted over luma rows ``[top, bottom)`` and
chroma rows ``[top // 2, bottom // 2)`` (see
:class:`~vistter.actors.program.frame_queue.ProgramFrame`).

:class:`BandPool` keeps the mixer's band buffers and reuses one only when nothing else refers
to it any more (CPython reference count, :mod:`vistter.actors.program.buffer_pool`), so a band the
queue
or the encoder still holds is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vistter.actors.program.buffer_pool import BufferPool
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.media.frames import Frame, FrameFormat, Plane


@dataclass(frozen=True, slots=True, eq=False)
class FrameBand:
    """Replacement rows for a yuv420p frame of format ``fmt``.

    ``y`` holds luma rows ``[top, bottom)`` (``rows`` x ``fmt.width``); ``u`` and ``v`` hold
    chroma rows ``[top // 2, bottom // 2)`` (``rows // 2`` x ``fmt.width // 2``). All three
    are C-contiguous ``uint8`` arrays; ``top`` and ``bottom`` are even, ``0 <= top < bottom
    <= fmt.height``. Construction raises ``ValueError`` otherwise (a bug in the caller).
    Whoever built the band may write into it until it hands it on; consumers treat it as
    read-only.
    """

    fmt: FrameFormat
    top: int
    bottom: int
    y: Plane
    u: Plane
    v: Plane

    def __post_init__(self) -> None:
        fmt, top, bottom = self.fmt, self.top, self.bottom
        if top % 2 or bottom % 2 or not 0 <= top < bottom <= fmt.height:
            raise ValueError(
                f"band rows [{top}, {bottom}) are not an even, non-empty span of a "
                f"{fmt.size} frame"
            )
        rows = bottom - top
        for name, plane, shape in (
            ("y", self.y, (rows, fmt.width)),
            ("u", self.u, (rows // 2, fmt.chroma_width)),
            ("v", self.v, (rows // 2, fmt.chroma_width)),
        ):
            if plane.dtype != np.uint8 or plane.shape != shape:
                raise ValueError(
                    f"band plane {name} is {plane.dtype} {plane.shape}, expected uint8 {shape} "
                    f"for rows [{top}, {bottom}) of {fmt.size}"
                )
            if not plane.flags.c_contiguous:
                raise ValueError(f"band plane {name} is not contiguous")

    @classmethod
    def over(cls, buffer: Frame, fmt: FrameFormat, top: int, bottom: int) -> FrameBand:
        """A band whose planes are views into the start of ``buffer`` (a 1-D ``uint8`` array
        of at least :func:`band_bytes` bytes); no copy. Raises ``ValueError`` when it is too
        small or the rows are not a valid span."""
        rows = bottom - top
        y_bytes = rows * fmt.width
        c_bytes = (rows // 2) * fmt.chroma_width
        if rows <= 0 or buffer.ndim != 1 or buffer.shape[0] < y_bytes + 2 * c_bytes:
            raise ValueError(
                f"a buffer of shape {buffer.shape} cannot hold band rows [{top}, {bottom}) "
                f"of {fmt.size}"
            )
        chroma = (rows // 2, fmt.chroma_width)
        return cls(
            fmt,
            top,
            bottom,
            buffer[:y_bytes].reshape(rows, fmt.width),
            buffer[y_bytes : y_bytes + c_bytes].reshape(chroma),
            buffer[y_bytes + c_bytes : y_bytes + 2 * c_bytes].reshape(chroma),
        )

    @classmethod
    def copy_of(cls, frame: Frame, fmt: FrameFormat, top: int, bottom: int) -> FrameBand:
        """A new band holding a copy of rows ``[top, bottom)`` of ``frame`` (for tests and
        tools; the mixer fills pooled buffers with :meth:`fill_from`)."""
        band = cls.over(np.empty(band_bytes(fmt, top, bottom), dtype=np.uint8), fmt, top,
                        bottom)
        band.fill_from(frame)
        return band

    @property
    def rows(self) -> int:
        """Number of luma rows."""
        return self.bottom - self.top

    @property
    def nbytes(self) -> int:
        """Bytes of the three planes."""
        return self.y.nbytes + self.u.nbytes + self.v.nbytes

    @property
    def planes(self) -> tuple[Plane, Plane, Plane]:
        """The Y, U and V planes, for :meth:`OverlayLayer.composite` with ``origin_row=top``."""
        return self.y, self.u, self.v

    def fill_from(self, frame: Frame) -> None:
        """Copy the band's rows of the whole yuv420p ``frame`` into the band (the frame is
        only read). Runs in the caller's thread; raises ``ValueError`` for a frame of
        another size."""
        fmt = self.fmt
        if frame.shape != (fmt.frame_bytes,):
            raise ValueError(f"frame of shape {frame.shape} is not a {fmt.size} frame")
        (y0, y1), (u0, u1), (v0, v1) = self.spans()
        np.copyto(self.y.reshape(-1), frame[y0:y1])
        np.copyto(self.u.reshape(-1), frame[u0:u1])
        np.copyto(self.v.reshape(-1), frame[v0:v1])

    def spans(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """Byte ranges ``(start, end)`` the band replaces in a whole frame: Y, U, V."""
        fmt = self.fmt
        width, cw = fmt.width, fmt.chroma_width
        ct, cb = self.top // 2, self.bottom // 2
        u_at = fmt.y_bytes
        v_at = u_at + fmt.chroma_bytes
        return (
            (self.top * width, self.bottom * width),
            (u_at + ct * cw, u_at + cb * cw),
            (v_at + ct * cw, v_at + cb * cw),
        )


def band_bytes(fmt: FrameFormat, top: int, bottom: int) -> int:
    """Bytes of a band of luma rows ``[top, bottom)`` (Y plus U plus V)."""
    rows = bottom - top
    return rows * fmt.width + 2 * (rows // 2) * fmt.chroma_width


class BandPool:
    """Band buffers of the mixer, reused only once nobody else holds them.

    A :class:`~vistter.actors.program.buffer_pool.BufferPool` of up to ``size`` buffers, owned by
    the
    mixer thread. A :class:`FrameBand` over a buffer holds three numpy views of it, so a band
    anyone still holds keeps its buffer in use. A free buffer at least as large as a band
    needs is reused for it (bands are views into its start), so a band that shrinks
    allocates nothing; band heights change rarely (when an overlay appears, moves or goes),
    so the steady state allocates nothing. New buffers are counted in :attr:`allocated`.
    """

    def __init__(self, fmt: FrameFormat, size: int) -> None:
        self.fmt = fmt
        self.size = size
        self._pool = BufferPool(size, what="band pool")

    def __len__(self) -> int:
        return len(self._pool)

    @property
    def allocated(self) -> int:
        """Band buffers allocated so far."""
        return self._pool.allocated

    def acquire(self, top: int, bottom: int) -> FrameBand:
        """A writable band for luma rows ``[top, bottom)`` (uninitialised) over a buffer that
        nobody but the pool refers to. Raises ``ValueError`` for an invalid span."""
        buffer = self._pool.acquire(band_bytes(self.fmt, top, bottom))
        return FrameBand.over(buffer, self.fmt, top, bottom)


def composite_band(
    pool: BandPool, frame: Frame, layers: Sequence[tuple[OverlayLayer, float]]
) -> FrameBand | None:
    """``layers`` (``(layer, opacity)``, lowest first) drawn over ``frame`` as a band.

    The band spans the rows of the layers that draw (non-empty, opacity above 0 on the 1/256
    grid), from the highest top to the lowest bottom; it is taken from ``pool``, filled with
    those rows of ``frame`` (which is only read) and composited in order. None when no layer
    draws: the frame is shown as it is. ``ProgramFrame(n, frame, band).pixels()`` is exactly
    what compositing the layers onto a whole copy of ``frame`` gives. Runs in the mixer
    thread; raises ``ValueError`` when a layer or the frame is not of the pool's format.
    """
    drawing = [(layer, opacity) for layer, opacity in layers if layer.draws(opacity)]
    if not drawing:
        return None
    top = min(layer.y for layer, _ in drawing)
    bottom = max(layer.y + layer.height for layer, _ in drawing)
    band = pool.acquire(top, bottom)
    band.fill_from(frame)
    band_planes = band.planes
    for layer, opacity in drawing:
        layer.composite(band_planes, opacity, origin_row=top)
    return band
