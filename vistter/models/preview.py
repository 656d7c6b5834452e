"""The ``[preview]`` section: the operator console's view of the real program output.

The preview is one more output of the encoded program (its kind in the output registry is
``preview``): each browser watching it gets its own bounded fanout queue, so no second encode
runs and a slow viewer costs the destinations nothing. The same section sets the still images
of the console: the latest program frame as a JPEG (for browsers without MSE) and a small
thumbnail of every camera.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from vistter.models._types import Int, PositiveSeconds, StrictModel

__all__ = ["PREVIEW_PATH", "PreviewOutput"]

#: Where the preview stream is served (``GET``), as shown in status.
PREVIEW_PATH = "/api/preview.ts"


class PreviewOutput(StrictModel):
    """The program preview: at most ``max_viewers`` browsers at once, each dropped when it
    falls ``max_lag_seconds`` of program behind (it reconnects at the live edge).

    ``jpeg_interval``: a program JPEG or a camera thumbnail is encoded at most once per this
    many seconds (every viewer in between gets the cached one); ``thumbnail_width``: camera
    thumbnails are scaled to this width (the height keeps the program's aspect ratio).
    """

    kind: ClassVar[str] = "preview"

    id: Literal["preview"] = "preview"
    enabled: bool = True
    max_viewers: Annotated[Int, Field(ge=1, le=32)] = 4
    max_lag_seconds: Annotated[PositiveSeconds, Field(ge=0.5, le=10)] = 1.5
    jpeg_interval: Annotated[PositiveSeconds, Field(ge=0.2, le=60)] = 1.0
    thumbnail_width: Annotated[Int, Field(ge=64, le=1920)] = 320

    @property
    def display_url(self) -> str:
        """Where browsers watch it."""
        return PREVIEW_PATH

    @property
    def max_bitrate(self) -> int | None:
        """The preview takes any bitrate."""
        return None
