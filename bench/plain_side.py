"""The plain-ffmpeg side of the benchmark: ONE ffmpeg doing the work Vistter does.

Everything that matters for the cost is taken from Vistter's own command builders, so the
two sides cannot drift apart silently:

- the camera input is the input part of Vistter's ingest command
  (:func:`vistter.actors.sources.ingest.camera_ingest_command`), and the camera picture gets the
  same
  normalisation chain (:func:`~vistter.actors.sources.ingest.program_video_filter`: fps, scale, pad,
  yuv420p; a pass-through at the program's own size);
- the lower third is the same PNG at the same x/y, through ffmpeg's ``overlay`` filter
  (the single PNG frame is repeated: ``eof_action=repeat``);
- the encoder options are :func:`vistter.actors.encoder.command.video_rate_args` plus the
  candidate's ``-pix_fmt``/``-c:v`` and the same AAC silence (``anullsrc``) settings;
  :func:`check_parity` asserts they appear verbatim in Vistter's encoder command line;
- the outputs are the ``tee`` muxer with ``[f=flv:onfail=ignore]`` per destination, so one
  failing destination does not stop the others (as Vistter's per-destination publishers).
  ``-flags +global_header`` is required by FLV inside ``tee`` (the encoder cannot see the
  muxer); it changes where SPS/PPS are stored, not the encode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vistter.actors.encoder.command import (
    AUDIO_BITRATE,
    AUDIO_RATE,
    SILENCE,
    encoder_command,
    video_rate_args,
)
from vistter.actors.encoder.hwaccel import EncoderChoice
from vistter.actors.sources.ingest import (
    camera_ingest_command,
    program_video_filter,
    raw_output_args,
)
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.cameras import CameraConfig
from vistter.models.settings import EncodingConfig

_INGEST_HEAD = 6
"""``ffmpeg -hide_banner -nostdin -nostats -loglevel LEVEL`` at the start of an ingest argv."""


class ParityError(AssertionError):
    """The plain command's encoder options are not the ones Vistter's encoder uses."""


def camera_input_args(ffmpeg: FfmpegBinary, camera: CameraConfig, fmt: FrameFormat) -> list[str]:
    """The input options Vistter's ingest gives ``camera`` (``-re -f lavfi -i ...`` or
    ``-rtsp_transport tcp -timeout ... -i rtsp://...``)."""
    argv = list(camera_ingest_command(ffmpeg.path, camera, fmt).argv)
    inputs = argv[_INGEST_HEAD : len(argv) - len(raw_output_args(fmt))]
    if len(inputs) < 2 or inputs[-2] != "-i":
        raise ParityError(f"cannot find the input in Vistter's ingest command: {inputs}")
    return inputs


def encode_output_args(choice: EncoderChoice, encoding: EncodingConfig, fps: int) -> list[str]:
    """Video and audio encoder options, as Vistter's encoder command has them."""
    candidate = choice.candidate
    return [
        *candidate.output_args(),
        *video_rate_args(encoding, candidate.encoder, fps),
        "-r", str(fps),
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2",
    ]  # fmt: skip


def check_parity(
    ffmpeg: FfmpegBinary, fmt: FrameFormat, encoding: EncodingConfig, choice: EncoderChoice
) -> None:
    """Raise :class:`ParityError` unless :func:`encode_output_args` is a contiguous part of
    the command line Vistter's encoder actor runs."""
    vistter_argv = encoder_command(ffmpeg, fmt, encoding, choice).argv
    ours = encode_output_args(choice, encoding, fmt.fps)
    if not _contains(vistter_argv, ours):
        raise ParityError(
            "the plain command's encoder options differ from Vistter's encoder command: "
            f"{ours} is not part of {vistter_argv}; update bench/plain_side.py"
        )
    if SILENCE not in vistter_argv:
        raise ParityError(f"Vistter's encoder no longer uses {SILENCE!r} for audio")


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    size = len(needle)
    return any(list(haystack[i : i + size]) == list(needle) for i in range(len(haystack)))


def tee_target(urls: Sequence[str]) -> str:
    """The ``tee`` muxer's output list: every URL as FLV, a failing one ignored."""
    for url in urls:
        if any(char in url for char in "|[]"):
            raise ValueError(f"{url!r} cannot be used in a tee output list")
    return "|".join(f"[f=flv:onfail=ignore]{url}" for url in urls)


def plain_command(
    ffmpeg: FfmpegBinary,
    camera: CameraConfig,
    fmt: FrameFormat,
    encoding: EncodingConfig,
    choice: EncoderChoice,
    *,
    overlay_png: Path,
    overlay_xy: tuple[int, int],
    urls: Sequence[str],
) -> list[str]:
    """The one ffmpeg command: camera + lower third -> x264 + AAC -> tee to ``urls``."""
    x, y = overlay_xy
    graph = (
        f"[0:v]{program_video_filter(fmt)}[camera];"
        f"[camera][1:v]overlay=x={x}:y={y}:eof_action=repeat:format=yuv420[program]"
    )
    return [
        ffmpeg.path, "-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats",
        *camera_input_args(ffmpeg, camera, fmt),
        "-i", str(overlay_png),
        "-f", "lavfi", "-i", SILENCE,
        "-filter_complex", graph,
        "-map", "[program]", "-map", "2:a:0",
        *encode_output_args(choice, encoding, fmt.fps),
        "-flags", "+global_header",
        "-f", "tee", tee_target(urls),
    ]  # fmt: skip
