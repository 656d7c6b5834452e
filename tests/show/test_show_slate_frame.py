"""The show status names the program frame the emergency slate took effect on
(``overrides.slate_frame``) and the one the take on air took effect on (``take_frame``), so a
test or an operator can place a click on the program clock."""

from __future__ import annotations

import pytest
from test_show_rig import FPS, ShowRig, rig, small_timeline, stop_actors

from vistter.actors.sources.table import SLATE_SOURCE_ID

__all__ = ["rig", "stop_actors"]


@pytest.mark.timeout(60)
def test_the_status_places_the_slate_and_the_take_on_air_on_the_program_clock(
    rig: ShowRig,
) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(2 * FPS)
    assert rig.call("status")["overrides"]["slate_frame"] is None
    status = rig.call("emergency_slate")
    frame = status["overrides"]["slate_frame"]
    assert frame is not None and frame <= status["program_frame"] + 1
    rig.run_until(frame + FPS)
    assert rig.plans[frame - 1].source != SLATE_SOURCE_ID
    assert rig.plans[frame].source == SLATE_SOURCE_ID  # the first frame of the slate
    on_air = rig.call("status")
    assert (on_air["scheduled_source"], on_air["take_frame"]) == (SLATE_SOURCE_ID, frame)
    again = rig.call("emergency_slate")  # pressed twice: the slate is on since the first
    assert again["overrides"]["slate_frame"] == frame
    rig.call("force_camera", 7)  # another override meanwhile leaves it as it is
    assert rig.call("status")["overrides"]["slate_frame"] == frame
    assert rig.call("release_slate")["overrides"]["slate_frame"] is None
    back = rig.program.horizon  # the forced camera is back from the next frame
    rig.run_until(back + 2)
    assert rig.plans[back - 1].source == SLATE_SOURCE_ID
    after = rig.call("status")
    assert (after["scheduled_source"], after["take_frame"]) == ("camera:7", back)
    rig.call("emergency_slate")
    assert rig.call("release_overrides")["overrides"]["slate_frame"] is None
