"""The degraded-mode actor (the spec's DegradedModeManager and Adaptive Profile).

Every ``[degraded] check_interval`` seconds of the injected clock it reads the measured
signals (:mod:`vistter.degraded.signals`), asks the ladder policy
(:mod:`vistter.degraded.ladder`) whether a step is due, and applies a step:

* the encode (bitrate, output height, rate) through the encoder's ``reconfigure`` (a planned,
  gap-free handover; :mod:`vistter.degraded.control`), re-applied when the encoder actor was
  restarted meanwhile (a new encoder starts with the configured encode);
* the overlays (simplified, off) and the "Degraded mode" notice through the mixer's
  :class:`~vistter.actors.program.overlay_gate.OverlayGate`;
* an alert for every step, a "recovered" info alert back at the configured encode
  (:mod:`vistter.degraded.alerts`), and the status in the shared
  :class:`~vistter.degraded.state.DegradedState` (``GET /api/status``, ``degraded``).

An exception while reading the signals is logged and that check is skipped; an encoder that
cannot take the new encode now is tried again at a later check. Neither crashes the actor, so
a broken figure never turns into a crash loop. Anything else raised in the actor thread is a
bug: the actor crashes and its supervisor restarts it, and the new incarnation takes over the
level from the shared state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.program.overlay_gate import OverlayGate, OverlayMode
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.clock import Timer
from vistter.degraded.alerts import recovered_report, step_report
from vistter.degraded.board import SignalBoard
from vistter.degraded.control import EncoderControl
from vistter.degraded.ladder import LadderPolicy, Step
from vistter.degraded.signals import SignalSource
from vistter.degraded.state import DegradedState
from vistter.degraded.steps import Degradation, LadderPlan
from vistter.models.degraded import DegradedConfig
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["DegradedMode", "DegradedParts"]

logger = logging.getLogger(__name__)

RETRY_AFTER = 10.0
"""Seconds before an encode the encoder could not take is offered again."""


class _Check:
    """Time to read the signals."""


@dataclass(frozen=True)
class DegradedParts:
    """What the actor works with; everything here outlives the actor.

    ``listen`` adds a telemetry bus listener and returns its remover (None: ``board`` is
    fed already, for longer than the actor lives); ``configured`` names the
    configured encode for the recovered alert; ``notice``: draws the notice layer (None: no
    notice); ``wall``: Unix time, for ``since``.
    """

    config: DegradedConfig
    plan: LadderPlan
    board: SignalBoard
    reader: SignalSource
    encoder: EncoderControl
    overlays: OverlayGate
    state: DegradedState
    listen: Callable[[Callable[[str, dict[str, Any]], None]], Callable[[], None]] | None
    configured: str
    notice: Callable[[], OverlayLayer] | None = None
    wall: Callable[[], float] = time.time


class DegradedMode(SupervisedActor):
    """Steps the output down and back up on measured signals (see the module doc)."""

    def __init__(self, link: Link, parts: DegradedParts) -> None:
        super().__init__(link)
        self.parts = parts
        self._policy = LadderPolicy(parts.config, parts.plan.max_level)
        self._timer: Timer | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._wanted = EncodeOverrides()
        self._applied: tuple[object, EncodeOverrides] | None = None
        self._retry_at: float | None = None
        self._notice: OverlayLayer | None = None
        self._since_monotonic: float | None = None
        self._since_wall: float | None = None

    # -- lifecycle (actor thread) ------------------------------------------------------

    def setup(self) -> None:
        """Listen to the bus, take over the level a previous incarnation applied, start
        checking. Actor thread; if it raises, the actor fails to start."""
        parts = self.parts
        if parts.listen is not None:
            self._remove_listener = parts.listen(parts.board.on_publish)
        level = parts.state.level
        self._policy.reset_level(level)
        if not level.normal:
            self._since_monotonic = self.link.clock.monotonic()
            self._since_wall = parts.state.status()["since"]
            self._show(parts.plan.degradation(self._policy.level))
        self._arm()

    def teardown(self) -> None:
        """Stop checking and listening. Actor thread. The overlays and the encode stay as
        they are: a restarted actor takes them over."""
        if self._timer is not None:
            self._timer.cancel()
        if self._remove_listener is not None:
            self._remove_listener()

    def on_receive(self, message: Any) -> Any:
        """Actor thread. Raising here (a bug) crashes the actor; see the module doc."""
        if isinstance(message, _Check):
            try:
                self._check()
            finally:
                self._arm()
        return None

    def status(self) -> dict[str, Any]:
        """Proxy call (actor thread): the shared status."""
        return dict(self.parts.state.status())

    # -- checks (actor thread) ---------------------------------------------------------

    def _arm(self) -> None:
        self._timer = self.post_later(float(self.parts.config.check_interval), _Check())

    def _check(self) -> None:
        parts = self.parts
        try:
            signals = parts.reader.read()
        except Exception:
            logger.exception("degraded mode: reading the signals failed; this check is skipped")
            return
        parts.state.set_signals(signals)
        now = self.link.clock.monotonic()
        step = self._policy.check(now, signals)
        if step is not None:
            self._take(step, now)
        self._apply_encode(now)

    def _take(self, step: Step, now: float) -> None:
        parts = self.parts
        degradation = parts.plan.degradation(step.level)
        lasted = 0.0 if self._since_monotonic is None else now - self._since_monotonic
        if step.level.normal:
            self._since_monotonic = self._since_wall = None
        elif self._since_monotonic is None:
            self._since_monotonic, self._since_wall = now, parts.wall()
        reason = step.reason if step.down else parts.state.status()["reason"]
        parts.state.set(step.level, degradation, reason=reason, since=self._since_wall)
        self._show(degradation)
        if step.level.normal:
            report = recovered_report(parts.configured, lasted)
            logger.info("degraded mode: back to the configured encode after %.0f s", lasted)
        else:
            report = step_report(step, degradation, float(parts.config.stable))
            logger.warning("%s", report["message"])
        self.link.events.publish(ALERT_TOPIC, report)

    def _show(self, degradation: Degradation) -> None:
        """The overlays, the notice and the encode wanted for ``degradation``."""
        parts = self.parts
        parts.overlays.set_mode(degradation.overlays)
        active = degradation.overlays is not OverlayMode.FULL or not degradation.overrides.is_none
        parts.overlays.set_notice(self._notice_layer() if active else None)
        self._wanted = degradation.overrides
        self._retry_at = None

    def _notice_layer(self) -> OverlayLayer | None:
        draw = self.parts.notice
        if draw is None:
            return None
        if self._notice is None:
            try:
                self._notice = draw()
            except Exception:
                logger.exception("degraded mode: the notice could not be drawn; none shown")
                return None
        return self._notice

    def _apply_encode(self, now: float) -> None:
        """Offer the wanted encode to the encoder if it does not run it yet."""
        parts = self.parts
        try:
            encoder = parts.encoder.encoder_id()
        except Exception:
            logger.exception("degraded mode: the encoder could not be found")
            return
        if self._applied is None:
            self._applied = (encoder, EncodeOverrides())  # a started encoder runs the config
        applied_to, applied = self._applied
        if encoder != applied_to:
            applied = EncodeOverrides()  # a restarted encoder: the configured encode again
            self._applied = (encoder, applied)
        if applied == self._wanted or encoder is None:
            parts.state.set_applied(applied == self._wanted)
            return
        if self._retry_at is not None and now < self._retry_at:
            return
        try:
            parts.encoder.reconfigure(self._wanted)
        except Exception as error:
            self._retry_at = now + RETRY_AFTER
            logger.warning("degraded mode: the encoder did not take %s: %s",
                           self._wanted.describe(), error)
            parts.state.set_applied(False, str(error))
            return
        logger.info("degraded mode: the encoder now runs %s", self._wanted.describe())
        self._applied = (encoder, self._wanted)
        parts.state.set_applied(True)
