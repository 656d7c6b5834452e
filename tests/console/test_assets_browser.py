"""The assets page in a real Chromium, on the demo appliance running as ``vistter run``.

Uploads by drag-and-drop and by the file picker, with a progress bar that moves (the upload
is slowed by Chromium's own network throttling, so the bar is seen part-way); the server's
limits in words; delete refused while a timeline uses the asset. The demo's assets folder is
a copy in a temporary folder, so uploads never touch the repository. Screenshots
``assets-desktop`` and ``assets-tablet`` land in ``var/screenshots/``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import FilePayload, Page, ViewportSize, expect
from support.browser import DESKTOP, REPO, OpenPage, screenshot
from support.demo_appliance import DemoAppliance, demo_appliance

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(90)]

TABLET: ViewportSize = {"width": 820, "height": 1180}
MAX_UPLOAD = 1_000_000  # [api] max_upload_bytes of this appliance: 1.0 MB
EXAMPLE = REPO / "config" / "daily-marina.timeline.json"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAppliance]:
    """The demo appliance with its own assets folder and a 1 MB upload limit."""
    workdir = Path(tmp_path_factory.mktemp("assets-demo"))
    assets = workdir / "assets"
    shutil.copytree(REPO / "assets", assets)

    def configure(raw: dict[str, Any]) -> None:
        raw["paths"]["assets_dir"] = str(assets)
        raw["api"]["max_upload_bytes"] = MAX_UPLOAD

    with demo_appliance(workdir, configure) as appliance:
        yield appliance


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    """A PNG; with noise it barely compresses (about 3 bytes a pixel)."""
    if noise:
        pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        pixels = np.zeros((height, width, 3), dtype=np.uint8)
        pixels[:, :, 2] = 200
        pixels[height // 4: 3 * height // 4, width // 4: 3 * width // 4] = (255, 200, 0)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def assets_page(open_page: OpenPage) -> Page:
    page = open_page(DESKTOP, path="/#/assets")  # straight there: the live page stays shut
    expect(page.get_by_role("heading", name="Assets", exact=True)).to_be_visible()
    return page


def drop_files(page: Page, zone_testid: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drop files on a drop zone as a person does: dragenter, dragover and drop events
    carrying a real DataTransfer that holds the files."""
    page.evaluate(
        """([testid, files]) => {
          const zone = document.querySelector(`[data-testid="${testid}"]`);
          const transfer = new DataTransfer();
          for (const [name, mime, bytes] of files) {
            const content = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
            transfer.items.add(new File([content], name, { type: mime }));
          }
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true,
                                                     dataTransfer: transfer }));
          }
        }""",
        [zone_testid, [[name, mime, base64.b64encode(data).decode()]
                       for name, mime, data in files]],
    )


def throttle_uploads(page: Page, bytes_per_second: int | None) -> None:
    """Chromium's own network throttling (DevTools protocol); ``None`` lifts it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": -1 if bytes_per_second is None else bytes_per_second,
    })


def asset_row(page: Page, name: str) -> Any:
    return page.get_by_test_id(re.compile(r"^asset-\d+$")).filter(
        has=page.get_by_test_id("asset-name").get_by_text(name, exact=True))


def stored_assets(demo: DemoAppliance) -> dict[str, int]:
    return {a["filename"]: a["id"] for a in demo.get("/api/assets")["assets"]}


def test_a_png_dropped_on_the_page_uploads_with_progress_then_lists_with_its_thumbnail(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = assets_page(open_page)
    expect(page.get_by_test_id("assets-empty")).to_contain_text("No assets yet")
    screenshot(page, "assets-empty-desktop")

    picture = png(320, 240, noise=True)  # about 230 KB: some 2 s at 120 KB/s
    assert 200_000 < len(picture) < MAX_UPLOAD
    throttle_uploads(page, 120_000)
    drop_files(page, "asset-drop", [("harbour-still.png", "image/png", picture)])
    item = page.get_by_test_id("upload-item")
    expect(item).to_have_attribute("data-state", "uploading")
    progress = item.get_by_test_id("upload-progress")
    expect(progress).to_have_attribute("value", re.compile(r"^[1-9]\d?$"))  # part-way: 1..99
    part_way = int(progress.get_attribute("value") or 0)
    expect(item.get_by_test_id("upload-state")).to_have_text(
        re.compile(r"^Uploading [1-9]\d? %$"))
    expect(item).to_have_attribute("data-state", "done", timeout=15_000)
    expect(progress).to_have_attribute("value", "100")
    assert 0 < part_way < 100
    throttle_uploads(page, None)

    row = asset_row(page, "harbour-still.png")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("asset-dimensions")).to_have_text("320 \N{MULTIPLICATION SIGN} 240")
    expect(row).to_contain_text("Image (PNG)")
    expect(row).to_contain_text(re.compile(r"2\d\d KB"))
    expect(row.get_by_test_id("asset-used-by")).to_have_text("not used")
    thumb = row.get_by_test_id("asset-thumb")
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=thumb.element_handle())
    assert "harbour-still.png" in stored_assets(demo)


def test_queued_files_upload_one_after_another_and_refusals_say_why(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = assets_page(open_page)
    files: list[FilePayload] = [
        {"name": "logo-blue.png", "mimeType": "image/png", "buffer": png(320, 180)},
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"just some text, no picture"},
        {"name": "huge.png", "mimeType": "image/png", "buffer": png(700, 600, noise=True)},
        {"name": "logo-small.png", "mimeType": "image/png", "buffer": png(64, 64)},
    ]
    page.get_by_test_id("asset-drop-input").set_input_files(files)
    items = page.get_by_test_id("upload-item")
    expect(items).to_have_count(4)
    for index, state in enumerate(["done", "failed", "failed", "done"]):
        expect(items.nth(index)).to_have_attribute("data-state", state)
    expect(items.nth(1).get_by_test_id("upload-problem")).to_contain_text(
        "notes.png is not a kind of file the appliance can use")
    expect(items.nth(1).get_by_test_id("upload-problem")).to_contain_text("What to do: Upload")
    too_large = items.nth(2).get_by_test_id("upload-problem")
    expect(too_large).to_contain_text("huge.png is too large")
    expect(too_large).to_contain_text("1.0 MB")
    expect(too_large).to_contain_text("What to do: Upload a smaller file")
    expect(asset_row(page, "logo-blue.png")).to_have_count(1)
    expect(asset_row(page, "logo-small.png")).to_have_count(1)
    names = set(stored_assets(demo))
    assert {"logo-blue.png", "logo-small.png"} <= names
    assert not {"notes.png", "huge.png"} & names


def test_an_asset_in_use_cannot_be_deleted_and_the_timeline_is_named(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    # the upload itself is tested above: here it is only the setup
    response = httpx.post(
        f"{demo.base_url}/api/assets?name=bay-logo.png", content=png(200, 100),
        headers={"content-type": "image/png"}, timeout=30)
    assert response.status_code == 201, response.text
    document = json.loads(EXAMPLE.read_text())
    document["timeline"].update(id="bay_show", name="Bay show")
    overlay = document["timeline"]["tracks"]["overlays"][0]["cues"][1]
    overlay["params"]["image_url"] = response.json()["file_path"]
    created = demo.post("/api/timelines", document)
    assert created.status_code == 201, created.text

    page = assets_page(open_page)
    row = asset_row(page, "bay-logo.png")
    expect(row.get_by_test_id("asset-used-by")).to_have_text("Bay show")
    row.get_by_role("button", name="Delete bay-logo.png").click()
    row.get_by_role("button", name="Yes, delete it").click()
    refused = page.get_by_test_id("assets-problem")
    expect(refused).to_contain_text("Delete bay-logo.png did not work.")
    expect(refused).to_contain_text("Bay show")
    expect(refused).to_contain_text("What to do:")
    expect(row).to_have_count(1)
    assert "bay-logo.png" in stored_assets(demo)
    screenshot(page, "assets-desktop")
    page.set_viewport_size(TABLET)
    expect(row.get_by_test_id("asset-thumb")).to_be_visible()
    screenshot(page, "assets-tablet")
    page.set_viewport_size(DESKTOP)

    assert httpx.delete(
        f"{demo.base_url}/api/timelines/{created.json()['id']}").status_code == 200
    page.reload()
    row = asset_row(page, "bay-logo.png")
    expect(row.get_by_test_id("asset-used-by")).to_have_text("not used")
    row.get_by_role("button", name="Delete bay-logo.png").click()
    row.get_by_role("button", name="Yes, delete it").click()
    expect(page.get_by_test_id("assets-notice")).to_have_text("Deleted bay-logo.png.")
    expect(row).to_have_count(0)
    assert "bay-logo.png" not in stored_assets(demo)
