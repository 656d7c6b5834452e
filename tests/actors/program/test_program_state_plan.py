"""ProgramState.frame_plan: armed changes land on their exact frame; ramps per frame."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

from vistter.actors.program.changes import ProgramStateError
from vistter.actors.program.clock import ProgramEpoch
from vistter.actors.program.frame_plan import FramePlan, ramp
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.actors.program.state import ProgramState
from vistter.media.frames import FrameFormat

FMT = FrameFormat(64, 36, 30)


def layer(color: tuple[int, int, int, int] = (255, 255, 255, 255)) -> OverlayLayer:
    return OverlayLayer.from_rgba(Image.new("RGBA", (16, 8), color), 4, 4, FMT)


def opacities(state: ProgramState, frames: range) -> list[dict[str, float]]:
    return [
        {planned.layer_id: round(planned.opacity, 6) for planned in state.frame_plan(n).layers}
        for n in frames
    ]


def test_nothing_taken_is_black_without_transition() -> None:
    plan = ProgramState(FMT).frame_plan(0)
    assert plan == FramePlan(0, None)
    assert not plan.blending


def test_cut_lands_exactly_on_its_frame() -> None:
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=0)
    state.take("camera:2", at_frame=90)
    sources = [state.frame_plan(n).source for n in range(85, 95)]
    assert sources == ["camera:1"] * 5 + ["camera:2"] * 5
    assert not state.frame_plan(95).blending


def test_dissolve_progress_per_frame() -> None:
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=0)
    state.take("camera:2", at_frame=10, transition="dissolve", duration_frames=3)
    before = state.frame_plan(9)
    assert (before.source, before.previous, before.blending) == ("camera:1", None, False)
    plans = [state.frame_plan(n) for n in range(10, 14)]
    assert [p.progress for p in plans] == [0.25, 0.5, 0.75, 1.0]
    assert [p.previous for p in plans] == ["camera:1"] * 3 + [None]
    assert [p.transition for p in plans] == ["dissolve"] * 3 + ["cut"]
    assert all(p.source == "camera:2" for p in plans)
    assert [p.blending for p in plans] == [True, True, True, False]


def test_fade_from_nothing_starts_from_black_and_midpoint_is_exact() -> None:
    state = ProgramState(FMT)
    state.take("slate", at_frame=0, transition="fade", duration_frames=5)
    plans = [state.frame_plan(n) for n in range(6)]
    assert [p.progress for p in plans] == pytest.approx([1 / 6, 2 / 6, 0.5, 4 / 6, 5 / 6, 1.0])
    assert plans[2].progress == 0.5
    assert all(p.previous is None for p in plans)
    assert plans[0].transition == "fade"


def test_take_at_the_same_frame_replaces_the_earlier_one() -> None:
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=5)
    state.take("camera:2", at_frame=5, transition="dissolve", duration_frames=2)
    plan = state.frame_plan(5)
    assert plan.source == "camera:2"
    assert plan.previous is None
    assert plan.transition == "dissolve"


def test_takes_armed_ahead_in_any_order() -> None:
    state = ProgramState(FMT)
    state.take("camera:3", at_frame=300)
    state.take("camera:1", at_frame=0)
    state.take("camera:2", at_frame=150, transition="fade", duration_frames=1)
    assert state.frame_plan(149).source == "camera:1"
    mid = state.frame_plan(150)
    assert (mid.previous, mid.source, mid.progress) == ("camera:1", "camera:2", 0.5)
    assert state.frame_plan(299).source == "camera:2"
    assert state.frame_plan(300).source == "camera:3"


def test_past_and_unstamped_changes_apply_on_the_next_frame() -> None:
    state = ProgramState(FMT)
    state.take("camera:1", at_frame=0)
    state.frame_plan(50)
    assert state.horizon == 51
    late = state.take("camera:2", at_frame=10, transition="dissolve", duration_frames=3)
    assert late.at_frame == 51
    assert state.frame_plan(51).progress == 0.25  # the transition starts now, not mid-way
    now = state.take("camera:3")
    assert now.at_frame == 52
    plan = state.frame_plan(52)
    assert (plan.source, plan.previous, plan.blending) == ("camera:3", None, False)
    assert state.frame_plan(51).source == "camera:2"
    assert state.show_overlay("logo", 1, layer(), at_frame=3, fade_in_frames=1)
    assert opacities(state, range(53, 55)) == [{"logo": 0.5}, {"logo": 1.0}]


def test_interrupting_a_transition_blends_from_the_source_being_taken() -> None:
    state = ProgramState(FMT)
    state.take("a", at_frame=0)
    state.take("b", at_frame=10, transition="dissolve", duration_frames=9)
    state.take("c", at_frame=12, transition="dissolve", duration_frames=1)
    plan = state.frame_plan(12)
    assert (plan.previous, plan.source, plan.progress) == ("b", "c", 0.5)


def test_overlay_fade_in_hold_fade_out_opacities() -> None:
    state = ProgramState(FMT)
    state.show_overlay(
        "lower_third", 1, layer(), at_frame=10, fade_in_frames=3, fade_out_frames=3,
        until_frame=20, opacity=0.8,
    )
    got = opacities(state, range(9, 21))
    expected = [{}, {"lower_third": 0.2}, {"lower_third": 0.4}, {"lower_third": 0.6}]
    expected += [{"lower_third": 0.8}] * 4
    expected += [{"lower_third": 0.6}, {"lower_third": 0.4}, {"lower_third": 0.2}, {}]
    assert got == expected


def test_hide_fades_out_from_its_frame_and_never_jumps_during_fade_in() -> None:
    state = ProgramState(FMT)
    state.show_overlay("text", 2, layer(), at_frame=0)
    assert state.hide_overlay("text", at_frame=5, fade_out_frames=1)
    assert opacities(state, range(4, 7)) == [{"text": 1.0}, {"text": 0.5}, {}]
    state.show_overlay("slow", 1, layer(), at_frame=10, fade_in_frames=9)
    state.hide_overlay("slow", at_frame=11, fade_out_frames=4)
    got = [o.get("slow", 0.0) for o in opacities(state, range(10, 16))]
    # min(fade-in, fade-out): the fade-out meets the fade-in, never a jump to full opacity.
    assert got == [0.1, 0.2, 0.3, 0.4, 0.2, 0.0]


def test_hide_unknown_or_not_started_layer_changes_nothing() -> None:
    state = ProgramState(FMT)
    assert not state.hide_overlay("ghost", at_frame=3)
    state.show_overlay("later", 1, layer(), at_frame=20)
    assert not state.hide_overlay("later", at_frame=10)
    assert opacities(state, range(20, 21)) == [{"later": 1.0}]


def test_layers_in_z_order_then_arming_order() -> None:
    state = ProgramState(FMT)
    state.show_overlay("top", 5, layer(), at_frame=0)
    state.show_overlay("bottom", 1, layer(), at_frame=0)
    state.show_overlay("middle_b", 3, layer(), at_frame=0)
    state.show_overlay("middle_a", 3, layer(), at_frame=0)
    ids = [p.layer_id for p in state.frame_plan(0).layers]
    assert ids == ["bottom", "middle_b", "middle_a", "top"]


def test_replace_image_keeps_timing_and_takes_effect_next_frame() -> None:
    state = ProgramState(FMT)
    first, second = layer((255, 0, 0, 255)), layer((0, 0, 255, 255))
    state.show_overlay("clock", 1, first, at_frame=0, fade_in_frames=3, until_frame=40,
                       fade_out_frames=1)
    assert state.frame_plan(1).layers[0].layer is first
    assert state.replace_overlay_image("clock", second)
    plans = [state.frame_plan(n) for n in (2, 3, 39, 40)]
    assert plans[0].layers[0].layer is second
    assert [round(p.layers[0].opacity, 6) for p in plans[:3]] == [0.75, 1.0, 0.5]
    assert plans[3].layers == ()
    assert not state.replace_overlay_image("nothing", second)


def test_show_again_cuts_the_earlier_showing_of_the_same_layer() -> None:
    state = ProgramState(FMT)
    old, new = layer(), layer((0, 0, 0, 255))
    state.show_overlay("ticker", 1, old, at_frame=0)
    state.show_overlay("ticker", 1, new, at_frame=10, fade_in_frames=1)
    assert [p.layer is old for p in state.frame_plan(9).layers] == [True]
    at_ten = state.frame_plan(10).layers
    assert [(p.layer is new, p.opacity) for p in at_ten] == [(True, 0.5)]


def test_clear_overlays_is_a_cut_and_drops_later_showings() -> None:
    state = ProgramState(FMT)
    state.show_overlay("a", 1, layer(), at_frame=0)
    state.show_overlay("b", 2, layer(), at_frame=0, fade_in_frames=2)
    state.show_overlay("c", 3, layer(), at_frame=30)
    state.clear_overlays(at_frame=8)
    assert {p.layer_id for p in state.frame_plan(7).layers} == {"a", "b"}
    assert state.frame_plan(8).layers == ()
    assert state.frame_plan(30).layers == ()


def test_showing_that_is_already_over_is_refused() -> None:
    state = ProgramState(FMT)
    state.frame_plan(100)
    assert not state.show_overlay("late", 1, layer(), at_frame=10, until_frame=50)
    assert state.frame_plan(101).layers == ()


def test_plan_is_a_pure_function_of_changes_and_frame() -> None:
    def build() -> ProgramState:
        state = ProgramState(FMT)
        state.take("camera:1", at_frame=0)
        state.take("camera:2", at_frame=20, transition="fade", duration_frames=7)
        state.show_overlay("logo", 1, shared, at_frame=5, fade_in_frames=4, until_frame=60,
                           fade_out_frames=4)
        return state

    shared = layer()
    first, second = build(), build()
    expected = [first.frame_plan(n) for n in range(70)]
    assert expected == [second.frame_plan(n) for n in range(70)]
    third = build()
    assert third.frame_plan(25) == expected[25]  # no dependence on earlier calls
    assert third.frame_plan(24) == expected[24]  # earlier frames still answer the same


def test_what_is_over_is_pruned() -> None:
    state = ProgramState(FMT)
    for n in range(10):
        state.take(f"camera:{n}", at_frame=n * 10)
        state.show_overlay(f"o{n}", 1, layer(), at_frame=n * 10, until_frame=n * 10 + 5)
    state.frame_plan(95)
    on_air = state.on_air()
    assert on_air["source"] == "camera:9"
    assert on_air["pending_takes"] == 0
    assert on_air["overlays"] == []
    assert len(state._takes) <= 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.take("camera:1", 0, "wipe"), "transition 'wipe'"),
        (lambda s: s.take("camera:1", -1), "take frame -1"),
        (lambda s: s.take("camera:1", 0, "fade", -2), "transition duration -2"),
        (lambda s: s.show_overlay("x", 1, layer(), opacity=1.5), "opacity 1.5"),
        (lambda s: s.show_overlay("x", 1, layer(), fade_in_frames=0.5), "fade-in 0.5"),
    ],
)
def test_malformed_changes_raise_typed_errors(call: object, message: str) -> None:
    state = ProgramState(FMT)
    with pytest.raises(ProgramStateError, match=message) as info:
        call(state)  # type: ignore[operator]
    assert info.value.hint


def test_overlay_of_another_size_is_refused() -> None:
    other = FrameFormat(32, 18, 30)
    wrong = OverlayLayer.from_rgba(Image.new("RGBA", (4, 4)), 0, 0, other)
    with pytest.raises(ProgramStateError, match="rendered for 32x18"):
        ProgramState(FMT).show_overlay("x", 1, wrong)


def test_ramp_convention() -> None:
    assert [ramp(i, 3) for i in range(-1, 5)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert ramp(0, 0) == 1.0


@pytest.mark.timeout(30)
def test_arming_from_threads_while_planning() -> None:
    state = ProgramState(FMT)
    state.take("camera:0", at_frame=0)
    errors: list[BaseException] = []

    def arm(worker: int) -> None:
        try:
            for k in range(200):
                state.take(f"camera:{worker}", at_frame=1000 + worker * 1000 + k)
                state.show_overlay(f"w{worker}", worker, layer_one, at_frame=k)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    layer_one = layer()
    threads = [threading.Thread(target=arm, args=(w,), daemon=True) for w in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for n in range(300):
        state.frame_plan(n)
    for thread in threads:
        thread.join(10)
    assert not errors
    assert state.frame_plan(1000 + 3 * 1000 + 199).source == "camera:3"


class TestEpoch:
    def test_anchor_once_and_due_times(self) -> None:
        epoch = ProgramEpoch(30)
        assert epoch.t0 is None
        assert epoch.anchor(100.0) == 100.0
        assert epoch.anchor(200.0) == 100.0
        assert epoch.due(30) == 101.0
        assert epoch.index_at(101.0) == 30
        assert epoch.index_at(101.01) == 31

    def test_resume_continues_after_a_short_gap(self) -> None:
        epoch = ProgramEpoch(30)
        epoch.anchor(0.0)
        for n in range(100):
            epoch.record(n)
        assert epoch.last_index == 99
        # 0.5 s after frame 99 was due: still within max_behind, continue without a gap.
        assert epoch.resume_index(99 / 30 + 0.5, max_behind=1.0) == 100

    def test_resume_jumps_to_wall_clock_after_a_long_gap(self) -> None:
        epoch = ProgramEpoch(30)
        epoch.anchor(0.0)
        epoch.record(99)
        assert epoch.resume_index(10.0, max_behind=1.0) == 300
        assert epoch.resume_index(10.0, max_behind=1.0, virtual=True) == 100

    def test_first_start(self) -> None:
        epoch = ProgramEpoch(25)
        assert epoch.resume_index(5.0, max_behind=1.0) == 0
        assert epoch.index_at(5.0) == 0

    def test_state_owns_an_epoch_by_default(self) -> None:
        state = ProgramState(FMT)
        assert state.epoch.fps == 30
        shared = ProgramEpoch(30)
        assert ProgramState(FMT, epoch=shared).epoch is shared
