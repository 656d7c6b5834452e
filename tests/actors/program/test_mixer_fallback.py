"""FallbackPolicy on a fake clock: grace, backup chain, slate, last frame, hysteresis, alerts."""

from __future__ import annotations

from typing import Any

import pytest
from support.eventsink import RecordingSink

from vistter.actors.program.fallback import (
    FallbackPolicy,
    Resolution,
    backup_chains,
    describe_source,
)
from vistter.actors.sources.table import SLATE_SOURCE_ID, SourceState, SourceTable
from vistter.clock import FakeClock
from vistter.errors import ConfigError
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.cameras import CameraConfig

FMT = FrameFormat(16, 8, 30)


class Alerts(RecordingSink):
    @property
    def texts(self) -> list[str]:
        return [payload["message"] for _, payload in self.messages]

@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=100.0)


@pytest.fixture
def table(clock: FakeClock) -> SourceTable:
    return SourceTable(FMT, clock)


def online(table: SourceTable, source: str, y: int = 100) -> None:
    table.slot(source).publish(solid_frame(FMT, y, 128, 128))
    table.set_health(source, SourceState.ONLINE)


def policy(table: SourceTable, alerts: Alerts, **kwargs: Any) -> FallbackPolicy:
    kwargs.setdefault("backups", {"camera:2": ("camera:3",)})
    return FallbackPolicy(table, events=alerts, **kwargs)


def test_wanted_source_stays_while_usable(table: SourceTable, clock: FakeClock) -> None:
    alerts = Alerts()
    online(table, "camera:2")
    fallback = policy(table, alerts)
    for _ in range(10):
        clock.advance(1.0)
        assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:2", "wanted")
    assert alerts.messages == []


def test_backup_after_grace_then_hysteresis_back(table: SourceTable, clock: FakeClock) -> None:
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts, grace=0.5, recover_after=2.0)
    assert fallback.resolve("camera:2").source == "camera:2"
    table.set_health("camera:2", SourceState.STALLED, "no frame for 0.2 s")
    clock.advance(0.49)
    assert fallback.resolve("camera:2").source == "camera:2"  # within grace: last frame
    clock.advance(0.02)
    got = fallback.resolve("camera:2")
    assert got == Resolution("camera:2", "camera:3", "backup")
    assert got.fallen_back
    assert alerts.texts == ["Camera 2 stalled - switched to backup camera 3"]
    topic, payload = alerts.messages[0]
    assert topic == "alert"
    assert payload["severity"] == "warning"
    assert (payload["source"], payload["on_air"], payload["reason"]) == (
        "camera:2", "camera:3", "backup")

    # Back online, but flapping: each break restarts the recovery window.
    online(table, "camera:2")
    clock.advance(1.5)
    assert fallback.resolve("camera:2").source == "camera:3"
    table.set_health("camera:2", SourceState.STALLED)
    clock.advance(0.1)
    assert fallback.resolve("camera:2").source == "camera:3"
    table.set_health("camera:2", SourceState.ONLINE)
    clock.advance(1.9)
    assert fallback.resolve("camera:2").source == "camera:3"
    clock.advance(0.1)
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:2", "wanted")
    assert alerts.texts[-1] == "Camera 2 is back - switched back from backup camera 3"
    assert alerts.messages[-1][1]["severity"] == "info"
    assert len(alerts.messages) == 2


def test_grace_counts_from_the_start_of_the_outage(table: SourceTable, clock: FakeClock) -> None:
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts)
    fallback.resolve("camera:2")
    table.set_health("camera:2", SourceState.STALLED)
    clock.advance(0.3)
    table.set_health("camera:2", SourceState.STALLED, "still")  # a new detail: same outage
    assert fallback.resolve("camera:2").source == "camera:2"
    clock.advance(0.25)
    assert fallback.resolve("camera:2").source == "camera:3"
    assert alerts.texts == ["Camera 2 stalled - switched to backup camera 3"]


def test_grace_counts_from_the_last_frame_not_from_the_stall_verdict(
    table: SourceTable, clock: FakeClock
) -> None:
    """A camera is declared stalled only ``stall_timeout`` after its last frame: the
    fallback's grace runs from that frame, so the two do not add up (scenario 2 of the chaos
    run: backup on air 1.1-1.2 s after the camera stopped, with 0.5 s + 0.5 s)."""
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts, grace=0.5)
    assert fallback.resolve("camera:2").source == "camera:2"
    clock.advance(0.3)  # frames stop at 100.0; the camera says "stalled" 0.3 s later
    table.set_health("camera:2", SourceState.STALLED, "no frame for 0.3 s")
    assert fallback.resolve("camera:2").source == "camera:2"
    clock.advance(0.15)
    assert fallback.resolve("camera:2").source == "camera:2"  # frozen for 0.45 s
    clock.advance(0.06)
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:3", "backup")
    # A stall declared after grace (stall_timeout 0.5 s, the default) cuts at the verdict.
    fallback2 = policy(table, Alerts(), grace=0.5)
    online(table, "camera:1")
    online(table, "camera:4")
    fallback2.set_cameras([CameraConfig(id=1, url="lavfi:testsrc", backup_camera_id=4),
                           CameraConfig(id=4, url="lavfi:testsrc")])
    assert fallback2.resolve("camera:1").source == "camera:1"
    clock.advance(0.5)
    table.set_health("camera:1", SourceState.STALLED, "no frame for 0.5 s")
    assert fallback2.resolve("camera:1") == Resolution("camera:1", "camera:4", "backup")


def test_an_ended_ingest_falls_back_at_once(table: SourceTable, clock: FakeClock) -> None:
    """Offline means the camera's connection closed or its ffmpeg exited: nothing can come
    before a reconnect (>= 0.5 s delay plus the RTSP set-up), so no grace is waited out
    (scenario 1 of the chaos run: backup on air 0.59 s after the server was killed)."""
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts, grace=0.5)
    assert fallback.resolve("camera:2").source == "camera:2"
    clock.advance(0.05)
    table.set_health("camera:2", SourceState.OFFLINE, "ingest exited with code 0")
    clock.advance(1 / 30)
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:3", "backup")
    assert alerts.texts == ["Camera 2 offline - switched to backup camera 3"]
    # and a reconnect attempt (connecting) is still the same outage: no switch back
    table.set_health("camera:2", SourceState.CONNECTING)
    clock.advance(0.5)
    assert fallback.resolve("camera:2").source == "camera:3"
    assert len(alerts.messages) == 1


def test_short_stalls_within_grace_cause_no_switch(
    table: SourceTable, clock: FakeClock
) -> None:
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts)
    fallback.resolve("camera:2")
    table.set_health("camera:2", SourceState.STALLED)
    clock.advance(0.2)
    assert fallback.resolve("camera:2").source == "camera:2"
    online(table, "camera:2")  # frames again
    clock.advance(0.2)
    assert fallback.resolve("camera:2").source == "camera:2"
    online(table, "camera:2")
    table.set_health("camera:2", SourceState.STALLED)
    clock.advance(0.4)
    assert fallback.resolve("camera:2").source == "camera:2"  # a new outage, new grace
    assert alerts.messages == []


def test_slate_when_no_backup_is_usable_and_upgrade_to_backup(
    table: SourceTable, clock: FakeClock
) -> None:
    alerts = Alerts()
    online(table, "camera:2")
    table.slot(SLATE_SOURCE_ID).publish(solid_frame(FMT, 50, 128, 128))
    table.set_health("camera:3", SourceState.OFFLINE)
    fallback = policy(table, alerts)
    fallback.resolve("camera:2")
    table.set_health("camera:2", SourceState.STALLED)
    clock.advance(0.6)
    assert fallback.resolve("camera:2") == Resolution("camera:2", SLATE_SOURCE_ID, "slate")
    assert alerts.texts == ["Camera 2 stalled - switched to the slate"]
    online(table, "camera:3")  # the backup comes up: better than the slate
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:3", "backup")
    assert alerts.texts[-1] == (
        "Camera 2 stalled - switched to backup camera 3 (was the slate)")
    table.set_health("camera:3", SourceState.OFFLINE)  # and the backup fails too
    assert fallback.resolve("camera:2").source == SLATE_SOURCE_ID
    assert len(alerts.messages) == 3


def test_last_frame_when_nothing_else_exists(table: SourceTable, clock: FakeClock) -> None:
    alerts = Alerts()
    online(table, "camera:1")
    fallback = policy(table, alerts, backups={})
    fallback.resolve("camera:1")
    table.set_health("camera:1", SourceState.OFFLINE)
    clock.advance(1.0)
    assert fallback.resolve("camera:1") == Resolution("camera:1", "camera:1", "last_frame")
    assert alerts.texts == [
        "Camera 1 offline - no backup or slate available, holding its last frame"]
    online(table, "camera:1")
    clock.advance(2.0)
    assert fallback.resolve("camera:1").reason == "wanted"
    assert alerts.texts[-1] == "Camera 1 is back - switched back from the last frame of camera 1"


def test_source_that_never_produced_a_frame_falls_back(
    table: SourceTable, clock: FakeClock
) -> None:
    # Connecting with no frame is "starting": the slate holds (not the camera's black) for
    # the start grace, without an alert; then it is a failure like any other.
    alerts = Alerts()
    table.slot(SLATE_SOURCE_ID).publish(solid_frame(FMT, 50, 128, 128))
    table.set_health("camera:5", SourceState.CONNECTING)
    fallback = policy(table, alerts, start_grace=5.0)
    assert fallback.resolve("camera:5") == Resolution("camera:5", SLATE_SOURCE_ID, "starting")
    clock.advance(0.5)
    assert fallback.resolve("camera:5").source == SLATE_SOURCE_ID
    assert alerts.texts == []
    clock.advance(4.5)
    assert fallback.resolve("camera:5") == Resolution("camera:5", SLATE_SOURCE_ID, "slate")
    assert alerts.texts == ["Camera 5 is not connected - switched to the slate"]


def test_a_starting_camera_at_go_live_holds_the_slate_not_its_backup(
    table: SourceTable, clock: FakeClock
) -> None:
    # Seen at every go-live: slate -> backup camera 3 -> camera 2 within 3 s, and "Camera 2
    # has no picture - switched to backup camera 3" while camera 2 was only starting.
    alerts = Alerts()
    table.slot(SLATE_SOURCE_ID).publish(solid_frame(FMT, 50, 128, 128))
    online(table, "camera:3")
    table.set_health("camera:2", SourceState.CONNECTING)  # since the appliance started
    clock.advance(1.5)
    fallback = policy(table, alerts)
    cuts = []
    for _ in range(60):  # 2 s at 30 fps: the first frame comes after 1.2 s
        if clock.monotonic() >= 101.5 + 1.2 and table.slot("camera:2").latest() is None:
            online(table, "camera:2")
        cuts.append(fallback.resolve("camera:2").source)
        clock.advance(1 / 30)
    on_air = [s for i, s in enumerate(cuts) if i == 0 or cuts[i - 1] != s]
    assert on_air == [SLATE_SOURCE_ID, "camera:2"]
    assert alerts.texts == []
    assert fallback.status()["camera:2"] == {"on_air": "camera:2", "reason": "wanted",
                                             "down_since": None}


def test_a_starting_camera_that_fails_falls_back_at_once(
    table: SourceTable, clock: FakeClock
) -> None:
    alerts = Alerts()
    table.slot(SLATE_SOURCE_ID).publish(solid_frame(FMT, 50, 128, 128))
    online(table, "camera:3")
    table.set_health("camera:2", SourceState.CONNECTING)
    clock.advance(2.0)
    fallback = policy(table, alerts)
    assert fallback.resolve("camera:2").reason == "starting"
    assert fallback.status()["camera:2"]["on_air"] == SLATE_SOURCE_ID
    assert fallback.status()["camera:2"]["reason"] == "starting"
    table.set_health("camera:2", SourceState.OFFLINE, "ingest exited")  # its server is down
    clock.advance(1 / 30)
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:3", "backup")
    assert alerts.texts == ["Camera 2 offline - switched to backup camera 3"]


def test_start_grace_is_bounded_by_configuration(table: SourceTable, clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="start_grace"):
        FallbackPolicy(table, start_grace=-1)
    alerts = Alerts()
    online(table, "camera:3")
    table.set_health("camera:2", SourceState.CONNECTING)
    fallback = policy(table, alerts, start_grace=0.0)  # no start grace: fails as before
    clock.advance(1.0)
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:3", "backup")


def test_media_source_without_health_is_usable_once_it_has_a_frame(
    table: SourceTable, clock: FakeClock
) -> None:
    alerts = Alerts()
    fallback = policy(table, alerts, slate_id=None)
    still = "media:/assets/x.png"
    assert fallback.resolve(still).source == still
    clock.advance(1.0)
    assert fallback.resolve(still).reason == "last_frame"
    table.slot(still).publish(solid_frame(FMT, 70, 128, 128))
    assert fallback.resolve(still).reason == "last_frame"
    clock.advance(2.0)
    assert fallback.resolve(still).reason == "wanted"


def test_extra_backups_and_chains_from_cameras(table: SourceTable, clock: FakeClock) -> None:
    cameras = [
        CameraConfig(id=1, url="lavfi:testsrc", backup_camera_id=2),
        CameraConfig(id=2, url="lavfi:testsrc", backup_camera_id=3),
        CameraConfig(id=3, url="lavfi:testsrc", backup_camera_id=1),
        CameraConfig(id=4, url="lavfi:testsrc"),
    ]
    assert backup_chains(cameras) == {
        "camera:1": ("camera:2", "camera:3"),
        "camera:2": ("camera:3", "camera:1"),
        "camera:3": ("camera:1", "camera:2"),
    }
    fallback = FallbackPolicy.from_cameras(table, cameras, extra_backups=("camera:4",))
    assert fallback.chain("camera:1") == ("camera:2", "camera:3", "camera:4")
    assert fallback.chain("camera:4") == ()
    online(table, "camera:4")
    table.set_health("camera:1", SourceState.OFFLINE)
    fallback.resolve("camera:1")
    clock.advance(0.6)
    assert fallback.resolve("camera:1") == Resolution("camera:1", "camera:4", "backup")
    assert fallback.status()["camera:1"]["on_air"] == "camera:4"


def test_invalid_timings_are_config_errors(table: SourceTable) -> None:
    with pytest.raises(ConfigError, match="grace"):
        FallbackPolicy(table, grace=-1)


def test_describe_source() -> None:
    assert describe_source("camera:7") == "camera 7"
    assert describe_source(SLATE_SOURCE_ID) == "the slate"
    assert describe_source("media:/a.png") == "media /a.png"


def test_source_down_long_before_it_is_taken_falls_back_at_once(
    table: SourceTable, clock: FakeClock
) -> None:
    alerts = Alerts()
    online(table, "camera:3")
    table.slot("camera:2").publish(solid_frame(FMT, 100, 128, 128))
    table.set_health("camera:2", SourceState.OFFLINE)
    fallback = policy(table, alerts)
    clock.advance(30.0)
    table.set_health("camera:2", SourceState.CONNECTING)  # retrying all along
    assert fallback.resolve("camera:2").source == "camera:3"  # no half second of a stale frame
    fallback.close()
    table.set_health("camera:2", SourceState.ONLINE)  # no longer followed, but still polled
    clock.advance(2.0)
    assert fallback.resolve("camera:2").source == "camera:2"


def test_an_outage_longer_than_grace_between_two_looks_still_falls_back(
    table: SourceTable, clock: FakeClock
) -> None:
    """The mixer thread, late on a loaded box, looks while the camera is down and next only
    after it reconnected: the program and the alert are those of a mixer that was on time
    (regression of #10: the 'switched to backup' update of the camera alert went missing)."""
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts, grace=0.5, recover_after=2.0)
    fallback.resolve("camera:2")
    table.set_health("camera:2", SourceState.STALLED, "no frame for 0.2 s")
    clock.advance(0.1)
    assert fallback.resolve("camera:2").source == "camera:2"  # seen down, within grace
    clock.advance(0.6)
    online(table, "camera:2")  # back 0.7 s after the outage began: past grace
    clock.advance(0.05)
    assert fallback.resolve("camera:2") == Resolution("camera:2", "camera:3", "backup")
    assert alerts.texts == ["Camera 2 stalled - switched to backup camera 3"]  # as seen
    assert alerts.messages[0][1]["on_air"] == "camera:3"
    clock.advance(1.9)  # the hysteresis counts from when the camera came back
    assert fallback.resolve("camera:2").source == "camera:3"
    clock.advance(0.1)
    assert fallback.resolve("camera:2").source == "camera:2"
    assert alerts.texts[-1] == "Camera 2 is back - switched back from backup camera 3"


def test_an_outage_shorter_than_grace_between_two_looks_changes_nothing(
    table: SourceTable, clock: FakeClock
) -> None:
    alerts = Alerts()
    online(table, "camera:2")
    online(table, "camera:3")
    fallback = policy(table, alerts, grace=0.5)
    table.set_health("camera:2", SourceState.STALLED)
    clock.advance(0.1)
    assert fallback.resolve("camera:2").source == "camera:2"
    clock.advance(0.3)
    online(table, "camera:2")
    clock.advance(1.0)
    assert fallback.resolve("camera:2").source == "camera:2"
    assert alerts.messages == []
