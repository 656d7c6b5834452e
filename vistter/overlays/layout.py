"""Sizes, margins and text drawing shared by every overlay type.

**Resolution scaling.** Every size in a timeline (font sizes, padding, explicit ``x``/``y``,
and the pixel size of pictures) is meant for the timeline's ``resolution``. The program
may run at another size (a 1920x1080 timeline on a 1280x720 program), so the renderer
multiplies them by ``program height / timeline height`` (:func:`resolution_scale`), and the
overlay covers the same share of the picture at any program size. The overlay's own
``scale`` multiplies on top.

**Margins.** An overlay at a named position keeps :func:`margin` pixels (3 % of the program
height: 32 px at 1080p, 22 px at 720p) from the edges it touches, a title-safe inset.

**Text.** Text is drawn as a coverage mask (font anti-aliasing) and composited over the
box as straight-alpha RGBA, so glyph edges carry the text colour with partial alpha instead
of a dark fringe. A line is as tall as the font's ascent + descent whatever its letters,
so a dynamic text keeps its height (and its place on the frame) when its content changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from vistter.media.frames import FrameFormat
from vistter.overlays.fonts import FONT_LOCK, FontFace

__all__ = [
    "MARGIN_SHARE",
    "Rgba",
    "TextBlock",
    "margin",
    "measure_text",
    "paint_text",
    "resolution_scale",
    "scaled",
]

MARGIN_SHARE = 0.03
"""Margin from the frame edges at a named position, as a share of the program height."""

Rgba = tuple[int, int, int, int]


def resolution_scale(timeline_height: int, fmt: FrameFormat) -> float:
    """How much bigger the program is than the timeline: ``fmt.height / timeline_height``.

    Raises ``ValueError`` for a timeline height that is not positive.
    """
    if timeline_height <= 0:
        raise ValueError(f"timeline height {timeline_height} is not positive")
    return fmt.height / timeline_height


def margin(fmt: FrameFormat) -> int:
    """Pixels kept from the frame edges at a named position (3 % of the height)."""
    return round(fmt.height * MARGIN_SHARE)


def scaled(value: float, factor: float, minimum: int = 0) -> int:
    """``value * factor`` rounded to whole pixels, at least ``minimum``."""
    return max(minimum, round(value * factor))


@dataclass(frozen=True, slots=True)
class TextBlock:
    """Lines of text measured in one font: where the ink goes relative to the block's box.

    ``width`` x ``height`` is the box the text occupies; draw line ``i`` with anchor ``la``
    (left, ascender) at ``(left + offset_x, top + offset_y + i * line_height)``.
    """

    lines: tuple[str, ...]
    face: FontFace
    width: int
    height: int
    line_height: int
    offset_x: int
    offset_y: int

    def draw(self, mask: Image.Image, left: int, top: int) -> None:
        """Draw the block's coverage (255 = ink) onto the ``L`` image ``mask`` at (left, top).

        Runs in the caller's thread, under the font lock.
        """
        pen = ImageDraw.Draw(mask)
        with FONT_LOCK:
            for index, line in enumerate(self.lines):
                if line:
                    origin = (
                        left + self.offset_x,
                        top + self.offset_y + index * self.line_height,
                    )
                    pen.text(origin, line, font=self.face, fill=255, anchor="la")


def measure_text(text: str, face: FontFace) -> TextBlock:
    """Measure ``text`` (``\\n`` separates lines) in ``face``.

    The box is the lines' advance width (or their ink, where a glyph reaches past it) by
    ``lines x (ascent + descent)`` (grown where ink reaches past it, e.g. tall accents).
    Empty text measures 0 x 0.
    """
    lines = tuple(text.split("\n")) if text else ()
    with FONT_LOCK:
        ascent, descent = face.getmetrics()
        line_height = ascent + descent
        left, top, right, bottom = 0, 0, 0, line_height * len(lines)
        for index, line in enumerate(lines):
            if not line:
                continue
            ink = face.getbbox(line, anchor="la")
            advance = math.ceil(face.getlength(line))
            base = index * line_height
            left = min(left, math.floor(ink[0]))
            right = max(right, advance, math.ceil(ink[2]))
            top = min(top, base + math.floor(ink[1]))
            bottom = max(bottom, base + math.ceil(ink[3]))
    if not any(lines):
        return TextBlock(lines, face, 0, 0, line_height, 0, 0)
    return TextBlock(
        lines=lines,
        face=face,
        width=right - left,
        height=bottom - top,
        line_height=line_height,
        offset_x=-left,
        offset_y=-top,
    )


def paint_text(canvas: Image.Image, block: TextBlock, left: int, top: int, color: Rgba) -> None:
    """Composite ``block`` in ``color`` over the RGBA ``canvas`` at (left, top), in place.

    Straight alpha: the glyph coverage times the colour's alpha becomes the text layer's
    alpha, and Pillow's ``alpha_composite`` lays it over whatever the canvas holds.
    """
    if not block.lines or block.width == 0:
        return
    mask = Image.new("L", canvas.size, 0)
    block.draw(mask, left, top)
    if color[3] < 255:
        mask = mask.point(lambda value: value * color[3] // 255)
    ink = Image.new("RGBA", canvas.size, (color[0], color[1], color[2], 0))
    ink.putalpha(mask)
    canvas.alpha_composite(ink)
