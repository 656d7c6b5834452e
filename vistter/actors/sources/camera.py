"""Camera actors: one ingest ffmpeg per camera, its frames in ``camera:<id>``, its health.

A :class:`CameraActor` is an :class:`~vistter.actors.sources.ingest_actor.IngestSourceActor`
(states connecting / online / stalled / offline, watchdog, reconnect backoff; see there)
for one configured camera. The camera's credentials only reach ffmpeg's command line;
logs, status, events and errors show the redacted URL.
"""

from __future__ import annotations

from typing import ClassVar

from vistter.actors.sources.ingest import (
    DEFAULT_SOCKET_TIMEOUT,
    IngestCommand,
    camera_ingest_command,
)
from vistter.actors.sources.ingest_actor import DEFAULT_RECONNECT, IngestSourceActor
from vistter.actors.sources.kind import SourceContext, SourceKind
from vistter.actors.sources.payloads import CameraStatus, SourceEventFields
from vistter.actors.sources.rtsp_probe import RtspTarget, rtsp_target
from vistter.actors.sources.table import SourceTable, camera_source_id
from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.cameras import CameraConfig
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link
from vistter.supervisors.spec import StartFunction, start_function_for
from vistter.telemetry.topics import CAMERA_TOPIC

__all__ = [
    "CAMERA",
    "DEFAULT_RECONNECT",
    "CameraActor",
    "IngestSourceActor",
]


class CameraActor(IngestSourceActor):
    """One configured camera, published as ``camera:<id>`` in the source table.

    ``reconnect`` paces reconnects (default 0.5 s doubling to 10 s); ``stall_restart_after``
    is how long a stalled ingest is given before it is killed; ``connect_timeout`` how long
    a started ingest may go without a first frame; ``socket_timeout`` is ffmpeg's own
    network I/O timeout.
    """

    event_topic: ClassVar[str] = CAMERA_TOPIC

    def __init__(
        self,
        link: Link | None,
        camera: CameraConfig,
        fmt: FrameFormat,
        sources: SourceTable,
        ffmpeg: FfmpegBinary,
        *,
        reconnect: Backoff = DEFAULT_RECONNECT,
        stall_restart_after: float = 5.0,
        connect_timeout: float = 15.0,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> None:
        super().__init__(
            link,
            source_id=camera_source_id(camera.id),
            label=camera.label,
            fmt=fmt,
            sources=sources,
            ffmpeg=ffmpeg,
            reconnect=reconnect,
            stall_timeout=float(camera.stall_timeout),
            stall_restart_after=stall_restart_after,
            connect_timeout=connect_timeout,
        )
        self._camera = camera
        self._socket_timeout = socket_timeout

    def _ingest_command(self) -> IngestCommand:
        return camera_ingest_command(
            self._ffmpeg.path, self._camera, self._fmt, socket_timeout=self._socket_timeout
        )

    def _event_fields(self) -> SourceEventFields:
        return {"camera_id": self._camera.id, **super()._event_fields()}

    def _server_probe(self) -> RtspTarget | None:
        """An RTSP camera's server is probed (``OPTIONS``, no credentials) while a
        reconnect waits; see :mod:`~vistter.actors.sources.rtsp_probe`."""
        return rtsp_target(self._camera.url)

    def status(self) -> CameraStatus:
        """The camera's status (see :meth:`IngestSourceActor.status`) with its ``id``."""
        return {"id": self._camera.id, **super().status()}


def _start_camera(camera: CameraConfig, context: SourceContext) -> StartFunction:
    if context.ffmpeg is None:
        raise ConfigError(f"camera {camera.id} needs ffmpeg.", hint="Install or configure ffmpeg.")
    return start_function_for(CameraActor, camera, context.fmt, context.sources, context.ffmpeg)


#: The registry entry of cameras (children ``camera-<id>``).
CAMERA = SourceKind(
    name="camera", model=CameraConfig, child_id=lambda camera: f"camera-{camera.id}",
    start=_start_camera,
)  # fmt: skip
