"""Validation that speaks of cues: every problem says which cue and track it is on (for a
page to draw it on the block), and cue problems say, in words, which cue and how to fix it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from conftest import SPEC_EXAMPLE

from vistter.models.config import ApplianceConfig, load_config, parse_config
from vistter.models.locators import LOCATOR_KEYS, TimelineProblem, clock, problem_json
from vistter.models.problems import Problem
from vistter.models.validation import validate_timeline

VIDEO = "timeline.tracks.video.cues"


@pytest.fixture(scope="module")
def demo() -> ApplianceConfig:
    return load_config(env={})


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    return data


def video(data: dict[str, Any]) -> list[dict[str, Any]]:
    cues: list[dict[str, Any]] = data["timeline"]["tracks"]["video"]["cues"]
    return cues


def only(problems: list[Problem]) -> TimelineProblem:
    assert len(problems) == 1, problems
    (problem,) = problems
    assert isinstance(problem, TimelineProblem)
    return problem


def where(problem: TimelineProblem) -> tuple[object, ...]:
    return tuple(getattr(problem, key) for key in LOCATOR_KEYS)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0:00"), (5, "0:05"), (65, "1:05"), (65.5, "1:05.5"), (59.99, "0:59.99"),
     (600, "10:00"), (3600, "1:00:00"), (3725.25, "1:02:05.25"), (1 / 3, "0:00.333")],
)  # fmt: skip
def test_clock_reads_like_a_ruler(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


def test_the_spec_example_is_still_valid(demo: ApplianceConfig) -> None:
    assert validate_timeline(example()) == []
    assert validate_timeline(example(), demo) == []


def test_an_overlap_names_both_cues_the_track_the_amount_and_the_fix() -> None:
    data = example()
    video(data)[2]["start_time"] = 63  # cue_v2 runs 60..65: 2 s of overlap
    problem = only(validate_timeline(data))
    assert problem.message.startswith(
        "cue 'cue_v3' overlaps cue 'cue_v2' by 2 s on the video track: move it to 1:05 or "
        "shorten cue 'cue_v2'"
    ), problem.message
    assert "before cue 'cue_v2'" in problem.message
    assert "1:05 or later" in problem.hint and "end by 1:03" in problem.hint
    assert where(problem) == ("cue_v3", 2, "video_main", 0, "video")
    assert problem.path == f"{VIDEO}[2].start_time"


def test_an_overlay_overlap_names_its_overlay_track() -> None:
    data = example()
    overlay = data["timeline"]["tracks"]["overlays"][0]["cues"]
    overlay[1]["start_time"] = 20  # cue_o1 runs 10..25
    problem = only(validate_timeline(data))
    assert "cue 'cue_o2' overlaps cue 'cue_o1' by 5 s on overlay track 'overlay_1'" in (
        problem.message)
    assert "move it to 0:25" in problem.message
    assert where(problem) == ("cue_o2", 1, "overlay_1", 1, "overlay")


def test_a_cue_past_the_end_names_the_cue_in_clock_time() -> None:
    data = example()
    video(data)[2]["duration"] = 3536  # 65 + 3536 = 3601 > 3600
    problem = only(validate_timeline(data))
    assert problem.message == (
        "cue 'cue_v3' ends at 1:00:01, after the end of the timeline (1:00:00)"
    )
    assert "Shorten cue 'cue_v3' to at most 3535 s (to end at 1:00:00)" in problem.hint
    assert where(problem)[:2] == ("cue_v3", 2)


def test_config_problems_name_the_cue_and_the_fix(demo: ApplianceConfig) -> None:
    data = example()
    video(data)[2]["params"]["camera_id"] = 7
    problem = only(validate_timeline(data, demo))
    assert problem.message == "camera 7 is not configured, so cue 'cue_v3' cannot show it"
    assert "for cue 'cue_v3'" in problem.hint and "(1, 2, 3)" in problem.hint
    assert where(problem)[:2] == ("cue_v3", 2)

    data = example()
    video(data)[1]["params"]["media_url"] = "/assets/nope.png"
    problem = only(validate_timeline(data, demo))
    assert problem.message == "the asset '/assets/nope.png' does not exist in the assets folder"
    assert "pick another asset for cue 'cue_v2'" in problem.hint
    assert where(problem)[:2] == ("cue_v2", 1)

    data = example()
    data["timeline"]["fallback"]["backup_camera_id"] = 9  # not a cue: no locators
    problem = only(validate_timeline(data, demo))
    assert problem.message == "camera 9 is not configured"
    assert where(problem) == (None, None, None, None, None)


def test_an_unknown_preset_names_the_cue() -> None:
    config = parse_config({"cameras": [
        {"id": 1, "url": "rtsp://cam1/s", "ptz": {"host": "c", "presets": {"wide": "1"}}},
        {"id": 2, "url": "rtsp://cam2/s"}, {"id": 3, "url": "rtsp://cam3/s"},
    ]}, env={})  # fmt: skip
    problem = only(validate_timeline(example(), config))
    assert problem.message == (
        "cue 'cue_v1' asks camera 1 for PTZ preset 'wide_shot', which it does not have"
    )
    assert "Pick one of its presets (wide) for cue 'cue_v1'" in problem.hint
    assert where(problem) == ("cue_v1", 0, "video_main", 0, "video")


def test_schema_problems_are_located_too() -> None:
    data = example()
    data["timeline"]["tracks"]["overlays"][1]["cues"][0]["params"]["opacity"] = 2
    data["timeline"]["fps"] = 0
    problems = {p.path: p for p in validate_timeline(data)}
    opacity = problems["timeline.tracks.overlays[1].cues[0].params.opacity"]
    assert isinstance(opacity, TimelineProblem)
    assert where(opacity) == ("cue_o3", 0, "overlay_2", 2, "overlay")
    fps = problems["timeline.fps"]
    assert isinstance(fps, TimelineProblem) and where(fps) == (None,) * 5


def test_a_broken_document_is_located_as_far_as_it_goes() -> None:
    data = example()
    data["timeline"]["tracks"]["video"]["cues"][0] = {"start_time": 0}  # no id, no action
    data["timeline"]["tracks"]["overlays"] = "not a list"
    for problem in validate_timeline(data):
        assert isinstance(problem, TimelineProblem)
        assert problem.cue_id is None
    located = [p for p in validate_timeline(data) if p.path.startswith(f"{VIDEO}[0]")]
    assert located and all(where(p)[1:] == (0, "video_main", 0, "video")  # type: ignore[arg-type]
                           for p in located)  # fmt: skip


def test_problem_json_has_the_locators_and_plain_problems_stay_plain() -> None:
    data = copy.deepcopy(example())
    video(data)[2]["start_time"] = 63
    (problem,) = validate_timeline(data)
    assert problem_json(problem) == problem.to_dict()
    assert problem_json(problem)["cue_id"] == "cue_v3"
    assert set(problem_json(problem)) == {"path", "message", "hint", *LOCATOR_KEYS}
    plain = Problem("cameras[0].url", "bad", "fix it")
    assert problem_json(plain) == {"path": "cameras[0].url", "message": "bad", "hint": "fix it"}
