"""SRT output end to end, through the output registry: the appliance (slate on air, the one
encode) -> an SRT destination given as ``--to srt://...`` or posted to the API -> a real SRT
listener (ffmpeg ``mode=listener``) on 127.0.0.1. What the listener received is decoded with
PyAV: gapless, 2 s keyframes; a killed and restarted listener gets the stream back. And the
control API refuses a destination whose id an output already has (409), leaving it alone.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from support.mediapath import (
    FPS,
    media_config,
    output_states,
    receive,
    running_appliance,
    wait_for,
)

from chaos.realparts import SrtListener
from vistter.api.app import ApiDeps, create_app
from vistter.appliance import Appliance
from vistter.models.quick import with_quick_destinations

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "srt-pass-5531-SeCrEt"


def _api(appliance: Appliance) -> TestClient:
    deps = ApiDeps(tree=appliance.tree, validate_timeline=lambda _: [], started_at=0.0,
                   version="t", destinations=appliance)
    return TestClient(create_app(deps))


def _bytes_sent(appliance: Appliance, destination_id: str) -> int:
    entry = next(d for d in appliance.list_destinations() if d.get("id") == destination_id)
    return int(entry.get("bytes_sent") or 0)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_to_srt_is_gapless_with_two_second_keyframes_and_survives_a_listener_restart(
    tmp_path: Path,
) -> None:
    (tmp_path / "srt").mkdir()
    with SrtListener(tmp_path / "srt", passphrase=SECRET) as listener:
        config = with_quick_destinations(
            media_config(tmp_path, [], []), [f"{listener.url}?passphrase={SECRET}"]
        )
        with running_appliance(config) as appliance:
            wait_for(lambda: output_states(appliance).get("to-1") == "live", 30, "SRT live")
            # the program is 800 kbps: about 100 kB a second, so this is about 9 s of it
            wait_for(lambda: listener.received_bytes(1) > 900_000, 40, "bytes at the listener")
            wait_for(lambda: _bytes_sent(appliance, "to-1") > 400_000, 10, "bytes counted")
            shown = repr(appliance.tree()) + repr(appliance.status())
            assert "srt-to-1" in shown

            listener.kill()
            wait_for(lambda: output_states(appliance)["to-1"] != "live", 20, "outage noticed")
            wait_for(lambda: next(
                d for d in appliance.list_destinations() if d.get("id") == "to-1"
            ).get("reachable") is False, 15, "the SRT probe finds the listener gone")
            listener.start()  # same port, new file
            wait_for(lambda: output_states(appliance)["to-1"] == "live", 30, "SRT back live")
            wait_for(lambda: listener.received_bytes(2) > 200_000, 30, "bytes after restart")
            shown += repr(appliance.tree()) + repr(appliance.list_destinations())
    assert SECRET not in shown
    got = receive(listener.recording(1))
    got.assert_every_frame("SRT listener, first run")
    assert got.span >= 5.0, f"the listener recorded only {got.span:.1f} s"
    intervals = got.keyframe_intervals()
    assert intervals, "no keyframes"
    assert all(abs(i - 2.0) <= 1 / FPS + 0.005 for i in intervals), intervals
    again = receive(listener.recording(2))
    again.assert_every_frame("SRT listener, after its restart")
    assert again.frames >= FPS


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_api_adds_srt_and_refuses_an_id_an_output_already_has(tmp_path: Path) -> None:
    recorder: dict[str, Any] = {"id": "recorder", "platform": "recorder",
                                "path": str(tmp_path / "rec"), "segment_seconds": 600}
    (tmp_path / "srt").mkdir()
    with (
        SrtListener(tmp_path / "srt") as listener,
        running_appliance(media_config(tmp_path, [], [recorder])) as appliance,
    ):
        api = _api(appliance)
        wait_for(lambda: output_states(appliance).get("recorder") == "live", 30, "recorder live")
        clash = api.post("/api/destinations", json={
            "id": "recorder", "platform": "custom_rtmp", "url": "rtmp://127.0.0.1:9/live",
            "stream_key": "k-1234",
        })
        assert clash.status_code == 409, clash.text
        assert "recorder-recorder" in clash.json()["problem"]
        children = [d["child"] for d in api.get("/api/destinations").json()["destinations"]]
        assert [c for c in children if not c.startswith("preview-")] == ["recorder-recorder"]

        added = api.post("/api/destinations", json={
            "id": "contrib", "platform": "srt", "url": listener.url,
        })
        assert added.status_code == 201, added.text
        assert added.json()["child"] == "srt-contrib"
        wait_for(lambda: output_states(appliance).get("contrib") == "live", 30, "SRT live")
        wait_for(lambda: listener.received_bytes() > 100_000, 30, "bytes at the listener")
        again = api.post("/api/destinations", json={
            "id": "contrib", "platform": "srt", "url": listener.url,
        })
        assert again.status_code == 409 and "srt-contrib" in again.json()["problem"]
        assert api.delete("/api/destinations/contrib").status_code == 200
        assert set(output_states(appliance)) == {"recorder"}
        assert output_states(appliance)["recorder"] == "live"
