"""A clock overlay follows the wall clock when it jumps an hour (an NTP step, a DST change
made by hand) while the cues keep running on program frames.

Before the fix a jump back left ``{time:%H:%M:%S}`` frozen for an hour: its next change was
computed from the last text shown, which now lay an hour in the future.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_show_rig import FPS, ShowRig, small_timeline, stop_actors

from vistter.show import FixedCalendar

__all__ = ["stop_actors"]  # the fixture, used by name


class JumpingCalendar(FixedCalendar):
    """An offline calendar whose wall clock the test moves by ``offset``."""

    def __init__(self, start: datetime, fps: int) -> None:
        super().__init__(start, fps)
        self.offset = timedelta(0)

    def datetime_at(self, frame: int) -> datetime:
        return super().datetime_at(frame) + self.offset

    def frame_at(self, moment: datetime) -> int:
        return super().frame_at(moment - self.offset)


def _clock_changes(rig: ShowRig) -> list[int]:
    return sorted(e.effective for e in rig.program.effects() if e.tag == "clock")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("jump_hours", [-1, 1])
def test_clock_overlay_keeps_ticking_after_a_wall_clock_jump(
    tmp_path: Path, stop_actors: None, jump_hours: int
) -> None:
    start = datetime(2024, 6, 1, 11, 59, 58, 500000)  # program frame 0
    calendar = JumpingCalendar(start, FPS)
    rig = ShowRig(tmp_path, calendar=calendar)
    try:
        document = small_timeline()
        document["timeline"]["tracks"]["overlays"][1]["cues"] = [
            {"id": "clock", "start_time": 0, "duration": 12, "action": "show_overlay",
             "params": {"type": "dynamic_text", "template": "{time:%H:%M:%S}"}}]  # fmt: skip
        rig.load(document)
        rig.call("go_live", 0)
        rig.run_until(3 * FPS)
        before = _clock_changes(rig)
        assert before[:3] == [0, 15, 45]
        calendar.offset = timedelta(hours=jump_hours)
        rig.run_until(11 * FPS)
        after = [n for n in _clock_changes(rig) if n >= 6 * FPS]
        # from a few frames after the jump on, the text changes on every new second again
        assert after == list(range(6 * FPS + 15, 11 * FPS, FPS)), _clock_changes(rig)
    finally:
        rig.stop()
