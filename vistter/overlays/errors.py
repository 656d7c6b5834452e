"""Typed errors of overlay rendering and data sources: what is wrong and how to fix it."""

from __future__ import annotations

from vistter.errors import OperatorError, TimelineError

__all__ = [
    "DataSourceError",
    "OverlayAssetError",
    "OverlayError",
    "OverlayTextError",
]


class OverlayError(TimelineError):
    """An overlay cue cannot be rendered as written (the show goes on without it)."""


class OverlayAssetError(OverlayError):
    """An overlay's picture (logo, image, lower third template) is missing or unreadable."""


class OverlayTextError(OverlayError):
    """An overlay's text cannot be built (a template format that does not fit its value)."""


class DataSourceError(OperatorError):
    """A dynamic text's data source could not be read (file, URL, JSON or key)."""
