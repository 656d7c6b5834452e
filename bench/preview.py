"""The preview's delay and what one viewer costs (issue #10: <= 2 s behind, <= 2 % of a core).

Runs ``vistter run`` as its own process (so its CPU can be measured apart from the reader's)
on a configuration with two solid-colour cameras (red and blue, ffmpeg ``lavfi``), the
program at 1280x720@30 with the default encoding (reliability: CBR 4500 kbps, keyframe every
2 s), no destination, no show: the program shows whichever camera is forced.

**Delay.** One reader (:class:`PreviewReader`: PyAV on ``GET /api/preview.ts``, no
buffering, single-threaded decode so it holds back no frames) decodes the preview and notes
the colour of the centre of every frame with its arrival time. The bench forces the other
camera (``POST /api/show/overrides/force-camera``) every 3 s and takes the time from sending
the request to the first decoded frame of the new colour: the whole path from the operator's
click (API, orchestrator, the take armed on the next frame, mixer, x264, fanout, HTTP, demux,
decode), an upper bound of how far the preview is behind the program. A browser adds its own
MSE buffer (mpegts.js chases the live edge: see ``vistter/console/static/console/preview.js``).

**Encoder alone.** First, alone on the box, Vistter's encoder command on raw frames at the
program's pace (``preview_encoder.py``): what x264 itself holds back (lookahead, B-frames,
frame threads; about 1.3 s with the default ``fast`` preset). The preview path adds the
difference. **In a browser** (``preview_browser.py``, skip with ``--no-browser``): the same
switches seen in the operator console's ``<video>`` in Chromium, MSE buffer included.

**CPU of one viewer.** ``psutil`` CPU time (user+system) of the vistter process alone (its
ffmpeg children are listed apart: the preview adds none), over a window without a reader, a
window with one, and another without, each ``--window`` seconds (default 30); the cost is
the window with the reader minus the mean of the two without, in % of one core.

``python -m bench.preview [--window 30] [--switches 8]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import psutil
import tomli_w

from bench.preview_browser import browser_delays
from bench.preview_encoder import encoder_latency
from chaos.realparts.ports import free_port

START_TIMEOUT = 60.0
RED, BLUE = (255, 0, 0), (0, 0, 255)


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """One frame the reader decoded: when it arrived (``time.monotonic()``), its PTS in
    seconds, whether it is a keyframe, its size and the RGB colour at its centre."""

    arrived: float
    pts: float | None
    keyframe: bool
    width: int
    height: int
    centre: tuple[int, int, int]


@dataclass
class PreviewReader:
    """Decodes ``url`` (an MPEG-TS stream) in a daemon thread until :meth:`stop`.

    ``frames`` grows as frames arrive (read it under ``lock``); ``error`` is what ended the
    stream, if anything but :meth:`stop` did.
    """

    url: str
    frames: list[DecodedFrame] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    error: BaseException | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> PreviewReader:
        self._thread = threading.Thread(target=self._run, name="preview-reader", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def snapshot(self) -> list[DecodedFrame]:
        with self.lock:
            return list(self.frames)

    def wait_frames(self, count: int, timeout: float) -> list[DecodedFrame]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames = self.snapshot()
            if len(frames) >= count:
                return frames
            if self.ended.is_set():
                break
            time.sleep(0.05)
        raise AssertionError(f"the preview gave {len(self.snapshot())} frame(s) within "
                             f"{timeout:g} s, not {count} (error: {self.error!r})")

    def _run(self) -> None:
        options = {"fflags": "nobuffer", "probesize": "65536", "analyzeduration": "500000"}
        try:
            with av.open(self.url, format="mpegts", options=options, timeout=10.0) as container:
                stream = container.streams.video[0]
                stream.thread_type = "SLICE"  # frame threads would hold frames back
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        self._note(frame)
                    if self._stopping.is_set():
                        return
        except BaseException as error:
            self.error = error
        finally:
            self.ended.set()

    def _note(self, frame: Any) -> None:
        arrived = time.monotonic()
        width, height = frame.width, frame.height
        pts = None if frame.pts is None else float(frame.pts * frame.time_base)
        decoded = DecodedFrame(arrived, pts, bool(frame.key_frame), width, height,
                               centre_rgb(frame))
        with self.lock:
            self.frames.append(decoded)


def centre_rgb(frame: Any) -> tuple[int, int, int]:
    """The RGB colour at the centre of a yuv420p PyAV frame, read from its planes (no
    conversion of the whole picture: the reader must keep up at 30 fps on a busy box)."""
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        rgb = frame.to_ndarray(format="rgb24")[frame.height // 2, frame.width // 2]
        return int(rgb[0]), int(rgb[1]), int(rgb[2])
    x, y = frame.width // 2, frame.height // 2
    luma, cb, cr = (memoryview(plane) for plane in frame.planes[:3])
    y_value = luma[y * frame.planes[0].line_size + x] - 16
    u_value = cb[(y // 2) * frame.planes[1].line_size + x // 2] - 128
    v_value = cr[(y // 2) * frame.planes[2].line_size + x // 2] - 128

    def clip(value: float) -> int:
        return int(min(255, max(0, round(value))))

    return (clip(1.164 * y_value + 1.596 * v_value),
            clip(1.164 * y_value - 0.392 * u_value - 0.813 * v_value),
            clip(1.164 * y_value + 2.017 * u_value))


def near(colour: tuple[int, int, int], target: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, target, strict=True))


# -- the appliance under test --------------------------------------------------------------


def bench_config(folder: Path, api_port: int) -> Path:
    raw: dict[str, Any] = {
        "encoding": {"width": 1280, "height": 720, "fps": 30},
        "cameras": [
            {"id": 1, "name": "Red", "url": "lavfi:color=c=red:size=1280x720:rate=30"},
            {"id": 2, "name": "Blue", "url": "lavfi:color=c=blue:size=1280x720:rate=30"},
        ],
        "api": {"host": "127.0.0.1", "port": api_port},
        "telemetry": {"endpoint": f"tcp://127.0.0.1:{free_port()}"},
        "paths": {"data_dir": str(folder / "var"),
                  "assets_dir": str(Path(__file__).resolve().parents[1] / "assets")},
    }
    path = folder / "preview-bench.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


@contextmanager
def running_vistter(folder: Path) -> Iterator[tuple[psutil.Process, str]]:
    """``vistter run`` on :func:`bench_config`; yields its process and base URL; always
    ended by PID (SIGTERM, then SIGKILL for it and any child left)."""
    port = free_port()
    config = bench_config(folder, port)
    log = (folder / "vistter.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "vistter", "run", "--config", str(config)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "vistter.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"vistter did not start:\n{tail}")
            try:
                if httpx.get(f"{base}/api/preview.jpg", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield psutil.Process(process.pid), base
    finally:
        children = []
        with suppress(psutil.NoSuchProcess):
            children = psutil.Process(process.pid).children(recursive=True)
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        for child in children:
            with suppress(psutil.NoSuchProcess):
                child.kill()
        log.close()


# -- measurements --------------------------------------------------------------------------


def cpu_seconds(process: psutil.Process) -> tuple[float, float]:
    """(vistter's own CPU seconds, its live children's)."""
    own = process.cpu_times()
    children = 0.0
    for child in process.children(recursive=True):
        try:
            times = child.cpu_times()
            children += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return own.user + own.system, children


def cpu_window(process: psutil.Process, seconds: float) -> dict[str, float]:
    own0, kids0 = cpu_seconds(process)
    start = time.monotonic()
    time.sleep(seconds)
    own1, kids1 = cpu_seconds(process)
    elapsed = time.monotonic() - start
    return {"vistter_pct": 100 * (own1 - own0) / elapsed,
            "ffmpeg_children_pct": 100 * (kids1 - kids0) / elapsed}


def switch_delays(base: str, reader: PreviewReader, switches: int) -> list[float]:
    """Seconds from each force-camera request to the first decoded frame of its colour."""
    delays = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n in range(switches):
            camera, colour = (2, BLUE) if n % 2 == 0 else (1, RED)
            seen = len(reader.snapshot())
            sent = time.monotonic()
            client.post("/api/show/overrides/force-camera", json={"camera_id": camera})
            deadline = sent + 10
            while time.monotonic() < deadline:
                fresh = reader.snapshot()[seen:]
                hit = next((f for f in fresh if near(f.centre, colour)), None)
                if hit is not None:
                    delays.append(hit.arrived - sent)
                    break
                time.sleep(0.01)
            else:
                raise AssertionError(f"camera {camera} never showed in the preview")
            time.sleep(3.0)
    return delays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--window", type=float, default=30.0, help="CPU window, seconds")
    parser.add_argument("--switches", type=int, default=8, help="camera switches timed")
    parser.add_argument("--no-browser", action="store_true",
                        help="skip the delay measured in Chromium (bench/preview_browser.py)")
    args = parser.parse_args(argv)
    encoder_alone = encoder_latency()  # first, alone: the floor under the preview's delay
    with tempfile.TemporaryDirectory(prefix="vistter-preview-bench-") as tmp, \
            running_vistter(Path(tmp)) as (process, base):
        httpx.post(f"{base}/api/show/overrides/force-camera", json={"camera_id": 1}, timeout=10)
        time.sleep(3)  # warm up
        idle_before = cpu_window(process, args.window)
        reader = PreviewReader(f"{base}/api/preview.ts").start()
        try:
            first = reader.wait_frames(1, 15)[0]
            watching = cpu_window(process, args.window)
            delays = switch_delays(base, reader, args.switches)
            frames = reader.snapshot()
        finally:
            reader.stop()
        time.sleep(2)
        idle_after = cpu_window(process, args.window)
        browser = None
        if not args.no_browser:
            plan = [(2, BLUE) if n % 2 == 0 else (1, RED) for n in range(args.switches)]
            browser = browser_delays(base, plan)
    idle = (idle_before["vistter_pct"] + idle_after["vistter_pct"]) / 2
    span = frames[-1].arrived - frames[0].arrived
    report = {
        "first_frame": {"keyframe": first.keyframe, "size": f"{first.width}x{first.height}"},
        "decoded_fps": round((len(frames) - 1) / span, 2) if span > 0 else None,
        "encoder_alone_seconds": encoder_alone,
        "switch_to_preview_seconds": {
            "median": round(statistics.median(delays), 3), "max": round(max(delays), 3),
            "all": [round(d, 3) for d in delays],
        },
        "cpu_pct_of_a_core": {
            "vistter_without_viewer": [round(idle_before["vistter_pct"], 2),
                                       round(idle_after["vistter_pct"], 2)],
            "vistter_with_one_viewer": round(watching["vistter_pct"], 2),
            "one_viewer_costs": round(watching["vistter_pct"] - idle, 2),
            "ffmpeg_children": [round(w["ffmpeg_children_pct"], 2)
                                for w in (idle_before, watching, idle_after)],
        },
        "window_seconds": args.window,
    }
    if browser is not None:
        seen = [d for d in browser["delays"] if d is not None]
        report["browser_switch_to_pixels_seconds"] = {
            "median": round(statistics.median(seen), 3) if seen else None,
            "max": round(max(seen), 3) if seen else None,
            "all": [None if d is None else round(d, 3) for d in browser["delays"]],
        }
        report["browser_preview_counters"] = browser["preview"]
        report["browser_video_after_each_switch"] = browser["video"]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
