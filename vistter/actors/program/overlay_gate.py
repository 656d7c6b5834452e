"""Which overlays the mixer draws: all, only the static ones, or none; plus a notice layer.

Degraded mode (see :mod:`vistter.degraded`) sets the :class:`OverlayGate` that the mixer
reads on every frame: ``simplified`` leaves out the animated layers (dynamic texts: a clock,
a data feed, re-rendered while they show; see :attr:`OverlayLayer.animated
<vistter.actors.program.overlay_layer.OverlayLayer.animated>`), ``off`` leaves out every
overlay of the show. The ``notice`` layer ("Degraded mode") is drawn on top whatever the
mode, while it is set.

Thread-safe: any thread sets it; the mixer thread reads an immutable snapshot (no lock on the
frame path beyond one attribute read).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vistter.actors.program.frame_plan import PlannedLayer
from vistter.actors.program.overlay_layer import OverlayLayer

__all__ = ["NOTICE_LAYER_ID", "OverlayGate", "OverlayMode"]

NOTICE_LAYER_ID = "degraded-notice"


class OverlayMode(enum.StrEnum):
    FULL = "full"
    SIMPLIFIED = "simplified"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class _Setting:
    mode: OverlayMode
    notice: OverlayLayer | None


class OverlayGate:
    """The overlay mode and the notice layer, shared by degraded mode and the mixer."""

    def __init__(self) -> None:
        self._setting = _Setting(OverlayMode.FULL, None)

    @property
    def mode(self) -> OverlayMode:
        return self._setting.mode

    @property
    def notice(self) -> OverlayLayer | None:
        return self._setting.notice

    def set_mode(self, mode: OverlayMode) -> None:
        """Any thread; the mixer follows from its next frame."""
        self._setting = _Setting(mode, self._setting.notice)

    def set_notice(self, layer: OverlayLayer | None) -> None:
        """Draw ``layer`` over everything (None: no notice). Any thread."""
        self._setting = _Setting(self._setting.mode, layer)

    def filter(self, layers: tuple[PlannedLayer, ...]) -> tuple[PlannedLayer, ...]:
        """The planned layers to draw now, the notice last. Mixer thread; never raises."""
        setting = self._setting
        if setting.mode is OverlayMode.OFF:
            kept: tuple[PlannedLayer, ...] = ()
        elif setting.mode is OverlayMode.SIMPLIFIED:
            kept = tuple(planned for planned in layers if not planned.layer.animated)
        else:
            kept = layers
        if setting.notice is None:
            return kept
        top = max((planned.z for planned in kept), default=0) + 1
        return (*kept, PlannedLayer(NOTICE_LAYER_ID, top, setting.notice, 1.0))
