"""What one program frame shows: the value the mixer thread composes, and the ramp law.

Ramps (transitions, overlay fades) of ``d`` frames are ``d`` strictly partial frames. A take of
source B at frame ``a`` with a ``d``-frame transition shows, at frame ``a + i`` (``0 <= i < d``),
the blend from the previous source to B at progress ``(i + 1) / (d + 1)``; frame ``a + d`` is
all B. So B is fully on air exactly ``d`` frames after the take, and with ``d`` odd the middle
frame is the exact midpoint (black for a fade through black). Overlay fades work the same way
(see :mod:`vistter.actors.program.showings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from vistter.actors.program.changes import TransitionKind
from vistter.actors.program.overlay_layer import OverlayLayer

__all__ = ["FramePlan", "PlannedLayer", "ramp"]


def ramp(step: int, frames: int) -> float:
    """Progress of frame ``step`` (0-based) of a ramp of ``frames`` partial frames.

    ``(step + 1) / (frames + 1)`` clamped to [0, 1]: never 0 or 1 inside the ramp, 1 after it.
    """
    if step < 0:
        return 0.0
    if step >= frames:
        return 1.0
    return (step + 1) / (frames + 1)


@dataclass(frozen=True, slots=True)
class PlannedLayer:
    """One overlay on a planned frame, with its effective opacity (fades included, > 0)."""

    layer_id: str
    z: int
    layer: OverlayLayer
    opacity: float


@dataclass(frozen=True, slots=True)
class FramePlan:
    """What program frame ``index`` shows.

    ``source`` is the wanted program source (None before the first take: black);
    ``previous`` and ``progress`` describe a transition in progress (``previous`` None means
    from black); ``layers`` are the visible overlays, lowest z first.
    """

    index: int
    source: str | None
    previous: str | None = None
    transition: TransitionKind = "cut"
    progress: float = 1.0
    layers: tuple[PlannedLayer, ...] = ()

    @property
    def blending(self) -> bool:
        """Whether the frame is a blend of ``previous`` and ``source``."""
        return self.transition != "cut" and self.progress < 1.0
