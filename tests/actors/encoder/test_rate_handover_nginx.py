"""Degraded mode's frame-rate steps on real parts: the encoder hands over from 30 to 24 to
15 fps while the appliance publishes to nginx-rtmp, and nginx records one stream with no
frame missing at any of the three rates (the chaos rig once saw 0.325 s lost at 24 -> 15)."""

from __future__ import annotations

import itertools
import statistics
import time
from pathlib import Path

import pytest
from support.mediapath import output_states, publishing_to_nginx

from chaos.realparts import NginxRtmp
from chaos.realparts.decode import decode_video
from vistter.actors.encoder.overrides import EncodeOverrides

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

KEY = "rates"


def test_rate_steps_reach_nginx_without_a_missing_frame(
    tmp_path: Path, nginx_rtmp: NginxRtmp
) -> None:
    with publishing_to_nginx(tmp_path, nginx_rtmp, KEY) as appliance:
        encoder = appliance.root.handle.supervisor("program").child("encoder").proxy()
        for rate in (24, 15):
            time.sleep(3.0)
            encoder.reconfigure(EncodeOverrides(fps=rate)).get(timeout=10)
        time.sleep(4.0)
        assert output_states(appliance)["nginx"] == "live"
    times = sorted(decode_video(nginx_rtmp.recording(KEY)).times)
    steps = [b - a for a, b in itertools.pairwise(times)]
    missing = []
    for index, step in enumerate(steps):
        around = steps[max(0, index - 7):index + 8]
        cadence = statistics.median(around)
        if step > 1.5 * cadence:
            missing.append((round(times[index], 3), round(step, 3), round(cadence, 3)))
    assert statistics.median(steps[-30:]) == pytest.approx(1 / 15, abs=0.002), "not at 15 fps"
    assert not missing, f"frames missing (at s, step, cadence): {missing}"
