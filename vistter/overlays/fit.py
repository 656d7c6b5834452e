"""Fit overlay text into the program frame: rendering is bounded by the frame it lands on.

A text overlay is never drawn to a bitmap larger than the program frame, whatever its
length, font size and scale. The rule is predictable (no wrapping, which would move a
layout the operator chose):

- the font is at most as tall as the space the frame leaves (frame height less the margins
  and padding): a larger font size is drawn at that size;
- a line wider than the space is cut at the last character that fits and ends in ``…``;
- lines below the space are dropped, and the last line kept ends in ``…``.

Measuring uses the font's advance widths only (no glyph bitmaps), a binary search of at
most ``log2(len(line))`` measurements per line, under :data:`~vistter.overlays.fonts.FONT_LOCK`.
Texts that come from outside the timeline (a dynamic text's value) are first cut to
:data:`~vistter.models.limits.MAX_TEXT_CHARS` characters and
:data:`~vistter.models.limits.MAX_TEXT_LINES` lines by :func:`limit_text`.

Every function runs in the caller's thread (a track executor or the orchestrator, never the
mixer) and raises nothing for any text.
"""

from __future__ import annotations

from PIL import Image

from vistter.media.frames import FrameFormat
from vistter.models.limits import MAX_TEXT_CHARS, MAX_TEXT_LINES
from vistter.overlays.fonts import FONT_LOCK, FontFace, font

__all__ = ["ELLIPSIS", "clip_to_frame", "fit_font", "fit_lines", "limit_text"]

ELLIPSIS = "…"


def limit_text(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT_LINES` lines and :data:`MAX_TEXT_CHARS` characters
    (ending in ``…`` where it was cut)."""
    lines = text.splitlines() or [""]  # every line break: raqm fails on \r, \x85, \u2029
    cut = len(lines) > MAX_TEXT_LINES
    shown = "\n".join(lines[:MAX_TEXT_LINES])
    if len(shown) > MAX_TEXT_CHARS:
        shown, cut = shown[: MAX_TEXT_CHARS - 1], True
    return shown + ELLIPSIS if cut else shown


def _line_height(face: FontFace) -> int:
    with FONT_LOCK:
        ascent, descent = face.getmetrics()
    return int(ascent + descent)


def fit_font(size: int, max_height: int, *, bold: bool = False) -> FontFace:
    """The shipped font at ``size`` px, or smaller so that one line fits in ``max_height``."""
    size = max(1, min(size, max_height)) if max_height > 0 else max(1, size)
    face = font(size, bold=bold)  # a line is taller than the em size: never load a larger one
    height = _line_height(face)
    if height > max_height > 0:
        size = max(1, size * max_height // height)
        face = font(size, bold=bold)
        while size > 1 and _line_height(face) > max_height:
            size -= 1
            face = font(size, bold=bold)
    return face


def _width(face: FontFace, text: str) -> float:
    with FONT_LOCK:
        return float(face.getlength(text))


def _cut_line(line: str, face: FontFace, max_width: int, *, force: bool = False) -> str:
    """``line`` if it fits in ``max_width`` (and ``force`` is False), else its longest
    prefix that fits followed by ``…`` (just ``…``, or nothing, when nothing fits)."""
    if not force and _width(face, line) <= max_width:
        return line
    low, high = 0, len(line)  # the longest prefix + ELLIPSIS that fits has length in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if _width(face, line[:middle].rstrip() + ELLIPSIS) <= max_width:
            low = middle
        else:
            high = middle - 1
    if low == 0 and _width(face, ELLIPSIS) > max_width:
        return ""
    return line[:low].rstrip() + ELLIPSIS


def fit_lines(text: str, face: FontFace, max_width: int, max_height: int) -> str:
    """``text`` with every line fitting ``max_width`` and no more lines than fit
    ``max_height`` (see the module doc)."""
    lines = text.splitlines() or [""]  # every line break: raqm fails on \r, \x85, \u2029
    room = max(1, max_height // max(1, _line_height(face)))
    dropped = len(lines) > room
    lines = lines[:room]
    fitted = [_cut_line(line, face, max(1, max_width)) for line in lines]
    if dropped and not fitted[-1].endswith(ELLIPSIS):
        fitted[-1] = _cut_line(lines[-1], face, max(1, max_width), force=True)
    return "\n".join(fitted)


def clip_to_frame(
    image: Image.Image, x: int, y: int, fmt: FrameFormat
) -> tuple[Image.Image, int, int]:
    """The part of ``image`` (placed with its top-left at ``x``, ``y``) that is on the frame,
    and where it goes; a transparent 2x2 picture when nothing is on the frame."""
    left, top = max(0, x), max(0, y)
    right, bottom = min(fmt.width, x + image.width), min(fmt.height, y + image.height)
    if right <= left or bottom <= top:
        return Image.new("RGBA", (2, 2), (0, 0, 0, 0)), min(left, fmt.width - 2), min(
            top, fmt.height - 2
        )
    if (left, top, right, bottom) == (x, y, x + image.width, y + image.height):
        return image, x, y
    return image.crop((left - x, top - y, right - x, bottom - y)), left, top
