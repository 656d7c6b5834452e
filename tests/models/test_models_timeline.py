"""The timeline model: the spec example, helpers, and round-trips of any valid timeline."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import pytest
from conftest import SPEC_EXAMPLE as EXAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from vistter.models.overlays import (
    DynamicTextOverlay,
    ImageOverlay,
    LogoOverlay,
    LowerThirdOverlay,
    TextOverlay,
    rgba,
)
from vistter.models.timeline import (
    CameraCue,
    MediaCue,
    OverlayCue,
    TimelineDocument,
    parse_resolution,
)
from vistter.models.validation import validate_timeline


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_example_round_trips_unchanged() -> None:
    original = example()
    document = TimelineDocument.model_validate(copy.deepcopy(original))
    dumped = document.to_json_dict()
    assert dumped == original
    # ints stay ints and floats stay floats: the JSON text is the same, not just equal numbers
    assert json.dumps(dumped, sort_keys=True) == json.dumps(original, sort_keys=True)


def test_example_fields_are_typed() -> None:
    timeline = TimelineDocument.model_validate(example()).timeline
    assert (timeline.width, timeline.height, timeline.fps) == (1920, 1080, 30)
    assert timeline.total_frames == 3600 * 30
    v1, v2, v3 = timeline.tracks.video.cues
    assert isinstance(v1, CameraCue)
    assert v1.params.camera_id == 1
    assert v1.params.preset_id == "wide_shot"
    assert isinstance(v2, MediaCue)
    assert v2.params.is_image
    remote = example()
    remote["timeline"]["tracks"]["video"]["cues"][1]["params"]["media_url"] = "https://x/a.png"
    with pytest.raises(ValidationError, match="is a URL"):
        TimelineDocument.model_validate(remote)  # media come from the assets folder only
    assert isinstance(v3, CameraCue)
    assert v3.params.transition == "fade"
    o1, o2 = timeline.tracks.overlays[0].cues
    assert isinstance(o1.params, LowerThirdOverlay)
    assert isinstance(o2.params, LogoOverlay)
    assert o2.params.opacity == 0.8
    assert isinstance(timeline.tracks.overlays[1].cues[0].params, TextOverlay)
    assert timeline.fallback is not None
    assert timeline.fallback.backup_camera_id == 3


def test_transition_seconds_defaults() -> None:
    timeline = TimelineDocument.model_validate(example()).timeline
    v1, v2, v3 = timeline.tracks.video.cues
    assert v1.params.transition_seconds == 0.0  # cut
    assert v2.params.transition_seconds == 1.0  # fade, explicit 1.0
    assert v3.params.transition_seconds == 1.0  # fade, default
    data = example()
    data["timeline"]["tracks"]["video"]["cues"][2]["params"].update(
        transition="dissolve", transition_duration=2.5
    )
    cue = TimelineDocument.model_validate(data).timeline.tracks.video.cues[2]
    assert cue.params.transition_seconds == 2.5


def test_frames_and_lookup_helpers() -> None:
    timeline = TimelineDocument.model_validate(example()).timeline
    assert timeline.frame_of(0) == 0
    assert timeline.frame_of(60) == 1800
    assert timeline.frame_of(1 / 30 * 7) == 7
    assert timeline.frame_of(2.51) == 75  # round(75.3)
    v1, v2, v3 = timeline.tracks.video.cues
    assert timeline.cue_frames(v2) == (1800, 1950)
    assert timeline.video_cue_at(0) is v1
    assert timeline.video_cue_at(1799) is v1
    assert timeline.video_cue_at(1800) is v2
    assert timeline.video_cue_at(1950) is v3
    assert timeline.video_cue_at(125 * 30) is None  # after the last cue
    gap = example()
    gap["timeline"]["tracks"]["video"]["cues"][2]["start_time"] = 70
    with_gap = TimelineDocument.model_validate(gap).timeline
    assert with_gap.video_cue_at(64 * 30) is with_gap.tracks.video.cues[1]
    assert with_gap.video_cue_at(65 * 30) is None  # nothing scheduled from 65 s to 70 s
    assert with_gap.video_cue_at(70 * 30) is with_gap.tracks.video.cues[2]
    assert with_gap.video_cue_at(-1) is None
    assert timeline.find_cue("cue_o3") is timeline.tracks.overlays[1].cues[0]
    assert timeline.find_cue("nope") is None


def test_iter_cues_and_track_order() -> None:
    data = example()
    tracks = data["timeline"]["tracks"]
    tracks["overlays"][0]["layer"] = 3  # overlay_1 now on top
    tracks["video"]["cues"].reverse()
    timeline = TimelineDocument.model_validate(data).timeline
    pairs = [(track.track_id, cue.id) for track, cue in timeline.iter_cues()]
    assert pairs == [
        ("video_main", "cue_v3"),
        ("video_main", "cue_v2"),
        ("video_main", "cue_v1"),
        ("overlay_1", "cue_o1"),
        ("overlay_1", "cue_o2"),
        ("overlay_2", "cue_o3"),
    ]
    assert [cue.id for cue in timeline.video_cues] == ["cue_v1", "cue_v2", "cue_v3"]
    assert [track.track_id for track in timeline.overlay_tracks] == ["overlay_2", "overlay_1"]
    assert all(isinstance(cue, OverlayCue) for t in timeline.overlay_tracks for cue in t.cues)


def test_overlay_placement_defaults_per_type() -> None:
    def params(**fields: Any) -> Any:
        cue = {"id": "c", "start_time": 0, "duration": 5, "action": "show_overlay"}
        return OverlayCue.model_validate({**cue, "params": fields}).params

    assert params(type="lower_third", text="a").anchor == "bottom_left"
    assert params(type="logo", image_url="/assets/logo.png").anchor == "top_right"
    assert params(type="image", image_url="/assets/x.png").anchor == "center"
    assert params(type="text", text="a").anchor == "top_left"
    assert params(type="text", text="a", position="center").anchor == "center"
    explicit = params(type="image", image_url="/assets/x.png", x=10, y=20)
    assert isinstance(explicit, ImageOverlay)
    assert explicit.anchor is None
    assert (explicit.x, explicit.y) == (10, 20)


def test_dynamic_text_template_renders_time_and_value() -> None:
    overlay = DynamicTextOverlay.model_validate(
        {
            "type": "dynamic_text",
            "template": "{time:%H:%M} Tide {value} ft {{live}}",
            "source": {"url": "https://example.invalid/tide.json", "key": "tide.height"},
        }
    )
    assert overlay.placeholders == frozenset({"time", "value"})
    assert overlay.render(datetime(2024, 5, 1, 15, 45), 3.2) == "15:45 Tide 3.2 ft {live}"
    assert overlay.render(datetime(2024, 5, 1, 9, 5)) == "09:05 Tide  ft {live}"
    assert overlay.source is not None
    assert overlay.source.poll_interval == 30


@pytest.mark.parametrize(
    ("template", "words"),
    [("{time", "unmatched"), ("{temperature}", "temperature"), ("{0}", "0")],
)
def test_dynamic_text_bad_templates_are_refused(template: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DynamicTextOverlay.model_validate({"type": "dynamic_text", "template": template})
    assert words in str(caught.value)


def test_colours() -> None:
    assert rgba("#FF000080") == (255, 0, 0, 128)
    assert rgba("white") == (255, 255, 255, 255)
    with pytest.raises(ValidationError):
        TextOverlay.model_validate({"type": "text", "text": "a", "color": "blurple"})


def test_unknown_fields_are_refused() -> None:
    data = example()
    data["timeline"]["tracks"]["overlays"][1]["cues"][0]["params"]["font_sise"] = 30
    with pytest.raises(ValidationError, match="font_sise"):
        TimelineDocument.model_validate(data)


@pytest.mark.parametrize("value", [True, "60", None, float("nan"), float("inf")])
def test_seconds_must_be_real_numbers(value: object) -> None:
    data = example()
    data["timeline"]["tracks"]["video"]["cues"][0]["duration"] = value
    with pytest.raises(ValidationError):
        TimelineDocument.model_validate(data)


def test_models_are_immutable() -> None:
    timeline = TimelineDocument.model_validate(example()).timeline
    with pytest.raises(ValidationError):
        timeline.fps = 25  # type: ignore[misc]


def test_parse_resolution() -> None:
    assert parse_resolution("1280x720") == (1280, 720)
    for bad in ("1280*720", "1281x720", "100x100", "7680x4320", "x720", ""):
        with pytest.raises(ValueError, match=r"\S"):
            parse_resolution(bad)


# -- any valid timeline round-trips --------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
_LINES = _TEXT.filter(lambda text: text.count("\n") < 10)  # overlay texts: 10 lines at most
_ASSETS = st.sampled_from(["/assets/a.png", "b.png", "slides/c.jpg", "/assets/d e/f.png"])
_IDS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


def _seconds(low: float, high: float) -> st.SearchStrategy[int | float]:
    return st.one_of(
        st.integers(int(low) + (low % 1 > 0), int(high)),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


def _optional(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    chosen = draw(st.sets(st.sampled_from(sorted(fields)))) if fields else set()
    return {name: draw(fields[name]) for name in sorted(chosen)}


@st.composite
def _video_params(draw: st.DrawFn, duration: float) -> tuple[str, dict[str, Any]]:
    transition = draw(st.sampled_from(["cut", "fade", "dissolve"]))
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["transition"] = transition
    if transition != "cut" and draw(st.booleans()):
        params["transition_duration"] = draw(_seconds(0, duration))
    if transition != "cut" and "transition" not in params:
        params.pop("transition_duration", None)  # a cut (the default) has no duration
    if draw(st.booleans()):
        params["camera_id"] = draw(st.integers(1, 50))
        params.update(_optional(draw, {"preset_id": _TEXT}))
        return "show_camera", params
    params["media_url"] = draw(st.sampled_from(["/assets/a.png", "clips/b.mp4"]))
    params.update(_optional(draw, {"loop": st.booleans()}))
    return "show_media", params


@st.composite
def _overlay_params(draw: st.DrawFn, duration: float) -> dict[str, Any]:
    kind = draw(st.sampled_from(["lower_third", "logo", "text", "image", "dynamic_text"]))
    params: dict[str, Any] = {"type": kind}
    fade_in = draw(_seconds(0, duration / 2))
    fade_out = draw(_seconds(0, duration / 2))
    common = {
        "opacity": _seconds(0, 1),
        "scale": _seconds(0.1, 10),
        "fade_in": st.just(fade_in),
        "fade_out": st.just(fade_out),
    }
    params.update(_optional(draw, common))
    if draw(st.booleans()):
        params["position"] = draw(
            st.sampled_from(["top_left", "top_right", "bottom_left", "bottom_right", "center"])
        )
    elif draw(st.booleans()):
        params["x"], params["y"] = draw(st.integers(0, 159)), draw(st.integers(0, 89))
    style = {
        "font_size": st.integers(6, 400),
        "color": st.sampled_from(["#FFFFFF", "#00000080", "white", "red"]),
        "background_color": st.sampled_from(["#000000AA", "navy"]),
        "padding": st.integers(0, 50),
    }
    if kind in ("logo", "image"):
        params["image_url"] = draw(st.sampled_from(["/assets/logo.png", "a.png"]))
    elif kind == "dynamic_text":
        params["template"] = draw(st.sampled_from(["{time:%H:%M}", "Tide {value}", "plain"]))
        if "{value}" in params["template"] or draw(st.booleans()):
            source = draw(
                st.sampled_from([{"path": "/assets/tide.json"}, {"url": "http://x.invalid/j"}])
            )
            source.update(_optional(draw, {"key": _IDS, "poll_interval": _seconds(1, 600)}))
            params["source"] = source
        params.update(_optional(draw, style))
    else:
        params["text"] = draw(_LINES)
        params.update(_optional(draw, style))
        if kind == "lower_third":
            params.update(_optional(draw, {"subtitle": _LINES, "image_url": _ASSETS}))
    return params


@st.composite
def _cues(draw: st.DrawFn, prefix: str, video: bool) -> tuple[list[dict[str, Any]], float]:
    cues: list[dict[str, Any]] = []
    clock: float = 0
    for index in range(draw(st.integers(0, 4))):
        start = clock + draw(_seconds(0, 30))
        duration = draw(_seconds(1, 120))
        cue: dict[str, Any] = {"id": f"{prefix}{index}", "start_time": start, "duration": duration}
        if video:
            cue["action"], cue["params"] = draw(_video_params(duration))
        else:
            cue["action"], cue["params"] = "show_overlay", draw(_overlay_params(duration))
        cues.append(cue)
        clock = start + duration
    return cues, clock


@st.composite
def timelines(draw: st.DrawFn) -> dict[str, Any]:
    """Timeline documents that are valid without a configuration."""
    video_cues, end = draw(_cues("v", video=True))
    overlays: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 3))):
        cues, overlay_end = draw(_cues(f"o{index}_", video=False))
        end = max(end, overlay_end)
        track: dict[str, Any] = {"track_id": f"overlay_{index}", "cues": cues}
        track.update(_optional(draw, {"type": st.just("overlay")}))
        if index or draw(st.booleans()):  # layer defaults to 1: only the first may omit it
            track["layer"] = index + 1
        overlays.append(track)
    tracks: dict[str, Any] = {"video": {"track_id": "video", "cues": video_cues}}
    write_overlays: bool = draw(st.booleans())
    if overlays or write_overlays:
        tracks["overlays"] = overlays
    timeline: dict[str, Any] = {
        "id": draw(_IDS),
        "name": draw(_TEXT),
        "duration": draw(st.one_of(st.just(end + 1), _seconds(end + 1, end + 1000))),
        "tracks": tracks,
    }
    optional = {
        "fps": st.integers(1, 60),
        "resolution": st.sampled_from(["1920x1080", "1280x720", "3840x2160", "160x90"]),
        "description": _TEXT,
        "loop": st.booleans(),
        "fallback": st.fixed_dictionaries(
            {}, optional={"test_pattern": _ASSETS, "backup_camera_id": st.integers(1, 9)}
        ),
    }
    timeline.update(_optional(draw, optional))
    return {"timeline": timeline}


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(timelines())
def test_any_valid_timeline_round_trips(data: dict[str, Any]) -> None:
    assert validate_timeline(data) == []
    dumped = TimelineDocument.model_validate(data).to_json_dict()
    assert dumped == data
    assert json.dumps(dumped, sort_keys=True) == json.dumps(data, sort_keys=True)
