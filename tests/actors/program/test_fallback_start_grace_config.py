"""``[show] start_grace``: how long a starting camera is waited for on the slate, from the
configuration to the program's fallback policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from vistter.actors.bus import ProgramBus
from vistter.actors.program.fallback import DEFAULT_START_GRACE
from vistter.clock import FakeClock
from vistter.models.config import ConfigInvalid, parse_config
from vistter.supervisors.link import NullSink


def _bus(tmp_path: Path, **show: object) -> ProgramBus:
    config = parse_config(
        {"show": show, "encoding": {"encoder": "libx264", "width": 320, "height": 180}},
        base_dir=tmp_path, env={},
    )
    return ProgramBus.build(config, FakeClock(), NullSink())


@pytest.mark.timeout(60)
def test_the_start_grace_of_the_config_is_the_policys(tmp_path: Path) -> None:
    assert _bus(tmp_path).fallback.start_grace == DEFAULT_START_GRACE == 5
    assert _bus(tmp_path, start_grace=1.5).fallback.start_grace == 1.5
    assert _bus(tmp_path, start_grace=0).fallback.start_grace == 0


@pytest.mark.parametrize("value", [-1, 61, "soon"])
def test_a_start_grace_out_of_range_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigInvalid, match="start_grace"):
        parse_config({"show": {"start_grace": value}}, base_dir=tmp_path, env={})
