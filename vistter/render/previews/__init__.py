"""Preview renders: a short range of a timeline, rendered offline in the background.

The timeline builder asks for one (``POST /api/render-previews``, :mod:`vistter.api.
render_previews`); :class:`PreviewRenders` queues it and renders it in a low-priority child
process with the same code as ``vistter render``; the page polls its progress and plays the
MP4.
"""

from vistter.render.previews.jobs import (
    JobState,
    PreviewNotFoundError,
    PreviewQueueFullError,
    PreviewRangeError,
    PreviewSettings,
    PreviewStatus,
)
from vistter.render.previews.runner import PreviewRenders

__all__ = [
    "JobState",
    "PreviewNotFoundError",
    "PreviewQueueFullError",
    "PreviewRangeError",
    "PreviewRenders",
    "PreviewSettings",
    "PreviewStatus",
]
