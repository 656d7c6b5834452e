"""Limits on every size in a timeline that turns into work: the API is a security boundary.

One request must never make the appliance render a giant bitmap, start hundreds of threads or
walk millions of cues. Each constant below bounds one such size; the models enforce it (a
problem with the field's path and a hint), and the README's "Limits" table is generated from
:data:`LIMITS` (``tests/models/test_models_limits.py`` checks that they match).

Rendering is bounded by the program frame as well (see :mod:`vistter.overlays.fit`): text
that does not fit the frame is cut with an ellipsis, never drawn to a bitmap larger than the
frame, whatever the limits here allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "LIMITS",
    "MAX_CUES_PER_TRACK",
    "MAX_DATA_SOURCES",
    "MAX_DESCRIPTION_CHARS",
    "MAX_FONT_SIZE",
    "MAX_FORMAT_NUMBER",
    "MAX_NAME_CHARS",
    "MAX_OVERLAY_TRACKS",
    "MAX_PADDING",
    "MAX_PICTURE_BYTES",
    "MAX_PICTURE_PIXELS",
    "MAX_PICTURE_SIDE",
    "MAX_REFERENCE_CHARS",
    "MAX_SCALE",
    "MAX_TEXT_CHARS",
    "MAX_TEXT_LINES",
    "MAX_URL_CHARS",
    "MIN_FONT_SIZE",
    "MIN_POLL_SECONDS",
    "Limit",
    "all_limits",
    "limits_markdown",
]

MAX_TEXT_CHARS: Final = 500
"""Characters in an overlay's text, subtitle, template or live text."""
MAX_TEXT_LINES: Final = 10
"""Lines (``\\n``-separated) in an overlay's text."""
MIN_FONT_SIZE: Final = 6
MAX_FONT_SIZE: Final = 400
"""Font size in pixels of the timeline's resolution."""
MAX_PADDING: Final = 400
"""Padding around a text box, in pixels of the timeline's resolution."""
MAX_SCALE: Final = 10
"""An overlay's own ``scale`` factor."""
MAX_FORMAT_NUMBER: Final = 64
"""Largest number (width, precision) in a dynamic text template's format spec."""
MAX_NAME_CHARS: Final = 200
"""Characters in a timeline's name."""
MAX_DESCRIPTION_CHARS: Final = 4000
"""Characters in a timeline's description."""
MAX_CUES_PER_TRACK: Final = 2000
"""Cues on one track."""
MAX_OVERLAY_TRACKS: Final = 16
"""Overlay tracks in a timeline (each one is an executor actor)."""
MAX_DATA_SOURCES: Final = 8
"""Different data sources (file or URL, with its key) polled by one timeline's dynamic texts."""
MIN_POLL_SECONDS: Final = 1
"""Shortest poll interval of a data source."""
MAX_REFERENCE_CHARS: Final = 1024
"""Characters in an asset reference (``/assets/...``)."""
MAX_URL_CHARS: Final = 2048
"""Characters in a data source URL."""
MAX_PICTURE_BYTES: Final = 32 * 1024 * 1024
"""Bytes of a picture file an overlay may use."""
MAX_PICTURE_SIDE: Final = 8192
"""Pixels of the longer side of a picture an overlay may use."""
MAX_PICTURE_PIXELS: Final = 8_388_608
"""Pixels (width x height) of a picture an overlay may use (8 MP, 32 MB decoded; a 4K
frame has 8.3 MP)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """One documented limit: where it applies, its value, and what it bounds."""

    name: str
    applies_to: str
    value: str
    why: str


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


LIMITS: Final[tuple[Limit, ...]] = (
    Limit("MAX_TEXT_CHARS", "overlay `text`, `subtitle`, `template`; live text",
          f"{_n(MAX_TEXT_CHARS)} characters", "text layout work"),
    Limit("MAX_TEXT_LINES", "overlay `text`, `subtitle`, `template`; live text",
          f"{MAX_TEXT_LINES} lines", "text layout work"),
    Limit("MIN_FONT_SIZE/MAX_FONT_SIZE", "`font_size`",
          f"{MIN_FONT_SIZE} to {MAX_FONT_SIZE} px", "glyph size"),
    Limit("MAX_PADDING", "`padding`", f"{MAX_PADDING} px", "box size"),
    Limit("MAX_SCALE", "overlay `scale`", f"more than 0, at most {MAX_SCALE}", "picture size"),
    Limit("MAX_FORMAT_NUMBER", "numbers in a `template`'s `{...:spec}`",
          f"at most {MAX_FORMAT_NUMBER}", "text length after formatting"),
    Limit("MAX_NAME_CHARS", "timeline `name`", f"{MAX_NAME_CHARS} characters", "storage"),
    Limit("MAX_DESCRIPTION_CHARS", "timeline `description`",
          f"{_n(MAX_DESCRIPTION_CHARS)} characters", "storage"),
    Limit("MAX_CUES_PER_TRACK", "`cues` of one track", f"{_n(MAX_CUES_PER_TRACK)} cues",
          "planning and validation work"),
    Limit("MAX_OVERLAY_TRACKS", "`tracks.overlays`", f"{MAX_OVERLAY_TRACKS} tracks",
          "one executor actor per track"),
    Limit("MAX_DATA_SOURCES", "different `source`s (location and `key`) of dynamic texts",
          f"{MAX_DATA_SOURCES} per timeline", "one polling thread per source"),
    Limit("MIN_POLL_SECONDS", "`source.poll_interval`", f"at least {MIN_POLL_SECONDS} s",
          "fetch rate"),
    Limit("MAX_REFERENCE_CHARS", "`media_url`, `image_url`, `test_pattern`, `source.path`",
          f"{_n(MAX_REFERENCE_CHARS)} characters", "path handling"),
    Limit("MAX_URL_CHARS", "`source.url`", f"{_n(MAX_URL_CHARS)} characters", "fetching"),
    Limit("MAX_PICTURE_BYTES", "a picture file used by an overlay",
          f"{MAX_PICTURE_BYTES // (1024 * 1024)} MiB", "decoding"),
    Limit("MAX_PICTURE_SIDE/MAX_PICTURE_PIXELS", "a picture used by an overlay",
          f"{_n(MAX_PICTURE_SIDE)} px a side, {_n(MAX_PICTURE_PIXELS)} pixels", "decoding"),
)  # fmt: skip
"""Every limit, in the order the README lists them."""


def all_limits() -> tuple[Limit, ...]:
    """:data:`LIMITS` plus the timeline's own (duration, frame rate, resolution)."""
    from vistter.models import timeline  # noqa: PLC0415 - timeline imports this module

    days = timeline.MAX_TIMELINE_SECONDS // 86_400
    return (
        Limit("MAX_TIMELINE_SECONDS", "timeline `duration`, cue `start_time` and `duration`",
              f"{_n(timeline.MAX_TIMELINE_SECONDS)} s ({days} days)", "frame counts"),
        Limit("MAX_FPS", "timeline `fps`", f"1 to {timeline.MAX_FPS}", "frame counts"),
        Limit("MIN/MAX_WIDTH, MIN/MAX_HEIGHT", "timeline `resolution`",
              f"{timeline.MIN_WIDTH}x{timeline.MIN_HEIGHT} to "
              f"{timeline.MAX_WIDTH}x{timeline.MAX_HEIGHT}", "frame size"),
        *LIMITS,
    )  # fmt: skip


def limits_markdown() -> str:
    """The README's limits table, generated from :func:`all_limits` (no trailing newline)."""
    rows = ["| limit | applies to | value | bounds |", "| --- | --- | --- | --- |"]
    rows += [
        f"| `{lim.name}` | {lim.applies_to} | {lim.value} | {lim.why} |" for lim in all_limits()
    ]
    return "\n".join(rows)
