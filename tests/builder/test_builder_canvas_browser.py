"""The timeline builder's canvas in a real Chromium, on the demo appliance.

Driven as a person does: palette entries dragged with the mouse onto a track, block edges
dragged, Ctrl/Shift clicks, the keyboard shortcuts and the toolbar buttons. What the page
shows is read from the blocks' accessible names ("Marina wide (simulated). 00:00 to 01:00
(1 min)"). Screenshots: ``builder-empty`` (desktop) and ``builder-empty-tablet``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect
from support.browser import DESKTOP, OpenPage, screenshot
from support.console_pages import PageProblems

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

TABLET: ViewportSize = {"width": 820, "height": 1180}
CAMERA_1 = "Add Marina wide (simulated)"
CAMERA_2 = "Add Marina close-up (simulated)"
SPAN = re.compile(r"\. (\d\d):(\d\d(?:\.\d+)?) to (\d\d):(\d\d(?:\.\d+)?) ")

OPEN_TIMEOUT_MS = 15_000  # the page's modules on a busy two-core box
Block = tuple[str, str, str]
"""(cue id, track id, accessible name) of one block on the canvas."""


def open_builder(open_page: OpenPage, viewport: ViewportSize = DESKTOP) -> Page:
    page = open_page(viewport)
    page.goto("/#/builder")
    expect(page.get_by_test_id("builder-timeline").locator(".vis-timeline")).to_be_visible(
        timeout=OPEN_TIMEOUT_MS)
    return page


def blocks(page: Page) -> list[Block]:
    found: list[list[str]] = page.locator(".cue-body").evaluate_all(
        "els => els.map(e => [e.dataset.cueId, e.dataset.trackId, e.getAttribute('aria-label')])"
    )
    return sorted((cue, track, name) for cue, track, name in found)


def span_of(name: str) -> tuple[float, float]:
    """(start, end) in seconds from a block's accessible name."""
    match = SPAN.search(name)
    assert match, name
    minutes, seconds, end_minutes, end_seconds = match.groups()
    return int(minutes) * 60 + float(seconds), int(end_minutes) * 60 + float(end_seconds)


def block(page: Page, cue_id: str) -> Locator:
    """The block of one cue (vis-timeline's item element)."""
    return page.locator(f".vis-item:has(.cue-body[data-cue-id='{cue_id}'])")


def status(page: Page) -> Locator:
    return page.get_by_test_id("builder-status")


def track_row(page: Page, kind: str) -> Locator:
    return page.locator(f".vis-foreground .vis-group.track-{kind}").first


def mouse_drag(page: Page, source: Locator, x: float, y: float) -> None:
    """Press on `source`, move in small steps to (x, y) and release: a real mouse drag."""
    box = source.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    page.mouse.up()


PAN_THRESHOLD = 6
"""Pixels the mouse moves before vis-timeline (Hammer.js) starts a drag; the drag counts from
there, so a drag by `dx` first crosses this threshold one pixel at a time."""


def drag_edge(page: Page, block: Locator, dx: float) -> None:
    """Drag the right edge (vis-timeline's handle) of a selected block by about `dx` pixels."""
    handle = block.locator(".vis-drag-right").bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    sign = 1 if dx > 0 else -1
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + sign * PAN_THRESHOLD, y, steps=PAN_THRESHOLD)
    page.mouse.move(x + sign * PAN_THRESHOLD + dx, y, steps=max(4, int(abs(dx) / 3)))
    page.mouse.up()


def place_playhead(page: Page, text: str) -> None:
    page.get_by_label("Playhead", exact=True).fill(text)
    page.get_by_role("button", name="Place playhead").click()
    expect(page.locator(".vis-custom-time-marker")).to_have_text(re.compile(f"^0?{text}$"))


def test_an_empty_show_has_a_video_and_an_overlay_track(open_page: OpenPage) -> None:
    for viewport, name in ((DESKTOP, "builder-empty"), (TABLET, "builder-empty-tablet")):
        page = open_builder(open_page, viewport)
        expect(page.get_by_role("heading", name="New timeline")).to_be_visible()
        labels = page.locator(".vis-labelset .track-label")
        expect(labels).to_have_count(2)
        expect(labels.nth(0)).to_contain_text("Overlay 1")
        expect(labels.nth(1)).to_contain_text("Video")
        ruler = page.locator(".vis-time-axis .vis-text").all_inner_texts()
        assert "00:00" in ruler and all(re.fullmatch(r"\d\d:\d\d", t) for t in ruler if t), ruler
        expect(page.get_by_role("button", name="Undo")).to_be_disabled()
        assert blocks(page) == []
        screenshot(page, name)


VIS_SHEET_APPLIED_JS = """() => {
  const outer = document.querySelector('.builder-timeline .vis-timeline');
  const panel = document.querySelector('.builder-timeline .vis-panel.vis-center');
  return [getComputedStyle(outer).overflow, getComputedStyle(panel).position,
          document.querySelectorAll('style').length];
}"""
"""What vis-timeline's own sheet (``.vis-timeline{overflow:hidden}``, ``.vis-panel
{position:absolute}``) does to the canvas, and how many <style> elements the page has."""


def test_the_builder_page_has_no_console_error_and_vis_timeline_its_vendored_sheet(
    open_page: OpenPage, page_problems: PageProblems,
) -> None:
    """The page's Content-Security-Policy allows styles from files only: vis-timeline's build
    must inject no <style> (the standalone build did, and Chromium refused it on every visit);
    its look comes from the vendored sheet that builder.css imports."""
    page = open_builder(open_page)
    page.get_by_role("button", name=CAMERA_1).click()
    page.get_by_role("button", name="Add Lower third").click()
    for _ in range(2):
        page.get_by_role("button", name="Zoom in").click()
    block(page, "cue_1").click()
    block(page, "cue_1").hover()
    expect(page.locator(".vis-item.cue")).to_have_count(2)
    expect(page.locator(".vis-item.vis-selected")).to_have_count(1)
    overflow, position, styles = page.evaluate(VIS_SHEET_APPLIED_JS)
    assert (overflow, position) == ("hidden", "absolute"), "vis-timeline's sheet is not applied"
    assert styles == 0, f"{styles} <style> elements were injected into the page"
    page.wait_for_timeout(500)  # a late report of a refused resource
    assert page_problems.console_errors == [], page_problems.console_errors


def test_a_camera_dragged_from_the_palette_lands_on_the_video_track(open_page: OpenPage) -> None:
    page = open_builder(open_page)
    video = track_row(page, "video").bounding_box()
    assert video is not None
    mouse_drag(page, page.get_by_role("button", name=CAMERA_1),
               video["x"] + 80, video["y"] + video["height"] / 2)
    expect(status(page)).to_contain_text("Added Marina wide (simulated) at ")
    [(cue, track, name)] = blocks(page)
    assert track == "video_main" and name.startswith("Marina wide (simulated). ")
    start, end = span_of(name)
    assert start == int(start) and end - start == 60, name  # a whole second, one minute
    # A logo dropped on the video track is refused in words, and nothing is added.
    mouse_drag(page, page.get_by_role("button", name="Add Logo"),
               video["x"] + 300, video["y"] + video["height"] / 2)
    expect(status(page)).to_have_text(
        "Logo goes on an overlay track, not on the video track. Drop it on an Overlay track.")
    assert [block[0] for block in blocks(page)] == [cue]
    # On an overlay track it lands; without a picture it is marked with the server's problem.
    overlay = track_row(page, "overlay").bounding_box()
    assert overlay is not None
    mouse_drag(page, page.get_by_role("button", name="Add Logo"),
               overlay["x"] + 200, overlay["y"] + overlay["height"] / 2)
    expect(status(page)).to_contain_text("Added Logo at ")
    logo = page.locator(".vis-item.cue-logo")
    expect(logo).to_have_class(re.compile(r"\bcue-problem\b"))
    expect(logo.locator(".cue-problem-text")).not_to_be_empty()


def test_a_resized_block_snaps_to_whole_seconds_and_to_a_neighbours_edge(
    open_page: OpenPage,
) -> None:
    page = open_builder(open_page)
    page.get_by_role("button", name=CAMERA_1).click()  # 0:00-1:00, the playhead moves on
    page.get_by_role("button", name=CAMERA_2).click()  # 1:00-2:00
    first, second = page.locator(".vis-item.cue").nth(0), page.locator(".vis-item.cue").nth(1)
    place_playhead(page, "1:05")
    for _ in range(4):  # 30 min -> about 2 min in view, around the playhead
        page.get_by_role("button", name="Zoom in").click()
    # The second cue starts half a second later: 15 frames with Shift+Right (keyboard nudge).
    second.click()
    for _ in range(15):
        page.keyboard.press("Shift+ArrowRight")
    expect(second.locator(".cue-body")).to_have_attribute(
        "aria-label", re.compile(r"01:00\.5 to 02:00\.5"))
    box = second.bounding_box()
    assert box is not None
    pixels_per_second = box["width"] / 60
    first.click()
    # Shortened by about 10 s: the end lands on a whole second, no edge being near.
    drag_edge(page, first, -10 * pixels_per_second)
    expect(status(page)).to_contain_text("Resize cue")
    _, end = span_of(blocks(page)[0][2])
    assert end == int(end) and 45 <= end <= 55, blocks(page)
    # Pulled back to a little short of the neighbour (1:00.5): it sticks to that edge, where
    # whole-second rounding alone would have said 1:00.
    drag_edge(page, first, (59.8 - end) * pixels_per_second)
    expect(first.locator(".cue-body")).to_have_attribute(
        "aria-label", re.compile(r"00:00 to 01:00\.5 "))


def test_multi_select_copy_paste_delete_and_undo_redo_restore_exactly(
    open_page: OpenPage,
) -> None:
    page = open_builder(open_page)
    page.get_by_role("button", name=CAMERA_1).click()  # cue_1 0:00-1:00
    page.get_by_role("button", name=CAMERA_2).click()  # cue_2 1:00-2:00
    page.get_by_role("button", name="Add Lower third").click()  # cue_3, overlay, 2:00-2:15
    start = blocks(page)
    assert [(cue, track) for cue, track, _ in start] == [
        ("cue_1", "video_main"), ("cue_2", "video_main"), ("cue_3", "overlay_1")]
    place_playhead(page, "5:00")  # out of the way of the blocks
    block(page, "cue_1").click()
    block(page, "cue_2").click(modifiers=["Control"])
    expect(page.get_by_text("2 cues selected")).to_be_visible()
    page.keyboard.press("Control+c")
    expect(status(page)).to_have_text("Copied 2 cues.")
    page.keyboard.press("Control+v")
    expect(status(page)).to_have_text("Pasted 2 cues at the playhead.")
    pasted = [found for found in blocks(page) if found not in start]
    assert [(cue, track, span_of(name)) for cue, track, name in pasted] == [
        ("cue_4", "video_main", (300, 360)), ("cue_5", "video_main", (360, 420))], pasted
    expect(page.get_by_text("2 cues selected")).to_be_visible()  # the pasted ones
    # The buttons do the same: paste again at 10:00; then delete with the key and the button.
    place_playhead(page, "10:00")
    page.get_by_role("button", name="Paste").click()
    cues = page.locator(".vis-item.cue")
    expect(cues).to_have_count(7)
    block(page, "cue_3").click()
    page.keyboard.press("Delete")
    expect(status(page)).to_have_text("Deleted 1 cue.")
    block(page, "cue_1").click()
    page.get_by_role("button", name="Delete 1 cue").click()
    expect(cues).to_have_count(5)
    edited = blocks(page)
    assert "cue_1" not in {cue for cue, _, _ in edited}
    for _ in range(4):  # delete, delete, paste, paste
        page.keyboard.press("Control+z")
    expect(cues).to_have_count(3)
    assert blocks(page) == start
    page.get_by_role("button", name="Redo").click()
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+y")
    page.keyboard.press("Control+Shift+z")
    expect(cues).to_have_count(5)
    assert blocks(page) == edited
    expect(page.get_by_role("button", name="Redo")).to_be_disabled()
    page.get_by_role("button", name="Undo").click()
    expect(status(page)).to_have_text("Undid: Delete cue.")
    expect(cues).to_have_count(6)


def test_saving_a_new_timeline_keeps_its_blocks_on_the_canvas(open_page: OpenPage) -> None:
    """The first save gives the timeline its library number and the page its address
    (#/builder/N); the canvas is built again for it and shows the same blocks."""
    page = open_builder(open_page)
    page.get_by_role("button", name=CAMERA_1).click()
    expect(page.locator(".vis-item.cue")).to_have_count(1)
    before = blocks(page)
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"#/builder/\d+$"), timeout=OPEN_TIMEOUT_MS)
    expect(page.get_by_test_id("save-status")).to_have_text("All changes saved",
                                                            timeout=OPEN_TIMEOUT_MS)
    expect(page.locator(".vis-item.cue")).to_have_count(1, timeout=OPEN_TIMEOUT_MS)
    # the camera's name comes with the page's context, a moment after the first draw
    (_cue, track, name), = before
    expect(page.locator(f".cue-body[data-track-id='{track}']")).to_have_attribute(
        "aria-label", name, timeout=OPEN_TIMEOUT_MS)
