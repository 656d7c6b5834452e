"""The program state: what goes on air at every program frame, armed ahead of time.

Control code and track executors *arm* changes stamped with the program frame index at which
they take effect (a take of a source, an overlay shown or hidden). The mixer thread asks
:meth:`ProgramState.frame_plan` once per frame what frame ``n`` shows, so a cue lands on its
exact frame however late the arming thread woke up, as long as it armed ahead of time. A change
armed for a frame the mixer has already planned (or with ``at_frame=None``) takes effect on the
next frame the mixer plans.

Ramps (transitions, overlay fades) of ``d`` frames are ``d`` strictly partial frames. A take of
source B at frame ``a`` with a ``d``-frame transition shows, at frame ``a + i`` (``0 <= i < d``),
the blend from the previous source to B at progress ``(i + 1) / (d + 1)``; frame ``a + d`` is
all B. So B is fully on air exactly ``d`` frames after the take, and with ``d`` odd the middle
frame is the exact midpoint (black for a fade through black). Overlay fades work the same way:
an overlay shown at ``s`` with ``f`` fade-in frames is at ``(i + 1) / (f + 1)`` of its opacity on
frame ``s + i`` and full from ``s + f``; one that ends at ``u`` (its first frame gone) with ``g``
fade-out frames is at ``(u - n) / (g + 1)`` on the last ``g`` frames before ``u``. When a fade
out starts during a fade in, the smaller factor wins, so opacity never jumps up.

Armed changes can be withdrawn: :meth:`ProgramState.cancel_from` drops what is armed from a
frame on (a paused or re-positioned show), keeping what is on air. Every take, overlay start
and image replacement is stamped, once it reaches the program, with the frame it really took
effect on (:meth:`ProgramState.effects`), so cue latency can be measured on a live run.

The :class:`ProgramEpoch` is the program's time line (the clock time of frame 0 and the last
frame emitted); it outlives mixer restarts so frame indices stay continuous.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, get_args

from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.errors import OperatorError
from vistter.media.frames import FrameFormat

TransitionKind = Literal["cut", "fade", "dissolve"]
"""``cut``: at once; ``fade``: through black; ``dissolve``: cross-fade."""
TRANSITIONS: tuple[str, ...] = get_args(TransitionKind)


class ProgramStateError(OperatorError):
    """A change armed on the program state is malformed (unknown transition, bad duration...)."""


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
class Take:
    """One armed change of the program source."""

    source_id: str
    at_frame: int
    transition: TransitionKind = "cut"
    duration_frames: int = 0


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


EffectKind = Literal["take", "overlay", "image"]


@dataclass(frozen=True, slots=True)
class ChangeEffect:
    """When one armed change really reached the program.

    ``kind``: ``take`` (a source), ``overlay`` (an overlay showing starts) or ``image`` (new
    pixels for a showing); ``target``: the source id or layer id; ``tag``: the caller's label
    (e.g. the cue); ``requested``: the frame asked for (None: "the next frame");
    ``armed``: the frame it was armed for (``requested`` moved up to the first unplanned frame
    when armed too late); ``effective``: the first planned frame that showed it.
    """

    kind: EffectKind
    target: str
    tag: str | None
    requested: int | None
    armed: int
    effective: int

    @property
    def late_frames(self) -> int:
        """Frames between the frame asked for (or armed, for "next frame") and the effect."""
        return self.effective - (self.armed if self.requested is None else self.requested)


class _Appearance:
    """One armed showing of an overlay: from ``start`` until ``end`` (exclusive; None: ever)."""

    __slots__ = ("armed", "end", "fade_in", "fade_out", "layer", "layer_id", "opacity",
                 "pending", "requested", "seq", "start", "tag", "z")

    def __init__(
        self,
        *,
        layer_id: str,
        z: int,
        layer: OverlayLayer,
        start: int,
        fade_in: int,
        end: int | None,
        fade_out: int,
        opacity: float,
        seq: int,
        tag: str | None = None,
        requested: int | None = None,
    ) -> None:
        self.tag = tag
        self.requested = requested
        self.pending: EffectKind | None = "overlay"
        """The change not seen on a planned frame yet (reported by ``frame_plan``)."""
        self.armed = start
        self.layer_id = layer_id
        self.z = z
        self.layer = layer
        self.start = start
        self.fade_in = fade_in
        self.end = end
        self.fade_out = fade_out
        self.opacity = opacity
        self.seq = seq

    def opacity_at(self, n: int) -> float:
        if n < self.start or (self.end is not None and n >= self.end):
            return 0.0
        factor = ramp(n - self.start, self.fade_in)
        if self.end is not None:
            factor = min(factor, ramp(self.end - n - 1, self.fade_out))
        return self.opacity * factor

    def sort_key(self) -> tuple[int, int]:
        return (self.z, self.seq)


def _check_frames(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProgramStateError(
            f"{name} {value!r} is not a whole number of frames >= 0.",
            hint="Convert seconds to frames with round(seconds * fps).",
        )
    return value


def _check_frame_index(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    return _check_frames(name, value)


class ProgramState:
    """Armed program changes; outlives mixer restarts. Thread-safe.

    Threads: any thread (control API, track executors) arms changes; the mixer thread calls
    :meth:`frame_plan` once per frame. Every method holds one internal lock for a few list
    operations only, so arming never delays a frame. Arming methods raise
    :class:`ProgramStateError` for malformed changes; nothing else raises.
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
        self._takes: list[Take] = []
        self._take_frames: list[int] = []
        self._take_pending: dict[int, tuple[int | None, str | None]] = {}
        self._appearances: list[_Appearance] = []
        self._horizon = 0
        self._seq = itertools.count()
        self._effects: deque[ChangeEffect] = deque(maxlen=max(1, effect_log_size))

    # -- arming (any thread) ---------------------------------------------------------------

    @property
    def horizon(self) -> int:
        """The first frame not planned yet: changes armed earlier take effect there."""
        with self._lock:
            return self._horizon

    def take(
        self,
        source_id: str,
        at_frame: int | None = None,
        transition: TransitionKind = "cut",
        duration_frames: int = 0,
        *,
        tag: str | None = None,
    ) -> Take:
        """Put ``source_id`` on air from frame ``at_frame`` (None or past: the next frame).

        A take armed for the same frame as an earlier one replaces it. Returns the take as
        armed (with its effective frame). ``tag`` labels the change in :meth:`effects`.
        """
        if transition not in TRANSITIONS:
            raise ProgramStateError(
                f"transition {transition!r} is not known.",
                hint=f"Use one of: {', '.join(TRANSITIONS)}.",
            )
        duration = _check_frames("transition duration", duration_frames)
        requested = _check_frame_index("take frame", at_frame)
        if not source_id:
            raise ProgramStateError(
                "a take needs a source id.", hint="Name a source such as camera:1 or slate."
            )
        with self._lock:
            at = self._effective(requested)
            armed = Take(source_id, at, transition, duration if transition != "cut" else 0)
            index = bisect.bisect_left(self._take_frames, at)
            if index < len(self._take_frames) and self._take_frames[index] == at:
                self._takes[index] = armed
            else:
                self._takes.insert(index, armed)
                self._take_frames.insert(index, at)
            self._take_pending[at] = (requested, tag)
        return armed

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
        """Show ``layer`` as ``layer_id`` at z-order ``z`` from ``at_frame`` until ``until_frame``
        (its first frame gone; None: until hidden), fading in and out over the given frames.

        An earlier showing of the same ``layer_id`` is cut at ``at_frame``; a later armed one
        is replaced. ``tag`` labels the showing (e.g. its cue) for
        :meth:`replace_overlay_image` and :meth:`effects`. Returns False when the showing is
        already over (``until_frame`` passed).
        """
        fade_in = _check_frames("fade-in", fade_in_frames)
        fade_out = _check_frames("fade-out", fade_out_frames)
        requested = _check_frame_index("overlay frame", at_frame)
        until = _check_frame_index("overlay end frame", until_frame)
        if not 0.0 <= float(opacity) <= 1.0:
            raise ProgramStateError(
                f"overlay opacity {opacity!r} is outside 0..1.",
                hint="Use 0 (invisible) to 1 (opaque), e.g. 0.8.",
            )
        self._check_layer(layer_id, layer)
        with self._lock:
            start = self._effective(requested)
            if until is not None and until <= start:
                return False
            kept: list[_Appearance] = []
            for appearance in self._appearances:
                if appearance.layer_id == layer_id:
                    if appearance.start >= start:
                        continue
                    if appearance.end is None or appearance.end > start:
                        appearance.end = start
                        appearance.fade_out = 0
                kept.append(appearance)
            kept.append(
                _Appearance(
                    layer_id=layer_id, z=z, layer=layer, start=start, fade_in=fade_in,
                    end=until, fade_out=fade_out, opacity=float(opacity), seq=next(self._seq),
                    tag=tag, requested=requested,
                )
            )
            kept.sort(key=_Appearance.sort_key)
            self._appearances = kept
        return True

    def hide_overlay(
        self, layer_id: str, at_frame: int | None = None, fade_out_frames: int = 0
    ) -> bool:
        """Start hiding ``layer_id`` at ``at_frame`` (None or past: the next frame): it fades out
        over ``fade_out_frames`` and is gone at ``at_frame + fade_out_frames``.

        Acts on showings that started by then; one that ends sooner anyway is left alone.
        Returns whether a showing was shortened.
        """
        fade_out = _check_frames("fade-out", fade_out_frames)
        requested = _check_frame_index("hide frame", at_frame)
        changed = False
        with self._lock:
            at = self._effective(requested)
            end = at + fade_out
            for appearance in self._appearances:
                if appearance.layer_id != layer_id or appearance.start > at:
                    continue
                if appearance.end is None or appearance.end > end:
                    appearance.end = end
                    appearance.fade_out = fade_out
                    changed = True
        return changed

    def replace_overlay_image(
        self, layer_id: str, layer: OverlayLayer, *, tag: str | None = None
    ) -> bool:
        """New pixels for ``layer_id`` (a live text change), same timing; from the next frame.

        Applies to every showing of the layer that is not over (with ``tag``: only to the
        showings armed with that tag). Returns whether one was found.
        """
        self._check_layer(layer_id, layer)
        found = False
        with self._lock:
            for appearance in self._appearances:
                if appearance.layer_id != layer_id or (tag is not None and appearance.tag != tag):
                    continue
                if appearance.end is None or appearance.end > self._horizon:
                    appearance.layer = layer
                    found = True
                    if appearance.start < self._horizon:
                        appearance.pending = "image"
                        appearance.requested = None
                        appearance.armed = self._horizon
        return found

    def clear_overlays(self, at_frame: int | None = None) -> None:
        """Remove every overlay at ``at_frame`` (a cut; None or past: the next frame), and drop
        showings armed to start later."""
        requested = _check_frame_index("clear frame", at_frame)
        with self._lock:
            at = self._effective(requested)
            kept = []
            for appearance in self._appearances:
                if appearance.start >= at:
                    continue
                if appearance.end is None or appearance.end > at:
                    appearance.end = at
                    appearance.fade_out = 0
                kept.append(appearance)
            self._appearances = kept

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
        requested = _check_frame_index("cancel frame", at_frame)
        dropped_takes = changed_overlays = 0
        with self._lock:
            at = self._effective(requested)
            if takes:
                index = bisect.bisect_left(self._take_frames, at)
                dropped_takes = len(self._takes) - index
                for frame in self._take_frames[index:]:
                    self._take_pending.pop(frame, None)
                del self._takes[index:]
                del self._take_frames[index:]
            if overlays:
                kept: list[_Appearance] = []
                for appearance in self._appearances:
                    if appearance.start >= at:
                        changed_overlays += 1
                        continue
                    end = appearance.end
                    if end is not None and end > at and end - appearance.fade_out > at:
                        appearance.end = None
                        appearance.fade_out = 0
                        changed_overlays += 1
                    kept.append(appearance)
                self._appearances = kept
        return dropped_takes, changed_overlays

    def source_at(self, n: int) -> str | None:
        """The source taken for frame ``n`` (armed takes included; None: nothing taken)."""
        with self._lock:
            current = bisect.bisect_right(self._take_frames, n) - 1
            return self._takes[current].source_id if current >= 0 else None

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
            current = bisect.bisect_right(self._take_frames, n) - 1
            source: str | None = None
            previous: str | None = None
            transition: TransitionKind = "cut"
            progress = 1.0
            if current >= 0:
                take = self._takes[current]
                source = take.source_id
                if self._take_pending:
                    self._take_effects(take, n)
                step = n - take.at_frame
                if take.transition != "cut" and step < take.duration_frames:
                    transition = take.transition
                    progress = ramp(step, take.duration_frames)
                    previous = self._takes[current - 1].source_id if current >= 1 else None
                if current >= 2:
                    del self._takes[: current - 1]
                    del self._take_frames[: current - 1]
            layers: list[PlannedLayer] = []
            expired = False
            for appearance in self._appearances:
                if appearance.end is not None and appearance.end <= n:
                    expired = True
                    continue
                if appearance.pending is not None and appearance.start <= n:
                    self._effects.append(ChangeEffect(
                        appearance.pending, appearance.layer_id, appearance.tag,
                        appearance.requested, appearance.armed, n,
                    ))
                    appearance.pending = None
                level = appearance.opacity_at(n)
                if level > 0.0:
                    layers.append(
                        PlannedLayer(appearance.layer_id, appearance.z, appearance.layer, level)
                    )
            if expired:
                self._appearances = [
                    a for a in self._appearances if a.end is None or a.end > n
                ]
        return FramePlan(n, source, previous, transition, progress, tuple(layers))

    def on_air(self) -> dict[str, Any]:
        """The current source and overlays (at the last planned frame), for status pages."""
        with self._lock:
            n = max(0, self._horizon - 1)
            current = bisect.bisect_right(self._take_frames, n) - 1
            source = self._takes[current].source_id if current >= 0 else None
            pending = len(self._takes) - current - 1
            overlays = [
                {"layer_id": a.layer_id, "z": a.z, "start": a.start, "end": a.end,
                 "opacity": a.opacity, "tag": a.tag}
                for a in self._appearances
            ]
        return {"frame": n, "source": source, "pending_takes": pending, "overlays": overlays}

    # -- internals -------------------------------------------------------------------------

    def _take_effects(self, take: Take, n: int) -> None:
        """Stamp the take on air at ``n`` with its effect; forget superseded ones. Lock held."""
        for frame in [f for f in self._take_pending if f <= n]:
            requested, tag = self._take_pending.pop(frame)
            if frame == take.at_frame:
                self._effects.append(
                    ChangeEffect("take", take.source_id, tag, requested, frame, n)
                )

    def _effective(self, at_frame: int | None) -> int:
        """The frame a change armed for ``at_frame`` takes effect at. Caller holds the lock."""
        return self._horizon if at_frame is None else max(at_frame, self._horizon)

    def _check_layer(self, layer_id: str, layer: OverlayLayer) -> None:
        if not layer_id:
            raise ProgramStateError(
                "an overlay needs a layer id.", hint="Use the overlay track and cue id."
            )
        if layer.fmt.width != self.fmt.width or layer.fmt.height != self.fmt.height:
            raise ProgramStateError(
                f"overlay {layer_id!r} was rendered for {layer.fmt.size}, but the program is "
                f"{self.fmt.size}.",
                hint="Render overlays with the program's FrameFormat (OverlayLayer.from_rgba).",
            )


class ProgramEpoch:
    """The program's time line, shared by every mixer incarnation. Thread-safe.

    ``t0`` is the clock time frame 0 is (or was) due at, fixed by the first mixer that starts;
    ``last_index`` is the last frame any mixer emitted. A restarted mixer resumes with
    :meth:`resume_index`, so frame indices (and the encoder's timestamps) stay continuous.
    """

    def __init__(self, fps: int) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = fps
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._last: int | None = None

    @property
    def t0(self) -> float | None:
        with self._lock:
            return self._t0

    @property
    def last_index(self) -> int | None:
        with self._lock:
            return self._last

    def anchor(self, t0: float) -> float:
        """Fix ``t0`` unless it is fixed already; return the ``t0`` in force."""
        with self._lock:
            if self._t0 is None:
                self._t0 = t0
            return self._t0

    def due(self, index: int) -> float:
        """Clock time frame ``index`` is due at. Raises ``RuntimeError`` before :meth:`anchor`."""
        with self._lock:
            t0 = self._t0
        if t0 is None:
            raise RuntimeError("the program epoch has not been anchored yet")
        return t0 + index / self.fps

    def index_at(self, now: float) -> int:
        """The first frame due at or after ``now`` (what a track executor arms for "now")."""
        with self._lock:
            t0, last = self._t0, self._last
        if t0 is None:
            return 0 if last is None else last + 1
        return max(0, math.ceil((now - t0) * self.fps - 1e-6))

    def record(self, index: int) -> None:
        """Called by the mixer thread for each frame it emits."""
        with self._lock:
            if self._last is None or index > self._last:
                self._last = index

    def resume_index(self, now: float, *, max_behind: float, virtual: bool = False) -> int:
        """The frame a (re)starting mixer begins with.

        The frame after the last one emitted, so the encoder sees consecutive indices: the
        few frames missed while the mixer restarted are due already and are emitted at once.
        If the mixer was down longer than ``max_behind`` seconds (or was never anchored) in a
        live program, it jumps to the wall-clock frame instead of replaying the gap. A virtual
        (offline) program always continues with the next frame.
        """
        with self._lock:
            following = 0 if self._last is None else self._last + 1
            t0 = self._t0
        if virtual or t0 is None:
            return following
        wall = max(0, math.ceil((now - t0) * self.fps - 1e-6))
        if wall - following <= max_behind * self.fps:
            return following
        return wall
