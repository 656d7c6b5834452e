"""The pre-flight checklist: every item, ok and failing, each with a sentence saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_show_rig import FMT, FPS, small_timeline

from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import FakeClock
from vistter.models.timeline import TimelineDocument
from vistter.show.live_checks import disk_space
from vistter.show.plan import ShowPlan
from vistter.show.preflight import (
    GIB,
    DestinationReach,
    DiskSpace,
    EncoderReport,
    PreflightChecks,
    PreflightItem,
    PreflightReport,
)


def plan(**changes: object) -> ShowPlan:
    document = TimelineDocument.model_validate(small_timeline(**changes))
    return ShowPlan(document, FPS, loop=True)


def health(online: set[int]) -> SourceTable:
    table = SourceTable(FMT, FakeClock())
    for camera_id in (1, 2, 3):
        state = SourceState.ONLINE if camera_id in online else SourceState.OFFLINE
        table.set_health(f"camera:{camera_id}", state)
    return table


def run(checks: PreflightChecks, show: ShowPlan | None = None) -> PreflightReport:
    return checks.run(plan() if show is None else show)


def item(report: PreflightReport, check: str, subject: str | None = None) -> PreflightItem:
    found = [i for i in report.items if i.check == check and subject in (None, i.subject)]
    assert len(found) == 1, report.items
    return found[0]


def test_every_item_says_what_to_do() -> None:
    checks = PreflightChecks(
        cameras=lambda: [1, 2, 3], source_health=health({1, 2, 3}).health,
        destinations=lambda: ["yt"], backups=lambda: {3},
        reachability=lambda: [DestinationReach("yt", "rtmp://a/live", True)],
        encoder=lambda: EncoderReport("libx264", "libx264 (software)", running=True),
        disk=lambda: DiskSpace("/data", 50 * GIB, 100 * GIB),
    )
    report = run(checks)
    assert report.ok and not report.warnings
    assert {i.check for i in report.items} >= {
        "timeline", "cameras", "camera", "backup", "destinations", "destination", "encoder",
        "disk",
    }
    assert all(i.hint for i in report.items)


def test_timeline_loaded_or_not() -> None:
    report = PreflightChecks().run(None)
    assert not report.ok
    assert "no timeline is loaded" in report.items[0].message
    assert "[show] timeline" in report.items[0].hint
    assert item(run(PreflightChecks()), "timeline").message == "'Small show' is loaded and valid"


@pytest.mark.parametrize(("online", "status", "subject"), [
    ({1, 2, 3}, "ok", "3/3"), ({1}, "warning", "1/3"),
])
def test_cameras_online(online: set[int], status: str, subject: str) -> None:
    checks = PreflightChecks(cameras=lambda: [1, 2, 3], source_health=health(online).health)
    found = item(run(checks), "cameras")
    assert (found.status, found.subject) == (status, subject)
    if status == "warning":
        assert "not online: 2, 3" in found.message
        assert "power, network and URL" in found.hint


def test_no_camera_configured() -> None:
    checks = PreflightChecks(cameras=lambda: [], source_health=health(set()).health)
    found = item(run(checks), "cameras")
    assert found.status == "warning" and "Add a camera" in found.hint


@pytest.mark.parametrize(("online", "status"), [({1, 2, 3}, "ok"), ({1, 2}, "warning")])
def test_backup_camera(online: set[int], status: str) -> None:
    checks = PreflightChecks(source_health=health(online).health, backups=set)
    show = plan(fallback={"backup_camera_id": 3})
    found = item(run(checks, show), "backup", "camera:3")
    assert found.status == status
    if status == "warning":
        assert "goes straight to the slate" in found.message
        assert "backup camera 3" in found.hint


def test_destinations_reachable_or_not() -> None:
    checks = PreflightChecks(
        destinations=lambda: ["yt", "fb", "rec"],
        reachability=lambda: [
            DestinationReach("yt", "rtmp://a.rtmp.youtube.com/live2", True),
            DestinationReach("fb", "rtmps://live-api-s.facebook.com:443/rtmp", False,
                             "no RTMP handshake answer within 2 s"),
            DestinationReach("rec", "/var/rec", None),
        ],
    )
    report = run(checks)
    assert item(report, "destinations").status == "ok"
    assert item(report, "destination", "yt").status == "ok"
    fb = item(report, "destination", "fb")
    assert fb.status == "warning" and "no RTMP handshake answer" in fb.message
    assert "internet connection" in fb.hint
    assert not [i for i in report.items if i.subject == "rec"]
    assert report.ok  # an unreachable platform retries by itself once live: not blocking


def test_no_destination_configured() -> None:
    found = item(run(PreflightChecks(destinations=lambda: [])), "destinations")
    assert found.status == "warning" and "Add a destination" in found.hint


@pytest.mark.parametrize(("running", "status"), [(True, "ok"), (False, "warning")])
def test_encoder_chosen_and_why(running: bool, status: str) -> None:
    why = "libx264 (software): h264_vaapi trial failed: No VA display"
    checks = PreflightChecks(encoder=lambda: EncoderReport("libx264", why, running=running))
    found = item(run(checks), "encoder")
    assert found.status == status and why in found.message
    if not running:
        assert "/api/supervision" in found.hint


@pytest.mark.parametrize(("free_gib", "status"), [(10.0, "ok"), (1.0, "warning"), (0.1, "error")])
def test_disk_space(free_gib: float, status: str) -> None:
    checks = PreflightChecks(disk=lambda: DiskSpace("/data", int(free_gib * GIB), 100 * GIB))
    report = run(checks)
    found = item(report, "disk")
    assert found.status == status and "/data" in found.message
    assert report.ok is (status != "error")
    if status != "ok":
        assert "recordings" in found.hint


def test_disk_space_of_a_folder_not_made_yet(tmp_path: Path) -> None:
    space = disk_space(tmp_path / "not" / "yet")
    assert space.free_bytes > 0 and space.total_bytes >= space.free_bytes


def test_go_live_checks_without_waiting_on_the_network() -> None:
    probed: list[bool] = []

    def reachability() -> list[DestinationReach]:
        probed.append(True)
        return [DestinationReach("yt", "rtmp://a/live", False, "no answer")]

    checks = PreflightChecks(destinations=lambda: ["yt"], reachability=reachability)
    report = checks.run(plan(), probe=False)
    assert not probed and not [i for i in report.items if i.check == "destination"]
    assert item(checks.run(plan()), "destination").status == "warning" and probed
