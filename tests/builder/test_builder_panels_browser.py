"""The timeline builder's side panels in a real Chromium, on the demo appliance.

Driven as a person does: palette buttons, the properties panel's lists and fields, the Repeat
dialog, Save. The API is only read, to check what was stored (and to upload the logo the
show uses). Screenshots: ``builder-error`` (desktop) and ``builder-error-tablet``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect
from support.browser import DESKTOP, OpenPage, screenshot
from support.demo_appliance import DemoAppliance, demo_appliance

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

TABLET: ViewportSize = {"width": 820, "height": 1180}
REPO = Path(__file__).resolve().parents[2]
LOGO_NAME = "station-logo.png"
CAMERA_1 = "Add Marina wide (simulated)"
CAMERA_2 = "Add Marina close-up (simulated)"
WAIT_MS = 15_000
"""How long an answer of the appliance (validate, save, conflict) may take on a busy machine."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAppliance]:
    """The demo appliance with its own copy of the assets folder (uploads land there)."""
    workdir = Path(tmp_path_factory.mktemp("builder-demo"))
    assets = workdir / "assets"
    shutil.copytree(REPO / "assets", assets)

    def configure(raw: dict[str, Any]) -> None:
        raw["paths"]["assets_dir"] = str(assets)

    with demo_appliance(workdir, configure) as appliance:
        yield appliance


@pytest.fixture(scope="module")
def logo(demo: DemoAppliance) -> dict[str, Any]:
    """A logo uploaded to the demo's assets, as the Assets page would."""
    response = httpx.post(f"{demo.base_url}/api/assets?name={LOGO_NAME}",
                          content=(REPO / "assets" / "logo.png").read_bytes(),
                          headers={"content-type": "image/png"}, timeout=30)
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()
    return asset


def open_builder(open_page: OpenPage, viewport: ViewportSize = DESKTOP,
                 address: str = "#/builder") -> Page:
    page = open_page(viewport, path=f"/{address}")
    # The first visit loads vis-timeline and the panels' modules: slow on a busy machine.
    expect(page.get_by_test_id("builder-panels")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("problems-status")).to_contain_text("No problems", timeout=15_000)
    return page


def rename(page: Page, name: str) -> None:
    field = page.get_by_test_id("setting-name")
    field.fill(name)
    field.press("Enter")
    expect(page.get_by_test_id("builder")).to_contain_text(name)


def save(page: Page) -> int:
    """Press Save; the id of the stored record (the address becomes #/builder/<id>)."""
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"#/builder/\d+$"), timeout=WAIT_MS)
    expect(page.get_by_test_id("save-status")).to_have_text("All changes saved",
                                                            timeout=WAIT_MS)
    return int(page.url.rsplit("/", 1)[1])


def stored(demo: DemoAppliance, record_id: int) -> dict[str, Any]:
    document: dict[str, Any] = demo.get(f"/api/timelines/{record_id}")["document"]
    timeline: dict[str, Any] = document["timeline"]
    return timeline


def set_time(page: Page, testid: str, text: str) -> None:
    field = page.get_by_test_id(testid)
    field.fill(text)
    field.press("Enter")


def zoom_to_the_playhead(page: Page) -> None:
    """From the whole show (30 min) to about a minute around the playhead."""
    for _ in range(5):
        page.get_by_role("button", name="Zoom in", exact=True).click()


def test_properties_are_chosen_from_lists_and_undone(
    open_page: OpenPage, demo: DemoAppliance, logo: dict[str, Any]
) -> None:
    page = open_builder(open_page)
    status = page.get_by_test_id("problems-status")
    # a new show is valid but empty: the status says how to begin, not only "no problems"
    expect(status).to_contain_text("the show is empty: drag a camera or a picture")
    screenshot(page, "builder-empty-show")
    page.get_by_role("button", name=CAMERA_1).click()
    camera = page.get_by_test_id("prop-camera")
    expect(camera).to_have_value("1")
    expect(status).to_contain_text("No problems: the appliance accepts this timeline",
                                   timeout=15_000)
    assert camera.locator("option").all_inner_texts() == [
        "Camera 1 · Marina wide (simulated)", "Camera 2 · Marina close-up (simulated)",
        "Camera 3 · Backup (simulated)"]
    expect(page.get_by_test_id("prop-preset")).to_contain_text("No presets (not a PTZ camera)")

    camera.select_option("2")
    expect(camera).to_have_value("2")
    expect(page.locator(".vis-item.cue").first).to_contain_text("Marina close-up")
    page.get_by_test_id("prop-transition").select_option("dissolve")
    length = page.get_by_test_id("prop-transition-duration")
    expect(length).to_be_enabled()
    length.fill("2")
    length.press("Enter")
    expect(page.locator(".vis-item.cue").first).to_contain_text("dissolve")

    # A time that is not m:ss is refused in words and changes nothing.
    set_time(page, "prop-duration", "1:75")
    expect(page.get_by_test_id("prop-duration-problem")).to_contain_text("m:ss")
    set_time(page, "prop-duration", "0:45")
    expect(page.get_by_test_id("prop-duration-problem")).to_have_count(0)

    undo = page.get_by_role("button", name="Undo", exact=True)
    undo.click()  # the duration
    expect(page.get_by_test_id("prop-duration")).to_have_value("1:00")
    undo.click()  # the transition's length
    expect(length).to_have_value("1")
    undo.click()  # the transition
    expect(page.get_by_test_id("prop-transition")).to_have_value("cut")
    expect(length).to_be_disabled()
    undo.click()  # the camera
    expect(camera).to_have_value("1")
    page.get_by_role("button", name="Redo", exact=True).click()
    expect(camera).to_have_value("2")

    # An overlay: the picture from the assets (with its thumbnail), a position from the five.
    page.get_by_role("button", name="Add Logo", exact=True).click()
    picture = page.get_by_test_id("prop-image")
    chosen = picture.get_by_role("radio", name=re.compile(LOGO_NAME))
    expect(chosen).to_have_attribute("aria-checked", "true")
    expect(chosen.locator("img")).to_have_attribute("src", re.compile(r".+"))
    position = page.get_by_test_id("prop-position")
    assert position.locator("option").all_inner_texts() == [
        "Top left", "Top right", "Bottom left", "Bottom right", "Centre"]
    position.select_option("bottom_left")
    page.get_by_test_id("prop-opacity").fill("0.5")
    page.get_by_test_id("prop-opacity").press("Enter")
    page.get_by_test_id("prop-opacity").fill("1.5")
    page.get_by_test_id("prop-opacity").press("Enter")
    expect(page.get_by_test_id("prop-opacity-problem")).to_contain_text("from 0 to 1")
    undo.click()  # the opacity 0.5 (1.5 was refused, so it made no step)
    expect(page.get_by_test_id("prop-opacity")).to_have_value("1")
    undo.click()
    expect(position).to_have_value("top_right")


def test_repeat_alternates_two_cameras_and_repeats_the_logo(
    open_page: OpenPage, demo: DemoAppliance, logo: dict[str, Any]
) -> None:
    page = open_builder(open_page)
    rename(page, "Repeat test")
    page.get_by_test_id("open-repeat").click()
    dialog = page.get_by_test_id("repeat-dialog")
    expect(dialog.get_by_test_id("repeat-source-1")).to_have_value("camera:1")
    expect(dialog.get_by_test_id("repeat-source-2")).to_have_value("camera:2")
    expect(dialog.get_by_test_id("repeat-plan")).to_have_text(
        "Makes 30 cues on the video track from 0:00 to 30:00.")
    dialog.get_by_test_id("repeat-apply").click()
    expect(dialog).to_be_hidden()

    page.get_by_test_id("open-repeat").click()
    dialog.get_by_role("tab", name="Repeat an overlay").click()
    dialog.get_by_test_id("repeat-image").get_by_role("radio", name=re.compile(LOGO_NAME)).click()
    dialog.get_by_test_id("repeat-every").fill("5:00")
    dialog.get_by_test_id("repeat-from").fill("0:00")
    expect(dialog.get_by_test_id("repeat-plan")).to_have_text(
        "Makes 6 overlay cues of 0:10 every 5:00 on overlay_1.")
    dialog.get_by_test_id("repeat-apply").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("problems-status")).to_contain_text("No problems",
                                                                   timeout=WAIT_MS)

    record_id = save(page)
    timeline = stored(demo, record_id)
    video = timeline["tracks"]["video"]["cues"]
    assert [(cue["start_time"], cue["duration"], cue["params"]["camera_id"]) for cue in video] == [
        (index * 60, 60, 1 + index % 2) for index in range(30)]
    assert {cue["action"] for cue in video} == {"show_camera"}
    overlays = timeline["tracks"]["overlays"][0]["cues"]
    assert [(cue["start_time"], cue["duration"]) for cue in overlays] == [
        (index * 300, 10) for index in range(6)]
    assert {cue["params"]["image_url"] for cue in overlays} == {logo["file_path"]}

    # One action, one undo step: the logo cues go, the alternation stays.
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_test_id("save-status")).to_have_text("Unsaved changes")
    expect(page.locator(".vis-item.cue-logo")).to_have_count(0)


def test_repeat_functions_replace_what_is_in_the_range(open_page: OpenPage) -> None:
    page = open_builder(open_page)
    result = page.evaluate("""async () => {
      const repeat = await import('/static/console/builder/repeat.js');
      const doc = { timeline: { id: 't', name: 't', duration: 200, fps: 25, tracks: {
        video: { track_id: 'v', cues: [[0, 50, 'a'], [60, 10, 'b'], [90, 100, 'c']].map(
          ([start, length, id]) => ({ id, start_time: start, duration: length,
            action: 'show_camera', params: { camera_id: 3 } })) }, overlays: [] } } };
      const ids = repeat.applyAlternation(doc, { sources: [{ camera_id: 1 }, { camera_id: 2 }],
        every: 30, from: 40, until: 130, transition: 'fade' });
      const cues = doc.timeline.tracks.video.cues.map((c) => [c.id, c.start_time, c.duration,
        c.params.camera_id, c.params.transition || null]);
      let refused = null;
      try {
        repeat.planOverlayRepeat(doc, { params: { type: 'logo', image_url: '/assets/l.png' },
          length: 20, every: 10 });
      } catch (error) { refused = error.message; }
      return { ids, cues, refused };
    }""")
    assert result["ids"] == ["cue_1", "cue_2", "cue_3"]
    assert result["cues"] == [
        ["a", 0, 40, 3, None], ["cue_1", 40, 30, 1, "fade"], ["cue_2", 70, 30, 2, "fade"],
        ["cue_3", 100, 30, 1, "fade"], ["c", 130, 60, 3, None]]
    assert result["refused"].startswith("Each showing (20 s) is longer than the interval (10 s)")


def test_an_overlap_is_shown_on_the_cue_and_in_the_list_and_save_is_refused(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = open_builder(open_page)
    rename(page, "Overlap test")
    page.get_by_role("button", name=CAMERA_1).click()
    page.get_by_role("button", name=CAMERA_2).click()
    record_id = save(page)
    good = stored(demo, record_id)

    expect(page.get_by_test_id("properties")).to_contain_text("cue_2")
    set_time(page, "prop-start", "0:58")
    problem = page.get_by_test_id("problem-item")
    expect(problem).to_have_count(1, timeout=WAIT_MS)
    expect(problem).to_have_attribute("data-cue-id", "cue_2")
    expect(problem).to_contain_text(re.compile(r"\bcue[ _]2\b.*\bcue[ _]1\b", re.IGNORECASE))
    block = page.locator(".vis-item.cue-problem")
    expect(block).to_have_count(1)
    expect(block).to_contain_text(re.compile(r"\bcue[ _]1\b", re.IGNORECASE))
    expect(page.get_by_test_id("prop-problems")).to_be_visible()
    expect(page.get_by_test_id("save")).to_be_disabled()
    expect(page.get_by_test_id("save-refusal")).to_contain_text("Cannot save: there is 1 problem")
    expect(page.get_by_test_id("put-on-air-next")).to_be_disabled()

    # The problem selects its cue (and puts the playhead there).
    page.locator('.cue-body[data-cue-id="cue_1"]').click()
    expect(page.get_by_test_id("properties")).to_contain_text("cue_1")
    problem.click()
    expect(page.get_by_test_id("properties")).to_contain_text("cue_2")
    expect(page.get_by_test_id("prop-start")).to_have_value("0:58")
    assert stored(demo, record_id) == good, "the good timeline was replaced"
    zoom_to_the_playhead(page)
    screenshot(page, "builder-error")

    tablet = open_builder(open_page, TABLET, f"#/builder/{record_id}")
    tablet.locator('.cue-body[data-cue-id="cue_2"]').click()
    set_time(tablet, "prop-start", "0:58")
    expect(tablet.get_by_test_id("problem-item")).to_have_count(1, timeout=WAIT_MS)
    expect(tablet.get_by_test_id("save")).to_be_disabled()
    tablet.get_by_test_id("problem-item").click()
    zoom_to_the_playhead(tablet)
    screenshot(tablet, "builder-error-tablet")

    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_test_id("problem-item")).to_have_count(0, timeout=WAIT_MS)
    expect(page.get_by_test_id("save-status")).to_have_text("All changes saved")


def test_two_pages_saving_one_timeline_get_a_conflict_not_an_overwrite(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    first = open_builder(open_page)
    rename(first, "Conflict test")
    first.get_by_role("button", name=CAMERA_1).click()
    record_id = save(first)

    second = open_builder(open_page, address=f"#/builder/{record_id}")
    expect(second.get_by_test_id("save-status")).to_have_text("All changes saved")
    third = open_builder(open_page, address=f"#/builder/{record_id}")

    rename(first, "Conflict test, first page's")
    save(first)

    second.get_by_role("button", name=CAMERA_2).click()
    second.get_by_test_id("save").click()
    conflict = second.get_by_test_id("conflict")
    expect(conflict).to_contain_text("This timeline was changed elsewhere", timeout=WAIT_MS)
    expect(conflict).to_contain_text("Nothing was overwritten")
    timeline = stored(demo, record_id)
    assert timeline["name"] == "Conflict test, first page's"
    assert len(timeline["tracks"]["video"]["cues"]) == 1

    conflict.get_by_role("button", name="Save mine as a copy").click()
    expect(second).not_to_have_url(re.compile(f"#/builder/{record_id}$"), timeout=WAIT_MS)
    expect(second).to_have_url(re.compile(r"#/builder/\d+$"))
    copy_id = int(second.url.rsplit("/", 1)[1])
    assert copy_id != record_id
    expect(second.get_by_test_id("save-status")).to_have_text("All changes saved",
                                                              timeout=WAIT_MS)
    copy = stored(demo, copy_id)
    assert copy["name"] == "Conflict test (copy)"
    assert len(copy["tracks"]["video"]["cues"]) == 2
    assert stored(demo, record_id)["name"] == "Conflict test, first page's"

    # The other choice: drop mine and load theirs.
    third.get_by_role("button", name=CAMERA_2).click()
    third.get_by_test_id("save").click()
    third.get_by_test_id("conflict-reload").click(timeout=WAIT_MS)
    third.get_by_test_id("conflict-reload-confirm").click()
    expect(third.get_by_test_id("conflict")).to_have_count(0, timeout=WAIT_MS)
    expect(third.get_by_test_id("builder")).to_contain_text("Conflict test, first page's")
    expect(third.get_by_test_id("save-status")).to_have_text("All changes saved")
    assert len(stored(demo, record_id)["tracks"]["video"]["cues"]) == 1


def test_a_range_preview_renders_with_progress_and_plays(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = open_builder(open_page)
    page.get_by_role("button", name=CAMERA_1).click()
    page.get_by_role("button", name=CAMERA_2).click()
    page.get_by_test_id("preview-from").fill("0:58")
    page.get_by_test_id("preview-to").fill("1:40")
    expect(page.get_by_test_id("range-preview")).to_contain_text("at most 30 s")
    expect(page.get_by_test_id("preview-start")).to_be_disabled()
    state = page.get_by_test_id("preview-state")

    # Cancel: the render is stopped on the appliance, not only forgotten by the page.
    page.get_by_test_id("preview-to").fill("1:28")
    page.get_by_test_id("preview-start").click()
    page.get_by_test_id("preview-cancel").click(timeout=WAIT_MS)
    expect(state).to_have_text("Cancelled")
    job_id = state.get_attribute("data-job-id")
    assert job_id, "the page did not keep the preview's id"
    # cancelled on the appliance (DELETE): it is forgotten there, its render process ended
    gone = httpx.get(f"{demo.base_url}/api/render-previews/{job_id}", timeout=10)
    assert gone.status_code == 404, gone.text

    page.get_by_test_id("preview-to").fill("1:02")
    page.get_by_test_id("preview-start").click()
    progress = page.get_by_test_id("preview-progress")
    expect(progress).to_be_visible()
    expect(state).to_have_text("Ready", timeout=120_000)
    assert progress.evaluate("element => element.value") == 1
    video = page.get_by_test_id("preview-video")
    page.wait_for_function(
        "element => Number.isFinite(element.duration) && element.duration > 0",
        arg=video.element_handle(), timeout=30_000)
    seconds = video.evaluate("element => element.duration")
    assert 3.5 <= seconds <= 4.5, f"the preview of 0:58-1:02 lasts {seconds} s"


def test_put_on_air_next_saves_then_queues_the_timeline(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = open_builder(open_page)
    rename(page, "On air next test")
    page.get_by_role("button", name=CAMERA_1).click()
    page.get_by_role("button", name=CAMERA_2).click()
    page.get_by_test_id("put-on-air-next").click()
    answer = page.get_by_test_id("onair-answer")
    try:
        expect(answer).to_contain_text(
            re.compile(r'^"On air next test" goes on air next, when the current pass ends: '
                       r"in \d+:\d\d"), timeout=WAIT_MS)
        record_id = int(page.url.rsplit("/", 1)[1])
        expect(page.get_by_test_id("save-status")).to_have_text("All changes saved")
        queued = demo.get("/api/show")["next"]
        assert queued["timeline_id"] == record_id
        assert queued["name"] == "On air next test"
        assert len(stored(demo, record_id)["tracks"]["video"]["cues"]) == 2
    finally:
        httpx.delete(f"{demo.base_url}/api/show/next", timeout=10)  # the demo's show goes on
