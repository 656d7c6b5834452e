"""Cameras added, edited and removed while the demo show is live (API and the cameras page).

The demo appliance runs three simulated cameras; its timeline uses cameras 1 and 2, and
camera 3 backs both up. A camera added here is a lavfi one: its ingest is a real ffmpeg
process under the ``sources`` supervisor, found by PID in ``/api/supervision``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
from playwright.sync_api import expect
from support.browser import PHONE, OpenPage, screenshot
from support.demo_appliance import DemoAppliance

LAVFI = "lavfi:testsrc2=size=320x180:rate=30"
SECRET = "pw-never-shown-9431"


def _frames(demo: DemoAppliance) -> int:
    return int(demo.get("/api/status")["program"]["mixer"]["frames"])


def _camera(demo: DemoAppliance, camera_id: int) -> dict[str, Any] | None:
    cameras = demo.get("/api/cameras")["cameras"]
    return next((c for c in cameras if c["id"] == camera_id), None)


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children") or []:
        yield from _nodes(child)


def _ingest_pids(demo: DemoAppliance, camera_id: int) -> list[int]:
    tree = demo.get("/api/supervision")
    for node in _nodes(tree):
        if node["path"].endswith(f"sources/camera-{camera_id}"):
            return [int(pid) for pid in node.get("pids") or []]
    return []


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class FrameWatch:
    """The program's frame counter, sampled after each step: it must keep advancing."""

    def __init__(self, demo: DemoAppliance) -> None:
        self.demo = demo
        self.last = _frames(demo)

    def advanced(self, step: str) -> None:
        time.sleep(0.2)  # six frames at 30 fps
        now = _frames(self.demo)
        assert now > self.last, f"the program stopped after {step}: {self.last} -> {now}"
        self.last = now


def test_add_edit_remove_a_camera_while_live(demo: DemoAppliance) -> None:
    frames = FrameWatch(demo)
    added = demo.post("/api/cameras", {"id": 7, "name": "Pier", "url": LAVFI,
                                       "username": "op", "password": SECRET})
    assert added.status_code == 201, added.text
    assert added.json() == {"id": 7, "child": "camera-7", "url": LAVFI}
    demo.wait_until("camera 7 online", lambda: (_camera(demo, 7) or {}).get("state") == "online",
                    15)
    frames.advanced("adding camera 7")
    thumbnail = demo.wait_until("camera 7's thumbnail", lambda: httpx.get(
        demo.base_url + "/api/cameras/7/thumbnail.jpg", timeout=10).status_code == 200, 10)
    assert thumbnail
    listing = httpx.get(demo.base_url + "/api/cameras", timeout=10).text
    assert SECRET not in listing and "Pier" in listing
    checked = [i for i in demo.get("/api/preflight")["items"] if i["check"] == "cameras"]
    assert [i["subject"] for i in checked] == ["4/4"], checked  # the 3 demo cameras and 7
    first_pids = demo.wait_until("camera 7's ingest", lambda: _ingest_pids(demo, 7), 10)

    duplicate = demo.post("/api/cameras", {"id": 7, "url": LAVFI})
    assert duplicate.status_code == 409
    assert "already a camera 7 ('Pier')" in duplicate.json()["problem"]
    for bad in ({"id": 8}, {"id": 8, "url": "rtsp://u:p@host/s"}, {"id": 0, "url": LAVFI},
                {"id": 8, "url": LAVFI, "backup_camera_id": 99}, [1]):
        refused = demo.post("/api/cameras", bad)
        assert 400 <= refused.status_code < 500, (bad, refused.text)
        assert refused.json()["problem"], refused.text
    assert _camera(demo, 8) is None
    frames.advanced("refused adds")

    edited = httpx.put(demo.base_url + "/api/cameras/7", timeout=30,
                       json={"id": 7, "name": "Pier east", "url": LAVFI, "backup_camera_id": 3})
    assert edited.status_code == 200, edited.text
    camera = _camera(demo, 7)
    assert camera is not None
    assert (camera["name"], camera["backup_camera_id"]) == ("Pier east", 3)
    assert all(_gone(pid) for pid in first_pids), "the old ingest still runs after the edit"
    demo.wait_until("camera 7 online again",
                    lambda: (_camera(demo, 7) or {}).get("state") == "online", 15)
    frames.advanced("editing camera 7")

    in_timeline = httpx.delete(demo.base_url + "/api/cameras/1", timeout=30)
    assert in_timeline.status_code == 409
    assert "loaded timeline" in in_timeline.json()["problem"], in_timeline.text
    backup = httpx.delete(demo.base_url + "/api/cameras/3", timeout=30)
    assert backup.status_code == 409
    assert "backup of" in backup.json()["problem"] and "Pier east" in backup.json()["problem"]
    assert httpx.delete(demo.base_url + "/api/cameras/99", timeout=30).status_code == 404

    pids = demo.wait_until("camera 7's new ingest", lambda: _ingest_pids(demo, 7), 10)
    removed = httpx.delete(demo.base_url + "/api/cameras/7", timeout=30)
    assert removed.status_code == 200 and removed.json() == {"removed": 7}
    assert _camera(demo, 7) is None
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in pids), f"camera 7's ingest {pids} still runs"
    assert _ingest_pids(demo, 7) == []
    frames.advanced("removing camera 7")
    assert demo.get("/api/show")["state"] == "live"


def test_add_a_camera_from_the_page(open_page: OpenPage, demo: DemoAppliance) -> None:
    page = open_page(path="/#/cameras")
    form = page.get_by_test_id("camera-form")
    expect(form).to_be_visible()
    page.get_by_test_id("camera-id").fill("9")
    page.get_by_test_id("camera-name").fill("Harbour mouth")
    page.get_by_test_id("camera-url").fill(LAVFI)
    page.get_by_test_id("camera-backup").select_option("3")
    page.get_by_role("button", name="Add camera").click()
    row = page.get_by_test_id("camera-9")
    expect(row).to_contain_text("Harbour mouth")
    expect(row.get_by_test_id("camera-state")).to_have_text("online", timeout=15_000)
    assert (_camera(demo, 9) or {}).get("backup_camera_id") == 3

    page.get_by_test_id("camera-id").fill("9")  # again: refused, the reason in words
    page.get_by_test_id("camera-url").fill(LAVFI)
    page.get_by_role("button", name="Add camera").click()
    expect(page.get_by_test_id("camera-error")).to_contain_text("already a camera 9")

    camera_1 = page.get_by_test_id("camera-1")
    camera_1.get_by_role("button", name="Remove").click()
    camera_1.get_by_role("button", name="Yes, remove").click()
    expect(camera_1.get_by_test_id("camera-remove-error")).to_contain_text("loaded timeline")
    screenshot(page, "cameras-add-refused-desktop")

    row.get_by_role("button", name="Remove").click()
    row.get_by_role("button", name="Yes, remove").click()
    expect(page.get_by_test_id("camera-9")).to_have_count(0)
    assert _camera(demo, 9) is None


def test_the_camera_form_fits_a_phone(open_page: OpenPage) -> None:
    page = open_page(PHONE, path="/#/cameras")
    expect(page.get_by_test_id("camera-form")).to_be_visible()
    page.get_by_test_id("camera-1").get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit camera 1")).to_be_visible()
    expect(page.get_by_test_id("camera-url")).to_have_value(re.compile(r"^lavfi:"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"#/cameras is {width} px wide on a phone"
    screenshot(page, "cameras-edit-phone")
