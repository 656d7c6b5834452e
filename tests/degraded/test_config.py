"""``[degraded]``: sensible defaults, and bad values rejected with messages that say how to
fix them (through the appliance's own configuration loader)."""

from __future__ import annotations

from typing import Any

import pytest

from vistter.models.config import ConfigInvalid, parse_config
from vistter.models.degraded import DegradedConfig


def _load(degraded: dict[str, Any]) -> Any:
    return parse_config({"degraded": degraded}, source="test.toml")


def test_defaults_follow_the_spec() -> None:
    config = parse_config({}).degraded
    assert config == DegradedConfig()
    assert (config.enabled, config.notice) == (True, True)
    assert (config.bitrate_step_percent, config.bitrate_floor_percent) == (20, 40)
    assert (config.hold, config.stable) == (30, 30)
    assert config.encoder_speed_low == 0.95 and config.heights == (720, 540, 360)


def test_values_are_read_from_the_section() -> None:
    config = _load({"bitrate_step_percent": 25, "heights": [480, 240], "notice": False}).degraded
    assert config.bitrate_step_percent == 25 and config.heights == (480, 240)
    assert config.notice is False


@pytest.mark.parametrize(
    ("section", "path", "words"),
    [
        ({"encoder_speed_low": 0.97, "encoder_speed_good": 0.9}, "degraded.encoder_speed_good",
         "must be at least the speed that counts as slow"),
        ({"cpu_high_percent": 70, "cpu_good_percent": 85}, "degraded.cpu_good_percent",
         "must be at most the one that counts as high"),
        ({"heights": [360, 540]}, "degraded.heights", "from the highest to the lowest"),
        ({"heights": [541]}, "degraded.heights", "Use even heights"),
        ({"fps_steps": [24, 24]}, "degraded.fps_steps", "without repeats"),
        ({"bitrate_step_percent": 0}, "degraded.bitrate_step_percent", "greater than 0"),
        ({"bitrate_floor_percent": 100}, "degraded.bitrate_floor_percent", "less than 100"),
        ({"hold": 0}, "degraded.hold", "greater than or equal to 1"),
        ({"enabled": "yes"}, "degraded.enabled", "boolean"),
        ({"stabel": 30}, "degraded.stabel", ""),
    ],
)
def test_bad_values_name_the_key_and_the_fix(section: dict[str, Any], path: str,
                                             words: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        _load(section)
    problems = caught.value.problems
    assert [problem.path for problem in problems] == [path], problems
    text = f"{problems[0].message} {problems[0].hint}"
    assert words in text, text
