"""Metadata of a media file: image dimensions, video and audio duration and streams.

Images are read with Pillow (which also checks the file decodes: a truncated PNG fails).
Video and audio are read with PyAV when it is installed, else by parsing the stream summary
``ffmpeg -i FILE`` prints (the bundled imageio-ffmpeg binary or the one given). Both give the
same keys: ``duration`` (seconds), ``width``, ``height``, ``fps``, ``video_codec``,
``audio_codec``, ``sample_rate``, ``channels``; a key is left out when the file does not say.

Everything runs in the calling thread. The ffmpeg probe is a short-lived process bounded by
a timeout (``subprocess.run`` kills it then), not an owned process: it cannot outlive the call.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image

from vistter.store.errors import AssetUnreadableError
from vistter.store.sniff import MediaType
from vistter.supervisors.child_env import child_environment

__all__ = ["PROBE_TIMEOUT", "parse_ffmpeg_info", "probe_media", "probe_with_ffmpeg"]

PROBE_TIMEOUT = 20.0

_DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)(.*)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)(.*)")
_SIZE = re.compile(r", (\d{1,5})x(\d{1,5})\b")
_FPS = re.compile(r", (\d+(?:\.\d+)?) fps")
_RATE = re.compile(r", (\d+) Hz")
_CHANNEL_NAMES = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}


def probe_media(path: Path, media: MediaType, *, ffmpeg: str | None = None) -> dict[str, Any]:
    """Metadata of the file at ``path`` whose content is ``media``.

    Raises :class:`AssetUnreadableError` when the file cannot be decoded as that type.
    """
    if media.kind == "image":
        return _probe_image(path, media)
    if ffmpeg is None:
        try:
            return _probe_with_pyav(path, media)
        except ImportError:
            pass
    return probe_with_ffmpeg(path, media, ffmpeg=ffmpeg)


def _unreadable(media: MediaType, reason: str) -> AssetUnreadableError:
    return AssetUnreadableError(
        f"the file starts like {media.label} but cannot be read: {reason}.",
        hint="The upload may be truncated or corrupt; export or save it again and re-upload.",
    )


def _probe_image(path: Path, media: MediaType) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                frames = int(getattr(image, "n_frames", 1))
                image_format = image.format
                image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:  # fmt: skip
        raise _unreadable(media, str(error) or type(error).__name__) from None
    metadata: dict[str, Any] = {"width": width, "height": height, "format": image_format}
    if frames > 1:
        metadata["frames"] = frames
    return metadata


def _probe_with_pyav(path: Path, media: MediaType) -> dict[str, Any]:
    import av  # noqa: PLC0415 - optional: PyAV is used when installed, else ffmpeg is probed

    try:
        with av.open(str(path)) as container:
            metadata: dict[str, Any] = {}
            if container.duration is not None:
                metadata["duration"] = round(container.duration / av.time_base, 3)
            if container.streams.video:
                video = container.streams.video[0]
                metadata["width"] = video.codec_context.width
                metadata["height"] = video.codec_context.height
                rate = video.average_rate or video.guessed_rate
                if rate:
                    metadata["fps"] = round(float(Fraction(rate)), 3)
                metadata["video_codec"] = video.codec_context.codec.canonical_name
            if container.streams.audio:
                audio = container.streams.audio[0]
                metadata["audio_codec"] = audio.codec_context.codec.canonical_name
                metadata["sample_rate"] = audio.codec_context.sample_rate
                metadata["channels"] = len(audio.codec_context.layout.channels)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise _unreadable(media, str(error)) from None
    return _checked(metadata, media)


def probe_with_ffmpeg(
    path: Path, media: MediaType, *, ffmpeg: str | None = None, timeout: float = PROBE_TIMEOUT
) -> dict[str, Any]:
    """Metadata from ``ffmpeg -i path`` (the bundled ffmpeg unless ``ffmpeg`` is given)."""
    if ffmpeg is None:
        import imageio_ffmpeg  # noqa: PLC0415 - only needed without PyAV

        ffmpeg = str(imageio_ffmpeg.get_ffmpeg_exe())
    try:
        result = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _unreadable(media, f"ffmpeg did not finish probing it in {timeout:g} s") from None
    except OSError as error:
        raise AssetUnreadableError(
            f"cannot run ffmpeg ({ffmpeg}) to read the file: {error.strerror or error}.",
            hint="Install PyAV (pip install av) or fix the ffmpeg path in the configuration.",
        ) from None
    return _checked(parse_ffmpeg_info(result.stderr.decode("utf-8", "replace")), media)


def parse_ffmpeg_info(text: str) -> dict[str, Any]:
    """Metadata from the input summary ``ffmpeg -i`` prints on stderr."""
    metadata: dict[str, Any] = {}
    if "Input #0" not in text:
        return metadata
    duration = _DURATION.search(text)
    if duration is not None:
        hours, minutes, seconds = duration.groups()
        metadata["duration"] = round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)
    video = _VIDEO.search(text)
    if video is not None:
        metadata["video_codec"] = video.group(1)
        rest = video.group(2)
        size = _SIZE.search(rest)
        if size is not None:
            metadata["width"], metadata["height"] = int(size.group(1)), int(size.group(2))
        fps = _FPS.search(rest)
        if fps is not None:
            metadata["fps"] = float(fps.group(1))
    audio = _AUDIO.search(text)
    if audio is not None:
        metadata["audio_codec"] = audio.group(1)
        rest = audio.group(2)
        rate = _RATE.search(rest)
        if rate is not None:
            metadata["sample_rate"] = int(rate.group(1))
            layout = rest[rate.end() :].split(",", 2)
            channels = _channels(layout[1].strip() if len(layout) > 1 else "")
            if channels is not None:
                metadata["channels"] = channels
    return metadata


def _channels(layout: str) -> int | None:
    word = layout.split("(", 1)[0].strip()
    if word in _CHANNEL_NAMES:
        return _CHANNEL_NAMES[word]
    match = re.fullmatch(r"(\d+) channels", word)
    return int(match.group(1)) if match else None


def _checked(metadata: dict[str, Any], media: MediaType) -> dict[str, Any]:
    has_video = "video_codec" in metadata
    has_audio = "audio_codec" in metadata
    if media.kind == "video" and not (has_video or (media.family and has_audio)):
        raise _unreadable(media, "no video stream was found in it")
    if media.kind == "audio" and not has_audio:
        raise _unreadable(media, "no audio stream was found in it")
    return metadata
