"""Status payloads of the offline render, typed so the checker sees their keys.

Built by the lock-step barrier and its render sources; written into the render's report.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = ["LockStepStatus", "RenderSourceStatus"]


class RenderSourceStatus(TypedDict):
    """One render source: its id, its (redacted) input and the frames it published (None:
    none yet). A source read from ffmpeg adds its PID, frames read, frames skipped and why
    it ended (None: it did not)."""

    source_id: str
    input: str
    published: int | None
    pid: NotRequired[int | None]
    frames_read: NotRequired[int]
    skipped: NotRequired[int]
    ended: NotRequired[str | None]


class LockStepStatus(TypedDict):
    """The last program frame delivered, seconds spent waiting for sources, the failure
    (None: none) and every source's status (``sources`` is always there once
    :meth:`~vistter.render.lockstep.LockStep.status` returns)."""

    last_frame: int | None
    source_wait_seconds: float
    failure: str | None
    sources: NotRequired[list[RenderSourceStatus]]
