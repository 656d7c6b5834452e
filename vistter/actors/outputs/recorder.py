"""The recorder actor: the program, copied into local MPEG-TS segment files.

``ffmpeg -f mpegts -i pipe:0 -c copy -f segment`` cuts the program into files of
``segment_seconds`` named ``<id>-YYYYmmdd-HHMMSS-NNNNNN.ts`` in the recorder's folder
(created if missing): the local wall time at which that recorder ffmpeg started, then the
segment's sequence number within it. Names never collide, even when the wall clock goes back
(DST end, an NTP step) and would repeat an earlier hour: within one ffmpeg the sequence only
grows, and a new ffmpeg whose start time was already used by an earlier one gets a suffix
(``-YYYYmmdd-HHMMSS-2-NNNNNN``), so ffmpeg never overwrites a recording.

A missing or unwritable folder and a full disk are expected failures: the recorder reports
them with what to do, retries on the retry schedule (alerting once the schedule is used up)
and keeps trying slowly. A recorder ffmpeg that exits is restarted the
same way. States and events come from :class:`~vistter.actors.outputs.feed_actor.FeedActor`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.outputs.chunk_feed import ChunkFeed, ChunkSource
from vistter.actors.outputs.command import copy_argv, copy_for_log
from vistter.actors.outputs.feed_actor import FeedActor, FeedUnavailableError
from vistter.actors.outputs.kind import OutputKind
from vistter.actors.outputs.payloads import OutputStatusExtra, RecordingSegment
from vistter.actors.outputs.retry import RetrySchedule
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.config import ApplianceConfig
from vistter.models.destinations import RecorderDestination
from vistter.supervisors.link import Link
from vistter.supervisors.spec import StartFunction
from vistter.supervisors.worker import WorkerDeathCallback
from vistter.telemetry.topics import DESTINATION_TOPIC

__all__ = ["RECORDER", "RecorderActor", "recorder_argv", "run_stamp", "segment_pattern"]

DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024
STATUS_SEGMENTS = 50


def run_stamp(folder: Path, recorder_id: str, started: datetime) -> str:
    """The name part of one recorder ffmpeg: ``started`` as ``YYYYmmdd-HHMMSS``, with ``-2``,
    ``-3``... when segments of that stamp are already in ``folder`` (the clock went back, or
    a restart within the same second). Runs in the actor's thread; an unreadable folder
    counts as empty (the ffmpeg then fails and says why)."""
    base = started.strftime("%Y%m%d-%H%M%S")
    stamp, n = base, 1
    while _stamp_used(folder, recorder_id, stamp):
        n += 1
        stamp = f"{base}-{n}"
    return stamp


def _stamp_used(folder: Path, recorder_id: str, stamp: str) -> bool:
    try:
        return any(folder.glob(f"{recorder_id}-{stamp}-[0-9][0-9][0-9][0-9][0-9][0-9].ts"))
    except OSError:
        return False


def segment_pattern(folder: Path, recorder_id: str, stamp: str) -> str:
    """The segment muxer's file pattern of one run: ``stamp`` then the sequence number (a
    ``%`` in the folder or the id is escaped)."""
    head = f"{folder}/{recorder_id}-{stamp}-".replace("%", "%%")
    return head + "%06d.ts"


def recorder_argv(ffmpeg: str, pattern: str, segment_seconds: int) -> list[str]:
    """The recorder's command line: MPEG-TS on stdin, copied into numbered segments.

    The segment muxer reports no byte count; ``-progress`` still reports the media time
    written, which is how the recorder knows it is recording.
    """
    return copy_argv(ffmpeg, [
        "-f", "segment", "-segment_time", str(segment_seconds),
        "-segment_format", "mpegts", "-reset_timestamps", "1", pattern,
    ])  # fmt: skip


class RecorderActor(FeedActor):
    """Records the program to segment files; restarts its ffmpeg whenever it stops.

    Public methods (``status``, ``segments``, ``retry_now``) run in the actor's thread; call
    them through the proxy. ``min_free_bytes``: below this much free space the disk counts
    as full and recording waits; ``wall_clock`` gives the local time segment names start
    with (default :meth:`datetime.now`; a test steps it back).
    """

    kind = "recorder"
    event_topic = DESTINATION_TOPIC

    def __init__(
        self,
        link: Link,
        recorder: RecorderDestination,
        source: ChunkSource,
        ffmpeg: FfmpegBinary,
        *,
        schedule: RetrySchedule | None = None,
        min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
        stall_timeout: float = 10.0,
        connect_timeout: float = 15.0,
        tick_interval: float = 1.0,
        wall_clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__(
            link, output_id=recorder.id, source=source, schedule=schedule,
            stall_timeout=stall_timeout, connect_timeout=connect_timeout,
            tick_interval=tick_interval,
        )  # fmt: skip
        self.recorder = recorder
        self.ffmpeg = ffmpeg
        self.min_free_bytes = min_free_bytes
        self.wall_clock = wall_clock

    # -- public API (actor thread) -----------------------------------------------------

    def segments(self) -> list[RecordingSegment]:
        """The segment files written so far, oldest first (by modification time, then name:
        names do not sort by time once the clock went back): name, path, bytes, mtime."""
        found: list[RecordingSegment] = []
        try:
            paths = sorted(self.recorder.path.glob(f"{self.recorder.id}-*.ts"))
        except OSError:
            return []
        for path in paths:
            try:
                info = path.stat()
            except OSError:
                continue  # deleted meanwhile (rotation by the operator)
            found.append(
                {"name": path.name, "path": str(path), "bytes": info.st_size,
                 "mtime": info.st_mtime}
            )  # fmt: skip
        found.sort(key=lambda segment: (segment["mtime"], segment["name"]))
        return found

    # -- FeedActor hooks ---------------------------------------------------------------

    def _prepare(self) -> None:
        folder = self.recorder.path
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedUnavailableError(
                f"cannot create the recording folder {folder}: {exc.strerror or exc}.",
                hint="Fix the recorder's path (a folder Vistter may write), or create it.",
            ) from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise FeedUnavailableError(
                f"the recording folder {folder} is not writable.",
                hint=f"Give the Vistter user write access to {folder}, or change the path.",
            )
        free = shutil.disk_usage(folder).free
        if free < self.min_free_bytes:
            raise FeedUnavailableError(
                f"the disk holding {folder} is full ({free // (1024 * 1024)} MiB free).",
                hint="Delete or move old recordings; recording resumes by itself.",
            )

    def _new_feed(
        self, on_exit: Callable[[int | None], None], on_error: WorkerDeathCallback
    ) -> ChunkFeed:
        folder, recorder_id = self.recorder.path, self.recorder.id
        stamp = run_stamp(folder, recorder_id, self.wall_clock())
        pattern = segment_pattern(folder, recorder_id, stamp)
        return ChunkFeed(
            name=f"recorder-{self.recorder.id}",
            argv=recorder_argv(self.ffmpeg.path, pattern, self.recorder.segment_seconds),
            args_for_log=copy_for_log(f"-f segment {pattern}"),
            source=self.source,
            processes=self.processes,
            clock=self.link.clock,
            on_exit=on_exit,
            on_error=on_error,
        )

    def _status_extra(self) -> OutputStatusExtra:
        segments = self.segments()
        return {
            "platform": self.recorder.platform,
            "path": str(self.recorder.path),
            "segment_seconds": self.recorder.segment_seconds,
            "segment_count": len(segments),
            "recorded_bytes": sum(segment["bytes"] for segment in segments),
            "segments": segments[-STATUS_SEGMENTS:],
        }

    def _failed_hint(self) -> str:
        return (
            f"Check the recording folder {self.recorder.path} and the free disk space; "
            "recording resumes by itself."
        )


def _start_recorder(
    recorder: RecorderDestination, config: ApplianceConfig, bus: ProgramBus
) -> StartFunction:
    def start(link: Link) -> pykka.ActorRef[Any]:
        return RecorderActor.start(link, recorder, bus.fanout.attach(recorder.id), bus.ffmpeg)

    return start


#: The registry entry of local recorders (nothing to probe: the folder is checked at start).
RECORDER = OutputKind(
    name="recorder", model=RecorderDestination, prefix="recorder", start=_start_recorder
)
