"""The degraded-mode child of the ``program`` subtree, built from the appliance's parts.

:func:`degraded_child` runs in the thread that builds the tree; the start function it
returns runs in the ``program`` supervisor's thread. The :class:`DegradedChild`'s overlay
gate goes to the mixer, its state to ``GET /api/status``; both outlive the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.program.overlay_gate import OverlayGate
from vistter.clock import Clock
from vistter.degraded.board import SignalBoard
from vistter.degraded.control import ProxyEncoderControl
from vistter.degraded.manager import DegradedMode, DegradedParts
from vistter.degraded.notice import notice_layer
from vistter.degraded.signals import SignalReader
from vistter.degraded.state import DegradedState
from vistter.degraded.steps import LadderPlan
from vistter.models.config import ApplianceConfig
from vistter.supervisors.link import Link
from vistter.telemetry import TelemetryBus

__all__ = ["DegradedChild", "degraded_child"]


@dataclass(frozen=True)
class DegradedChild:
    """The overlay gate (for the mixer), the shared status and the actor's start function."""

    overlays: OverlayGate
    state: DegradedState
    start: Callable[[Link], pykka.ActorRef[Any]]


def degraded_child(
    config: ApplianceConfig,
    program: ProgramBus,
    telemetry: TelemetryBus,
    clock: Clock,
    encoder: Callable[[], pykka.ActorRef[Any] | None],
) -> DegradedChild:
    """Degraded mode for ``config`` (``encoder``: the running encoder's ref now, no ask).

    The signal board listens to ``telemetry`` from now on, for the appliance's lifetime: a
    restarted actor still knows which destinations are live."""
    settings = config.degraded
    encoding = config.encoding
    fmt = program.fmt
    plan = LadderPlan.build(settings, encoding.bitrate_kbps, fmt.height, fmt.fps)
    overlays = OverlayGate()
    state = DegradedState(enabled=settings.enabled)
    configured = f"{encoding.bitrate_kbps} kbps, {fmt.size}@{fmt.fps}"
    board = SignalBoard(clock)
    telemetry.add_listener(board.on_publish)

    def start(link: Link) -> pykka.ActorRef[Any]:
        parts = DegradedParts(
            config=settings, plan=plan, board=board,
            reader=SignalReader(settings, board, program.fanout.stats, link.clock),
            encoder=ProxyEncoderControl(encoder), overlays=overlays, state=state,
            listen=None, configured=configured,
            notice=(lambda: notice_layer(fmt)) if settings.notice else None,
        )  # fmt: skip
        return DegradedMode.start(link, parts)

    return DegradedChild(overlays, state, start)
