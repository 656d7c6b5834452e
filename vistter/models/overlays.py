"""Overlay cue parameters: what a ``show_overlay`` cue puts on the program.

The overlay ``type`` selects the parameter model (a discriminated union), so a logo cannot be
given a ``template`` and a text overlay cannot forget its ``text``. Every overlay is placed
either at a named ``position`` (with a default per type) or at explicit pixel ``x``/``y`` of
its top-left corner, and may fade in and out.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from PIL import ImageColor
from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from vistter.models._types import (
    Identifier,
    Int,
    NonNegativeSeconds,
    Number,
    StrictModel,
)
from vistter.models.assets import REFERENCE_HINT, AssetPathError, check_reference
from vistter.models.limits import (
    MAX_FONT_SIZE,
    MAX_FORMAT_NUMBER,
    MAX_PADDING,
    MAX_SCALE,
    MAX_TEXT_CHARS,
    MAX_TEXT_LINES,
    MAX_URL_CHARS,
    MIN_FONT_SIZE,
    MIN_POLL_SECONDS,
)
from vistter.models.problems import custom_error, field_error

__all__ = [
    "TEMPLATE_FIELDS",
    "AssetReference",
    "DataSource",
    "DynamicTextOverlay",
    "ImageOverlay",
    "LiveText",
    "LogoOverlay",
    "LowerThirdOverlay",
    "OverlayParams",
    "Position",
    "TextOverlay",
    "check_text",
    "rgba",
]

Position = Literal["top_left", "top_right", "bottom_left", "bottom_right", "center"]

#: Placeholders a dynamic text template may use: ``{time:%H:%M}`` (local time, strftime
#: format) and ``{value}`` (the field read from the overlay's data source).
TEMPLATE_FIELDS = ("time", "value")


def rgba(color: str) -> tuple[int, int, int, int]:
    """``"#FF000080"`` / ``"white"`` -> ``(r, g, b, a)``; raises ``ValueError`` if unknown."""
    parsed = ImageColor.getrgb(color)
    return (parsed[0], parsed[1], parsed[2], parsed[3] if len(parsed) == 4 else 255)


def _check_color(value: str) -> str:
    try:
        rgba(value)
    except ValueError:
        raise custom_error(
            f"'{value}' is not a colour",
            "Use #RRGGBB, #RRGGBBAA (with alpha) or a colour name such as white.",
        ) from None
    return value


Color = Annotated[str, Field(min_length=1, max_length=64)]


def check_text(value: str) -> str:
    """``value`` when it has at most :data:`MAX_TEXT_LINES` lines (length is a constraint)."""
    if value.count("\n") >= MAX_TEXT_LINES:
        raise custom_error(
            f"the text has more than {MAX_TEXT_LINES} lines",
            f"Use at most {MAX_TEXT_LINES} lines; an overlay is read at a glance.",
        )
    return value


def _check_reference(value: str) -> str:
    try:
        check_reference(value)
    except AssetPathError as error:
        raise custom_error(str(error), REFERENCE_HINT) from None
    return value


#: Overlay text: 1 to :data:`MAX_TEXT_CHARS` characters, at most :data:`MAX_TEXT_LINES` lines.
OverlayText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS),
    AfterValidator(check_text),
]
#: A live text sent by an operator (``POST /api/show/text``): the same limits as a cue's text.
LiveText = OverlayText
#: A file in the assets folder: ``/assets/NAME`` or a relative path (see models.assets).
AssetReference = Annotated[str, Field(min_length=1), AfterValidator(_check_reference)]

_SPEC_NUMBER = re.compile(r"[0-9]+")


class _OverlayBase(StrictModel):
    """Placement, opacity and fades shared by every overlay type."""

    DEFAULT_POSITION: ClassVar[Position] = "top_left"

    position: Position | None = None
    x: Annotated[Int, Field(ge=0)] | None = None
    y: Annotated[Int, Field(ge=0)] | None = None
    scale: Annotated[Number, Field(gt=0, le=MAX_SCALE)] = 1.0
    opacity: Annotated[Number, Field(ge=0, le=1)] = 1.0
    fade_in: NonNegativeSeconds = 0
    fade_out: NonNegativeSeconds = 0

    @model_validator(mode="after")
    def _one_placement(self) -> _OverlayBase:
        if (self.x is None) != (self.y is None):
            missing = "y" if self.y is None else "x"
            raise field_error(
                missing, "x and y must be given together", "Give both x and y, or neither."
            )
        if self.x is not None and self.position is not None:
            raise field_error(
                "position",
                "both position and x/y are given",
                "Use either a named position or explicit x/y pixels, not both.",
            )
        return self

    @property
    def anchor(self) -> Position | None:
        """The named position to place at, or ``None`` when explicit ``x``/``y`` are given."""
        if self.x is not None:
            return None
        return self.position or self.DEFAULT_POSITION


class _TextStyle(_OverlayBase):
    """Text styling: size in pixels, colour, optional background box with padding."""

    font_size: Annotated[Int, Field(ge=MIN_FONT_SIZE, le=MAX_FONT_SIZE)] = 32
    color: Color = "#FFFFFF"
    background_color: Color | None = None
    padding: Annotated[Int, Field(ge=0, le=MAX_PADDING)] = 8

    @field_validator("color", "background_color")
    @classmethod
    def _valid_color(cls, value: str | None) -> str | None:
        return None if value is None else _check_color(value)


class LowerThirdOverlay(_TextStyle):
    """A name strap: text (and an optional second line) on a bar near the bottom."""

    DEFAULT_POSITION: ClassVar[Position] = "bottom_left"

    type: Literal["lower_third"]
    text: OverlayText
    subtitle: OverlayText | None = None
    image_url: AssetReference | None = None


class TextOverlay(_TextStyle):
    """Static text."""

    type: Literal["text"]
    text: OverlayText


class LogoOverlay(_OverlayBase):
    """A PNG with transparency, usually a corner bug."""

    DEFAULT_POSITION: ClassVar[Position] = "top_right"

    type: Literal["logo"]
    image_url: AssetReference


class ImageOverlay(_OverlayBase):
    """Any picture placed over the program."""

    DEFAULT_POSITION: ClassVar[Position] = "center"

    type: Literal["image"]
    image_url: AssetReference


class DataSource(StrictModel):
    """Where a dynamic text gets its ``{value}``: a JSON file or an http(s) URL, polled.

    ``key`` is a dotted path into the JSON document (``"tide.next_high"``); without it the
    whole document is the value. A ``path`` follows the same rules as asset paths.
    """

    path: AssetReference | None = None
    url: Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS)] | None = None
    key: Identifier | None = None
    poll_interval: Annotated[Number, Field(ge=MIN_POLL_SECONDS, le=86_400)] = 30

    @model_validator(mode="after")
    def _one_location(self) -> DataSource:
        if (self.path is None) == (self.url is None):
            raise field_error(
                "path" if self.path is not None else "url",
                "a data source needs exactly one of path or url",
                "Give either path (a JSON file) or url (an http(s) address).",
            )
        if self.url is not None:
            _check_url(self.url)
        return self

    @property
    def location(self) -> str:
        """The URL or the path, as written."""
        return self.url if self.url is not None else str(self.path)


def _check_url(url: str) -> None:
    hint = "Use an http(s) address, or path for a JSON file in the assets folder."
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise field_error("url", "the data source url contains spaces or control characters",
                          hint)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise field_error("url", "the data source url cannot be parsed", hint) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise field_error("url", "the data source url must start with http:// or https://",
                          hint)
    if not parts.hostname:
        raise field_error("url", "the data source url has no host", hint)


class DynamicTextOverlay(_TextStyle):
    """Text rebuilt from a template: the time now and/or a value read from a data source."""

    type: Literal["dynamic_text"]
    template: OverlayText
    source: DataSource | None = None

    @field_validator("template")
    @classmethod
    def _valid_template(cls, value: str) -> str:
        try:
            fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(value)
                      if name is not None]  # fmt: skip
        except ValueError:
            raise custom_error(
                "the template has an unmatched { or }",
                "Write {{ and }} for literal braces; placeholders are {time:%H:%M} and {value}.",
            ) from None
        names = {name for name, _ in fields}
        unknown = sorted(names - set(TEMPLATE_FIELDS))
        if unknown:
            raise custom_error(
                f"the template uses unknown placeholder(s) {', '.join(unknown)}",
                "Only {time:FORMAT} (strftime format, e.g. {time:%H:%M}) and {value} exist.",
            )
        for _, spec in fields:
            if "{" in (spec or "") or any(
                int(number) > MAX_FORMAT_NUMBER for number in _SPEC_NUMBER.findall(spec or "")
            ):
                raise custom_error(
                    f"a format in the template has a number larger than {MAX_FORMAT_NUMBER} "
                    "or a nested {...}",
                    f"Keep widths and precisions at {MAX_FORMAT_NUMBER} or less, e.g. "
                    "{value:.1f} or {value:>8}.",
                )
        return value

    @model_validator(mode="after")
    def _value_needs_source(self) -> DynamicTextOverlay:
        if "value" in self.placeholders and self.source is None:
            raise field_error(
                "source",
                "the template uses {value} but there is no source",
                "Add source with a path or url (and a key), or remove {value}.",
            )
        return self

    @property
    def placeholders(self) -> frozenset[str]:
        """The placeholder names the template uses."""
        parsed = string.Formatter().parse(self.template)
        return frozenset(name for _, name, _, _ in parsed if name)

    def render(self, now: datetime, value: object = None) -> str:
        """The text to show at ``now`` with the latest ``value`` (``None`` shows as empty).

        Runs in the caller's thread. Raises ``ValueError``/``TypeError`` when a format spec in
        the template does not fit the value (e.g. ``{value:.1f}`` with text).
        """
        return self.template.format(time=now, value="" if value is None else value)


OverlayParams = Annotated[
    LowerThirdOverlay | TextOverlay | LogoOverlay | ImageOverlay | DynamicTextOverlay,
    Field(discriminator="type"),
]
