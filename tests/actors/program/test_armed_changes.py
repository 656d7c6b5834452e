"""Armed changes are typed values: each kind, applied through ``ProgramState.apply``, lands on
its exact frame (not one early, not one late), and no kind is ignored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

import pytest
from PIL import Image

from vistter.actors.program.changes import (
    ArmedChange,
    ClearOverlays,
    OverlayOff,
    OverlayOn,
    ProgramStateError,
    Take,
    TextChange,
)
from vistter.actors.program.frame_plan import FramePlan
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.media.frames import FrameFormat

FMT = FrameFormat(64, 36, 30)
AT = 12
"""The frame every change is armed for."""


def _layer(color: tuple[int, int, int, int]) -> OverlayLayer:
    return OverlayLayer.from_rgba(Image.new("RGBA", (16, 8), color), 4, 4, FMT)


RED = _layer((255, 0, 0, 255))
BLUE = _layer((0, 0, 255, 255))
NAMES = {id(RED): "red", id(BLUE): "blue"}

Summary = tuple[str | None, str | None, float, tuple[tuple[str, str, float], ...]]


def summary(plan: FramePlan) -> Summary:
    """What a frame shows, comparable: source, previous, progress, (layer, pixels, opacity)."""
    return (
        plan.source,
        plan.previous if plan.blending else None,
        round(plan.progress, 4),
        tuple((p.layer_id, NAMES[id(p.layer)], round(p.opacity, 4)) for p in plan.layers),
    )


def _base(state: ProgramState) -> None:
    """On air from frame 0: camera:1, a red logo (z 1) and a red ticker (z 2)."""
    state.take("camera:1", 0)
    state.show_overlay("logo", 1, RED, 0)
    state.show_overlay("ticker", 2, RED, 0)


BEFORE: Summary = ("camera:1", None, 1.0, (("logo", "red", 1.0), ("ticker", "red", 1.0)))


@dataclass(frozen=True)
class Case:
    """One kind of change: built for a frame (None: "the next frame"), and what frame ``AT``
    shows once it is applied."""

    name: str
    change: Callable[[int | None], ArmedChange]
    at: Summary
    after: Summary | None = None
    """What frame ``AT + 1`` shows, when a ramp makes it differ from ``AT``."""
    framed: bool = True
    """Whether the change can be armed ahead for a given frame."""


CASES = [
    Case("take", lambda at: Take("camera:2", at, tag="cue"),
         ("camera:2", None, 1.0, BEFORE[3])),
    Case("take-dissolve", lambda at: Take("camera:2", at, "dissolve", 3),
         ("camera:2", "camera:1", 0.25, BEFORE[3]),
         ("camera:2", "camera:1", 0.5, BEFORE[3])),
    Case("overlay-on", lambda at: OverlayOn("bug", 3, BLUE, at, tag="cue"),
         ("camera:1", None, 1.0, (*BEFORE[3], ("bug", "blue", 1.0)))),
    Case("overlay-on-fade", lambda at: OverlayOn("bug", 3, BLUE, at, fade_in_frames=3,
                                                 opacity=0.8),
         ("camera:1", None, 1.0, (*BEFORE[3], ("bug", "blue", 0.2))),
         ("camera:1", None, 1.0, (*BEFORE[3], ("bug", "blue", 0.4)))),
    Case("overlay-replaces-layer", lambda at: OverlayOn("logo", 1, BLUE, at),
         ("camera:1", None, 1.0, (("logo", "blue", 1.0), ("ticker", "red", 1.0)))),
    Case("overlay-off", lambda at: OverlayOff("logo", at),
         ("camera:1", None, 1.0, (("ticker", "red", 1.0),))),
    Case("overlay-off-fade", lambda at: OverlayOff("logo", at, fade_out_frames=1),
         ("camera:1", None, 1.0, (("logo", "red", 0.5), ("ticker", "red", 1.0))),
         ("camera:1", None, 1.0, (("ticker", "red", 1.0),))),
    Case("clear-overlays", ClearOverlays, ("camera:1", None, 1.0, ())),
    Case("text-change", lambda at: TextChange("ticker", BLUE),
         ("camera:1", None, 1.0, (("logo", "red", 1.0), ("ticker", "blue", 1.0))),
         framed=False),
]


def test_every_kind_of_armed_change_has_a_case() -> None:
    """A new kind in the union without a case here (or without a branch in ``apply``) fails."""
    kinds = {type(case.change(AT)) for case in CASES}
    assert kinds == set(get_args(ArmedChange))


@pytest.mark.parametrize("case", [c for c in CASES if c.framed], ids=lambda c: c.name)
def test_a_change_armed_ahead_lands_on_its_frame(case: Case) -> None:
    state = ProgramState(FMT)
    _base(state)
    state.apply(case.change(AT))
    plans = [summary(state.frame_plan(n)) for n in range(AT + 2)]
    assert plans[:AT] == [BEFORE] * AT, "never a frame early"
    assert plans[AT] == case.at, "on its frame, not later"
    assert plans[AT + 1] == (case.after or case.at)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_change_armed_at_the_horizon_lands_on_the_next_frame(case: Case) -> None:
    state = ProgramState(FMT)
    _base(state)
    before = [summary(state.frame_plan(n)) for n in range(AT)]
    assert state.horizon == AT
    assert state.apply(case.change(None)) is True
    assert before == [BEFORE] * AT
    assert summary(state.frame_plan(AT)) == case.at
    assert summary(state.frame_plan(AT + 1)) == (case.after or case.at)


@pytest.mark.parametrize("case", [c for c in CASES if c.framed], ids=lambda c: c.name)
def test_a_change_armed_too_late_lands_on_the_first_unplanned_frame(case: Case) -> None:
    state = ProgramState(FMT)
    _base(state)
    for n in range(AT + 5):
        assert summary(state.frame_plan(n)) == BEFORE
    state.apply(case.change(AT))  # frames AT..AT+4 are planned already
    assert summary(state.frame_plan(AT + 5)) == case.at


@pytest.mark.parametrize("kind", [Take, OverlayOn])
def test_the_effect_log_stamps_the_frame_each_change_really_reached(kind: type) -> None:
    state = ProgramState(FMT)
    _base(state)
    for n in range(AT + 3):
        state.frame_plan(n)
    change: ArmedChange = Take("camera:2", AT, tag="late") if kind is Take else \
        OverlayOn("bug", 3, BLUE, AT, tag="late")
    state.apply(change)
    state.frame_plan(AT + 3)
    [effect] = [e for e in state.effects() if e.tag == "late"]
    assert (effect.requested, effect.armed, effect.effective, effect.late_frames) == \
        (AT, AT + 3, AT + 3, 3)


def test_apply_says_when_a_change_will_not_show() -> None:
    state = ProgramState(FMT)
    assert state.apply(OverlayOff("nothing", 0)) is False
    assert state.apply(TextChange("nothing", BLUE)) is False
    for n in range(10):
        state.frame_plan(n)
    assert state.apply(OverlayOn("gone", 1, RED, 2, until_frame=8)) is False
    assert state.frame_plan(10).layers == ()


def test_malformed_changes_cannot_be_built() -> None:
    with pytest.raises(ProgramStateError, match="transition 'wipe'"):
        Take("camera:1", 0, "wipe")  # type: ignore[arg-type]
    with pytest.raises(ProgramStateError, match="a take needs a source id"):
        Take("")
    with pytest.raises(ProgramStateError, match="fade-out -1"):
        OverlayOff("logo", 0, fade_out_frames=-1)
    with pytest.raises(ProgramStateError, match="clear frame -3"):
        ClearOverlays(-3)
    with pytest.raises(ProgramStateError, match="an overlay needs a layer id"):
        TextChange("", BLUE)
    with pytest.raises(ProgramStateError, match="opacity 2"):
        OverlayOn("logo", 1, RED, 0, opacity=2)


def test_an_overlay_for_another_picture_size_is_refused() -> None:
    other = OverlayLayer.from_rgba(Image.new("RGBA", (8, 8), (1, 2, 3, 255)), 0, 0,
                                   FrameFormat(32, 18, 30))
    state = ProgramState(FMT)
    with pytest.raises(ProgramStateError, match="rendered for 32x18"):
        state.apply(OverlayOn("logo", 1, other, 0))
    with pytest.raises(ProgramStateError, match="rendered for 32x18"):
        state.apply(TextChange("logo", other))
