"""Time from an ingest's start to its first frame: a camera with a password against one
without, both through Vistter's own ingest command (:func:`camera_ingest_command`).

A camera with a password is opened through the concat demuxer (its URL goes on stdin, never
in argv), so its input options travel in the ffconcat list; this checks that such a camera
reaches its first frame as soon as one without a password does. One GStreamer RTSP server
(720p30, the rig's simulated camera) serves both, with Basic authentication switched on for
the second run. The runs alternate, in one invocation; the script prints the medians and
their ratio.

Run: ``.venv/bin/python -m bench.camera_first_frame [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from chaos.realparts.rtsp_camera import RtspCameraServer, SimulatedCamera
from vistter.actors.sources.ingest import camera_ingest_command
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat
from vistter.models.cameras import CameraConfig
from vistter.supervisors.secret_input import SecretInput

FMT = FrameFormat(320, 180, 30)
USER, PASSWORD = "bench", "s3cret"


def _first_frame(ffmpeg: str, camera: CameraConfig) -> float:
    """Seconds from the spawn to the first whole raw frame on stdout (nan: none in 15 s)."""
    command = camera_ingest_command(ffmpeg, camera, FMT, socket_timeout=5.0)
    stdin = command.stdin.open_pipe() if isinstance(command.stdin, SecretInput) else None
    began = time.monotonic()
    process = subprocess.Popen(
        command.argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    if stdin is not None:
        os.close(stdin)
    try:
        assert process.stdout is not None
        wanted, got = FMT.frame_bytes, 0
        deadline = began + 15.0
        while got < wanted and time.monotonic() < deadline:
            chunk = os.read(process.stdout.fileno(), wanted - got)
            if not chunk:
                break
            got += len(chunk)
        return time.monotonic() - began if got == wanted else float("nan")
    finally:
        process.kill()
        process.wait(5)


def _median(ffmpeg: str, camera: CameraConfig, runs: int) -> tuple[float, list[float]]:
    times = [_first_frame(ffmpeg, camera) for _ in range(runs)]
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    ffmpeg = find_ffmpeg().path
    results: dict[str, tuple[float, list[float]]] = {}
    camera = SimulatedCamera(fps=30, width=1280, height=720)
    with RtspCameraServer([camera]) as plain:
        results["no password"] = _median(ffmpeg, CameraConfig(id=1, url=plain.url()), args.runs)
    with RtspCameraServer([camera], credentials=(USER, PASSWORD)) as locked:
        config = CameraConfig(id=1, url=locked.url(), username=USER, password=PASSWORD)
        results["password"] = _median(ffmpeg, config, args.runs)
    for name, (median, times) in results.items():
        print(f"{name:12s} first frame: median {median:.2f} s  {[round(t, 2) for t in times]}")
    print(f"ratio password / no password: {results['password'][0] / results['no password'][0]:.2f}")


if __name__ == "__main__":
    main()
