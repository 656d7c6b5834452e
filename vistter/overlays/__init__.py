"""Overlays: Pillow renders each overlay cue to RGBA once per change, ahead of time.

- :func:`render_overlay` -> :class:`RenderedOverlay` (picture, position, opacity) ->
  :meth:`RenderedOverlay.to_layer` for the mixer;
- :func:`font`: the shipped DejaVu Sans;
- :class:`DataProvider` / :class:`DataPoller`: a dynamic text's JSON value, polled;
- :class:`DynamicTextSource`: a dynamic text's text now and when it next changes.
"""

from vistter.overlays.data_provider import DataPoller, DataProvider, DataStatus, pick_field
from vistter.overlays.dynamic import DynamicTextSource, next_time_change
from vistter.overlays.errors import (
    DataSourceError,
    OverlayAssetError,
    OverlayError,
    OverlayTextError,
)
from vistter.overlays.fonts import font
from vistter.overlays.layout import margin, resolution_scale
from vistter.overlays.render import (
    DEFAULT_LOWER_THIRD,
    AnyOverlay,
    RenderedOverlay,
    render_overlay,
)

__all__ = [
    "DEFAULT_LOWER_THIRD",
    "AnyOverlay",
    "DataPoller",
    "DataProvider",
    "DataSourceError",
    "DataStatus",
    "DynamicTextSource",
    "OverlayAssetError",
    "OverlayError",
    "OverlayTextError",
    "RenderedOverlay",
    "font",
    "margin",
    "next_time_change",
    "pick_field",
    "render_overlay",
    "resolution_scale",
]
