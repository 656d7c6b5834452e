"""The preview's delay in a real browser: the operator console in Debian's Chromium.

Opens the console (``/``) of the appliance under test in a headless Chromium (Playwright,
``/usr/bin/chromium``), waits until its preview ``<video>`` plays (mpegts.js through
``vistter/console/static/console/preview.js``), then for each switch forces a camera from
Python and, in the page, samples the video's centre pixel every 10 ms until it shows the new
colour. Both sides read the same system clock (``time.time()`` and ``Date.now()``), so the
delay is from the request to the pixel a person would see, MSE buffer included. It also
reads how far the video's playback position is behind the end of what it has buffered.

Everything Playwright started is killed by PID at the end if closing left it behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # Debian's Chromium only

WATCH_JS = """async ([target, deadlineMs]) => {
  const v = document.querySelector('[data-testid=preview-video]');
  const c = document.createElement('canvas'); c.width = 8; c.height = 8;
  const g = c.getContext('2d', { willReadFrequently: true });
  const near = (p) => [0, 1, 2].every((i) => Math.abs(p[i] - target[i]) < 60);
  while (Date.now() < deadlineMs) {
    g.drawImage(v, 0, 0, 8, 8);
    if (near(g.getImageData(4, 4, 1, 1).data)) return Date.now();
    await new Promise((r) => setTimeout(r, 10));
  }
  return null;
}"""

BEHIND_JS = """() => {
  const v = document.querySelector('[data-testid=preview-video]');
  const b = v.buffered;
  const q = v.getVideoPlaybackQuality();
  return { behind: b.length ? b.end(b.length - 1) - v.currentTime : null,
           rate: v.playbackRate, dropped: q.droppedVideoFrames, total: q.totalVideoFrames };
}"""

PLAYING_JS = """() => { const v = document.querySelector('[data-testid=preview-video]');
  return Boolean(v && v.readyState >= 2 && v.currentTime > 0); }"""


@contextlib.contextmanager
def _owned_children() -> Iterator[None]:
    """Kill by PID whatever this block started (Playwright's driver and Chromium) and left."""
    before = {child.pid for child in psutil.Process().children()}
    started: dict[int, psutil.Process] = {}

    def collect() -> None:
        for child in psutil.Process().children():
            if child.pid in before:
                continue
            with contextlib.suppress(psutil.NoSuchProcess):
                started[child.pid] = child
                started.update({p.pid: p for p in child.children(recursive=True)})

    try:
        yield
        collect()
    finally:
        collect()
        for process in started.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def browser_delays(base: str, switches: list[tuple[int, tuple[int, int, int]]]) -> dict[str, Any]:
    """Seconds from each force-camera request to its colour in the console's preview video
    (None: not within 10 s), how far the video plays behind its buffered end after each
    switch, and the preview output's viewer counters (a reconnect is one more served)."""
    delays: list[float | None] = []
    behind: list[dict[str, Any]] = []
    with _owned_children(), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base + "/")
            page.wait_for_function(PLAYING_JS, timeout=30_000)
            time.sleep(3)
            with httpx.Client(base_url=base, timeout=10) as client:
                for camera, colour in switches:
                    sent = time.time()
                    client.post("/api/show/overrides/force-camera", json={"camera_id": camera})
                    seen = page.evaluate(WATCH_JS, [list(colour), (sent + 10) * 1000])
                    delays.append(None if seen is None else seen / 1000 - sent)
                    time.sleep(2.5)
                    behind.append(page.evaluate(BEHIND_JS))
            preview = next(d for d in httpx.get(f"{base}/api/destinations", timeout=10)
                           .json()["destinations"] if d.get("kind") == "preview")
        finally:
            browser.close()
    counters = {k: preview.get(k) for k in ("viewers_served", "viewers_dropped_slow")}
    return {"delays": delays, "video": behind, "preview": counters}
