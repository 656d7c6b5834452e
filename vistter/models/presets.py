"""Built-in presets: streaming platforms and encoding profiles, exactly as in the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "ENCODING_PROFILES",
    "PLATFORM_PRESETS",
    "X264_PRESETS",
    "EncodingProfile",
    "PlatformPreset",
]


@dataclass(frozen=True)
class PlatformPreset:
    """Where and how a platform takes an RTMP stream.

    ``rtmp_url`` is ``None`` when the user provides it (custom RTMP); ``max_bitrate`` is in
    kbps (``None``: no limit); ``recommended_keyframe`` is the keyframe interval in seconds.
    """

    rtmp_url: str | None
    key_format: Literal["stream_key", "optional"]
    max_bitrate: int | None
    recommended_keyframe: int


PLATFORM_PRESETS: Mapping[str, PlatformPreset] = MappingProxyType(
    {
        "youtube": PlatformPreset("rtmp://a.rtmp.youtube.com/live2", "stream_key", 8000, 2),
        "facebook": PlatformPreset(
            "rtmps://live-api-s.facebook.com:443/rtmp", "stream_key", 4000, 2
        ),
        "twitch": PlatformPreset("rtmp://live.twitch.tv/app", "stream_key", 6000, 2),
        "custom_rtmp": PlatformPreset(None, "optional", None, 2),
    }
)


@dataclass(frozen=True)
class EncodingProfile:
    """The encoder settings of a named profile (bitrates in kbps, keyframe interval in s)."""

    bitrate_kbps: int
    bitrate_mode: Literal["cbr", "vbr"]
    keyframe_interval: int
    bufsize_kbps: int
    preset: str
    h264_profile: Literal["baseline", "main", "high"]
    level: str


ENCODING_PROFILES: Mapping[str, EncodingProfile] = MappingProxyType(
    {
        "reliability": EncodingProfile(4500, "cbr", 2, 9000, "fast", "main", "4.1"),
        "quality": EncodingProfile(6000, "vbr", 4, 12000, "medium", "high", "4.2"),
    }
)

#: The x264 speed presets, fastest first.
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
