"""Benchmark: Vistter against one plain ffmpeg command doing the same work (issue #3).

Both sides take the same camera (``lavfi`` ``testsrc2`` 1280x720@30 in real time; with
``--camera-clip`` a camera-like 1080p30 H.264 recording, see ``bench/camera_clip.py``; with
``--rtsp`` a GStreamer RTSP test camera), put the same lower-third PNG at the same place,
encode with the same libx264 settings (Vistter's own ``encoder_args``) plus silent AAC, and
publish to three stream keys on ONE local nginx-rtmp. A third side, the *floor*
(``bench/floor_side.py``), runs Vistter's own processes with Vistter's command lines piped
straight into each other, without the Python program bus: the lowest ratio the process
layout issue #3 prescribes can reach. The sides run one after the other (never in parallel:
the reference box has 2 cores). For each side, after every key is publishing and a warm-up,
the script measures over the same window:

- CPU seconds (user+system) of the whole process tree, read exactly at the window's edges
  (see ``bench/tree_meter.py`` for why this is exact and why ``RUSAGE_CHILDREN`` alone is
  not), with Vistter's Python process broken down by thread;
- peak RSS summed over the tree (sampled every 0.2 s) and peak PSS sum (every 2 s);
- delivery: nginx ``bytes_in`` per key, and the frames PyAV decodes from nginx's recordings.

It prints a table and, as the LAST line of stdout, one JSON object. Exit code 0 when
every side delivered on every key, 1 when one did not (the CPU target is reported, not enforced).

Run from the repository root::

    .venv/bin/python bench/media_path.py                 # 30 s window after 5 s warm-up
    .venv/bin/python bench/media_path.py --seconds 3 --warmup 1   # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench.camera_clip import camera_clip, clip_seconds  # noqa: E402
from bench.floor_side import floor_commands  # noqa: E402
from bench.plain_side import check_parity, plain_command  # noqa: E402
from bench.report import format_table, thread_breakdown  # noqa: E402
from bench.sides import SideResult, Timing, check_recordings, run_side  # noqa: E402
from chaos.realparts.nginx_rtmp import NginxRtmp  # noqa: E402
from chaos.realparts.rtsp_camera import RtspCameraServer, SimulatedCamera  # noqa: E402
from vistter.actors.encoder.hwaccel import EncoderChoice, detect_encoder  # noqa: E402
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg  # noqa: E402
from vistter.media.frames import FrameFormat  # noqa: E402
from vistter.models.cameras import CameraConfig  # noqa: E402
from vistter.models.overlays import LowerThirdOverlay  # noqa: E402
from vistter.models.settings import EncodingConfig  # noqa: E402
from vistter.overlays import render_overlay  # noqa: E402

CPU_TARGET = 1.15
KEYS_PER_SIDE = 3
TIMELINE_HEIGHT = 1080
"""Overlay sizes are written for a 1080p timeline (as in the spec's example)."""


@dataclass(frozen=True)
class Setup:
    """Everything both sides share."""

    ffmpeg: FfmpegBinary
    fmt: FrameFormat
    encoding: EncodingConfig
    choice: EncoderChoice
    camera: CameraConfig
    overlay_png: Path
    overlay_xy: tuple[int, int]
    workdir: Path
    seconds: float
    warmup: float


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window (s)")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up after publishing")
    parser.add_argument("--bitrate-kbps", type=int, default=2500)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--rtsp", action="store_true", help="use a GStreamer RTSP camera")
    parser.add_argument(
        "--camera-graph",
        default="testsrc2=size=1280x720:rate=30",
        help="lavfi graph of the simulated camera (both sides)",
    )
    parser.add_argument(
        "--camera-clip",
        action="store_true",
        help="use a camera-like 1080p30 H.264 recording (made once, cached) as the camera",
    )
    parser.add_argument(
        "--clip-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "vistter-bench",
        help="where --camera-clip keeps its recording",
    )
    parser.add_argument(
        "--order",
        default="plain,floor,vistter",
        help="the sides, in the order they run: plain and vistter, and floor unless left out",
    )
    parser.add_argument("--workdir", type=Path, help="keep nginx, recordings and logs here")
    parser.add_argument("--json-out", type=Path, help="also write the JSON result here")
    parser.add_argument("--no-decode", action="store_true", help="skip decoding recordings")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile Vistter's Python process with yappi during the window "
        "(costs CPU: do not quote that run's ratio)",
    )
    args = parser.parse_args(argv)
    order = [side.strip() for side in args.order.split(",")]
    if sorted(order) not in (["plain", "vistter"], ["floor", "plain", "vistter"]):
        parser.error(
            "--order must name plain and vistter once each, and floor at most once, "
            "e.g. vistter,floor,plain or plain,vistter"
        )
    if args.rtsp and args.camera_clip:
        parser.error("choose one camera: --rtsp or --camera-clip")
    args.order = order
    return args


def render_lower_third(fmt: FrameFormat, workdir: Path) -> tuple[Path, tuple[int, int]]:
    """Render the lower third once (Vistter's renderer) to a PNG both sides use."""
    params = LowerThirdOverlay.model_validate(
        {"type": "lower_third", "text": "Marina live", "subtitle": "Vistter benchmark"}
    )
    rendered = render_overlay(params, fmt, REPO / "assets", scale=fmt.height / TIMELINE_HEIGHT)
    path = workdir / "lower_third.png"
    rendered.image.save(path)
    # Vistter's layers start on even pixels (chroma siting): give ffmpeg the same place.
    return path, (rendered.x - rendered.x % 2, rendered.y - rendered.y % 2)


def vistter_spec(setup: Setup, rtmp_base: str, keys: Sequence[str]) -> dict[str, Any]:
    encoding = setup.encoding
    config = {
        "encoding": {
            "profile": encoding.profile,
            "bitrate_kbps": encoding.bitrate_kbps,
            "preset": encoding.preset,
            "encoder": encoding.encoder,
            "width": encoding.width,
            "height": encoding.height,
            "fps": encoding.fps,
        },
        "cameras": [{"id": setup.camera.id, "name": "bench camera", "url": setup.camera.url}],
        "destinations": [
            {"id": f"nginx-{i}", "platform": "custom_rtmp", "url": rtmp_base, "stream_key": key}
            for i, key in enumerate(keys, 1)
        ],
        "api": {"host": "127.0.0.1", "port": 0},
        "telemetry": {"endpoint": "tcp://127.0.0.1:*"},
        "paths": {"assets_dir": str(REPO / "assets"), "data_dir": str(setup.workdir / "data")},
        "show": {"always_on_air": True},  # no show here: the destinations publish at once
    }
    return {
        "config": config,
        "overlay_png": str(setup.overlay_png),
        "overlay_xy": list(setup.overlay_xy),
        "opacity": 1.0,
        "camera_source": f"camera:{setup.camera.id}",
        "thread_map": str(setup.workdir / "vistter-threads.json"),
    }


def _said_ready(out: Path) -> bool:
    return "READY" in out.read_text(errors="replace")


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    ffmpeg = find_ffmpeg()
    fmt = FrameFormat(1280, 720, 30)
    encoding = EncodingConfig.model_validate(
        {
            "profile": "reliability",
            "bitrate_kbps": args.bitrate_kbps,
            "preset": args.preset,
            "encoder": "libx264",
            "width": fmt.width,
            "height": fmt.height,
            "fps": fmt.fps,
        }
    )
    choice = detect_encoder(ffmpeg, "libx264")
    check_parity(ffmpeg, fmt, encoding, choice)
    overlay_png, overlay_xy = render_lower_third(fmt, workdir)
    results: dict[str, SideResult] = {}
    with contextlib.ExitStack() as stack:
        if args.rtsp:
            cameras = stack.enter_context(
                RtspCameraServer([SimulatedCamera("cam1", "ball", fmt.width, fmt.height, fmt.fps)])
            )
            camera_url = cameras.url("cam1")
        elif args.camera_clip:
            clip = camera_clip(ffmpeg, args.clip_cache, clip_seconds(args.warmup, args.seconds))
            camera_url = str(clip)
        else:
            camera_url = f"lavfi:{args.camera_graph}"
        camera = CameraConfig(id=1, url=camera_url)
        setup = Setup(
            ffmpeg,
            fmt,
            encoding,
            choice,
            camera,
            overlay_png,
            overlay_xy,
            workdir,
            args.seconds,
            args.warmup,
        )
        (workdir / "nginx").mkdir(exist_ok=True)
        nginx = stack.enter_context(NginxRtmp(workdir / "nginx"))
        rtmp_base = f"rtmp://127.0.0.1:{nginx.rtmp_port}/live"
        timing = Timing(workdir, args.warmup, args.seconds)
        for side in args.order:
            keys = [f"{side}-{i}" for i in range(1, KEYS_PER_SIDE + 1)]
            if side == "plain":
                argv = plain_command(
                    ffmpeg,
                    camera,
                    fmt,
                    encoding,
                    choice,
                    overlay_png=overlay_png,
                    overlay_xy=overlay_xy,
                    urls=[nginx.url(key=key) for key in keys],
                )
                result = run_side("plain", argv, timing, nginx, keys, root_role="ffmpeg (plain)")
            elif side == "floor":
                spec_path = workdir / "floor-spec.json"
                commands = floor_commands(
                    ffmpeg, camera, fmt, encoding, choice, urls=[nginx.url(key=key) for key in keys]
                )
                spec_path.write_text(json.dumps(commands, indent=2))
                argv = [sys.executable, "-m", "bench.floor_side", str(spec_path)]
                result = run_side(
                    "floor",
                    argv,
                    timing,
                    nginx,
                    keys,
                    root_role="python (floor launcher, idle)",
                    ready=functools.partial(_said_ready, workdir / "floor.out"),
                )
            else:
                spec_path = workdir / "vistter-spec.json"
                spec = vistter_spec(setup, rtmp_base, keys)
                if args.profile:
                    spec["profile"] = str(workdir / "vistter-profile.txt")
                spec_path.write_text(json.dumps(spec, indent=2))
                argv = [sys.executable, "-m", "bench.vistter_side", str(spec_path)]
                result = run_side(
                    "vistter",
                    argv,
                    timing,
                    nginx,
                    keys,
                    root_role="python (vistter)",
                    ready=functools.partial(_said_ready, workdir / "vistter.out"),
                    profile_to=Path(spec["profile"]) if args.profile else None,
                )
                thread_map = Path(spec["thread_map"])
                if result.window is not None and thread_map.is_file():
                    names = json.loads(thread_map.read_text())
                    result.threads = thread_breakdown(result.window.root_threads, names)
            if not args.no_decode and result.window is not None:
                check_recordings(result, nginx, keys, fmt.fps, args.seconds)
            results[side] = result
    return summary(args, setup, results)


def summary(
    args: argparse.Namespace, setup: Setup, results: dict[str, SideResult]
) -> dict[str, Any]:
    def side(result: SideResult) -> dict[str, Any]:
        window = result.window
        return {
            "cpu_seconds": round(window.cpu, 3) if window else None,
            "cores": round(window.cores, 3) if window else None,
            "window_seconds": round(window.wall, 3) if window else None,
            "cpu_by_role": {k: round(v, 3) for k, v in (window.by_role if window else {}).items()},
            "kernel_cpu_by_role": {
                k: round(v, 3) for k, v in (window.by_role_system if window else {}).items()
            },
            "tree_changed": window.tree_changed if window else None,
            "peak_rss_mib": round(result.memory.rss_sum / 2**20, 1),
            "peak_pss_mib": round(result.memory.pss_sum / 2**20, 1),
            "peak_rss_by_role_mib": {
                k: round(v / 2**20, 1) for k, v in result.memory.rss_by_role_at_peak.items()
            },
            "lifetime_cpu_seconds": round(result.lifetime_cpu, 3),
            "exit_code": result.exit_code,
            "bytes_in_window": result.bytes_in_window,
            "kbps_in_window": {
                k: round(8 * v / 1000 / window.wall, 1) if window else None
                for k, v in result.bytes_in_window.items()
            },
            "published_seconds": round(result.published_seconds, 2),
            "recordings": [r.to_dict() for r in result.recordings],
            "python_threads_cpu": [[n, round(s, 3)] for n, s in result.threads],
            "delivered": result.delivered,
            "problems": result.problems,
            **({"profile": result.profile} if result.profile else {}),
        }

    plain, vistter = results.get("plain"), results.get("vistter")
    floor = results.get("floor")
    ratios = _ratios(plain, vistter)
    floor_ratios = _ratios(plain, floor)
    bus_cpu = None
    if floor and vistter and floor.window and vistter.window:
        bus_cpu = round(vistter.window.cpu - floor.window.cpu, 3)
    cpu_ratio = ratios["cpu"]
    return {
        "benchmark": "media_path",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "ffmpeg": setup.ffmpeg.path.rsplit("/", 1)[-1],
        },
        "setup": {
            "camera": setup.camera.display_url,
            "size": setup.fmt.size,
            "fps": setup.fmt.fps,
            "encoder": setup.choice.encoder,
            "preset": setup.encoding.preset,
            "bitrate_kbps": setup.encoding.bitrate_kbps,
            "mode": setup.encoding.bitrate_mode,
            "gop_frames": setup.encoding.keyframe_frames,
            "destinations": KEYS_PER_SIDE,
            "overlay_xy": list(setup.overlay_xy),
            "warmup_seconds": args.warmup,
            "window_seconds": args.seconds,
            "order": args.order,
        },
        "plain": side(plain) if plain else None,
        "floor": side(floor) if floor else None,
        "vistter": side(vistter) if vistter else None,
        "ratio": ratios,
        "floor_ratio": floor_ratios,
        "bus_cpu_seconds": bus_cpu,
        "cpu_target": CPU_TARGET,
        "meets_cpu_target": cpu_ratio is not None and cpu_ratio <= CPU_TARGET,
        "delivered": all(result.delivered for result in results.values())
        and bool(plain and vistter),
    }


def _ratios(plain: SideResult | None, other: SideResult | None) -> dict[str, float | None]:
    """CPU, RSS and PSS of ``other`` over plain's (None where either is missing)."""
    ratios: dict[str, float | None] = {"cpu": None, "rss": None, "pss": None}
    if plain and other and plain.window and other.window and plain.window.cpu > 0:
        ratios["cpu"] = round(other.window.cpu / plain.window.cpu, 3)
        if plain.memory.rss_sum:
            ratios["rss"] = round(other.memory.rss_sum / plain.memory.rss_sum, 3)
        if plain.memory.pss_sum:
            ratios["pss"] = round(other.memory.pss_sum / plain.memory.pss_sum, 3)
    return ratios


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # unwinds: every process and server started is ended by PID


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        report = measure(args, args.workdir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="vistter-bench-") as tmp:
            report = measure(args, Path(tmp))
    print(format_table(report))
    for line in (report.get("vistter") or {}).get("profile", []):
        print(line)
    line = json.dumps(report, separators=(",", ":"))
    if args.json_out is not None:
        args.json_out.write_text(line + "\n")
    print(line, flush=True)
    return 0 if report["delivered"] else 1


if __name__ == "__main__":
    sys.exit(main())
