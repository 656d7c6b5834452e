"""Issue #12 scenario 7 on real parts: the appliance publishes to nginx-rtmp, the encoder's
ffmpeg is SIGKILLed, and nginx records one continuous stream: no frame lost, no gap over
0.2 s, the same publisher process and connection (no reconnect), the fanout untouched."""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

import pytest
from support.mediapath import FPS, output_states, publishing_to_nginx, wait_for

from chaos.realparts import NginxRtmp
from chaos.realparts.decode import decode_video
from vistter.appliance import Appliance

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

KEY = "killed"


def children(appliance: Appliance, supervisor: str) -> dict[str, tuple[list[int], int]]:
    """Each child of ``supervisor``: its PIDs and restarts."""
    handle = appliance.root.handle.supervisor(supervisor)
    return {c.id: (list(c.pids), c.restarts) for c in handle.which_children()}


def test_a_sigkilled_encoder_leaves_one_continuous_stream_at_nginx(
    tmp_path: Path, nginx_rtmp: NginxRtmp
) -> None:
    with publishing_to_nginx(tmp_path, nginx_rtmp, KEY) as appliance:
        program = children(appliance, "program")
        publisher = children(appliance, "outputs")["destination-nginx"][0]
        assert publisher, "the destination shows no publisher process"
        os.kill(program["encoder"][0][0], signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: children(appliance, "program")["encoder"][1] == 1, 20,
                 "the encoder restarted")
        accepted = nginx_rtmp.stream_bytes_in(KEY) or 0
        wait_for(lambda: (nginx_rtmp.stream_bytes_in(KEY) or 0) > accepted + 200_000, 20,
                 "the restarted encode at nginx")
        time.sleep(max(0.0, killed_at + 4.0 - time.monotonic()))
        after = children(appliance, "program")
        assert after["fanout"][1] == program["fanout"][1]  # the fanout was not restarted
        assert after["mixer"][1] == program["mixer"][1]
        assert children(appliance, "outputs")["destination-nginx"][0] == publisher
        assert output_states(appliance)["nginx"] == "live"
        status = appliance.root.handle.supervisor("program").child("encoder").proxy()
        assert status.status().get(timeout=5)["frames_rewound"] > 0
    video = decode_video(nginx_rtmp.recording(KEY))
    ordered = sorted(video.times)
    assert len(ordered) > 5 * FPS, "the recording does not span the kill: a new session?"
    steps = [round((b - a) * FPS) for a, b in itertools.pairwise(ordered)]
    assert video.largest_gap() <= 0.2, f"a gap of {video.largest_gap():.3f} s"
    assert all(step == 1 for step in steps), (
        f"frames lost or repeated: steps {sorted(set(steps))}"
    )
