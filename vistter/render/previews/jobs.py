"""A preview render job: what was asked, how far it got, and the bounds every job runs within.

A person in the timeline builder picks a short range of the timeline they are editing and the
appliance renders it offline (:mod:`vistter.render.previews.runner`). :class:`PreviewJob` is
one such request through its life: ``queued`` -> ``rendering`` -> ``done`` | ``failed`` |
``cancelled``. Its fields are changed only by the runner, under the runner's lock;
:meth:`PreviewJob.status` is the immutable snapshot everybody else reads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from vistter.errors import OperatorError

__all__ = [
    "ACTIVE_STATES",
    "VIDEO_NAME",
    "JobState",
    "PreviewJob",
    "PreviewNotFoundError",
    "PreviewQueueFullError",
    "PreviewRangeError",
    "PreviewSettings",
    "PreviewStatus",
    "jobs_to_forget",
]

VIDEO_NAME = "video.mp4"
"""The rendered file's name in the job's folder (H.264 in MP4, moov atom first)."""


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RENDERING})


@dataclass(frozen=True)
class PreviewSettings:
    """The bounds of preview rendering, chosen so the live show never suffers.

    ``width``: the preview's width in pixels (the height keeps the program's aspect ratio,
    rounded to an even number); ``max_pending``: jobs queued or rendering at once (one renders
    at a time, the rest wait; more are refused); ``keep_seconds``: how long a finished job and
    its file are kept; ``max_total_bytes``: the rendered files kept at once (the oldest go
    first); ``max_duration``: the longest range; ``render_timeout``: real seconds one render
    may take before it is stopped; ``cancel_grace``: seconds the render process gets to end
    its own ffmpegs after SIGTERM before it and they are killed; ``niceness``: the render
    process's CPU priority (19: the lowest).
    """

    width: int = 640
    max_pending: int = 3
    keep_seconds: float = 30 * 60.0
    max_total_bytes: int = 512 * 1024 * 1024
    max_duration: float = 30.0
    render_timeout: float = 600.0
    cancel_grace: float = 5.0
    niceness: int = 19
    max_records: int = 50

    def __post_init__(self) -> None:
        if self.width < 16 or self.width % 2:
            raise ValueError(f"the preview width must be even and at least 16, got {self.width}")
        if self.max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {self.max_pending}")

    def size_for(self, program_width: int, program_height: int) -> tuple[int, int]:
        """The preview's size for a program of this size: ``width`` wide (never wider than
        the program), the program's aspect ratio, both even."""
        width = min(self.width, program_width - program_width % 2)
        height = max(2, round(width * program_height / program_width / 2) * 2)
        return width, height


class PreviewRangeError(OperatorError):
    """The range asked for is not inside the timeline (422)."""

    http_status: ClassVar[int] = 422


class PreviewQueueFullError(OperatorError):
    """Too many previews are queued or rendering (429)."""

    http_status: ClassVar[int] = 429


class PreviewNotFoundError(OperatorError):
    """No preview has this id, or it has expired (404)."""

    http_status: ClassVar[int] = 404


@dataclass(frozen=True)
class PreviewStatus:
    """A job as it was when asked: the state, real progress (frames the render has
    written), the file once done, what went wrong once failed."""

    id: str
    state: JobState
    start_s: float
    duration_s: float
    fps: int
    width: int
    height: int
    frames_done: int
    frames_total: int
    elapsed_s: float
    video: Path | None
    video_bytes: int
    problem: str
    hint: str
    pid: int | None = None
    """The render process while it runs (for the supervision view and tests)."""

    @property
    def progress(self) -> float:
        """0..1: frames written over frames asked for (1 once done)."""
        if self.state is JobState.DONE:
            return 1.0
        return min(1.0, self.frames_done / self.frames_total)

    @property
    def speed(self) -> float | None:
        """Seconds of program rendered per real second so far (None before the first frame)."""
        if self.frames_done < 1 or self.elapsed_s <= 0:
            return None
        return self.frames_done / self.fps / self.elapsed_s


@dataclass
class PreviewJob:
    """One preview request (see module doc). Changed only under the runner's lock."""

    id: str
    folder: Path
    document: object
    """The timeline document as it was sent (valid JSON data)."""
    start_s: float
    duration_s: float
    fps: int
    width: int
    height: int
    created_at: float
    state: JobState = JobState.QUEUED
    frames_done: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    video_bytes: int = 0
    problem: str = ""
    hint: str = ""
    cancel_requested: bool = False
    pid: int | None = field(default=None, repr=False)

    @property
    def frames_total(self) -> int:
        return max(1, round(self.duration_s * self.fps))

    @property
    def video(self) -> Path:
        return self.folder / VIDEO_NAME

    def finish(self, state: JobState, now: float, *, problem: str = "", hint: str = "") -> None:
        """Move to a final state (``done``, ``failed`` or ``cancelled``)."""
        self.state = state
        self.finished_at = now
        self.problem = problem
        self.hint = hint
        self.pid = None

    def status(self, now: float) -> PreviewStatus:
        start = self.started_at
        end = self.finished_at if self.finished_at is not None else now
        done = self.state is JobState.DONE
        return PreviewStatus(
            id=self.id, state=self.state, start_s=self.start_s, duration_s=self.duration_s,
            fps=self.fps, width=self.width, height=self.height,
            frames_done=self.frames_total if done else self.frames_done,
            frames_total=self.frames_total,
            elapsed_s=0.0 if start is None else max(0.0, end - start),
            video=self.video if done else None, video_bytes=self.video_bytes if done else 0,
            problem=self.problem, hint=self.hint, pid=self.pid,
        )


def jobs_to_forget(
    jobs: list[PreviewJob], now: float, settings: PreviewSettings
) -> list[PreviewJob]:
    """The finished jobs to forget now: those finished more than ``keep_seconds`` ago, then
    the oldest finished while the files kept pass ``max_total_bytes`` or the jobs pass
    ``max_records``. Jobs queued or rendering are never picked. Pure."""
    finished = sorted(((job.finished_at, job) for job in jobs if job.finished_at is not None),
                      key=lambda pair: pair[0])
    total = sum(job.video_bytes for _, job in finished)
    count = len(jobs)
    forget: list[PreviewJob] = []
    for finished_at, job in finished:
        old = now - finished_at > settings.keep_seconds
        if old or total > settings.max_total_bytes or count > settings.max_records:
            forget.append(job)
            total -= job.video_bytes
            count -= 1
    return forget
