"""The overlay font: DejaVu Sans, shipped inside the package, so no system font is needed.

``vistter/data/`` carries ``DejaVuSans.ttf`` and ``DejaVuSans-Bold.ttf`` (DejaVu 2.37,
unmodified, Bitstream Vera / Arev licence in ``DejaVu-LICENSE.txt`` next to them). When a
file is missing (a broken install), :func:`font` falls back to Pillow's built-in scalable
font (``ImageFont.load_default(size=...)``) and logs a warning once, so an overlay still
renders instead of taking the show down.

FreeType faces are not safe to use from two threads at once. Overlays are rendered in
several track executor threads, so every use of a font (measuring and drawing) must hold
:data:`FONT_LOCK`; :mod:`vistter.overlays.render` does. Rendering is off the frame path, so
the lock costs nothing that matters.
"""

from __future__ import annotations

import functools
import logging
import threading
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Final

from PIL import ImageFont

__all__ = [
    "BOLD_FONT_FILE",
    "FONT_FILE",
    "FONT_LOCK",
    "FontFace",
    "font",
    "font_file",
]

logger = logging.getLogger(__name__)

FONT_FILE: Final = "DejaVuSans.ttf"
"""The regular face, in ``vistter/data/``."""
BOLD_FONT_FILE: Final = "DejaVuSans-Bold.ttf"
"""The bold face (lower third titles), in ``vistter/data/``."""

FONT_LOCK = threading.RLock()
"""Hold while measuring or drawing with a font from :func:`font` (FreeType is not thread-safe)."""

FontFace = ImageFont.FreeTypeFont
"""What :func:`font` returns (the shipped face or Pillow's scalable default)."""

_MIN_SIZE, _MAX_SIZE = 1, 2000


def font_file(*, bold: bool = False) -> Path | None:
    """The shipped TTF file on disk, or ``None`` when the package data is missing."""
    entry = resources.files("vistter").joinpath("data", BOLD_FONT_FILE if bold else FONT_FILE)
    if not entry.is_file():
        return None
    return entry if isinstance(entry, Path) else None


@functools.lru_cache(maxsize=4)
def _font_bytes(bold: bool) -> bytes | None:
    """The TTF bytes when the package data is not a plain folder (zip import); else ``None``."""
    entry = resources.files("vistter").joinpath("data", BOLD_FONT_FILE if bold else FONT_FILE)
    return entry.read_bytes() if entry.is_file() else None


@functools.lru_cache(maxsize=64)
def font(size: int, *, bold: bool = False) -> FontFace:
    """The shipped font at ``size`` pixels (em size), cached per (size, bold).

    Runs in the caller's thread; the returned object is shared, so use it under
    :data:`FONT_LOCK`. ``size`` is clamped to 1..2000. Never raises for a missing font
    file: it falls back to Pillow's built-in scalable font and logs a warning.
    """
    size = max(_MIN_SIZE, min(_MAX_SIZE, int(size)))
    with FONT_LOCK:
        path = font_file(bold=bold)
        if path is not None:
            return ImageFont.truetype(str(path), size)
        data = _font_bytes(bold)
        if data is not None:
            return ImageFont.truetype(BytesIO(data), size)
        _warn_missing(bold)
        fallback = ImageFont.load_default(size=size)
    if not isinstance(fallback, ImageFont.FreeTypeFont):  # pragma: no cover - no FreeType
        raise RuntimeError("Pillow was built without FreeType; overlays need it for text.")
    return fallback


@functools.lru_cache(maxsize=2)
def _warn_missing(bold: bool) -> None:
    name = BOLD_FONT_FILE if bold else FONT_FILE
    logger.warning(
        "the overlay font %s is missing from vistter/data; using Pillow's built-in font. "
        "Reinstall vistter to get the shipped font back.",
        name,
    )
