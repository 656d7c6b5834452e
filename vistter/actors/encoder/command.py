"""The ffmpeg command line of the one program encode (and, through :func:`encode_argv`, of
the offline render's MP4 encode).

Input 0 is raw yuv420p program frames on stdin; input 1 is the audio: silence
(``anullsrc``, platforms expect an audio track) or a looped audio bed file. Output is
MPEG-TS on stdout with minimal muxing delay (``-shortest``: once stdin closes, ffmpeg flushes
the encoder and exits rather than encoding silence on), and ``-progress`` key=value blocks on a
separate file descriptor so stderr stays for warnings and errors.

Rate control follows the spec's profiles (see :class:`~vistter.models.settings.EncodingConfig`):
``reliability`` is CBR (``b:v = minrate = maxrate``, HRD signalled by x264) with a keyframe
every 2 s, ``quality`` is capped VBR with a keyframe every 4 s. The GOP is fixed
(``-g = -keyint_min``, no scene-cut keyframes) so every destination can resume on a
predictable keyframe. The output size and rate are the program's :class:`FrameFormat`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vistter.actors.encoder.hwaccel import EncoderCandidate, EncoderChoice
from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.settings import EncodingConfig

AUDIO_RATE = 48_000
AUDIO_BITRATE = "128k"
SILENCE = f"anullsrc=r={AUDIO_RATE}:cl=stereo"
STATS_PERIOD = 1.0
SHORTEST_BUFFER = 0.1
"""Seconds of frames ``-shortest`` may hold back (measured: +2 frames of latency at 30 fps)."""


@dataclass(frozen=True, slots=True)
class EncodeCommand:
    """The argv to run, and a shorter line for logs and status (no secrets involved)."""

    argv: list[str]
    for_log: str


def video_rate_args(
    encoding: EncodingConfig, encoder: str, fps: int, *, bitrate_kbps: int | None = None
) -> list[str]:
    """Rate control, GOP, preset and profile for ``encoder`` at ``fps`` frames per second;
    ``bitrate_kbps`` replaces the configured bitrate (the buffer is then twice it)."""
    bitrate = f"{bitrate_kbps or encoding.bitrate_kbps}k"
    bufsize = f"{2 * bitrate_kbps if bitrate_kbps else encoding.bufsize_kbps}k"
    gop = str(max(1, round(encoding.keyframe_interval * fps)))
    cbr = encoding.bitrate_mode == "cbr"
    args = ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bufsize, "-g", gop]
    if encoder == "libx264":
        if cbr:
            args[2:2] = ["-minrate", bitrate]
        args += [
            "-keyint_min", gop,
            "-sc_threshold", "0",
            "-preset", encoding.preset,
            "-profile:v", encoding.h264_profile,
            "-level:v", encoding.level,
        ]
        if cbr:
            args += ["-x264-params", "nal-hrd=cbr"]
        return args
    # Hardware encoders: each names its rate-control switch differently.
    if encoder == "h264_nvenc":
        args += ["-rc", "cbr" if cbr else "vbr", "-profile:v", encoding.h264_profile]
    elif encoder == "h264_vaapi":
        args += ["-rc_mode", "CBR" if cbr else "VBR", "-profile:v", encoding.h264_profile]
    elif encoder == "h264_qsv":
        args += ["-profile:v", encoding.h264_profile]
        if cbr:
            args[2:2] = ["-minrate", bitrate]
    return args


def audio_input_args(audio_bed: Path | None, *, duration: float | None = None) -> list[str]:
    """Input 1: the looped audio bed, or generated silence (``duration`` s long, or endless)."""
    if audio_bed is None:
        length = [] if duration is None else ["-t", f"{duration:.6f}"]
        return ["-f", "lavfi", *length, "-i", SILENCE]
    return ["-stream_loop", "-1", "-i", str(audio_bed)]


def encode_argv(
    ffmpeg: str,
    fmt: FrameFormat,
    *,
    video: list[str],
    audio: list[str] | None,
    output: list[str],
    loglevel: str = "warning",
    global_args: tuple[str, ...] = (),
    progress_fd: int | None = None,
    out_fps: int | None = None,
) -> list[str]:
    """The one encode command: raw yuv420p program frames on stdin (input 0), an audio
    input (``audio``: its input args, None for no audio track), H.264 with the ``video``
    codec and rate arguments at ``out_fps`` (None: the program's rate), AAC, then ``output``
    (muxer and target).

    Used by the live encoder (MPEG-TS on stdout) and the offline render (MP4 file).
    """
    argv = [ffmpeg, "-hide_banner", "-loglevel", loglevel, "-nostats"]
    if progress_fd is not None:
        argv += ["-progress", f"pipe:{progress_fd}", "-stats_period", f"{STATS_PERIOD:g}"]
    argv += list(global_args)
    argv += [
        "-f", "rawvideo",
        "-pix_fmt", "yuv420p",
        "-s", fmt.size,
        "-r", str(fmt.fps),
        "-i", "pipe:0",
    ]  # fmt: skip
    argv += [*audio, "-map", "0:v:0", "-map", "1:a:0"] if audio is not None else ["-map", "0:v:0"]
    argv += video
    argv += ["-r", str(out_fps or fmt.fps)]
    if audio is not None:
        argv += ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2"]
    return argv + output


def encoder_command(
    ffmpeg: FfmpegBinary,
    fmt: FrameFormat,
    encoding: EncodingConfig,
    choice: EncoderChoice,
    *,
    audio_bed: Path | None = None,
    progress_fd: int | None = None,
    ts_offset: float = 0.0,
    overrides: EncodeOverrides | None = None,
) -> EncodeCommand:
    """The live encoder's ffmpeg command line.

    ``progress_fd`` is a descriptor inherited by ffmpeg (``pass_fds``) for ``-progress``;
    ``ts_offset`` (seconds) shifts the output timestamps, so that a restarted encoder
    continues the program's timeline instead of starting again at zero; ``overrides``
    (degraded mode) lower the bitrate (``-b:v``, buffer twice it), the output height
    (``scale=-2:H`` in front of the encoder's own filters) or the output rate (``-r``).
    """
    changes = overrides if overrides is not None else EncodeOverrides()
    out_fps = min(changes.fps, fmt.fps) if changes.fps is not None else fmt.fps
    candidate = _filtered(choice.candidate, _own_filters(changes.height, out_fps, fmt))
    # End with the video: when stdin closes, flush and exit instead of encoding silence on.
    # -shortest holds frames in a sync queue; its default 10 s buffer stalls the output
    # whenever frames come faster than real time (a burst, an offline render): keep it short.
    output = ["-shortest", "-shortest_buf_duration", f"{SHORTEST_BUFFER:g}"]
    if ts_offset > 0:
        output += ["-output_ts_offset", f"{ts_offset:.6f}"]
    output += ["-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1"]
    output += ["pipe:1"]
    argv = encode_argv(
        ffmpeg.path, fmt,
        video=[*candidate.output_args(),
               *video_rate_args(encoding, candidate.encoder, out_fps,
                                bitrate_kbps=changes.bitrate_kbps)],
        audio=audio_input_args(audio_bed), output=output,
        global_args=candidate.global_args, progress_fd=progress_fd, out_fps=out_fps,
    )  # fmt: skip
    audio = "audio bed " + audio_bed.name if audio_bed is not None else "silence"
    size = f"{fmt.size}->{changes.height}p" if changes.height is not None else fmt.size
    for_log = (
        f"ffmpeg encode {size}@{out_fps} {candidate.encoder} {encoding.bitrate_mode} "
        f"{changes.bitrate_kbps or encoding.bitrate_kbps}k gop {encoding.keyframe_interval}s"
        f" + {audio} -> mpegts"
    )
    return EncodeCommand(argv, for_log)


def _own_filters(height: int | None, out_fps: int, fmt: FrameFormat) -> tuple[str, ...]:
    """Software filters in front of the encoder's own: a lower rate (``fps=N``), then a
    lower height (``scale=-2:H``); none when the program's rate and size are kept.

    The rate is the ``fps`` filter, not ``-r`` alone: at the end of its input (a planned
    handover closes the old run's stdin) ``-r`` pads the output with up to two frames past
    the last program frame, which then overlap the next run's first frames (measured: 250
    program frames at 30 fps gave 202 frames at ``-r 24``, the last at 8.375 s, against 200
    ending at 8.292 s with ``fps=24``), and the destinations lost the next run's keyframe."""
    filters: list[str] = []
    if out_fps < fmt.fps:
        filters.append(f"fps={out_fps}")
    if height is not None and height < fmt.height:
        filters.append(f"scale=-2:{height}")
    return tuple(filters)


def _filtered(candidate: EncoderCandidate, own: tuple[str, ...]) -> EncoderCandidate:
    """``candidate`` with the software filters ``own`` in front of its filters (none:
    unchanged). A software candidate then converts to its pixel format in the chain."""
    if not own:
        return candidate
    if candidate.filters:
        return replace(candidate, filters=(*own, *candidate.filters))
    pix_fmt = f"format={candidate.pix_fmt}" if candidate.pix_fmt else None
    return replace(candidate, filters=(*own, *([pix_fmt] if pix_fmt else [])), pix_fmt=None)
