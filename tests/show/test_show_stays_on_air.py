"""Only the operator's Stop takes the platforms off air ("while live" mode).

A platform ends a broadcast that gets no data, so once the show went live the platform
destinations stay on air when a timeline that does not loop ends, when another timeline is
loaded and when it goes live; the operator's Stop (``stop_show``/``stop_live``) ends the
stream, also between shows. On the show rig's fake clock (the real parts version, with the
bytes nginx accepted, is ``test_never_silent.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_show_rig import FPS, RecordingSink, ShowRig, small_timeline, stop_actors

from vistter.actors.fanout.on_air import OnAir
from vistter.show import ShowStateError

__all__ = ["stop_actors"]

LENGTH = 20 * FPS  # small_timeline's 20 s


@pytest.mark.timeout(90)
def test_the_end_of_a_timeline_keeps_the_platforms_on_air_until_the_operators_stop(
    tmp_path: Path, stop_actors: None
) -> None:
    air, events = OnAir(), RecordingSink()
    rig = ShowRig(tmp_path, air=air, events=events)
    try:
        rig.load(small_timeline(loop=False))
        rig.call("go_live", 0)
        segment = rig.show.segment
        assert segment is not None and air.on_air
        rig.run_until(segment.anchor + LENGTH + FPS)
        assert rig.call("status")["state"] == "stopped"
        assert "completed" in events.show_events()
        assert air.on_air, "the end of the timeline took the platforms off air"

        rig.load(small_timeline(loop=False, id="tl_other"))  # between shows: still on air
        assert air.on_air
        rig.call("go_live")
        assert air.on_air and air.status()["changes"] == 1  # one session from the first GO LIVE
        rig.call("stop_show")
        assert not air.on_air  # the operator's Stop of a live show
        assert air.status()["changes"] == 2

        rig.call("go_live")
        rig.run_until(rig.next_frame + LENGTH + FPS)
        assert rig.call("status")["state"] == "stopped" and air.on_air
        stopped = rig.call("stop_live")  # the operator's Stop between shows
        assert not air.on_air and stopped["publishing"]["on_air"] is False
        assert events.show_events()[-1] == "off_air"
        with pytest.raises(ShowStateError):
            rig.call("stop_show")  # nothing left to stop
    finally:
        rig.stop()
