"""The recorder actor: the program, copied into local MPEG-TS segment files.

``ffmpeg -f mpegts -i pipe:0 -c copy -f segment`` cuts the program into files of
``segment_seconds`` named ``<id>-YYYYmmdd-HHMMSS.ts`` in the recorder's folder (created if
missing). A missing or unwritable folder and a full disk are expected failures: the
recorder reports them with what to do, retries on the retry schedule (alerting once the
schedule is used up) and keeps trying slowly. A recorder ffmpeg that exits is restarted the
same way. States and events come from :class:`~vistter.actors.outputs.feed_actor.FeedActor`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
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

__all__ = ["RECORDER", "RecorderActor", "recorder_argv", "segment_pattern"]

DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024
STATUS_SEGMENTS = 50


def segment_pattern(folder: Path, recorder_id: str) -> str:
    """The ``strftime`` file pattern of the segments (a ``%`` in the folder is escaped)."""
    return str(folder).replace("%", "%%") + f"/{recorder_id}-%Y%m%d-%H%M%S.ts"


def recorder_argv(ffmpeg: str, pattern: str, segment_seconds: int) -> list[str]:
    """The recorder's command line: MPEG-TS on stdin, copied into time-named segments.

    The segment muxer reports no byte count; ``-progress`` still reports the media time
    written, which is how the recorder knows it is recording.
    """
    return copy_argv(ffmpeg, [
        "-f", "segment", "-segment_time", str(segment_seconds),
        "-segment_format", "mpegts", "-reset_timestamps", "1", "-strftime", "1", pattern,
    ])  # fmt: skip


class RecorderActor(FeedActor):
    """Records the program to segment files; restarts its ffmpeg whenever it stops.

    Public methods (``status``, ``segments``, ``retry_now``) run in the actor's thread; call
    them through the proxy. ``min_free_bytes``: below this much free space the disk counts
    as full and recording waits.
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
    ) -> None:
        super().__init__(
            link, output_id=recorder.id, source=source, schedule=schedule,
            stall_timeout=stall_timeout, connect_timeout=connect_timeout,
            tick_interval=tick_interval,
        )  # fmt: skip
        self.recorder = recorder
        self.ffmpeg = ffmpeg
        self.min_free_bytes = min_free_bytes

    # -- public API (actor thread) -----------------------------------------------------

    def segments(self) -> list[RecordingSegment]:
        """The segment files written so far, oldest first: name, path, bytes, mtime."""
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
        pattern = segment_pattern(self.recorder.path, self.recorder.id)
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
