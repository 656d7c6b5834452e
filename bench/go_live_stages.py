"""Click-to-first-frame, stage by stage: where the seconds between GO LIVE and nginx go.

``bench/go_live.py`` measures the total from outside (``vistter run``); this script runs the
appliance in-process on the same configuration so it can timestamp each stage of one GO LIVE,
all on the same monotonic clock, from the moment ``POST /api/live/start`` is sent:

* ``answered``: the API answered (the show is live);
* ``on_air``: the platforms' on-air switch flipped (orchestrator thread), with the program
  frame the show starts on (``first_frame``: the encoder starts a new run on it, a keyframe,
  and the platform queues open on that run, see ``vistter/show/going_live.py``);
* ``connecting``: the destination started its publisher (``event.destination``);
* ``released``: the fanout queue of the destination handed out its first bytes (the show's
  run's first keyframe: ``released - on_air`` is the encoder's start and look-ahead);
* ``first_mux``: the publisher reported its first bytes sent (``bytes_sent``);
* ``publishing``: nginx's ``/stat`` lists the stream;
* ``first_video``: nginx's recording holds its first video tag (the figure issue #10 caps at 3 s).

It also times, in the same run, what a publisher costs to start cold (``python -I`` importing
the publisher module, i.e. PyAV): the cost the spare publisher takes off the click's path.

Usage::

    .venv/bin/python -m bench.go_live_stages [--runs 5] [--size 1280x720] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pykka

from bench.go_live import KEY, _config, _wait, first_video_tag
from chaos.realparts import NginxRtmp
from vistter.appliance import Appliance
from vistter.models.config import load_config

POLL = 0.005
DESTINATION = "nginx"


@dataclass
class Stages:
    """Seconds from the click to each stage (None: not reached)."""

    answered: float | None = None
    on_air: float | None = None
    first_frame: int | None = None
    connecting: float | None = None
    released: float | None = None
    first_mux: float | None = None
    publishing: float | None = None
    first_video: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


class _Watch:
    """Timestamps the stages of one GO LIVE from the bus, the fanout queue and nginx."""

    def __init__(self, appliance: Appliance, nginx: NginxRtmp, recording: Path) -> None:
        self.appliance, self.nginx, self.recording = appliance, nginx, recording
        self.click = 0.0
        self.stages = Stages()
        self._stop = threading.Event()
        self._armed = threading.Event()
        appliance.bus.add_listener(self._on_event)
        appliance.program.fanout.air.subscribe(self._on_air)

    def arm(self) -> None:
        self.stages = Stages()
        self._stop.clear()
        self.click = time.monotonic()
        self._armed.set()
        threading.Thread(target=self._sample, daemon=True).start()

    def finish(self) -> Stages:
        self._stop.set()
        self._armed.clear()
        return self.stages

    def _since(self) -> float:
        return round(time.monotonic() - self.click, 3)

    def _on_air(self, on_air: bool) -> None:
        if on_air and self._armed.is_set():
            self.stages.on_air = self._since()
            self.stages.first_frame = self.appliance.program.fanout.air.first_frame

    def _on_event(self, topic: str, payload: dict[str, Any]) -> None:
        if not self._armed.is_set() or topic != "event.destination":
            return
        if (payload.get("id") == DESTINATION and payload.get("state") == "connecting"
                and self.stages.connecting is None):
            self.stages.connecting = self._since()

    def _sample(self) -> None:
        queue = self.appliance.program.fanout.get(DESTINATION)
        assert queue is not None
        out0 = queue.bytes_out
        dest = self.appliance.root.handle.child(f"outputs/destination-{DESTINATION}").proxy()
        sent0 = dest.status().get(timeout=5)["bytes_sent"]  # counted over every session
        last_slow = 0.0
        s = self.stages
        while not self._stop.is_set() and s.first_video is None:
            if s.released is None and queue.bytes_out > out0:
                s.released = self._since()
            now = time.monotonic()
            if now - last_slow >= 0.02:  # the dearer probes every 20 ms
                last_slow = now
                if (s.first_mux is None and s.connecting is not None
                        and dest.status().get(timeout=2)["bytes_sent"] > sent0):
                    s.first_mux = self._since()
                if s.publishing is None and self.nginx.stream_bytes_in(KEY) is not None:
                    s.publishing = self._since()
                if first_video_tag(self.recording):
                    s.first_video = self._since()
            time.sleep(POLL)


def cold_publisher_start() -> float:
    """Seconds for ``python -I`` to import the publisher module (PyAV) and exit."""
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-I", "-c", "import vistter.actors.outputs.flv_publisher"], check=True
    )
    return time.monotonic() - began


def bench(runs: int, workdir: Path, size: str) -> tuple[list[Stages], list[float]]:
    results: list[Stages] = []
    colds: list[float] = []
    with NginxRtmp(workdir / "nginx") as nginx:
        config = load_config(_config(workdir, nginx, 0, size), env={})
        appliance = Appliance(config)
        appliance.start()
        try:
            port = appliance.root.handle.child("api").proxy().bound_port().get(timeout=30)
            base = f"http://127.0.0.1:{port}"

            def cameras_online() -> bool:
                sources = httpx.get(base + "/api/status", timeout=10).json()["sources"]
                return all(sources.get(f"camera:{i}", {}).get("state") == "online"
                           for i in (1, 2, 3))

            _wait(cameras_online, 60, "the cameras online")
            recording = nginx.recording(KEY)
            watch = _Watch(appliance, nginx, recording)
            for _ in range(runs):
                colds.append(cold_publisher_start())
                time.sleep(2.0)  # the spare, if any, is back in place
                recording.unlink(missing_ok=True)
                watch.arm()
                answer = httpx.post(base + "/api/live/start", json={}, timeout=30)
                watch.stages.answered = round(time.monotonic() - watch.click, 3)
                answer.raise_for_status()
                _wait(lambda: watch.stages.first_video is not None, 20, "the first video tag")
                stages = watch.finish()
                results.append(stages)
                print(json.dumps(asdict(stages)), file=sys.stderr)
                time.sleep(2.0)
                httpx.post(base + "/api/live/stop", json={}, timeout=30).raise_for_status()
                _wait(lambda: nginx.stream_bytes_in(KEY) is None, 15, "nginx to unpublish")
        finally:
            appliance.stop()
            pykka.ActorRegistry.stop_all(timeout=10)
    return results, colds


def _median(values: list[float | None]) -> str:
    seen = [v for v in values if v is not None]
    return f"{statistics.median(seen):6.2f}" if seen else "     -"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--log", type=Path, help="write the appliance's log here (the "
                        "outputs at DEBUG: every line the publishers say)")
    args = parser.parse_args(argv)
    if args.log is not None:
        logging.basicConfig(filename=args.log, level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
        logging.getLogger("vistter.actors.outputs").setLevel(logging.DEBUG)
    with tempfile.TemporaryDirectory(prefix="vistter-golive-stages-") as tmp:
        results, colds = bench(args.runs, Path(tmp), args.size)
    if args.json:
        print(json.dumps({"runs": [asdict(r) for r in results], "cold_publisher": colds}))
        return 0
    print(f"GO LIVE stages at {args.size}, seconds from the click (median of {len(results)}):")
    for name in ("answered", "on_air", "connecting", "released", "first_mux",
                 "publishing", "first_video"):
        print(f"  {name:12s} {_median([getattr(r, name) for r in results])}")
    waits = [r.released - r.on_air for r in results
             if r.released is not None and r.on_air is not None]
    print(f"  on air to the show's keyframe at the fanout: {_median(list(waits))} s")
    print(f"  a cold publisher start (python -I + import av): {_median(list(colds))} s "
          "(off the click's path with the spare publisher)")
    firsts = [r.first_video for r in results if r.first_video is not None]
    return 0 if firsts and max(firsts) <= 3.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
