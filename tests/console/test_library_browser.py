"""The library page in a real Chromium, on the demo appliance running as ``vistter run``.

Import (file picker and drag-and-drop), the per-field errors of a broken file, clone, rename,
delete, and the refusal to delete the timeline on air. Screenshots ``library-desktop`` and
``library-tablet`` land in ``var/screenshots/``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect
from support.browser import DESKTOP, REPO, OpenPage, screenshot
from support.demo_appliance import DemoAppliance

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(90)]

EXAMPLE = REPO / "config" / "daily-marina.timeline.json"
TABLET: ViewportSize = {"width": 820, "height": 1180}
BROKEN = {  # a name that is not text, no duration, no tracks: three problems, one per field
    "timeline": {"id": "broken_show", "name": 42, "fps": 30, "resolution": "1280x720"}
}


def example(key: str, name: str) -> dict[str, Any]:
    """The spec's example timeline under another key and name."""
    document: dict[str, Any] = json.loads(EXAMPLE.read_text())
    document["timeline"]["id"] = key
    document["timeline"]["name"] = name
    return document


def stored(demo: DemoAppliance) -> dict[str, int]:
    """The stored timelines, name -> id, as the API lists them."""
    return {t["name"]: t["id"] for t in demo.get("/api/timelines")["timelines"]}


def store(demo: DemoAppliance, key: str, name: str) -> int:
    response = demo.post("/api/timelines", example(key, name))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def library(open_page: OpenPage) -> Page:
    page = open_page(DESKTOP, path="/#/library")  # straight there: the live page stays shut
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    return page


def drop_file(page: Page, zone_testid: str, name: str, mime: str, data: bytes) -> None:
    """Drop one file on a drop zone as a person does: dragenter, dragover and drop events
    carrying a real DataTransfer with the file in it."""
    page.evaluate(
        """([testid, name, mime, bytes]) => {
          const zone = document.querySelector(`[data-testid="${testid}"]`);
          const transfer = new DataTransfer();
          const content = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
          transfer.items.add(new File([content], name, { type: mime }));
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true,
                                                     dataTransfer: transfer }));
          }
        }""",
        [zone_testid, name, mime, base64.b64encode(data).decode()],
    )


def row_of(page: Page, name: str) -> Any:
    return page.get_by_test_id(re.compile(r"^timeline-\d+$")).filter(
        has=page.get_by_test_id("timeline-name-cell").get_by_text(name, exact=True))


def test_a_broken_file_shows_every_problem_at_its_field_and_stores_nothing(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = library(open_page)
    expect(page.get_by_test_id("library-empty")).to_contain_text("The library is empty")
    screenshot(page, "library-empty-desktop")

    page.get_by_test_id("import-drop-input").set_input_files(
        {"name": "broken.timeline.json", "mimeType": "application/json",
         "buffer": json.dumps(BROKEN).encode()})
    failed = page.get_by_test_id("import-failed")
    expect(failed).to_contain_text("broken.timeline.json was not imported; nothing was stored")
    expect(failed).to_contain_text("The timeline has 3 problems")
    problems = failed.get_by_test_id("import-problem")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text("timeline.name")
    expect(problems.nth(0)).to_contain_text("Input should be a valid string")
    expect(problems.nth(0)).to_contain_text("What to do: Names have 1 to 200 characters")
    expect(problems.nth(1)).to_contain_text("timeline.duration")
    expect(problems.nth(2)).to_contain_text("timeline.tracks")

    page.get_by_role("button", name="Clear these messages").click()
    page.get_by_test_id("import-drop-input").set_input_files(
        {"name": "cut.json", "mimeType": "application/json", "buffer": b'{"timeline": '})
    expect(page.get_by_test_id("import-failed")).to_contain_text("not valid JSON")
    expect(page.get_by_test_id("import-failed")).to_contain_text("What to do: Fix the JSON")
    assert demo.get("/api/timelines")["timelines"] == []
    expect(page.get_by_test_id("library-empty")).to_be_visible()


def test_the_spec_example_dropped_on_the_page_is_imported_and_listed(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = library(open_page)
    drop_file(page, "import-drop", "daily-marina.timeline.json", "application/json",
              EXAMPLE.read_bytes())
    expect(page.get_by_test_id("import-ok")).to_contain_text(
        "Imported “Daily Marina Stream” from daily-marina.timeline.json")
    row = row_of(page, "Daily Marina Stream")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text("1:00:00")
    expect(row.get_by_role("cell").nth(2)).to_have_text("3")  # video + two overlay tracks
    expect(row.get_by_role("cell").nth(3)).to_have_text("6")  # 3 + 2 + 1 cues
    expect(row.get_by_test_id("last-run")).to_have_text("never run")
    timeline_id = stored(demo)["Daily Marina Stream"]
    export = row.get_by_role("link", name="Export Daily Marina Stream")
    assert export.get_attribute("href") == f"/api/timelines/{timeline_id}/export"
    builder = row.get_by_role("link", name="Open Daily Marina Stream in the builder")
    expect(builder).to_have_attribute("href", f"#/builder/{timeline_id}")

    with page.expect_download() as download:
        export.click()
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved == json.loads(EXAMPLE.read_text())

    page.get_by_test_id("library-search").fill("no such show")
    expect(page.get_by_test_id("library-no-match")).to_contain_text("No timeline matches")
    page.get_by_test_id("library-search").fill("marina daily")
    expect(row_of(page, "Daily Marina Stream")).to_have_count(1)


def test_clone_rename_and_delete_from_the_list(open_page: OpenPage, demo: DemoAppliance) -> None:
    original = store(demo, "harbour_show", "Harbour show")
    page = library(open_page)
    row = row_of(page, "Harbour show")
    expect(row).to_have_count(1)

    row.get_by_role("button", name="Clone Harbour show").click()
    name = page.get_by_test_id("clone-form").get_by_role("textbox")
    expect(name).to_be_focused()
    expect(name).to_have_value("Harbour show (copy)")
    name.fill("Harbour evening")
    name.press("Enter")
    expect(page.get_by_test_id("library-notice")).to_have_text(
        "Cloned “Harbour show” as “Harbour evening”.")
    clone = row_of(page, "Harbour evening")
    expect(clone).to_have_count(1)
    clone_id = stored(demo)["Harbour evening"]
    assert clone_id != original

    clone.get_by_role("button", name="Rename Harbour evening").click()
    field = page.get_by_test_id("rename-form").get_by_role("textbox")
    expect(field).to_be_focused()
    field.fill("Harbour late")
    field.press("Enter")
    expect(page.get_by_test_id("library-notice")).to_have_text(
        "Renamed “Harbour evening” to “Harbour late”.")
    expect(row_of(page, "Harbour late")).to_have_count(1)
    record = demo.get(f"/api/timelines/{clone_id}")
    assert record["name"] == "Harbour late"
    assert record["document"]["timeline"]["name"] == "Harbour late"

    renamed = row_of(page, "Harbour late")  # deleted with the keyboard alone
    renamed.get_by_role("button", name="Delete Harbour late").press("Enter")
    expect(renamed.get_by_role("button", name="Keep it")).to_be_focused()
    page.keyboard.press("Escape")
    expect(renamed.get_by_role("button", name="Keep it")).to_have_count(0)
    renamed.get_by_role("button", name="Delete Harbour late").press("Enter")
    # the question is drawn and focused first: a Shift+Tab sent before lands elsewhere
    expect(renamed.get_by_role("button", name="Keep it")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(renamed.get_by_role("button", name="Yes, delete it")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("library-notice")).to_have_text("Deleted “Harbour late”.")
    expect(row_of(page, "Harbour late")).to_have_count(0)
    assert "Harbour late" not in stored(demo)
    assert stored(demo)["Harbour show"] == original


def test_a_rename_never_overwrites_a_change_made_elsewhere(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    timeline_id = store(demo, "pier_show", "Pier show")
    page = library(open_page)
    row_of(page, "Pier show").get_by_role("button", name="Rename Pier show").click()
    field = page.get_by_test_id("rename-form").get_by_role("textbox")
    field.fill("Pier morning")
    elsewhere = httpx.patch(f"{demo.base_url}/api/timelines/{timeline_id}",
                            json={"name": "Pier evening"}, timeout=10)  # another tab
    assert elsewhere.status_code == 200, elsewhere.text
    field.press("Enter")
    refused = page.get_by_test_id("library-problem")
    expect(refused).to_contain_text("Rename “Pier show” did not work.")
    expect(refused).to_contain_text("changed elsewhere")
    expect(refused).to_contain_text("What to do: Nothing was overwritten.")
    expect(row_of(page, "Pier evening")).to_have_count(1)
    assert demo.get(f"/api/timelines/{timeline_id}")["name"] == "Pier evening"


def test_the_timeline_on_air_cannot_be_deleted_and_says_why(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    store(demo, "marina_on_air", "Marina on air")
    page = library(open_page)
    row = row_of(page, "Marina on air")
    row.get_by_role("button", name="Load Marina on air into the show").click()
    refused = page.get_by_test_id("library-problem")
    expect(refused).to_contain_text("Load “Marina on air” into the show did not work.")
    expect(refused).to_contain_text("the show is live")
    expect(refused).to_contain_text("Stop the show on the Live page first")

    assert demo.post("/api/show/stop").status_code == 200
    row.get_by_role("button", name="Load Marina on air into the show").click()
    expect(page.get_by_test_id("library-notice")).to_contain_text(
        "“Marina on air” is loaded into the show")
    assert demo.post("/api/show/go-live", {}).status_code == 200
    expect(row.get_by_test_id("on-air-badge")).to_have_text("ON AIR")
    expect(row.get_by_test_id("last-run")).to_contain_text("on air now")

    row.get_by_role("button", name="Delete Marina on air").click()
    row.get_by_role("button", name="Yes, delete it").click()
    refused = page.get_by_test_id("library-problem")
    expect(refused).to_contain_text("Delete “Marina on air” did not work.")
    expect(refused).to_contain_text(
        re.compile(r"'Marina on air'\) is (on air|running).*cannot be deleted"))
    expect(refused).to_contain_text("What to do: Stop the show first")
    expect(row).to_have_count(1)
    assert "Marina on air" in stored(demo)
    screenshot(page, "library-desktop")

    page.set_viewport_size(TABLET)
    expect(row.get_by_test_id("on-air-badge")).to_be_visible()
    screenshot(page, "library-tablet")
