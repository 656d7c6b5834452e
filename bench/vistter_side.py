"""The Vistter side of the benchmark, run as its own process (so its tree can be measured).

``python -m bench.vistter_side SPEC.json`` (from the repository root) starts the appliance
exactly as ``vistter run`` does (the whole tree: telemetry, sources, program, outputs, API),
puts the camera on air with the lower third shown for the whole run, prints ``READY`` on
stdout and runs until SIGTERM or SIGINT. Then it writes the names of its threads (native id
-> name, for the per-thread CPU breakdown) to ``spec["thread_map"]``, stops the appliance
(every ffmpeg is ended and reaped) and exits 0. It exits 1 when the appliance gave up.

The spec (written by ``bench/media_path.py``)::

    {"config": {...appliance config as a TOML-like dict...},
     "overlay_png": "/path/lower_third.png", "overlay_xy": [x, y], "opacity": 1.0,
     "camera_source": "camera:1", "thread_map": "/path/threads.json",
     "profile": "/path/profile.txt"}     # optional: SIGUSR1/SIGUSR2 run yappi (bench/profile.py)
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from PIL import Image

from bench import profile
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.appliance import Appliance
from vistter.models.config import parse_config
from vistter.supervisors.guard import end_stray_children

REPO = Path(__file__).resolve().parents[1]
OVERLAY_ID = "bench-lower-third"
OVERLAY_Z = 10


def thread_names() -> dict[str, str]:
    """Native thread id (as text, for JSON) -> Python thread name, for every live thread."""
    return {
        str(thread.native_id): thread.name
        for thread in threading.enumerate()
        if thread.native_id is not None
    }


def install_profiler_signals(path: Path) -> None:
    """SIGUSR1 starts the profiler, SIGUSR2 stops it and writes ``path`` (main thread)."""

    def begin(signum: int, frame: FrameType | None) -> None:
        profile.start()

    def end(signum: int, frame: FrameType | None) -> None:
        profile.stop_and_write(path)

    signal.signal(signal.SIGUSR1, begin)
    signal.signal(signal.SIGUSR2, end)


def run(spec: dict[str, Any]) -> int:
    """Run the appliance described by ``spec`` until told to stop. Main thread."""
    config = parse_config(spec["config"], base_dir=REPO / "config", env={})
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    profile_path = spec.get("profile")
    if profile_path:
        install_profiler_signals(Path(profile_path))
    appliance = Appliance(config)
    appliance.start()
    try:
        bus = appliance.program
        x, y = spec["overlay_xy"]
        with Image.open(spec["overlay_png"]) as picture:
            layer = OverlayLayer.from_rgba(picture, int(x), int(y), bus.fmt)
        bus.state.show_overlay(OVERLAY_ID, OVERLAY_Z, layer, opacity=float(spec["opacity"]))
        bus.state.take(str(spec["camera_source"]))
        print("READY", flush=True)
        while not stop.is_set() and not appliance.exited.is_set():
            stop.wait(0.5)
        Path(spec["thread_map"]).write_text(json.dumps(thread_names()))
    finally:
        appliance.stop()
        end_stray_children()
    return 0 if stop.is_set() else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m bench.vistter_side SPEC.json", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
    )
    return run(json.loads(Path(args[0]).read_text()))


if __name__ == "__main__":
    sys.exit(main())
