"""GO LIVE starts the platforms on the show's own first frame, which is a keyframe: the
orchestrator puts the platforms on air from that program frame, the encoder hands over to a
new encode starting there (its first keyframe), and the platform's queue opens on exactly
that encode. Unit checks of the desk, then the appliance publishing to nginx-rtmp."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from support.mediapath import output_states, wait_for
from test_go_live_platforms import KEY, appliance_on, first_colours, show_config

from chaos.realparts import NginxRtmp
from vistter.actors.fanout.on_air import OnAir
from vistter.clock import FakeClock
from vistter.show.going_live import GoLiveDesk


def test_the_desk_puts_the_platforms_on_air_from_the_shows_first_frame() -> None:
    air = OnAir()
    wanted: list[int | None] = []
    air.subscribe(lambda on_air: wanted.append(air.first_frame if on_air else None))
    desk = GoLiveDesk(FakeClock(), air)
    desk.on_air(4321)
    assert air.on_air and air.first_frame == 4321
    assert wanted == [4321]  # the encoder, a listener, learns the frame to start on
    assert desk.off_air() and air.first_frame is None


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_the_first_frame_nginx_records_is_the_shows_first_frame_and_a_keyframe(
    tmp_path: Path, nginx_rtmp: NginxRtmp
) -> None:
    with appliance_on(show_config(tmp_path, nginx_rtmp)) as (appliance, api):
        wait_for(lambda: output_states(appliance)["rec"] == "live", 30, "the recorder live")
        started = api.post("/api/live/start")
        assert started.status_code == 200, started.text
        wait_for(lambda: (nginx_rtmp.stream_bytes_in(KEY) or 0) > 50_000, 15, "nginx bytes")
        air = appliance.program.fanout.air
        assert air.on_air and air.first_frame is not None
        encoder = appliance.root.handle.supervisor("program").child("encoder").proxy()
        status = encoder.status().get(timeout=5)
        assert status["handovers"] >= 1
        assert status["first_frame"] == air.first_frame  # the encode began on the show
        assert appliance.program.fanout.run_first_frame == air.first_frame
        stats = appliance.program.fanout.stats()["nginx"]
        assert stats.resyncs == 0
    with av.open(str(nginx_rtmp.recording(KEY))) as container:
        first = next(container.demux(container.streams.video[0]))
        assert first.is_keyframe, "the first video packet nginx recorded is not a keyframe"
    assert set(first_colours(nginx_rtmp.recording(KEY), 5)) == {"red"}
