"""The "Degraded mode" notice drawn on the program while degraded (``[degraded] notice``).

Drawn once with the overlay renderer (Pillow, the shipped DejaVu font) as a small static text
at the top left, and handed to the mixer through the
:class:`~vistter.actors.program.overlay_gate.OverlayGate`. Runs in the caller's thread (the
degraded-mode actor's), a few milliseconds; raises
:class:`~vistter.overlays.OverlayError` if the text cannot be drawn.
"""

from __future__ import annotations

from pathlib import Path

from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.media.frames import FrameFormat
from vistter.models.overlays import TextOverlay
from vistter.overlays import render_overlay

__all__ = ["NOTICE_TEXT", "notice_layer"]

NOTICE_TEXT = "Degraded mode"


def notice_layer(fmt: FrameFormat) -> OverlayLayer:
    """The notice as a layer for ``fmt`` (its size follows the program's height)."""
    size = max(12, round(fmt.height / 36))
    params = TextOverlay(type="text", text=NOTICE_TEXT, position="top_left", font_size=size,
                         color="#FFD24D", background_color="#000000B0", padding=size // 3)
    return render_overlay(params, fmt, Path()).to_layer()
