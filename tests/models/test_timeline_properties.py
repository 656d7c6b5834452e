"""Properties of the timeline validator, on generated documents (hypothesis).

* Whatever the validator accepts round-trips: the model written back as JSON is the document
  as it was written, and it validates again; and it can be played: it compiles to a
  :class:`~vistter.show.plan.ShowPlan` whose cue spans lie inside the timeline.
* Whatever it rejects, it rejects with problems that each have a field path into the document
  (every step of the path but the last exists in it), a message and a hint; it never raises.

Documents are drawn as plausible timelines (the spec's shapes with random values) and as such
timelines with one part replaced by arbitrary JSON (huge integers, lone surrogates, wrong
types, unknown keys, deleted keys).
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vistter.models.config import ApplianceConfig, load_config
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import Problem, validate_timeline
from vistter.show.plan import ShowPlan

CONFIG: ApplianceConfig = load_config(env={})  # the demo: cameras 1 to 3, the repo's assets
ASSETS = ("logo.png", "lower_third.png", "technical_difficulties.png", "transition_slide.png")

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)

seconds = st.one_of(
    st.integers(min_value=0, max_value=4000),
    st.floats(min_value=0, max_value=4000, allow_nan=False).map(lambda x: round(x, 3)),
)
identifiers = st.text("abcdefghij_0123456789", min_size=1, max_size=12)
texts = st.text(min_size=1, max_size=40)
positions = st.sampled_from(["top_left", "top_right", "bottom_left", "bottom_right", "center"])

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 1.0, "yes", "true"]),  # what a lax parser takes for a flag or 1
    st.text(max_size=20), st.sampled_from(["\ud800", "a\udfffb", "\x00", "9" * 400]),
    st.integers(min_value=10**300, max_value=10**400),
)
#: Keys a field path can name unambiguously (a path cannot tell a key "a.b" from a.b).
keys = st.text("abcxyz_01\u00e9\u4e2d", min_size=1, max_size=8)
any_json = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children,
                                                                       max_size=3),
    max_leaves=8,
)


durations = st.one_of(
    st.integers(min_value=1, max_value=600),
    st.floats(min_value=0.5, max_value=600, allow_nan=False).map(lambda x: round(x, 3)),
)
gaps = st.one_of(st.just(0), st.integers(0, 30), st.floats(0, 30).map(lambda x: round(x, 2)))


@st.composite
def laid_out(draw: st.DrawFn, count: int) -> list[tuple[int | float, int | float]]:
    """``count`` (start, duration) pairs one after the other, without overlaps."""
    slots: list[tuple[int | float, int | float]] = []
    end: int | float = 0
    for _ in range(count):
        start = end + draw(gaps)
        duration = draw(durations)
        slots.append((start, duration))
        end = start + duration
    return slots


@st.composite
def video_params(draw: st.DrawFn, duration: float) -> dict[str, Any]:
    transition = draw(st.sampled_from(["cut", "fade", "dissolve"]))
    if draw(st.booleans()):
        params: dict[str, Any] = {"camera_id": draw(st.integers(1, 3)), "transition": transition}
        if draw(st.booleans()):
            params["preset_id"] = draw(identifiers)
    else:
        params = {"media_url": draw(st.sampled_from(ASSETS)), "transition": transition}
    if transition != "cut" and draw(st.booleans()):
        params["transition_duration"] = draw(
            st.floats(0, min(3.0, duration / 2)).map(lambda x: round(x, 2))
        )
    return params


@st.composite
def overlay_params(draw: st.DrawFn, duration: float) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "lower_third", "logo", "image", "dynamic_text"]))
    params: dict[str, Any] = {"type": kind}
    if kind in ("text", "lower_third"):
        params["text"] = draw(texts)
    elif kind in ("logo", "image"):
        params["image_url"] = draw(st.sampled_from(ASSETS))
    else:
        params["template"] = draw(st.sampled_from(["{time:%H:%M}", "Now {time:%H:%M:%S}"]))
    if draw(st.booleans()):
        params["position"] = draw(positions)
    if draw(st.booleans()):
        params["opacity"] = draw(st.floats(0, 1).map(lambda x: round(x, 2)))
    if kind in ("text", "lower_third") and draw(st.booleans()):
        params["font_size"] = draw(st.integers(6, 120))
    for fade in ("fade_in", "fade_out"):
        if draw(st.booleans()):
            params[fade] = draw(st.floats(0, min(2.0, duration / 3)).map(lambda x: round(x, 2)))
    return params


@st.composite
def timelines(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible timeline: cues one after the other on each track, inside its duration."""
    counter = iter(range(10_000))
    ends: list[float] = [1.0]
    video = []
    for start, duration in draw(laid_out(draw(st.integers(0, 4)))):
        video.append({"id": f"v{next(counter)}", "start_time": start, "duration": duration,
                      **dict(zip(("action", "params"), _video(draw(video_params(duration))),
                                 strict=True))})
        ends.append(start + duration)
    overlays = []
    for layer in range(1, draw(st.integers(0, 3)) + 1):
        cues = []
        for start, duration in draw(laid_out(draw(st.integers(0, 3)))):
            cues.append({"id": f"o{next(counter)}", "start_time": start, "duration": duration,
                         "action": "show_overlay", "params": draw(overlay_params(duration))})
            ends.append(start + duration)
        overlays.append({"track_id": f"ov{layer}", "type": "overlay", "layer": layer,
                         "cues": cues})
    longest = math.ceil(max(ends))
    timeline: dict[str, Any] = {
        "id": draw(identifiers), "name": draw(texts),
        "duration": longest + draw(st.integers(0, 60)),
        "fps": draw(st.sampled_from([24, 25, 30, 60])),
        "resolution": draw(st.sampled_from(["1920x1080", "1280x720", "640x360"])),
        "tracks": {"video": {"track_id": "video_main", "type": "video", "cues": video},
                   "overlays": overlays},
    }
    if draw(st.booleans()):
        timeline["loop"] = draw(st.booleans())
    if draw(st.booleans()):
        timeline["description"] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        timeline["fallback"] = {"backup_camera_id": draw(st.integers(1, 3))}
    return {"timeline": timeline}


def _video(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("show_camera" if "camera_id" in params else "show_media"), params


def _locations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _locations(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _locations(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    document = draw(timelines())
    where = draw(st.sampled_from(_locations(document)[1:]))
    parent: Any = document
    for step in where[:-1]:
        parent = parent[step]
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace" or not isinstance(parent, dict):
        parent[where[-1]] = draw(any_json)
    elif action == "delete":
        del parent[where[-1]]
    else:
        parent[draw(keys)] = draw(any_json)
    return document


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _STEP.findall(path)]


def assert_well_formed(problems: list[Problem], document: object) -> None:
    assert problems, "rejected without a problem"
    for problem in problems:
        assert problem.message and problem.hint, problem
        json.dumps(problem.to_dict()).encode("utf-8")  # can be sent as it is
        node: Any = document
        *leading, _last = _steps(problem.path) or [""]
        for step in leading:  # the path leads into the document, as the user wrote it
            assert isinstance(node, dict | list), (problem.path, document)
            if isinstance(node, dict):
                assert step in node, (problem.path, document)
            else:
                assert isinstance(step, int) and step < len(node), (problem.path, document)
            node = node[step]


def assert_round_trips_and_plays(document: dict[str, Any]) -> None:
    model = TimelineDocument.model_validate(document)
    written = json.loads(json.dumps(model.to_json_dict()))
    # as JSON text, so that 0 is not taken for false nor 1 for 1.0
    assert json.dumps(written, sort_keys=True) == json.dumps(document, sort_keys=True)
    assert validate_timeline(written, CONFIG) == []
    timeline = model.timeline
    plan = ShowPlan(model, timeline.fps, loop=timeline.loop)
    assert plan.length >= 1
    for track_id in plan.track_ids:
        for span in plan.spans(track_id):
            assert 0 <= span.start < span.end <= plan.length, (track_id, span)
    assert math.isfinite(float(timeline.duration))


@PROPERTY_SETTINGS
@given(timelines())
def test_plausible_timelines_are_played_or_explained(document: dict[str, Any]) -> None:
    problems = validate_timeline(copy.deepcopy(document), CONFIG)
    if problems:
        assert_well_formed(problems, document)
    else:
        assert_round_trips_and_plays(document)


@PROPERTY_SETTINGS
@given(mutated())
def test_damaged_timelines_are_played_or_explained(document: dict[str, Any]) -> None:
    problems = validate_timeline(copy.deepcopy(document), CONFIG)
    if problems:
        assert_well_formed(problems, document)
    else:
        assert_round_trips_and_plays(document)


@PROPERTY_SETTINGS
@given(any_json)
def test_any_json_at_all_is_explained(document: Any) -> None:
    problems = validate_timeline(document, CONFIG)
    assert_well_formed(problems, document)


@pytest.mark.parametrize("leaf", ["9" * 400, "-" + "9" * 400])
def test_an_integer_of_400_digits_anywhere_numeric_is_a_problem(leaf: str) -> None:
    document = {"timeline": {"id": "t", "name": "n", "duration": int(leaf), "tracks": {
        "video": {"track_id": "v", "cues": []}}}}
    [problem] = validate_timeline(document, CONFIG)
    assert problem.path == "timeline.duration"


@pytest.mark.parametrize("value", [0, 1, "yes", "true", "false", 1.0])
def test_a_flag_is_true_or_false_only(value: object) -> None:
    """Found by the API fuzzer: ``"loop": 0`` was taken as false, so the stored document was
    not the one sent and the schema (boolean) was not what the validator did."""
    media = {"id": "m", "start_time": 0, "duration": 5, "action": "show_media",
             "params": {"media_url": "logo.png", "loop": value}}
    document = {"timeline": {"id": "t", "name": "n", "duration": 10, "loop": value, "tracks": {
        "video": {"track_id": "v", "cues": [media]}}}}
    paths = [problem.path for problem in validate_timeline(document, CONFIG)]
    assert paths == ["timeline.loop", "timeline.tracks.video.cues[0].params.loop"]
