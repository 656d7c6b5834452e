"""Armed changes: typed values the show hands the program, and when each reached it.

Control code and track executors do not call into the mixer; they build one of the values
below and give it to :meth:`ProgramState.apply <vistter.actors.program.state.ProgramState.apply>`,
which is the one place each kind takes effect. Every value is frozen and checks itself when
built (raising :class:`ProgramStateError`), so a malformed change never reaches the program.

``at_frame`` is the program frame the change takes effect on (None, or a frame the mixer has
planned already: the next frame it plans); ``tag`` labels the change (e.g. its cue) in the
program's :class:`ChangeEffect` log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.errors import OperatorError

__all__ = [
    "TRANSITIONS",
    "ArmedChange",
    "ChangeEffect",
    "ClearOverlays",
    "EffectKind",
    "OverlayOff",
    "OverlayOn",
    "ProgramStateError",
    "Take",
    "TextChange",
    "TransitionKind",
]

TransitionKind = Literal["cut", "fade", "dissolve"]
"""``cut``: at once; ``fade``: through black; ``dissolve``: cross-fade."""
TRANSITIONS: tuple[str, ...] = get_args(TransitionKind)


class ProgramStateError(OperatorError):
    """A change armed on the program state is malformed (unknown transition, bad duration...)."""


def check_frames(name: str, value: int) -> int:
    """``value`` as a whole number of frames >= 0, or :class:`ProgramStateError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProgramStateError(
            f"{name} {value!r} is not a whole number of frames >= 0.",
            hint="Convert seconds to frames with round(seconds * fps).",
        )
    return value


def check_frame_index(name: str, value: int | None) -> int | None:
    """``value`` as a program frame index (None allowed: "the next frame")."""
    if value is None:
        return None
    return check_frames(name, value)


@dataclass(frozen=True, slots=True)
class Take:
    """Put ``source_id`` on air from ``at_frame``, with a ``duration_frames`` transition.

    A take armed for the same frame as an earlier one replaces it. ``ProgramState.take``
    returns the take as armed: ``at_frame`` is then the frame it takes effect on, and a cut
    has no duration.
    """

    source_id: str
    at_frame: int | None = None
    transition: TransitionKind = "cut"
    duration_frames: int = 0
    tag: str | None = None

    def __post_init__(self) -> None:
        if self.transition not in TRANSITIONS:
            raise ProgramStateError(
                f"transition {self.transition!r} is not known.",
                hint=f"Use one of: {', '.join(TRANSITIONS)}.",
            )
        check_frames("transition duration", self.duration_frames)
        check_frame_index("take frame", self.at_frame)
        if not self.source_id:
            raise ProgramStateError(
                "a take needs a source id.", hint="Name a source such as camera:1 or slate."
            )


@dataclass(frozen=True, slots=True)
class OverlayOn:
    """Show ``layer`` as ``layer_id`` at z-order ``z`` from ``at_frame`` until ``until_frame``
    (its first frame gone; None: until hidden), fading in and out over the given frames.

    An earlier showing of the same ``layer_id`` is cut at ``at_frame``; a later armed one is
    replaced.
    """

    layer_id: str
    z: int
    layer: OverlayLayer
    at_frame: int | None = None
    until_frame: int | None = None
    fade_in_frames: int = 0
    fade_out_frames: int = 0
    opacity: float = 1.0
    tag: str | None = None

    def __post_init__(self) -> None:
        check_frames("fade-in", self.fade_in_frames)
        check_frames("fade-out", self.fade_out_frames)
        check_frame_index("overlay frame", self.at_frame)
        check_frame_index("overlay end frame", self.until_frame)
        if not 0.0 <= float(self.opacity) <= 1.0:
            raise ProgramStateError(
                f"overlay opacity {self.opacity!r} is outside 0..1.",
                hint="Use 0 (invisible) to 1 (opaque), e.g. 0.8.",
            )
        check_layer_id(self.layer_id)


@dataclass(frozen=True, slots=True)
class OverlayOff:
    """Start hiding ``layer_id`` at ``at_frame``: it fades out over ``fade_out_frames`` and is
    gone at ``at_frame + fade_out_frames``. Acts on showings that started by then."""

    layer_id: str
    at_frame: int | None = None
    fade_out_frames: int = 0

    def __post_init__(self) -> None:
        check_frames("fade-out", self.fade_out_frames)
        check_frame_index("hide frame", self.at_frame)


@dataclass(frozen=True, slots=True)
class TextChange:
    """New pixels for the showings of ``layer_id`` (a live text change) from the next frame,
    timing unchanged; with ``tag``, only for the showings armed with that tag."""

    layer_id: str
    layer: OverlayLayer
    tag: str | None = None

    def __post_init__(self) -> None:
        check_layer_id(self.layer_id)


@dataclass(frozen=True, slots=True)
class ClearOverlays:
    """Every overlay off at ``at_frame`` (a cut), and the showings armed to start later
    dropped."""

    at_frame: int | None = None

    def __post_init__(self) -> None:
        check_frame_index("clear frame", self.at_frame)


ArmedChange = Take | OverlayOn | OverlayOff | TextChange | ClearOverlays
"""Every kind of change the program can be armed with."""


def check_layer_id(layer_id: str) -> None:
    if not layer_id:
        raise ProgramStateError(
            "an overlay needs a layer id.", hint="Use the overlay track and cue id."
        )


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
