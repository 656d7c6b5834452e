"""The program state: what goes on air at every program frame, armed ahead of time.

Control code and track executors *arm* changes stamped with the program frame index at which
they take effect: typed values (:mod:`vistter.actors.program.changes`: a take of a source, an
overlay shown or hidden, a live text change, overlays cleared) handed to
:meth:`ProgramState.apply`, the one place each kind takes effect. The mixer thread asks
:meth:`ProgramState.frame_plan` once per frame what frame ``n`` shows, so a cue lands on its
exact frame however late the arming thread woke up, as long as it armed ahead of time. A change
armed for a frame the mixer has already planned (or with ``at_frame=None``) takes effect on the
next frame the mixer plans.

How transitions and fades ramp is told in :mod:`vistter.actors.program.frame_plan`; takes live
on a :class:`~vistter.actors.program.takes.TakeLine`, overlays in
:class:`~vistter.actors.program.showings.OverlayShowings`; this module holds them under one
lock and keeps the program's horizon (the first frame not planned yet).

Armed changes can be withdrawn: :meth:`ProgramState.cancel_from` drops what is armed from a
frame on (a paused or re-positioned show), keeping what is on air. Every take, overlay start
and image replacement is stamped, once it reaches the program, with the frame it really took
effect on (:meth:`ProgramState.effects`), so cue latency can be measured on a live run.

The program's time line (:class:`~vistter.actors.program.clock.ProgramEpoch`) outlives mixer
restarts so frame indices stay continuous; the state carries the one its mixers share.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import assert_never

from vistter.actors.program.changes import (
    ArmedChange,
    ChangeEffect,
    ClearOverlays,
    OverlayOff,
    OverlayOn,
    ProgramStateError,
    Take,
    TextChange,
    TransitionKind,
    check_frame_index,
)
from vistter.actors.program.clock import ProgramEpoch
from vistter.actors.program.frame_plan import FramePlan
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.payloads import OnAir
from vistter.actors.program.showings import OverlayShowings
from vistter.actors.program.takes import TakeLine
from vistter.media.frames import FrameFormat

__all__ = ["ProgramState"]


class ProgramState:
    """Armed program changes; outlives mixer restarts. Thread-safe.

    Threads: any thread (control API, track executors) arms changes; the mixer thread calls
    :meth:`frame_plan` once per frame. Every method holds one internal lock for a few list
    operations only, so arming never delays a frame. Arming raises
    :class:`~vistter.actors.program.changes.ProgramStateError` for malformed changes; nothing
    else raises.
    """

    def __init__(
        self,
        fmt: FrameFormat,
        *,
        epoch: ProgramEpoch | None = None,
        effect_log_size: int = 4096,
    ) -> None:
        self.fmt = fmt
        self.epoch = epoch if epoch is not None else ProgramEpoch(fmt.fps)
        self._lock = threading.Lock()
        self._takes = TakeLine()
        self._showings = OverlayShowings()
        self._horizon = 0
        self._effects: deque[ChangeEffect] = deque(maxlen=max(1, effect_log_size))

    @property
    def horizon(self) -> int:
        """The first frame not planned yet: changes armed earlier take effect there."""
        with self._lock:
            return self._horizon

    # -- arming (any thread) ---------------------------------------------------------------

    def apply(self, change: ArmedChange) -> bool:
        """Arm ``change``: the one place each kind of armed change reaches the program.

        Returns whether it will show: False when an overlay showing is over already, a hide
        found no showing to shorten, or a text change found no showing; True otherwise.
        Raises :class:`~vistter.actors.program.changes.ProgramStateError` when an overlay was
        rendered for another picture size. Any thread.
        """
        match change:
            case Take():
                self.take(change.source_id, change.at_frame, change.transition,
                          change.duration_frames, tag=change.tag)
                return True
            case OverlayOn():
                return self.show_overlay(
                    change.layer_id, change.z, change.layer, change.at_frame,
                    fade_in_frames=change.fade_in_frames,
                    fade_out_frames=change.fade_out_frames, until_frame=change.until_frame,
                    opacity=change.opacity, tag=change.tag,
                )
            case OverlayOff():
                return self.hide_overlay(change.layer_id, change.at_frame,
                                         change.fade_out_frames)
            case TextChange():
                return self.replace_overlay_image(change.layer_id, change.layer, tag=change.tag)
            case ClearOverlays():
                self.clear_overlays(change.at_frame)
                return True
            case _:
                assert_never(change)

    def take(
        self,
        source_id: str,
        at_frame: int | None = None,
        transition: TransitionKind = "cut",
        duration_frames: int = 0,
        *,
        tag: str | None = None,
    ) -> Take:
        """Arm a :class:`~vistter.actors.program.changes.Take`: ``source_id`` on air from
        frame ``at_frame`` (None or past: the next frame). Returns the take as armed (with its
        effective frame). ``tag`` labels the change in :meth:`effects`."""
        change = Take(source_id, at_frame, transition, duration_frames, tag)
        with self._lock:
            return self._takes.arm(change, self._effective(change.at_frame))

    def show_overlay(
        self,
        layer_id: str,
        z: int,
        layer: OverlayLayer,
        at_frame: int | None = None,
        *,
        fade_in_frames: int = 0,
        fade_out_frames: int = 0,
        until_frame: int | None = None,
        opacity: float = 1.0,
        tag: str | None = None,
    ) -> bool:
        """Arm an :class:`~vistter.actors.program.changes.OverlayOn`: ``layer`` as
        ``layer_id`` at z-order ``z`` from ``at_frame`` until ``until_frame``, with fades.

        ``tag`` labels the showing (e.g. its cue) for :meth:`replace_overlay_image` and
        :meth:`effects`. Returns False when the showing is already over (``until_frame``
        passed).
        """
        change = OverlayOn(layer_id, z, layer, at_frame, until_frame, fade_in_frames,
                           fade_out_frames, opacity, tag)
        self._check_layer(layer_id, layer)
        with self._lock:
            return self._showings.show(change, self._effective(change.at_frame))

    def hide_overlay(
        self, layer_id: str, at_frame: int | None = None, fade_out_frames: int = 0
    ) -> bool:
        """Arm an :class:`~vistter.actors.program.changes.OverlayOff`: ``layer_id`` fades out
        from ``at_frame`` (None or past: the next frame) over ``fade_out_frames``.

        Acts on showings that started by then; one that ends sooner anyway is left alone.
        Returns whether a showing was shortened.
        """
        change = OverlayOff(layer_id, at_frame, fade_out_frames)
        with self._lock:
            return self._showings.hide(change, self._effective(change.at_frame))

    def replace_overlay_image(
        self, layer_id: str, layer: OverlayLayer, *, tag: str | None = None
    ) -> bool:
        """Arm a :class:`~vistter.actors.program.changes.TextChange`: new pixels for
        ``layer_id``, same timing, from the next frame.

        Applies to every showing of the layer that is not over (with ``tag``: only to the
        showings armed with that tag). Returns whether one was found.
        """
        change = TextChange(layer_id, layer, tag)
        self._check_layer(layer_id, layer)
        with self._lock:
            return self._showings.replace_image(change.layer_id, change.layer, change.tag,
                                                self._horizon)

    def clear_overlays(self, at_frame: int | None = None) -> None:
        """Arm a :class:`~vistter.actors.program.changes.ClearOverlays`: every overlay off at
        ``at_frame`` (a cut; None or past: the next frame), later showings dropped."""
        change = ClearOverlays(at_frame)
        with self._lock:
            self._showings.clear(self._effective(change.at_frame))

    def cancel_from(
        self, at_frame: int | None = None, *, takes: bool = True, overlays: bool = True
    ) -> tuple[int, int]:
        """Withdraw what is armed to happen from ``at_frame`` on (None or past: the next frame);
        what is on air then stays on air.

        Takes armed for ``at_frame`` or later are dropped (the source on air stays, a
        transition in progress completes). Overlay showings armed to start then or later are
        dropped; a showing on air at ``at_frame`` loses its armed end and stays until hidden,
        unless it is already fading out. Returns ``(takes dropped, overlays dropped or held)``.
        """
        requested = check_frame_index("cancel frame", at_frame)
        with self._lock:
            at = self._effective(requested)
            dropped_takes = self._takes.cancel_from(at) if takes else 0
            changed_overlays = self._showings.cancel_from(at) if overlays else 0
        return dropped_takes, changed_overlays

    def source_at(self, n: int) -> str | None:
        """The source taken for frame ``n`` (armed takes included; None: nothing taken)."""
        with self._lock:
            return self._takes.source_at(n)

    def effects(self, *, clear: bool = False) -> list[ChangeEffect]:
        """The changes that reached the program (oldest first, bounded); any thread."""
        with self._lock:
            listing = list(self._effects)
            if clear:
                self._effects.clear()
        return listing

    # -- reading (mixer thread) ------------------------------------------------------------

    def frame_plan(self, n: int) -> FramePlan:
        """What frame ``n`` shows: a pure function of the armed changes and ``n``.

        Also marks frames up to ``n`` as planned (later changes armed for them move to
        ``n + 1``) and forgets what cannot affect frames from ``n`` on, so the mixer must ask
        for increasing ``n``. Called by the mixer thread once per frame; never raises.
        """
        with self._lock:
            self._horizon = max(self._horizon, n + 1)
            source = self._takes.plan(n, self._effects.append)
            layers = self._showings.plan(n, self._effects.append)
        return FramePlan(n, source.source, source.previous, source.transition, source.progress,
                         layers)

    def on_air(self) -> OnAir:
        """The current source and overlays (at the last planned frame), for status pages."""
        with self._lock:
            n = max(0, self._horizon - 1)
            return OnAir(frame=n, source=self._takes.source_at(n),
                         pending_takes=self._takes.pending_after(n),
                         overlays=self._showings.listing())

    def take_on_air(self) -> tuple[int, Take | None]:
        """The last planned frame and the take on air there (as armed), so a destination can
        reconnect right after a cut and never inside a transition. Any thread."""
        with self._lock:
            n = max(0, self._horizon - 1)
            return n, self._takes.take_at(n)

    # -- internals -------------------------------------------------------------------------

    def _effective(self, at_frame: int | None) -> int:
        """The frame a change armed for ``at_frame`` takes effect at. Caller holds the lock."""
        return self._horizon if at_frame is None else max(at_frame, self._horizon)

    def _check_layer(self, layer_id: str, layer: OverlayLayer) -> None:
        """An overlay must be rendered for the program's picture size."""
        if layer.fmt.width != self.fmt.width or layer.fmt.height != self.fmt.height:
            raise ProgramStateError(
                f"overlay {layer_id!r} was rendered for {layer.fmt.size}, but the program is "
                f"{self.fmt.size}.",
                hint="Render overlays with the program's FrameFormat (OverlayLayer.from_rgba).",
            )
