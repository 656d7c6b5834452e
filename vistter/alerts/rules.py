"""Alerts derived from what the appliance already publishes.

:class:`AlertRules` is a bus listener. It turns events and metrics into reports for the
:class:`~vistter.alerts.service.AlertService`:

* ``event.camera``: a camera going ``offline`` or ``stalled`` raises ``source_down`` (the
  fallback policy's own report of what replaced it updates the same alert, and reconnect
  attempts do not overwrite it: only transitions are reported); ``online`` clears it, or,
  while a substitute is on air, the fallback's switch back does (``settle`` seconds after
  the camera came back at the latest, in case the show has moved to another shot);
* ``event.destination``: ``retrying`` raises ``destination_failing`` with the retry figures
  of that destination; ``live``, ``standby`` (off air) or ``stopped`` clears it (the actor
  itself reports ``destination_failed``);
* ``metrics.system``: free space under the data folder below ``[alerts] disk_low_mb``
  raises ``disk_low``; machine CPU above ``cpu_high_percent`` for ``cpu_high_for`` seconds
  without a break raises ``cpu_high``; each clears when the figure is back.

:func:`encoder_report` says in one sentence when the encoder had to fall back to software
(ffmpeg's own words go to the alert's ``details`` and the log). A camera
stopped on purpose (shutdown, restart by its supervisor: ``stopping`` in its event) is not
down. Every figure
in a remediation comes from the payload or the configuration, never from a constant here.
The listener runs in the publishing thread and only does dictionary work and a report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from vistter.actors.program.fallback import DEFAULT_RECOVER_AFTER
from vistter.alerts.model import AlertReport
from vistter.models.alerts import AlertsConfig
from vistter.telemetry.topics import (
    ALERT_TOPIC,
    CAMERA_TOPIC,
    DESTINATION_TOPIC,
    SYSTEM_METRICS_TOPIC,
)

__all__ = ["AlertRules", "EncoderChoiceLike", "encoder_report"]

_MB = 1024 * 1024
_MAX_DETAIL = 2000  # characters of ffmpeg's words kept in an alert's details

logger = logging.getLogger(__name__)


class Reporter(Protocol):
    def report(self, report: AlertReport) -> object: ...


class _TrialLike(Protocol):
    @property
    def encoder(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    def describe(self) -> str: ...


class EncoderChoiceLike(Protocol):
    """What :func:`encoder_report` reads of an ``EncoderChoice``."""

    @property
    def encoder(self) -> str: ...

    @property
    def hardware(self) -> bool: ...

    @property
    def trials(self) -> tuple[_TrialLike, ...]: ...


def encoder_report(choice: EncoderChoiceLike) -> AlertReport | None:
    """An alert (``info``: the stream runs, at a higher CPU cost) when a hardware encoder is
    built into ffmpeg but failed its trial, so the program is encoded in software; None when
    a hardware encoder runs or none was built in."""
    if choice.hardware:
        return None
    failed = [t for t in choice.trials if t.encoder != choice.encoder
              and t.outcome in ("failed", "timeout")]  # fmt: skip
    if not failed:
        return None
    names = [trial.encoder for trial in failed]
    which = (f"hardware encoder {names[0]}" if len(names) == 1
             else f"hardware encoders {', '.join(names[:-1])} and {names[-1]}")  # fmt: skip
    why = "; ".join(trial.describe() for trial in failed)
    logger.info("encoder: software %s chosen; %s", choice.encoder, why)  # ffmpeg's words
    return AlertReport(
        kind="encoder_software", source="encoder", severity="info",
        message=f"The {which} failed to start; encoding in software ({choice.encoder}) "
        "instead.",
        remediation="The stream runs, with more CPU. Check the hardware encoder's driver, "
        "or set [encoding] encoder = \"libx264\" to choose software on purpose.",
        details={"encoder": choice.encoder, "failed": names, "detail": why[:_MAX_DETAIL]},
    )  # fmt: skip


class AlertRules:
    """The bus listener described in the module doc. ``monotonic`` times the CPU rule and
    the ``settle`` of a camera alert; every bus message is a chance to check the latter."""

    def __init__(
        self,
        alerts: Reporter,
        config: AlertsConfig,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        settle: float = DEFAULT_RECOVER_AFTER + 1.0,
    ) -> None:
        self._alerts = alerts
        self._settle = settle
        self._config = config
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cpu_high_since: float | None = None
        self._down: set[str] = set()
        self._replaced: set[str] = set()  # cameras whose alert says a substitute is on air
        self._back: dict[str, tuple[float, str]] = {}  # online again since, and its words
        self._handlers: dict[str, Callable[[Mapping[str, Any]], AlertReport | None]] = {
            CAMERA_TOPIC: self._camera,
            DESTINATION_TOPIC: self._destination,
            SYSTEM_METRICS_TOPIC: self._system_disk,
        }

    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        """The listener (see ``TelemetryBus.add_listener``): the publishing thread."""
        if topic == ALERT_TOPIC:
            self._follow_alert(payload)
        if self._back:
            self._clear_settled()
        handler = self._handlers.get(topic)
        if handler is None:
            return
        report = handler(payload)
        if report is not None:
            self._alerts.report(report)
        if topic == SYSTEM_METRICS_TOPIC:
            cpu = self._system_cpu(payload)
            if cpu is not None:
                self._alerts.report(cpu)

    # -- cameras ----------------------------------------------------------------------

    def _camera(self, event: Mapping[str, Any]) -> AlertReport | None:
        camera_id = event.get("camera_id")
        state = event.get("state")
        if camera_id is None or state not in ("offline", "stalled", "online"):
            return None
        if event.get("stopping") is True:  # its supervisor stops it: shutdown or restart
            return None
        source = f"camera-{camera_id}"
        name = str(event.get("name") or f"Camera {camera_id}")
        with self._lock:  # only the transitions: reconnect attempts say nothing new
            was_down = source in self._down
            if state == "online":
                self._down.discard(source)
            else:
                self._down.add(source)
        if was_down == (state != "online"):
            return None
        if state == "online":
            message = f"{name} is back online."
            with self._lock:
                if source in self._replaced:  # the program is still on the substitute
                    self._back[source] = (self._monotonic(), message)
                    return None
            return AlertReport(kind="source_down", source=source, cleared=True, message=message)
        with self._lock:
            self._back.pop(source, None)
        retry = event.get("retry_max_s")
        every = f"; Vistter retries every {retry:g} s" if isinstance(retry, int | float) else ""
        return AlertReport(
            kind="source_down", source=source, severity="warning",
            message=f"{name} {state}: {event.get('detail') or 'no frames'}.",
            remediation=f"Check its power and network{every}.",
            details={"camera_id": camera_id, "state": state},
        )  # fmt: skip

    def _follow_alert(self, alert: Mapping[str, Any]) -> None:
        """What the alert service announced: a camera alert that names its substitute stays
        until the program is back on the camera (the fallback's own report clears it)."""
        source = alert.get("source")
        if alert.get("kind") != "source_down" or not isinstance(source, str):
            return
        details = alert.get("details")
        with self._lock:
            if alert.get("event") == "cleared":
                self._replaced.discard(source)
                self._back.pop(source, None)
            elif isinstance(details, Mapping) and details.get("on_air") not in (None, ""):
                self._replaced.add(source)

    def _clear_settled(self) -> None:
        """Clear the camera alerts whose camera has been back for longer than the fallback
        needs to switch back (in case it never does: the show moved to another shot)."""
        now = self._monotonic()
        with self._lock:
            settled = [(source, words) for source, (since, words) in self._back.items()
                       if now - since >= self._settle]  # fmt: skip
            for source, _ in settled:
                del self._back[source]
                self._replaced.discard(source)
        for source, words in settled:
            self._alerts.report(AlertReport(kind="source_down", source=source, cleared=True,
                                            message=words))

    # -- destinations -----------------------------------------------------------------

    def _destination(self, event: Mapping[str, Any]) -> AlertReport | None:
        output_id = event.get("id")
        state = event.get("state")
        if output_id is None or state not in ("retrying", "live", "stopped", "standby"):
            return None
        kind_name = str(event.get("kind") or "destination")
        source = f"{kind_name}-{output_id}"
        if state in ("live", "stopped", "standby"):  # publishing, or not asked to any more
            return AlertReport(kind="destination_failing", source=source, cleared=True,
                               message=f"{kind_name.capitalize()} {output_id} is {state}.")
        attempt, most = event.get("attempt"), event.get("max_attempts")
        retry_in = event.get("next_retry_in")
        figures = []
        if isinstance(retry_in, int | float):
            figures.append(f"next try in {retry_in:.0f} s")
        if isinstance(attempt, int) and isinstance(most, int):
            figures.append(f"attempt {attempt} of {most} before it counts as failed")
        return AlertReport(
            kind="destination_failing", source=source, severity="warning",
            message=f"{kind_name.capitalize()} {output_id} is failing: "
            f"{event.get('last_error') or 'it stopped taking data'}.",
            remediation="Check the network and the stream key or server; Vistter retries by "
            f"itself ({', '.join(figures) or 'with backoff'}).",
            details={"attempt": attempt, "max_attempts": most},
        )  # fmt: skip

    # -- the box ----------------------------------------------------------------------

    def _system_disk(self, sample: Mapping[str, Any]) -> AlertReport | None:
        free = sample.get("disk_free_bytes")
        if not isinstance(free, int | float):
            return None
        limit_mb = self._config.disk_low_mb
        where = sample.get("disk_path") or "the data folder"
        free_mb = free / _MB
        if free_mb >= limit_mb:
            return AlertReport(kind="disk_low", source="disk", cleared=True,
                               message=f"Free space under {where} is back to {free_mb:.0f} MB.")
        return AlertReport(
            kind="disk_low", source="disk", severity="critical" if free_mb < limit_mb / 4
            else "warning",
            message=f"Disk space low: less than {limit_mb} MB free under {where}.",
            remediation="Delete old recordings or unused assets, or use a larger disk; a full "
            "disk stops recordings and the database.",
            details={"free_mb": round(free_mb)},
        )  # fmt: skip

    def _system_cpu(self, sample: Mapping[str, Any]) -> AlertReport | None:
        cpu = sample.get("cpu_percent")
        if not isinstance(cpu, int | float):
            return None
        limit, window = self._config.cpu_high_percent, self._config.cpu_high_for
        now = self._monotonic()
        with self._lock:
            if cpu <= limit:
                was_high = self._cpu_high_since is not None
                self._cpu_high_since = None
                if not was_high:
                    return None
                return AlertReport(kind="cpu_high", source="cpu", cleared=True,
                                   message=f"CPU back to {cpu:.0f} %.")
            if self._cpu_high_since is None:
                self._cpu_high_since = now
            high_for = now - self._cpu_high_since
        if high_for < window:
            return None
        return AlertReport(
            kind="cpu_high", source="cpu", severity="warning",
            message=f"CPU high: above {limit:g} % for more than {window:g} s.",
            remediation="Frames may be dropped. Lower [encoding] resolution, fps or the x264 "
            "preset, or use a hardware encoder.",
            details={"cpu_percent": cpu, "high_for_s": round(high_for)},
        )  # fmt: skip
