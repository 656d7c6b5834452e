"""The one command head of every output: MPEG-TS on stdin, copied (never re-encoded).

Each output kind adds only its own tail (the muxer and where it writes): ``-f flv URL`` for
RTMP, ``-f mpegts srt://...`` for SRT, ``-f segment PATTERN`` for the recorder.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ANALYZE_MICROSECONDS", "copy_argv", "copy_for_log"]

ANALYZE_MICROSECONDS = 500_000
"""Stream time ffmpeg analyses before its output starts (see :func:`copy_argv`)."""


def copy_argv(ffmpeg: str, output: Sequence[str]) -> list[str]:
    """``ffmpeg`` reading the program's MPEG-TS on stdin and copying it to ``output``.

    ``-progress pipe:1`` reports once a second what the output took (``total_size`` bytes,
    ``out_time_us``), which is how an output is judged; a short ``-analyzeduration`` lets a
    (re)started output send about half a second after its first keyframe (measured: 1 s of
    analysis delays the first packet by 1 s; 0.1 s is too short to find the AAC sample rate,
    and ffmpeg then refuses to start); audio is mapped when there is some.
    """
    return [
        ffmpeg, "-hide_banner", "-loglevel", "warning", "-nostats",
        "-progress", "pipe:1", "-stats_period", "1",
        "-analyzeduration", str(ANALYZE_MICROSECONDS), "-f", "mpegts", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        *output,
    ]  # fmt: skip


def copy_for_log(output_for_log: str) -> str:
    """The short command line for logs and the supervision tree (no secrets in it)."""
    return f"ffmpeg -f mpegts -i pipe:0 -c copy {output_for_log}"
