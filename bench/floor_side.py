"""The floor side of the benchmark: Vistter's process layout with no Python in the media path.

Issue #3 fixes the shape of Vistter's media path: an ingest ffmpeg per camera writing raw
yuv420p to a pipe, one encoder ffmpeg reading raw frames on stdin and writing MPEG-TS, and one
``ffmpeg -c copy`` publisher per destination. Plain ffmpeg does all of that in one process.
The *floor* runs exactly those processes, with exactly Vistter's command lines (its own
builders: :func:`~vistter.actors.sources.ingest.camera_ingest_command`,
:func:`~vistter.actors.encoder.command.encoder_command`,
:func:`~vistter.actors.outputs.destination.publisher_argv`), but wired directly to each other:

    ingest ffmpeg --raw--> encoder ffmpeg --TS--> coreutils tee --> 3 publishers

So the floor costs what the layout itself costs (raw frames crossing a process boundary, the
MPEG-TS mux and demux, a process per destination) and nothing of the Python program bus: no
mixer, no overlay (it encodes the bare camera, which is, if anything, cheaper), no fanout.
``floor / plain`` is the lowest ratio any implementation of that layout can reach;
``Vistter - floor`` is what the program bus (mixer, overlay compositing, fanout, supervision,
telemetry) costs on top.

Run as ``python -m bench.floor_side SPEC.json`` by ``bench/media_path.py``: the launcher
starts the five processes, sleeps until SIGTERM (it uses no CPU meanwhile, which the
benchmark shows as the ``python`` role) and then ends them, each by PID.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from vistter.actors.encoder.command import encoder_command  # noqa: E402
from vistter.actors.encoder.hwaccel import EncoderChoice  # noqa: E402
from vistter.actors.outputs.destination import publisher_argv  # noqa: E402
from vistter.actors.sources.ingest import camera_ingest_command  # noqa: E402
from vistter.media.ffmpeg import FfmpegBinary  # noqa: E402
from vistter.media.frames import FrameFormat  # noqa: E402
from vistter.models.cameras import CameraConfig  # noqa: E402
from vistter.models.settings import EncodingConfig  # noqa: E402

TEE = "tee"
STOP_GRACE = 5.0


def floor_commands(
    ffmpeg: FfmpegBinary,
    camera: CameraConfig,
    fmt: FrameFormat,
    encoding: EncodingConfig,
    choice: EncoderChoice,
    *,
    urls: Sequence[str],
) -> dict[str, Any]:
    """The floor's command lines, as Vistter's own builders make them (JSON-ready)."""
    if not urls:
        raise ValueError("the floor needs at least one destination URL")
    return {
        "ingest": list(camera_ingest_command(ffmpeg.path, camera, fmt).argv),
        "encoder": list(encoder_command(ffmpeg, fmt, encoding, choice).argv),
        "publishers": [publisher_argv(ffmpeg.path, url) for url in urls],
    }


class FloorPipeline:
    """The five processes, piped ingest -> encoder -> tee -> publishers. Main thread only."""

    def __init__(self, commands: dict[str, Any], log_dir: Path) -> None:
        self._commands = commands
        self._log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Start the publishers first (so tee has somewhere to write), then tee, the encoder
        and the ingest. Raises OSError when a process cannot be started (the ones already
        started are ended by :meth:`stop`, which the caller runs in ``finally``)."""
        with (self._log_dir / "floor-processes.log").open("ab") as log:
            publishers = [
                self._spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
                for argv in self._commands["publishers"]
            ]
            inputs = [p.stdin for p in publishers]
            assert all(stream is not None for stream in inputs)
            extra = [stream.fileno() for stream in inputs[1:] if stream is not None]
            encoder = self._spawn(
                self._commands["encoder"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
            assert encoder.stdout is not None and encoder.stdin is not None
            # -p: a publisher that dies must not take tee (and so the others) down with it.
            self._spawn(
                [TEE, "-p", *(f"/dev/fd/{fd}" for fd in extra)],
                stdin=encoder.stdout,
                stdout=inputs[0],
                stderr=log,
                pass_fds=tuple(extra),
            )
            self._spawn(self._commands["ingest"], stdin=subprocess.DEVNULL, stdout=encoder.stdin,
                        stderr=log)
            # The children hold their ends; closing ours lets EOF and EPIPE travel as they should.
            for stream in (encoder.stdout, encoder.stdin, *inputs):
                if stream is not None:
                    stream.close()

    def _spawn(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(list(argv), **kwargs)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """Terminate every process (newest first: the ingest, then downstream), wait, kill
        what is left; each by PID."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_GRACE)


def main(argv: Sequence[str]) -> int:
    spec_path = Path(argv[0])
    commands = json.loads(spec_path.read_text())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    pipeline = FloorPipeline(commands, spec_path.parent)
    try:
        pipeline.start()
        print("READY", flush=True)
        while not stop.wait(0.5):
            if any(process.poll() is not None for process in pipeline.processes):
                codes = [process.poll() for process in pipeline.processes]
                print(f"a floor process exited: {codes}", file=sys.stderr, flush=True)
                return 1
    finally:
        pipeline.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
