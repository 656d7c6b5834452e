"""Every documented limit is enforced with the field's path and a hint, and the README's
table is the one the code generates."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC_EXAMPLE

from vistter.models.limits import (
    MAX_CUES_PER_TRACK,
    MAX_DATA_SOURCES,
    MAX_DESCRIPTION_CHARS,
    MAX_FONT_SIZE,
    MAX_FORMAT_NUMBER,
    MAX_NAME_CHARS,
    MAX_OVERLAY_TRACKS,
    MAX_PADDING,
    MAX_REFERENCE_CHARS,
    MAX_SCALE,
    MAX_TEXT_CHARS,
    MAX_TEXT_LINES,
    MAX_URL_CHARS,
    all_limits,
    limits_markdown,
)
from vistter.models.validation import validate_timeline

README = Path(__file__).resolve().parents[2] / "README.md"
OVERLAY = "timeline.tracks.overlays[1].cues[0].params"  # the example's text cue ("cue_o3")

Edit = Callable[[dict[str, Any]], None]


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE.read_text())
    return data


def text_cue(d: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = d["timeline"]["tracks"]["overlays"][1]["cues"][0]["params"]
    return params


def dynamic(index: int) -> dict[str, Any]:
    return {"id": f"dyn{index}", "start_time": index, "duration": 1, "action": "show_overlay",
            "params": {"type": "dynamic_text", "template": "{value}",
                       "source": {"url": f"https://feed{index}.example.org/a.json"}}}  # fmt: skip


def many_sources(d: dict[str, Any]) -> None:
    d["timeline"]["tracks"]["overlays"].append(
        {"track_id": "feeds", "layer": 9, "cues": [dynamic(i) for i in range(MAX_DATA_SOURCES + 1)]}
    )


def many_cues(d: dict[str, Any]) -> None:
    cue = {"id": "c", "start_time": 0, "duration": 1, "action": "show_camera",
           "params": {"camera_id": 1}}  # fmt: skip
    d["timeline"]["tracks"]["video"]["cues"] = [cue] * (MAX_CUES_PER_TRACK + 1)


def many_tracks(d: dict[str, Any]) -> None:
    d["timeline"]["tracks"]["overlays"] = [
        {"track_id": f"t{i}", "layer": i + 1} for i in range(MAX_OVERLAY_TRACKS + 1)
    ]


CASES: dict[str, tuple[Edit, str, str]] = {
    "text length": (lambda d: text_cue(d).update(text="W" * (MAX_TEXT_CHARS + 1)),
                    f"{OVERLAY}.text", f"{MAX_TEXT_CHARS} characters"),
    "text lines": (lambda d: text_cue(d).update(text="a\n" * MAX_TEXT_LINES + "a"),
                   f"{OVERLAY}.text", f"more than {MAX_TEXT_LINES} lines"),
    "font size": (lambda d: text_cue(d).update(font_size=MAX_FONT_SIZE + 1),
                  f"{OVERLAY}.font_size", str(MAX_FONT_SIZE)),
    "padding": (lambda d: text_cue(d).update(padding=MAX_PADDING + 1),
                f"{OVERLAY}.padding", str(MAX_PADDING)),
    "scale": (lambda d: text_cue(d).update(scale=MAX_SCALE + 1), f"{OVERLAY}.scale",
              str(MAX_SCALE)),
    "template width": (
        lambda d: text_cue(d).update(type="dynamic_text", template="{time:%H} {value:>999}",
                                     source={"path": "t.json"}, text=None),
        f"{OVERLAY}.template", str(MAX_FORMAT_NUMBER)),
    "name": (lambda d: d["timeline"].update(name="n" * (MAX_NAME_CHARS + 1)), "timeline.name",
             str(MAX_NAME_CHARS)),
    "description": (
        lambda d: d["timeline"].update(description="d" * (MAX_DESCRIPTION_CHARS + 1)),
        "timeline.description", str(MAX_DESCRIPTION_CHARS)),
    "cues per track": (many_cues, "timeline.tracks.video.cues", str(MAX_CUES_PER_TRACK)),
    "overlay tracks": (many_tracks, "timeline.tracks.overlays", str(MAX_OVERLAY_TRACKS)),
    "data sources": (many_sources, f"timeline.tracks.overlays[2].cues[{MAX_DATA_SOURCES}]"
                     ".params.source", f"more than {MAX_DATA_SOURCES}"),
    "poll interval": (
        lambda d: text_cue(d).update(type="dynamic_text", template="{value}", text=None,
                                     source={"path": "t.json", "poll_interval": 0.1}),
        f"{OVERLAY}.source.poll_interval", "1"),
    "reference": (lambda d: d["timeline"]["fallback"].update(
        test_pattern="a/" * (MAX_REFERENCE_CHARS // 2) + "b.png"),
        "timeline.fallback.test_pattern", str(MAX_REFERENCE_CHARS)),
    "url": (
        lambda d: text_cue(d).update(type="dynamic_text", template="{value}", text=None,
                                     source={"url": "https://x.org/" + "a" * MAX_URL_CHARS}),
        f"{OVERLAY}.source.url", str(MAX_URL_CHARS)),
}  # fmt: skip


def _without_none(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_none(value) for key, value in node.items() if value is not None}
    if isinstance(node, list):
        return [_without_none(value) for value in node]
    return node


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_limit_is_a_problem_with_its_path_and_a_hint(case: str) -> None:
    edit, path, words = CASES[case]
    data = example()
    edit(data)
    problems = validate_timeline(_without_none(data))
    assert [p.path for p in problems] == [path], problems
    problem = problems[0]
    assert words in problem.message + " " + problem.hint, problem
    assert problem.hint


def test_the_limits_in_the_readme_are_the_code_s() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- limits:begin -->\n(.*?)\n<!-- limits:end -->", text, re.DOTALL)
    assert found is not None, "README.md lost its limits table markers"
    assert found.group(1) == limits_markdown(), (
        "README.md's limits table is out of date: paste the output of\n"
        "python -c 'from vistter.models.limits import limits_markdown; "
        "print(limits_markdown())'"
    )
    assert len(all_limits()) == found.group(1).count("\n") - 1


def test_the_spec_example_is_well_within_the_limits() -> None:
    assert validate_timeline(example()) == []
