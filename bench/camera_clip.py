"""A camera-like input for the benchmark: a 1080p30 H.264 recording, made once and cached.

Venues point Vistter at IP cameras, which send H.264 (typically 1080p, a few Mbit/s, a
keyframe every one or two seconds) with sensor noise in every frame. Both sides of the
benchmark then decode it and scale it to the 720p program; that work is the same on both
sides and is part of what a real deployment spends. ``lavfi testsrc2`` at the program's own
size is the other extreme: generated raw, nothing to decode or scale, flat colours that x264
encodes almost for free. The benchmark reports both (see bench/README.md).

The clip is ``testsrc2`` at 1920x1080 with temporal noise (``noise=alls=6:allf=t``, like a
sensor's), encoded with libx264 ``veryfast`` at 6 Mbit/s CBR-ish (maxrate 6M, bufsize 12M),
GOP 60, yuv420p, in MP4. A camera URL that is a local path is played in real time (``-re``)
by Vistter's ingest and by the plain command alike; it is not looped, so the clip is made
long enough for the warm-up, the window and the start-up of both sides.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from vistter.media.ffmpeg import FfmpegBinary

CLIP_GRAPH = "testsrc2=size=1920x1080:rate=30,noise=alls=6:allf=t"
CLIP_ARGS = (
    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M", "-maxrate", "6M",
    "-bufsize", "12M", "-g", "60", "-pix_fmt", "yuv420p", "-an",
)  # fmt: skip
START_MARGIN = 30.0
"""Seconds of clip beyond warm-up + window: start-up until every key publishes, and stop."""
MAKE_TIMEOUT_FACTOR = 4.0
"""Making the clip may take this many times its duration before it is declared stuck."""


def clip_seconds(warmup: float, window: float) -> int:
    """How long the clip must be for one side's run."""
    return int(warmup + window + START_MARGIN + 0.999)


def camera_clip(ffmpeg: FfmpegBinary, cache_dir: Path, seconds: int) -> Path:
    """The cached clip of at least ``seconds``; made (atomically) when missing.

    Runs in the caller's thread; takes about as long as the clip on two cores the first
    time. Raises ``RuntimeError`` with ffmpeg's last words when the clip cannot be made.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"camera-1080p30-h264-noise-{seconds}s.mp4"
    if path.is_file() and path.stat().st_size > 0:
        return path
    partial = path.with_suffix(".partial.mp4")
    argv = [
        ffmpeg.path, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", CLIP_GRAPH, "-t", str(seconds), *CLIP_ARGS, str(partial),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=seconds * MAKE_TIMEOUT_FACTOR + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"making the camera clip {path.name} took too long") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = done.stderr.decode(errors="replace")[-800:]
        raise RuntimeError(f"could not make the camera clip {path.name}: {tail}")
    partial.replace(path)
    return path
