"""PTZ pre-roll: move a camera to a cue's preset before the cue, and wait for it to settle.

A video cue that names a ``preset_id`` makes the track executor call
:meth:`PtzController.preroll` ahead of the cue, while the camera is off air, so the cut lands
on a settled shot. If the camera is already on air the move happens on air, and the log
says so. A PTZ failure never stops the show: ``preroll`` returns a failed
:class:`PtzResult` (the cue then runs on the current shot), logs a warning and publishes an
``alert`` on the event sink; it does not raise for anything the camera does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from vistter.actors.sources.table import camera_source_id
from vistter.clock import Clock, MonotonicClock
from vistter.models.cameras import CameraConfig, PtzConfig
from vistter.ptz.onvif_client import (
    OnvifPtzClient,
    PtzAuthError,
    PtzClient,
    PtzError,
    PtzFaultError,
    PtzTimeoutError,
    PtzTimeouts,
)
from vistter.supervisors.link import EventSink, NullSink
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["ALERT_TOPIC", "PtzClientFactory", "PtzController", "PtzResult"]

logger = logging.getLogger(__name__)

_CURRENT_SHOT = "the cue runs on the current shot"

PtzClientFactory = Callable[[PtzConfig, PtzTimeouts], PtzClient]
"""Makes the client for one camera's ``ptz`` section (default: ``OnvifPtzClient.from_config``)."""


@dataclass(frozen=True)
class PtzResult:
    """How one pre-roll went. ``ok`` False means the cue runs on the camera's current shot."""

    camera_id: int
    preset: str
    ok: bool
    on_air: bool
    message: str
    hint: str = ""
    preset_token: str | None = None
    settle_time: float = 0.0
    """Seconds waited for the camera to settle after the move (0 when it failed)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PtzController:
    """Pre-rolls one camera's PTZ presets.

    Thread-safety: :meth:`preroll` runs in the caller's thread (a track executor actor) and
    blocks for at most ``timeouts.connect + timeouts.request`` plus the settle time; calls
    are serialised. :meth:`close` may be called from any thread and ends a settle wait early.
    The ONVIF connection is opened on first use, kept, and dropped after any failure so the
    next pre-roll reconnects.
    """

    def __init__(
        self,
        camera: CameraConfig,
        *,
        client_factory: PtzClientFactory = OnvifPtzClient.from_config,
        clock: Clock | None = None,
        timeouts: PtzTimeouts | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.camera = camera
        self._client_factory = client_factory
        self._clock = clock or MonotonicClock()
        self.timeouts = timeouts or PtzTimeouts()
        self._events = events or NullSink()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._client: PtzClient | None = None

    @property
    def has_ptz(self) -> bool:
        return self.camera.ptz is not None

    def preroll(self, preset_name: str, *, on_air: bool) -> PtzResult:
        """Move the camera to ``preset_name`` and wait ``ptz.settle_time`` on the clock.

        Runs in the calling thread. Returns a failed result, never raises, when the camera
        has no PTZ or no such preset, does not answer, refuses or faults; the result's
        ``message`` is what the operator sees. Unexpected exceptions (bugs) propagate.
        """
        with self._lock:
            ptz = self.camera.ptz
            label = self.camera.label
            if ptz is None:
                return self._failed(
                    preset_name,
                    on_air,
                    f"{label} has no PTZ; {_CURRENT_SHOT}",
                    hint="Add a ptz section (host, presets) to the camera, or drop the cue's "
                    "preset_id.",
                )
            token = ptz.presets.get(preset_name)
            if token is None:
                known = ", ".join(sorted(ptz.presets)) or "none"
                return self._failed(
                    preset_name,
                    on_air,
                    f"{label} has no PTZ preset '{preset_name}' (known presets: {known}); "
                    f"{_CURRENT_SHOT}",
                    hint="Use one of the camera's presets in the cue, or add it under the "
                    "camera's ptz.presets.",
                )
            if self._closed.is_set():
                return self._failed(
                    preset_name, on_air, f"{label} PTZ is shut down; {_CURRENT_SHOT}"
                )
            if on_air:
                logger.info("%s is on air: moving to preset '%s' on air", label, preset_name)
            try:
                client = self._connected()
                client.goto_preset(token)
            except PtzError as exc:
                self._drop_client()
                return self._failed(
                    preset_name,
                    on_air,
                    self._describe(exc, preset_name, token),
                    hint=exc.hint,
                    token=token,
                )
            started = self._clock.monotonic()
            self._clock.wait(self._closed, ptz.settle_time)
            waited = self._clock.monotonic() - started
            where = "on air" if on_air else "off air"
            message = (
                f"{label} moved to preset '{preset_name}' {where} "
                f"and settled for {ptz.settle_time:g} s"
            )
            if self._closed.is_set():
                message = f"{label} moved to preset '{preset_name}' {where}; settle cut short"
            logger.info("%s", message)
            return PtzResult(
                camera_id=self.camera.id,
                preset=preset_name,
                ok=True,
                on_air=on_air,
                message=message,
                preset_token=token,
                settle_time=waited,
            )

    def close(self) -> None:
        """End any settle wait and close the ONVIF connection.

        Any thread. Waits for a request in flight (bounded by the timeouts); never raises for
        the camera. Later pre-rolls return failed results.
        """
        self._closed.set()
        with self._lock:
            self._drop_client()

    # -- internals (caller's thread, under the lock) ---------------------------------------

    def _connected(self) -> PtzClient:
        if self._client is None:
            ptz = self.camera.ptz
            if ptz is None:  # checked by preroll; keeps the type checker honest
                raise PtzError(f"{self.camera.label} has no PTZ")
            client = self._client_factory(ptz, self.timeouts)
            try:
                client.connect()
            except BaseException:
                client.close()
                raise
            self._client = client
        return self._client

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _describe(self, exc: PtzError, preset: str, token: str) -> str:
        label = self.camera.label
        if isinstance(exc, PtzTimeoutError):
            return f"{label} PTZ did not answer within {exc.seconds:g} s; {_CURRENT_SHOT}"
        if isinstance(exc, PtzAuthError):
            return f"{label} PTZ refused the ONVIF credentials: {exc.fault}; {_CURRENT_SHOT}"
        if isinstance(exc, PtzFaultError):
            return (
                f"{label} PTZ could not move to preset '{preset}' (token {token}): "
                f"{exc.fault}; {_CURRENT_SHOT}"
            )
        return f"{label} PTZ failed: {exc.problem}; {_CURRENT_SHOT}"

    def _failed(
        self,
        preset: str,
        on_air: bool,
        message: str,
        *,
        hint: str = "",
        token: str | None = None,
    ) -> PtzResult:
        logger.warning("%s", message)
        self._events.publish(
            ALERT_TOPIC,
            {
                "severity": "warning",
                "kind": "ptz_failed",
                "one_shot": True,  # cleared when acknowledged (vistter.alerts)
                "source": camera_source_id(self.camera.id),
                "preset": preset,
                "camera_on_air": on_air,
                "message": message,
                "hint": hint,
            },
        )
        return PtzResult(
            camera_id=self.camera.id,
            preset=preset,
            ok=False,
            on_air=on_air,
            message=message,
            hint=hint,
            preset_token=token,
        )
