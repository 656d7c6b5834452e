"""Timeline validation: every rule has a failing case that names the exact field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC_EXAMPLE as EXAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from vistter.errors import TimelineError
from vistter.models.config import ApplianceConfig, load_config, parse_config
from vistter.models.validation import (
    Problem,
    TimelineInvalid,
    load_timeline,
    load_timeline_file,
    validate_timeline,
)

VIDEO = "timeline.tracks.video.cues"
OVERLAY_1 = "timeline.tracks.overlays[0].cues"

Edit = Callable[[dict[str, Any]], None]


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def demo() -> ApplianceConfig:
    return load_config(env={})


def edited(edit: Edit) -> dict[str, Any]:
    data = example()
    edit(data)
    return data


def video(data: dict[str, Any]) -> list[dict[str, Any]]:
    cues: list[dict[str, Any]] = data["timeline"]["tracks"]["video"]["cues"]
    return cues


def overlay(data: dict[str, Any], track: int = 0) -> list[dict[str, Any]]:
    cues: list[dict[str, Any]] = data["timeline"]["tracks"]["overlays"][track]["cues"]
    return cues


def paths(problems: list[Problem]) -> list[str]:
    return [problem.path for problem in problems]


def test_example_is_valid_with_and_without_the_demo_config(demo: ApplianceConfig) -> None:
    assert validate_timeline(example()) == []
    assert validate_timeline(example(), demo) == []
    document = load_timeline(example(), demo)
    assert document.to_json_dict() == example()
    assert load_timeline_file(EXAMPLE, demo).timeline.id == "timeline_001"


# Each case: (edit, the one path expected, words the message must contain).
CASES: dict[str, tuple[Edit, str, str]] = {
    "video overlap": (
        lambda d: video(d)[2].update(start_time=62), f"{VIDEO}[2].start_time", "before cue 'cue_v2'"
    ),
    "overlay overlap": (
        lambda d: overlay(d)[1].update(start_time=20), f"{OVERLAY_1}[1].start_time", "cue_o1"
    ),
    "starts past the end": (
        lambda d: video(d)[2].update(start_time=3600),
        f"{VIDEO}[2].start_time",
        "end of the timeline",
    ),
    "ends past the end": (
        lambda d: video(d)[2].update(duration=3536), f"{VIDEO}[2].duration", "after the end"
    ),
    "shorter than a frame": (
        lambda d: video(d)[0].update(duration=0.01), f"{VIDEO}[0].duration", "one frame"
    ),
    "zero duration": (lambda d: video(d)[0].update(duration=0), f"{VIDEO}[0].duration", "greater"),
    "negative duration": (
        lambda d: overlay(d, 1)[0].update(duration=-3),
        "timeline.tracks.overlays[1].cues[0].duration",
        "greater",
    ),
    "negative start": (
        lambda d: video(d)[0].update(start_time=-1), f"{VIDEO}[0].start_time", "greater"
    ),
    "duplicate cue id": (
        lambda d: overlay(d, 1)[0].update(id="cue_v2"),
        "timeline.tracks.overlays[1].cues[0].id",
        "cue_v2",
    ),
    "duplicate track id": (
        lambda d: d["timeline"]["tracks"]["overlays"][1].update(track_id="video_main"),
        "timeline.tracks.overlays[1].track_id",
        "video_main",
    ),
    "duplicate layer": (
        lambda d: d["timeline"]["tracks"]["overlays"][1].update(layer=1),
        "timeline.tracks.overlays[1].layer",
        "overlay_1",
    ),
    "transition longer than cue": (
        lambda d: video(d)[1]["params"].update(transition_duration=6),
        f"{VIDEO}[1].params.transition_duration",
        "longer than cue 'cue_v2'",
    ),
    "default fade longer than cue": (
        lambda d: video(d)[2].update(duration=0.5),
        f"{VIDEO}[2].params.transition",
        "by default",
    ),
    "cut with a duration": (
        lambda d: video(d)[0]["params"].update(transition_duration=1),
        f"{VIDEO}[0].params.transition_duration",
        "cut",
    ),
    "fades longer than cue": (
        lambda d: overlay(d)[0]["params"].update(fade_in=10, fade_out=6),
        f"{OVERLAY_1}[0].params.fade_out",
        "fade_in + fade_out",
    ),
    "opacity above 1": (
        lambda d: overlay(d)[1]["params"].update(opacity=1.5),
        f"{OVERLAY_1}[1].params.opacity",
        "less than or equal to 1",
    ),
    "opacity below 0": (
        lambda d: overlay(d)[1]["params"].update(opacity=-0.1),
        f"{OVERLAY_1}[1].params.opacity",
        "greater than or equal to 0",
    ),
    "resolution too large": (
        lambda d: d["timeline"].update(resolution="7680x4320"), "timeline.resolution", "outside"
    ),
    "resolution too small": (
        lambda d: d["timeline"].update(resolution="128x72"), "timeline.resolution", "outside"
    ),
    "resolution odd": (
        lambda d: d["timeline"].update(resolution="1279x720"), "timeline.resolution", "odd"
    ),
    "resolution malformed": (
        lambda d: d["timeline"].update(resolution="1080p"), "timeline.resolution", "WIDTHxHEIGHT"
    ),
    "fps zero": (lambda d: d["timeline"].update(fps=0), "timeline.fps", "greater"),
    "fps 61": (lambda d: d["timeline"].update(fps=61), "timeline.fps", "less"),
    "fps fractional": (lambda d: d["timeline"].update(fps=29.97), "timeline.fps", "integer"),
    "duration zero": (lambda d: d["timeline"].update(duration=0), "timeline.duration", "greater"),
    "duration over a week": (
        lambda d: d["timeline"].update(duration=7 * 86400 + 1), "timeline.duration", "less"
    ),
    "x outside the picture": (
        lambda d: overlay(d)[1]["params"].update(position=None, x=1920, y=0),
        f"{OVERLAY_1}[1].params.x",
        "1920 px wide",
    ),
    "x without y": (
        lambda d: overlay(d)[1]["params"].update(position=None, x=10),
        f"{OVERLAY_1}[1].params.y",
        "together",
    ),
    "position and x/y": (
        lambda d: overlay(d)[1]["params"].update(x=10, y=10),
        f"{OVERLAY_1}[1].params.position",
        "both",
    ),
    "dynamic value without source": (
        lambda d: overlay(d, 1)[0].update(params={"type": "dynamic_text", "template": "{value}"}),
        "timeline.tracks.overlays[1].cues[0].params.source",
        "no source",
    ),
    "unknown position": (
        lambda d: overlay(d)[0]["params"].update(position="middle"),
        f"{OVERLAY_1}[0].params.position",
        "top_left",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_reports_the_exact_path(case: str) -> None:
    edit, path, words = CASES[case]
    problems = validate_timeline(edited(edit))
    assert paths(problems) == [path], problems
    assert words in problems[0].message, problems[0]
    assert problems[0].hint, problems[0]


CONFIG_CASES: dict[str, tuple[Edit, str, str]] = {
    "unknown camera": (
        lambda d: video(d)[2]["params"].update(camera_id=7),
        f"{VIDEO}[2].params.camera_id",
        "camera 7",
    ),
    "unknown backup camera": (
        lambda d: d["timeline"]["fallback"].update(backup_camera_id=9),
        "timeline.fallback.backup_camera_id",
        "camera 9",
    ),
    "missing media": (
        lambda d: video(d)[1]["params"].update(media_url="/assets/nope.png"),
        f"{VIDEO}[1].params.media_url",
        "does not exist",
    ),
    "missing image": (
        lambda d: overlay(d)[1]["params"].update(image_url="/assets/missing_logo.png"),
        f"{OVERLAY_1}[1].params.image_url",
        "does not exist",
    ),
    "missing test pattern": (
        lambda d: d["timeline"]["fallback"].update(test_pattern="/assets/slate.png"),
        "timeline.fallback.test_pattern",
        "does not exist",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_rule_reports_the_exact_path(case: str, demo: ApplianceConfig) -> None:
    edit, path, words = CONFIG_CASES[case]
    data = edited(edit)
    problems = validate_timeline(data, demo)
    assert paths(problems) == [path], problems
    assert words in problems[0].message
    assert problems[0].hint
    assert validate_timeline(data) == []  # without a config these checks are skipped


def test_remote_and_absolute_assets_are_refused_with_or_without_config(
    demo: ApplianceConfig, tmp_path: Path
) -> None:
    slide = tmp_path / "slide.png"
    slide.write_bytes(b"not really a png")

    def edit(d: dict[str, Any]) -> None:
        video(d)[1]["params"]["media_url"] = "https://cdn.example.invalid/slide.png"
        overlay(d)[1]["params"]["image_url"] = str(slide)
        d["timeline"]["fallback"]["test_pattern"] = slide.as_uri()

    expected = [
        f"{VIDEO}[1].params.media_url",
        f"{OVERLAY_1}[1].params.image_url",
        "timeline.fallback.test_pattern",
    ]
    for config in (demo, None):
        problems = validate_timeline(edited(edit), config)
        assert sorted(paths(problems)) == sorted(expected), problems
        assert all("/assets/NAME" in problem.hint for problem in problems)
        assert not any(str(tmp_path) in problem.hint for problem in problems)


def test_unknown_ptz_preset() -> None:
    config = parse_config(
        {
            "cameras": [
                {"id": 1, "url": "rtsp://cam1/s", "ptz": {"host": "c", "presets": {"wide": "1"}}},
                {"id": 2, "url": "rtsp://cam2/s"},  # no PTZ: preset names are ignored
                {"id": 3, "url": "rtsp://cam3/s"},
            ]
        },
        env={},
    )
    problems = validate_timeline(example(), config)
    assert paths(problems) == [f"{VIDEO}[0].params.preset_id"]
    assert "wide_shot" in problems[0].message
    assert "wide" in problems[0].hint


def test_every_problem_is_reported_at_once(demo: ApplianceConfig) -> None:
    def edit(d: dict[str, Any]) -> None:
        video(d)[2]["start_time"] = 50  # overlaps cue_v1 and cue_v2
        video(d)[2]["params"]["camera_id"] = 42
        overlay(d)[0]["params"]["fade_in"] = 20
        d["timeline"]["fallback"]["backup_camera_id"] = 8

    assert paths(validate_timeline(edited(edit), demo)) == [
        f"{VIDEO}[2].start_time",
        f"{VIDEO}[1].start_time",
        f"{VIDEO}[2].params.camera_id",
        f"{OVERLAY_1}[0].params.fade_out",  # both fades are set: the later one is named
        "timeline.fallback.backup_camera_id",
    ]


def test_cues_touching_on_the_same_frame_do_not_overlap() -> None:
    # 59.99 s and 60 s are the same frame at 30 fps: not an overlap
    assert validate_timeline(edited(lambda d: video(d)[1].update(start_time=59.99))) == []


# -- schema errors, translated ------------------------------------------------------------


def test_wrong_action_on_the_video_track() -> None:
    problems = validate_timeline(edited(lambda d: video(d)[0].update(action="show_overlay")))
    assert paths(problems) == [f"{VIDEO}[0].action"]
    assert "'show_overlay' is not a valid action" in problems[0].message
    assert "show_camera" in problems[0].hint
    assert "show_media" in problems[0].hint


def test_missing_action_and_overlay_type() -> None:
    def edit(d: dict[str, Any]) -> None:
        del video(d)[0]["action"]
        del overlay(d)[0]["params"]["type"]

    problems = validate_timeline(edited(edit))
    assert paths(problems) == [f"{VIDEO}[0].action", f"{OVERLAY_1}[0].params.type"]
    assert problems[0].message == "'action' is required"


def test_union_tags_do_not_leak_into_paths() -> None:
    # the overlay type "text" is also the name of a field: the path must name the field once
    def edit(d: dict[str, Any]) -> None:
        overlay(d, 1)[0]["params"]["text"] = 42
        overlay(d)[1]["params"]["scale"] = 0
        video(d)[0]["params"]["camera_id"] = "1"

    problems = validate_timeline(edited(edit))
    assert paths(problems) == [
        f"{VIDEO}[0].params.camera_id",
        f"{OVERLAY_1}[1].params.scale",
        "timeline.tracks.overlays[1].cues[0].params.text",
    ]
    assert problems[0].hint == (
        "Camera ids are whole numbers from the appliance configuration, e.g. 1."
    )


def test_typos_get_a_suggestion() -> None:
    def edit(d: dict[str, Any]) -> None:
        overlay(d, 1)[0]["params"]["font_sise"] = 30
        d["timeline"]["durration"] = 10

    problems = sorted(validate_timeline(edited(edit)), key=lambda p: p.path)
    assert paths(problems) == [
        "timeline.durration",
        "timeline.tracks.overlays[1].cues[0].params.font_sise",
    ]
    assert "not a known field" in problems[1].message
    assert "did you mean 'duration'?" in problems[0].hint
    assert "did you mean 'font_size'?" in problems[1].hint


def test_missing_required_fields() -> None:
    def edit(d: dict[str, Any]) -> None:
        del d["timeline"]["name"]
        del overlay(d, 1)[0]["params"]["text"]

    problems = validate_timeline(edited(edit))
    assert paths(problems) == ["timeline.name", "timeline.tracks.overlays[1].cues[0].params.text"]
    assert problems[1].message == "'text' is required"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (None, ""),
        ([], ""),
        ("timeline", ""),
        ({}, "timeline"),
        ({"timeline": []}, "timeline"),
        ({"timeline": {"tracks": "video"}}, "timeline.id"),
    ],
)
def test_garbage_gives_problems_not_exceptions(data: object, path: str) -> None:
    problems = validate_timeline(data)
    assert problems
    assert problems[0].path == path
    assert all(p.message and p.hint for p in problems), problems


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.one_of(
        _JSON,
        st.builds(lambda t: {"timeline": t}, _JSON),
        st.builds(
            lambda key, value: _with(example(), key, value),
            st.sampled_from(["id", "duration", "fps", "resolution", "tracks", "fallback"]),
            _JSON,
        ),
        st.builds(
            lambda key, value: _with_cue(example(), key, value),
            st.sampled_from(["start_time", "duration", "action", "params", "id"]),
            _JSON | st.floats(),
        ),
        st.builds(
            lambda key, value: _with_overlay(example(), key, value),
            st.sampled_from(["type", "x", "y", "fade_in", "opacity", "template", "source"]),
            _JSON | st.floats(),
        ),
    )
)
def test_validation_never_raises(data: object) -> None:
    problems = validate_timeline(data, None)
    assert all(isinstance(p, Problem) for p in problems)
    if problems:
        assert all(p.message and p.hint for p in problems), problems


def _with(data: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    data["timeline"][key] = value
    return data


def _with_cue(data: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    video(data)[1][key] = value
    return data


def _with_overlay(data: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    overlay(data)[0]["params"][key] = value
    return data


# -- loading --------------------------------------------------------------------------------


def test_load_timeline_raises_with_every_problem() -> None:
    def edit(d: dict[str, Any]) -> None:
        video(d)[0]["duration"] = 0
        d["timeline"]["fps"] = 0

    with pytest.raises(TimelineInvalid) as caught:
        load_timeline(edited(edit))
    error = caught.value
    assert isinstance(error, TimelineError)
    assert paths(error.problems) == ["timeline.fps", f"{VIDEO}[0].duration"]
    assert "2 problems" in str(error)
    assert f"{VIDEO}[0].duration" in str(error)
    assert error.to_dict()["error"] == "TimelineInvalid"
    assert error.hint


def test_load_timeline_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "timeline": {\n    "id": "x",,\n  }\n}\n', encoding="utf-8")
    with pytest.raises(TimelineError, match=r"not valid JSON: .* line 3, column 15"):
        load_timeline_file(broken, None)
    with pytest.raises(TimelineError, match="does not exist"):
        load_timeline_file(tmp_path / "missing.json", None)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TimelineError, match="not UTF-8"):
        load_timeline_file(binary, None)
    invalid = tmp_path / "invalid.json"
    data = example()
    data["timeline"]["fps"] = 120
    invalid.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TimelineInvalid) as caught:
        load_timeline_file(invalid, None)
    assert paths(caught.value.problems) == ["timeline.fps"]


def test_example_file_is_untouched_by_loading(demo: ApplianceConfig) -> None:
    before = EXAMPLE.read_bytes()
    original = example()
    load_timeline(copy.deepcopy(original), demo)
    assert EXAMPLE.read_bytes() == before
