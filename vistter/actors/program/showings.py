"""Overlay showings: which overlays each program frame shows, at which opacity.

A showing is one armed appearance of an overlay layer, from ``start`` until ``end``
(exclusive; None: until hidden), with fades. An overlay shown at ``s`` with ``f`` fade-in
frames is at ``(i + 1) / (f + 1)`` of its opacity on frame ``s + i`` and full from ``s + f``;
one that ends at ``u`` (its first frame gone) with ``g`` fade-out frames is at
``(u - n) / (g + 1)`` on the last ``g`` frames before ``u``. When a fade out starts during a
fade in, the smaller factor wins, so opacity never jumps up.

:class:`OverlayShowings` is not thread-safe on its own: the
:class:`~vistter.actors.program.state.ProgramState` owns one and calls it under its lock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from vistter.actors.program.changes import ChangeEffect, EffectKind, OverlayOff, OverlayOn
from vistter.actors.program.frame_plan import PlannedLayer, ramp
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.payloads import OverlayOnAir

__all__ = ["OverlayShowings"]


class _Showing:
    """One armed showing of an overlay: from ``start`` until ``end`` (exclusive; None: ever)."""

    __slots__ = ("armed", "end", "fade_in", "fade_out", "layer", "layer_id", "opacity",
                 "pending", "requested", "seq", "start", "tag", "z")

    def __init__(self, change: OverlayOn, start: int, seq: int) -> None:
        self.tag = change.tag
        self.requested = change.at_frame
        self.pending: EffectKind | None = "overlay"
        """The change not seen on a planned frame yet (reported by ``plan``)."""
        self.armed = start
        self.layer_id = change.layer_id
        self.z = change.z
        self.layer = change.layer
        self.start = start
        self.fade_in = change.fade_in_frames
        self.end = change.until_frame
        self.fade_out = change.fade_out_frames
        self.opacity = float(change.opacity)
        self.seq = seq

    def opacity_at(self, n: int) -> float:
        if n < self.start or (self.end is not None and n >= self.end):
            return 0.0
        factor = ramp(n - self.start, self.fade_in)
        if self.end is not None:
            factor = min(factor, ramp(self.end - n - 1, self.fade_out))
        return self.opacity * factor

    def cut_at(self, at: int) -> None:
        """End at ``at`` at once (no fade) unless it ends sooner anyway."""
        if self.end is None or self.end > at:
            self.end = at
            self.fade_out = 0

    def sort_key(self) -> tuple[int, int]:
        return (self.z, self.seq)


class OverlayShowings:
    """Armed overlay showings, lowest z first (see the module doc). Caller holds the lock."""

    def __init__(self) -> None:
        self._showings: list[_Showing] = []
        self._seq = itertools.count()

    def show(self, change: OverlayOn, start: int) -> bool:
        """Arm ``change`` from frame ``start``; an earlier showing of its layer is cut there,
        a later one replaced. False (nothing armed) when it would be over already."""
        if change.until_frame is not None and change.until_frame <= start:
            return False
        kept: list[_Showing] = []
        for showing in self._showings:
            if showing.layer_id == change.layer_id:
                if showing.start >= start:
                    continue
                showing.cut_at(start)
            kept.append(showing)
        kept.append(_Showing(change, start, next(self._seq)))
        kept.sort(key=_Showing.sort_key)
        self._showings = kept
        return True

    def hide(self, change: OverlayOff, at: int) -> bool:
        """Fade out the showings of the layer started by ``at``; whether one was shortened."""
        end = at + change.fade_out_frames
        changed = False
        for showing in self._showings:
            if showing.layer_id != change.layer_id or showing.start > at:
                continue
            if showing.end is None or showing.end > end:
                showing.end = end
                showing.fade_out = change.fade_out_frames
                changed = True
        return changed

    def replace_image(self, layer_id: str, layer: OverlayLayer, tag: str | None,
                      horizon: int) -> bool:
        """New pixels for the showings of ``layer_id`` (with ``tag``: only those) that are not
        over at ``horizon`` (the first unplanned frame); whether one was found."""
        found = False
        for showing in self._showings:
            if showing.layer_id != layer_id or (tag is not None and showing.tag != tag):
                continue
            if showing.end is None or showing.end > horizon:
                showing.layer = layer
                found = True
                if showing.start < horizon:
                    showing.pending = "image"
                    showing.requested = None
                    showing.armed = horizon
        return found

    def clear(self, at: int) -> None:
        """Every showing off at ``at`` (a cut); those armed to start then or later dropped."""
        kept = []
        for showing in self._showings:
            if showing.start >= at:
                continue
            showing.cut_at(at)
            kept.append(showing)
        self._showings = kept

    def cancel_from(self, at: int) -> int:
        """Drop showings armed to start at ``at`` or later; one on air then loses its armed end
        (held until hidden) unless already fading out. Returns how many changed."""
        changed = 0
        kept: list[_Showing] = []
        for showing in self._showings:
            if showing.start >= at:
                changed += 1
                continue
            end = showing.end
            if end is not None and end > at and end - showing.fade_out > at:
                showing.end = None
                showing.fade_out = 0
                changed += 1
            kept.append(showing)
        self._showings = kept
        return changed

    def plan(self, n: int, effect: Callable[[ChangeEffect], None]) -> tuple[PlannedLayer, ...]:
        """The visible overlays of frame ``n``; reports each showing (or new image) reaching
        the program to ``effect`` and forgets showings over before ``n``."""
        layers: list[PlannedLayer] = []
        expired = False
        for showing in self._showings:
            if showing.end is not None and showing.end <= n:
                expired = True
                continue
            if showing.pending is not None and showing.start <= n:
                effect(ChangeEffect(showing.pending, showing.layer_id, showing.tag,
                                    showing.requested, showing.armed, n))
                showing.pending = None
            level = showing.opacity_at(n)
            if level > 0.0:
                layers.append(PlannedLayer(showing.layer_id, showing.z, showing.layer, level))
        if expired:
            self._showings = [s for s in self._showings if s.end is None or s.end > n]
        return tuple(layers)

    def listing(self) -> list[OverlayOnAir]:
        """Every armed showing, lowest z first."""
        return [
            OverlayOnAir(layer_id=s.layer_id, z=s.z, start=s.start, end=s.end,
                         opacity=s.opacity, tag=s.tag)
            for s in self._showings
        ]
