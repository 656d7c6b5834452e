"""Render an overlay cue to an RGBA picture placed on the program, once per change.

A track executor calls :func:`render_overlay` ahead of time (off the frame path), then
:meth:`RenderedOverlay.to_layer` to get the
:class:`~vistter.actors.program.overlay_layer.OverlayLayer`
the mixer composites on every frame. Measured on the 2-core reference box: a default lower
third at 1080p renders in about 3 ms and converts to a layer in about 5 ms.

Decisions:

- **Sizes** in the cue are for the timeline's resolution; pass ``scale=`` (see
  :func:`~vistter.overlays.layout.resolution_scale`) when the program is another size.
  The cue's own ``scale`` multiplies every type's size (text, padding, pictures).
- **Opacity is not baked** into the picture: :attr:`RenderedOverlay.opacity` is the cue's
  opacity, and the mixer passes ``opacity x fade level`` to ``OverlayLayer.composite``
  on each frame. A fade therefore needs no re-render, and the layer keeps its fast opaque
  path when the opacity is 1.
- **Text** without a ``background_color`` is bare text (no box, no padding); with one, the
  box is the text plus ``padding`` on every side.
- **Lower third**: the template picture (the cue's ``image_url``, else
  ``/assets/lower_third.png``; when that default file is absent, a built-in navy bar, so the
  spec's example runs on an empty assets folder), scaled like everything else, with the text
  in bold and the optional subtitle below it at 70 % size, vertically centred, left-aligned
  after an inset of 20 % of the bar's height. A text longer than the bar widens it (the
  middle of the template stretches; its left and right tenth keep their shape).
- A named position keeps a margin of 3 % of the program height from the edges it touches;
  explicit ``x``/``y`` are the top-left corner in timeline pixels (scaled like the rest).
- **Bounded by the frame**: no overlay is drawn to a bitmap larger than the program frame.
  Text is fitted to the frame less its margins (:mod:`vistter.overlays.fit`: the font at
  most one frame-line high, long lines cut with ``…``, extra lines dropped); a lower third's
  bar is at most the frame less its margins; a picture is resized only in its visible part,
  and every picture is clipped to the frame. A live text longer than
  :data:`~vistter.models.limits.MAX_TEXT_CHARS` characters (or
  :data:`~vistter.models.limits.MAX_TEXT_LINES` lines) is refused; a dynamic text's value is
  cut to those limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw

from vistter.actors.program.overlay_layer import OverlayLayer, place
from vistter.media.frames import FrameFormat
from vistter.models.limits import MAX_TEXT_CHARS, MAX_TEXT_LINES
from vistter.models.overlays import (
    DynamicTextOverlay,
    ImageOverlay,
    LogoOverlay,
    LowerThirdOverlay,
    TextOverlay,
    rgba,
)
from vistter.overlays.errors import OverlayError, OverlayTextError
from vistter.overlays.fit import clip_to_frame, fit_font, fit_lines, limit_text
from vistter.overlays.images import load_picture, picture_path
from vistter.overlays.layout import Rgba, margin, measure_text, paint_text, scaled

__all__ = [
    "DEFAULT_LOWER_THIRD",
    "AnyOverlay",
    "RenderedOverlay",
    "render_overlay",
]

AnyOverlay = LowerThirdOverlay | TextOverlay | LogoOverlay | ImageOverlay | DynamicTextOverlay
"""The parameters of any ``show_overlay`` cue."""

DEFAULT_LOWER_THIRD = "/assets/lower_third.png"
"""The lower third template used when the cue names none."""

_BUILTIN_BAR_SIZE = (1000, 140)
_BUILTIN_BAR_COLOR: Rgba = (12, 24, 48, 210)
_BUILTIN_ACCENT: Rgba = (0, 150, 160, 255)
_SUBTITLE_SHARE = 0.7
_INSET_SHARE = 0.2
_FIXED_EDGE_SHARE = 0.1
_MAX_AREA_FRAMES = 4  # a scaled picture may cover at most 4 program frames' worth of pixels


@dataclass(frozen=True, slots=True, eq=False)
class RenderedOverlay:
    """An overlay drawn for one program format: the picture and where it goes.

    ``image`` is RGBA with straight alpha; ``x``/``y`` is its top-left corner on the program
    (it may lie partly outside; the layer clips); ``opacity`` is the cue's opacity, to be
    multiplied with the fade level by the mixer; ``text`` is the text shown (``None`` for
    pictures).
    """

    image: Image.Image
    x: int
    y: int
    fmt: FrameFormat
    opacity: float
    text: str | None = None

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def to_layer(self) -> OverlayLayer:
        """The layer the mixer composites (a few ms; call it ahead of time, off the frame path)."""
        return OverlayLayer.from_rgba(self.image, self.x, self.y, self.fmt)


def render_overlay(
    params: AnyOverlay,
    fmt: FrameFormat,
    assets_dir: Path,
    *,
    text: str | None = None,
    now: datetime | None = None,
    value: object = None,
    scale: float = 1.0,
) -> RenderedOverlay:
    """Draw the overlay ``params`` describes for a program of format ``fmt``.

    ``text`` replaces the cue's text (an operator's live update); ``now`` and ``value`` fill
    a dynamic text's ``{time}`` and ``{value}`` (``now`` defaults to the local time now);
    ``scale`` is ``program height / timeline height``. Runs in the caller's thread (a track
    executor or the orchestrator), never in the mixer's frame loop; its time and memory are
    bounded by the frame size (see the module doc). Raises :class:`OverlayAssetError` for a
    missing or unreadable picture, :class:`OverlayTextError` when a text cannot be built
    (a template format that does not fit the value, ``text`` given for a picture, or a
    ``text`` over the limits), and :class:`OverlayError` for a picture scaled far beyond
    the frame.
    """
    if not scale > 0:
        raise ValueError(f"scale {scale!r} is not a positive number")
    factor = scale * float(params.scale)
    if text is not None:
        _check_live_text(params, text)
    if isinstance(params, LogoOverlay | ImageOverlay):
        return _picture(params, assets_dir, factor, fmt, scale)
    if isinstance(params, LowerThirdOverlay):
        shown = params.text if text is None else text
        image = _lower_third(params, shown, assets_dir, factor, fmt)
    else:
        if text is not None:
            shown = text
        elif isinstance(params, DynamicTextOverlay):
            shown = limit_text(_template_text(params, now, value))
        else:
            shown = params.text
        image = _text_box(params, shown, factor, fmt)
    x, y = _position(params, image.width, image.height, fmt, scale)
    image, x, y = clip_to_frame(image, x, y, fmt)
    return RenderedOverlay(image, x, y, fmt, float(params.opacity), shown)


def _check_live_text(params: AnyOverlay, text: str) -> None:
    if isinstance(params, LogoOverlay | ImageOverlay):
        raise OverlayTextError(
            f"a {params.type} overlay has no text to replace.",
            hint="Update the text of a text, lower_third or dynamic_text overlay instead.",
        )
    if len(text) > MAX_TEXT_CHARS or text.count("\n") >= MAX_TEXT_LINES:
        raise OverlayTextError(
            f"the new text has {len(text)} characters and {text.count(chr(10)) + 1} lines, "
            f"more than an overlay shows ({MAX_TEXT_CHARS} characters, {MAX_TEXT_LINES} "
            "lines).",
            hint="Send a shorter text; an overlay is read at a glance.",
        )


def _room(fmt: FrameFormat) -> tuple[int, int]:
    """The width and height an overlay may use: the frame less its margins."""
    edge = margin(fmt)
    return max(2, fmt.width - 2 * edge), max(2, fmt.height - 2 * edge)


def _position(
    params: AnyOverlay, width: int, height: int, fmt: FrameFormat, scale: float
) -> tuple[int, int]:
    anchor = params.anchor
    if anchor is None:
        assert params.x is not None and params.y is not None  # the model guarantees both
        return scaled(params.x, scale), scaled(params.y, scale)
    return place(anchor, width, height, fmt, margin(fmt))


def _template_text(params: DynamicTextOverlay, now: datetime | None, value: object) -> str:
    try:
        moment = datetime.now() if now is None else now
        return params.render(moment.replace(microsecond=0), value)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise OverlayTextError(
            f"the dynamic text template {params.template!r} does not fit the value "
            f"{_short(repr(value))}: {_short(str(error))}.",
            hint="Fix the format after ':' in the template (e.g. {value:.1f} needs a number), "
            "or the data source's key.",
        ) from None


def _short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (a data feed's value may be a megabyte)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_box(
    params: TextOverlay | DynamicTextOverlay, text: str, factor: float, fmt: FrameFormat
) -> Image.Image:
    room_w, room_h = _room(fmt)
    background = None if params.background_color is None else rgba(params.background_color)
    pad = scaled(params.padding, factor) if background is not None else 0
    pad = min(pad, room_w // 4, room_h // 4)
    face = fit_font(scaled(params.font_size, factor, minimum=1), room_h - 2 * pad)
    block = measure_text(fit_lines(text, face, room_w - 2 * pad, room_h - 2 * pad), face)
    size = (block.width + 2 * pad, block.height + 2 * pad)
    if size[0] == 0 or size[1] == 0:
        return Image.new("RGBA", (2, 2), (0, 0, 0, 0))  # nothing to show, e.g. an empty value
    canvas = Image.new("RGBA", size, background or (0, 0, 0, 0))
    paint_text(canvas, block, pad, pad, rgba(params.color))
    return canvas


def _lower_third(
    params: LowerThirdOverlay, text: str, assets_dir: Path, factor: float, fmt: FrameFormat
) -> Image.Image:
    room_w, room_h = _room(fmt)
    template = _lower_third_template(params, assets_dir)
    bar_w = min(room_w, scaled(template.width, factor, 2))
    bar_h = min(room_h, scaled(template.height, factor, 2))
    pad = min(scaled(params.padding, factor), room_w // 4, room_h // 4)
    inset = min(max(pad, round(bar_h * _INSET_SHARE)), room_w // 4)
    text_room_w, text_room_h = room_w - 2 * inset, room_h - 2 * pad
    title_face = fit_font(scaled(params.font_size, factor, 1), text_room_h, bold=True)
    title_text = fit_lines(" ".join(text.splitlines()), title_face, text_room_w, text_room_h)
    title = measure_text(title_text, title_face)
    subtitle = None
    sub_room_h = text_room_h - title.height
    if params.subtitle and sub_room_h > 0:
        sub_face = fit_font(scaled(params.font_size * _SUBTITLE_SHARE, factor, 1), sub_room_h)
        sub_text = fit_lines(" ".join(params.subtitle.splitlines()), sub_face, text_room_w,
                             sub_room_h)  # fmt: skip
        subtitle = measure_text(sub_text, sub_face)
    text_w = max(title.width, subtitle.width if subtitle else 0)
    text_h = title.height + (subtitle.height if subtitle else 0)
    width = min(room_w, max(bar_w, text_w + 2 * inset))
    height = min(room_h, max(bar_h, text_h + 2 * pad))
    canvas = _stretch(template, width, height, bar_w)
    top = (height - text_h) // 2
    color = rgba(params.color)
    paint_text(canvas, title, inset, top, color)
    if subtitle is not None:
        paint_text(canvas, subtitle, inset, top + title.height, color)
    return canvas


def _lower_third_template(params: LowerThirdOverlay, assets_dir: Path) -> Image.Image:
    if params.image_url is not None:
        return load_picture(params.image_url, assets_dir)
    default = picture_path(DEFAULT_LOWER_THIRD, assets_dir)
    if default is not None and default.is_file():
        return load_picture(DEFAULT_LOWER_THIRD, assets_dir)
    bar_color = _BUILTIN_BAR_COLOR
    if params.background_color is not None:
        bar_color = rgba(params.background_color)
    return _builtin_bar(bar_color)


def _builtin_bar(color: Rgba) -> Image.Image:
    """A plain bar with an accent on its left edge, like ``assets/lower_third.png``."""
    width, height = _BUILTIN_BAR_SIZE
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 10, width - 1, height - 11), fill=color)
    pen.rectangle((0, 10, 15, height - 11), fill=_BUILTIN_ACCENT)
    return image


def _stretch(template: Image.Image, width: int, height: int, natural_w: int) -> Image.Image:
    """``template`` resized to ``width`` x ``height``; extra width goes to its middle only."""
    if width <= natural_w:
        return template.resize((width, height), Image.Resampling.LANCZOS)
    base = template.resize((natural_w, height), Image.Resampling.LANCZOS)
    edge = max(1, round(natural_w * _FIXED_EDGE_SHARE))
    middle_w = max(1, natural_w - 2 * edge)
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas.paste(base.crop((0, 0, edge, height)), (0, 0))
    middle = base.crop((edge, 0, edge + middle_w, height))
    canvas.paste(middle.resize((width - 2 * edge, height), Image.Resampling.LANCZOS), (edge, 0))
    canvas.paste(base.crop((natural_w - edge, 0, natural_w, height)), (width - edge, 0))
    return canvas


def _picture(
    params: LogoOverlay | ImageOverlay, assets_dir: Path, factor: float, fmt: FrameFormat,
    scale: float,
) -> RenderedOverlay:
    """The picture at its scaled size, resized (and kept) only where it is on the frame."""
    reference = params.image_url
    picture = load_picture(reference, assets_dir)
    width, height = scaled(picture.width, factor, 1), scaled(picture.height, factor, 1)
    if width * height > _MAX_AREA_FRAMES * fmt.width * fmt.height:
        raise OverlayError(
            f"the overlay picture {reference!r} scaled to {width}x{height} is far larger "
            f"than the {fmt.width}x{fmt.height} program.",
            hint="Lower the cue's scale, or use a smaller picture.",
        )
    x, y = _position(params, width, height, fmt, scale)
    left, top = max(0, x), max(0, y)
    right, bottom = min(fmt.width, x + width), min(fmt.height, y + height)
    if right <= left or bottom <= top:  # nothing of it is on the frame
        image, x, y = clip_to_frame(picture, fmt.width, fmt.height, fmt)
    elif (width, height) == picture.size:
        image, x, y = clip_to_frame(picture, x, y, fmt)
    else:
        ratio_x, ratio_y = picture.width / width, picture.height / height
        box = ((left - x) * ratio_x, (top - y) * ratio_y,
               (right - x) * ratio_x, (bottom - y) * ratio_y)  # fmt: skip
        image = picture.resize((right - left, bottom - top), Image.Resampling.LANCZOS, box=box)
        x, y = left, top
    return RenderedOverlay(image, x, y, fmt, float(params.opacity), None)
