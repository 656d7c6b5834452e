"""Click-to-first-frame: from ``POST /api/live/start`` to the first video packet nginx records.

Issue #10's target is 3 s on the 2-core box (the spec's: 10 s). The script starts a local
nginx-rtmp (``chaos/realparts/nginx_rtmp.py``) and ``vistter run`` exactly as an operator
would (simulated cameras, the spec's example timeline loaded, ``autostart = false``, platforms
published only while live), waits until the cameras are online, then for each run:

1. ``POST /api/live/start`` (countdown 0) and note the time;
2. poll nginx's ``/stat`` until the key publishes, and its recording until the first FLV
   video tag is written (the first video packet nginx records): click-to-publish and
   click-to-first-frame;
3. ``POST /api/live/stop``, wait until nginx sees the unpublish, and start over.

Reusable against any running appliance and nginx (the console's browser test measures from a
real click): :func:`first_video_tag` and :func:`measure` take the recording path and a
``start`` callable.

Usage::

    .venv/bin/python -m bench.go_live [--runs 5] [--size 1280x720] [--json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from chaos.harness.appliance import VistterProcess
from chaos.realparts import NginxRtmp, free_port

REPO = Path(__file__).resolve().parents[1]
KEY = "golive"
POLL = 0.01
FLV_HEADER = 9 + 4  # the file header, then PreviousTagSize0
FLV_VIDEO_TAG = 9


@dataclass(frozen=True)
class Run:
    """One GO LIVE, in seconds from the request: answered, nginx publishing, first video."""

    answered: float
    publishing: float
    first_video: float


def first_video_tag(path: Path) -> bool:
    """Whether the FLV recording at ``path`` holds a complete video tag yet."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    at = FLV_HEADER
    while at + 11 <= len(data):
        kind = data[at] & 0x1F
        size = int.from_bytes(data[at + 1 : at + 4], "big")
        if at + 11 + size > len(data):
            return False
        if kind == FLV_VIDEO_TAG:
            return True
        at += 11 + size + 4
    return False


def measure(
    start: Callable[[], object],
    publishing: Callable[[], bool],
    recording: Path,
    timeout: float = 20.0,
) -> Run:
    """Call ``start`` (the click) and time ``publishing`` and the first video tag in
    ``recording``. Raises TimeoutError when nginx records no video within ``timeout``."""
    began = time.monotonic()
    start()
    answered = time.monotonic() - began
    published: float | None = None
    while time.monotonic() - began < timeout:
        if published is None and publishing():
            published = time.monotonic() - began
        if first_video_tag(recording):
            first = time.monotonic() - began
            return Run(answered, published if published is not None else first, first)
        time.sleep(POLL)
    size = recording.stat().st_size if recording.exists() else None
    raise TimeoutError(
        f"no video recorded by nginx within {timeout:g} s (publishing after {published} s; "
        f"recording {recording}: {size} bytes)"
    )


def _config(workdir: Path, nginx: NginxRtmp, api_port: int, size: str) -> Path:
    width, height = (int(v) for v in size.split("x"))
    server = nginx.url("live", KEY).rsplit("/", 1)[0]
    timeline = REPO / "config" / "daily-marina.timeline.json"
    config = workdir / "golive.toml"
    config.write_text(f"""
[encoding]
profile = "reliability"
bitrate_kbps = 2500
width = {width}
height = {height}
fps = 30

[[cameras]]
id = 1
name = "wide"
url = "lavfi:testsrc2=size={size}:rate=30"
backup_camera_id = 3

[[cameras]]
id = 2
name = "close"
url = "lavfi:smptehdbars=size={size}:rate=30"
backup_camera_id = 3

[[cameras]]
id = 3
name = "backup"
url = "lavfi:rgbtestsrc=size={size}:rate=30"

[[destinations]]
id = "nginx"
platform = "custom_rtmp"
url = "{server}"
stream_key = "{KEY}"

[api]
host = "127.0.0.1"
port = {api_port}

[telemetry]
endpoint = "tcp://127.0.0.1:{free_port()}"

[paths]
assets_dir = "{REPO / "assets"}"
data_dir = "{workdir / "var"}"

[show]
timeline = "{timeline}"
autostart = false
always_on_air = false
""")
    return config


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def bench(runs: int, workdir: Path, size: str = "1280x720") -> list[Run]:
    """Start nginx and Vistter in ``workdir``, measure ``runs`` GO LIVEs, stop both."""
    results: list[Run] = []
    with NginxRtmp(workdir / "nginx") as nginx:
        api_port = free_port()
        vistter = VistterProcess(_config(workdir, nginx, api_port, size), api_port,
                                 workdir / "vistter.log")
        vistter.start()
        try:
            def cameras_online() -> bool:
                sources = vistter.get("/api/status")["sources"]
                return all(sources.get(f"camera:{i}", {}).get("state") == "online"
                           for i in (1, 2, 3))

            _wait(cameras_online, 30, "the cameras online")
            recording = nginx.recording(KEY)
            for _ in range(runs):
                recording.unlink(missing_ok=True)
                run = measure(lambda: vistter.call("POST", "/api/live/start", {}, 30),
                              lambda: nginx.stream_bytes_in(KEY) is not None, recording)
                results.append(run)
                print(f"click-to-first-frame {run.first_video:.2f} s (publishing after "
                      f"{run.publishing:.2f} s, answered after {run.answered:.2f} s)",
                      file=sys.stderr)
                time.sleep(2.0)  # on air for a moment, as a show would be
                vistter.call("POST", "/api/live/stop", {}, 30)
                _wait(lambda: nginx.stream_bytes_in(KEY) is None, 15, "nginx to unpublish")
                time.sleep(1.0)
        finally:
            vistter.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the runs as JSON")
    parser.add_argument("--size", default="1280x720", help="program size (default 1280x720)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (logs, config, recordings) and print it")
    args = parser.parse_args(argv)
    if args.keep:
        workdir = Path(tempfile.mkdtemp(prefix="vistter-golive-"))
        print(f"work folder: {workdir}", file=sys.stderr)
        results = bench(args.runs, workdir, args.size)
    else:
        with tempfile.TemporaryDirectory(prefix="vistter-golive-") as tmp:
            results = bench(args.runs, Path(tmp), args.size)
    firsts = [r.first_video for r in results]
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        print(f"click-to-first-frame over {len(firsts)} runs: median "
              f"{statistics.median(firsts):.2f} s, min {min(firsts):.2f} s, max "
              f"{max(firsts):.2f} s (target 3 s)")
    return 0 if max(firsts) <= 3.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
