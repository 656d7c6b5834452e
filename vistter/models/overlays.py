"""Overlay cue parameters: what a ``show_overlay`` cue puts on the program.

The overlay ``type`` selects the parameter model (a discriminated union), so a logo cannot be
given a ``template`` and a text overlay cannot forget its ``text``. Every overlay is placed
either at a named ``position`` (with a default per type) or at explicit pixel ``x``/``y`` of
its top-left corner, and may fade in and out.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from PIL import ImageColor
from pydantic import Field, field_validator, model_validator

from vistter.models._types import (
    Identifier,
    Int,
    NonEmptyText,
    NonNegativeSeconds,
    Number,
    StrictModel,
)
from vistter.models.problems import custom_error, field_error

__all__ = [
    "TEMPLATE_FIELDS",
    "DataSource",
    "DynamicTextOverlay",
    "ImageOverlay",
    "LogoOverlay",
    "LowerThirdOverlay",
    "OverlayParams",
    "Position",
    "TextOverlay",
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


Color = Annotated[str, Field(min_length=1)]


class _OverlayBase(StrictModel):
    """Placement, opacity and fades shared by every overlay type."""

    DEFAULT_POSITION: ClassVar[Position] = "top_left"

    position: Position | None = None
    x: Annotated[Int, Field(ge=0)] | None = None
    y: Annotated[Int, Field(ge=0)] | None = None
    scale: Annotated[Number, Field(gt=0, le=10)] = 1.0
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

    font_size: Annotated[Int, Field(ge=6, le=400)] = 32
    color: Color = "#FFFFFF"
    background_color: Color | None = None
    padding: Annotated[Int, Field(ge=0, le=400)] = 8

    @field_validator("color", "background_color")
    @classmethod
    def _valid_color(cls, value: str | None) -> str | None:
        return None if value is None else _check_color(value)


class LowerThirdOverlay(_TextStyle):
    """A name strap: text (and an optional second line) on a bar near the bottom."""

    DEFAULT_POSITION: ClassVar[Position] = "bottom_left"

    type: Literal["lower_third"]
    text: NonEmptyText
    subtitle: str | None = None
    image_url: NonEmptyText | None = None


class TextOverlay(_TextStyle):
    """Static text."""

    type: Literal["text"]
    text: NonEmptyText


class LogoOverlay(_OverlayBase):
    """A PNG with transparency, usually a corner bug."""

    DEFAULT_POSITION: ClassVar[Position] = "top_right"

    type: Literal["logo"]
    image_url: NonEmptyText


class ImageOverlay(_OverlayBase):
    """Any picture placed over the program."""

    DEFAULT_POSITION: ClassVar[Position] = "center"

    type: Literal["image"]
    image_url: NonEmptyText


class DataSource(StrictModel):
    """Where a dynamic text gets its ``{value}``: a JSON file or an http(s) URL, polled.

    ``key`` is a dotted path into the JSON document (``"tide.next_high"``); without it the
    whole document is the value. A ``path`` follows the same rules as asset paths.
    """

    path: NonEmptyText | None = None
    url: NonEmptyText | None = None
    key: Identifier | None = None
    poll_interval: Annotated[Number, Field(ge=1, le=86_400)] = 30

    @model_validator(mode="after")
    def _one_location(self) -> DataSource:
        if (self.path is None) == (self.url is None):
            raise field_error(
                "path" if self.path is not None else "url",
                "a data source needs exactly one of path or url",
                "Give either path (a JSON file) or url (an http(s) address).",
            )
        if self.url is not None and not self.url.lower().startswith(("http://", "https://")):
            raise field_error(
                "url",
                "the data source url must start with http:// or https://",
                "Use an http(s) address, or path for a local JSON file.",
            )
        return self


class DynamicTextOverlay(_TextStyle):
    """Text rebuilt from a template: the time now and/or a value read from a data source."""

    type: Literal["dynamic_text"]
    template: NonEmptyText
    source: DataSource | None = None

    @field_validator("template")
    @classmethod
    def _valid_template(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError:
            raise custom_error(
                "the template has an unmatched { or }",
                "Write {{ and }} for literal braces; placeholders are {time:%H:%M} and {value}.",
            ) from None
        unknown = sorted(names - set(TEMPLATE_FIELDS))
        if unknown:
            raise custom_error(
                f"the template uses unknown placeholder(s) {', '.join(unknown)}",
                "Only {time:FORMAT} (strftime format, e.g. {time:%H:%M}) and {value} exist.",
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
