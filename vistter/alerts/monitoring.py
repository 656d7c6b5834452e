"""Monitoring, assembled: the alert service, its rules, the stream metrics and health.

:class:`Monitoring` is what the appliance holds (it outlives every actor): built with the
configuration and the bus, :meth:`Monitoring.open`\\ ed on the database before the tree
starts (so the first camera and destination events are already seen), asked for the
``stream`` child of the ``telemetry`` subtree, the API's :class:`MonitoringDeps` and the
health for ``/api/status``, and closed after the tree stopped. Every method runs in the
appliance's thread unless it says otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import pykka

from vistter.alerts.rules import AlertRules, EncoderChoiceLike, encoder_report
from vistter.alerts.service import AlertService
from vistter.alerts.store import AlertStore
from vistter.alerts.webhooks import WebhookSender
from vistter.api.alerts import MonitoringDeps
from vistter.models.config import ApplianceConfig
from vistter.store.db import Database
from vistter.supervisors.link import Link
from vistter.telemetry.bus import TelemetryBus
from vistter.telemetry.metrics import Metrics
from vistter.telemetry.payloads import StreamHealthPayload
from vistter.telemetry.stream import StreamInputs, StreamSampler, StreamTargets
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["Monitoring", "ShowBuffer", "show_buffer"]

logger = logging.getLogger(__name__)

_NO_LIMIT = 2**62  # vistter.show.values.NO_LIMIT: nothing armed because nothing plays


class _ShowStateLike(Protocol):
    def armed_through(self) -> int: ...


class _ProgramLike(Protocol):
    @property
    def horizon(self) -> int: ...


class _SettingsLike(Protocol):
    @property
    def lookahead(self) -> float: ...


class ShowBuffer(Protocol):
    """What :func:`show_buffer` reads of a ``ShowContext``."""

    @property
    def show(self) -> _ShowStateLike: ...

    @property
    def program(self) -> _ProgramLike: ...

    @property
    def settings(self) -> _SettingsLike: ...

    def frames(self, seconds: float) -> int: ...


def show_buffer(context: ShowBuffer) -> Callable[[], float | None]:
    """``buffer_fullness`` of ``STREAM_METRICS``: the share of the show's lookahead that
    every track has armed ahead of the program (None while no show plays). Any thread."""

    def fullness() -> float | None:
        armed = context.show.armed_through()
        if armed >= _NO_LIMIT:
            return None
        lookahead = max(1, context.frames(context.settings.lookahead))
        ahead = armed - context.program.horizon
        return max(0.0, min(100.0, 100.0 * ahead / lookahead))

    return fullness


class Monitoring:
    """See the module doc. ``wall_clock`` stamps alerts (Unix seconds)."""

    def __init__(
        self,
        config: ApplianceConfig,
        bus: TelemetryBus,
        metrics: Metrics,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.bus = bus
        self.metrics = metrics
        self._wall_clock = wall_clock
        self.stream = StreamInputs()
        self._removers = [bus.add_listener(self.stream)]
        self._monotonic = monotonic
        self.alerts: AlertService | None = None

    def open(self, db: Database | None) -> AlertService:
        """Start the alert service on ``db`` (None: history in memory only) and its rules.
        Raises :class:`~vistter.store.errors.DatabaseError` when the history is unreadable."""
        settings = self.config.alerts
        webhooks = None
        if settings.webhooks:
            webhooks = WebhookSender(
                settings.webhooks, backoff=settings.webhook_retry.backoff(),
                attempts=settings.webhook_retry.attempts,
                timeout=float(settings.webhook_timeout),
            )  # fmt: skip
        store = AlertStore(db, settings.history) if db is not None else None
        service = AlertService(self.bus, store=store, history=settings.history,
                               webhooks=webhooks, wall_clock=self._wall_clock)  # fmt: skip
        service.open()
        self.alerts = service
        rules = AlertRules(service, settings, monotonic=self._monotonic)
        self._removers.append(self.bus.add_listener(rules))
        self._removers.append(self.bus.add_listener(self._count))
        return service

    def _count(self, topic: str, payload: dict[str, Any]) -> None:
        """Listener (the publishing thread): alerts as OpenTelemetry instruments,
        ``vistter.alerts.raised`` by severity and source, ``vistter.alerts.active``."""
        if topic != ALERT_TOPIC or self.alerts is None:
            return
        if payload.get("event") == "raised":
            raised = self.metrics.counter("vistter.alerts.raised", unit="{alert}",
                                          description="Alerts raised.")  # fmt: skip
            labels = {"severity": str(payload.get("severity")),
                      "source": str(payload.get("source"))}  # fmt: skip
            raised.add(1, labels)
        active = self.metrics.gauge("vistter.alerts.active", unit="{alert}",
                                    description="Alerts active now, by severity.")  # fmt: skip
        for severity, count in self.alerts.counts().items():
            if severity in ("critical", "warning", "info"):
                active.set(count, {"severity": severity})

    def encoder_chosen(self, choice: EncoderChoiceLike) -> None:
        """Raise ``encoder_software`` when the encoder had to fall back to software."""
        report = encoder_report(choice)
        if report is not None and self.alerts is not None:
            self.alerts.report(report)

    def stream_sampler(
        self, *, started_at: float, buffer_fullness: Callable[[], float | None] | None = None
    ) -> Callable[[Link], pykka.ActorRef[Any]]:
        """The start function of the ``stream`` child (one reading per second)."""
        encoding = self.config.encoding
        targets = StreamTargets(bitrate_mbps=encoding.bitrate_kbps / 1000, fps=encoding.fps)

        def start(link: Link) -> pykka.ActorRef[Any]:
            return StreamSampler.start(
                link, self.bus, self.stream, targets, started_at=started_at,
                metrics=self.metrics, buffer_fullness=buffer_fullness,
            )  # fmt: skip

        return start

    def api(self) -> MonitoringDeps:
        return MonitoringDeps(alerts=self.alerts, prometheus_text=self.metrics.prometheus_text)

    def health(self) -> StreamHealthPayload:
        """The stream's health for ``/api/status`` (any thread)."""
        return self.stream.health()

    def close(self) -> None:
        """Detach the listeners, write the pending alerts, stop the webhook thread."""
        for remove in self._removers:
            remove()
        self._removers.clear()
        if self.alerts is not None:
            self.alerts.close()
