"""Destination configuration: where the one encoded program is sent.

A destination is either an RTMP(S) publish to a platform (YouTube, Facebook, Twitch, or a
custom server) or a local recorder writing segment files. The ``platform`` field selects
which (a discriminated union).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vistter.models._types import Int, NonEmptyText, StrictModel, resolve_config_path
from vistter.models.env import destination_key_variable
from vistter.models.presets import PLATFORM_PRESETS, PlatformPreset
from vistter.models.problems import custom_error, field_error
from vistter.models.redact import redact_url

__all__ = ["Destination", "DestinationId", "RecorderDestination", "RtmpDestination"]

#: A destination id: letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit.
DestinationId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
]


class RtmpDestination(StrictModel):
    """An RTMP(S) publish: ``url`` (default: the platform's ingest) plus the stream key.

    The key is a write-only secret: it shows as ``**********`` in ``repr`` and dumps, and
    only :meth:`publish_url` (for ffmpeg) reveals it.
    """

    id: DestinationId
    platform: Literal["youtube", "facebook", "twitch", "custom_rtmp"]
    url: NonEmptyText | None = None
    stream_key: SecretStr | None = None
    enabled: bool = True

    @field_validator("stream_key")
    @classmethod
    def _clean_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value().strip()
        if not key:
            return None
        if any(char.isspace() for char in key) or "/" in key:
            raise custom_error(
                "the stream key contains spaces, line breaks or '/'",
                "Copy the key again from the platform's live dashboard.",
            )
        return SecretStr(key)

    @model_validator(mode="after")
    def _url_and_key(self) -> RtmpDestination:
        if self.url is None and self.preset.rtmp_url is None:
            raise field_error(
                "url",
                f"destination '{self.id}' needs a url",
                "Set url to the server's rtmp:// or rtmps:// address.",
            )
        if self.url is not None and not self.url.lower().startswith(("rtmp://", "rtmps://")):
            raise field_error(
                "url",
                f"the url of destination '{self.id}' is not rtmp:// or rtmps://",
                "Use the RTMP server address from the platform (rtmp://... or rtmps://...).",
            )
        if self.enabled and self.stream_key is None and self.preset.key_format == "stream_key":
            raise field_error(
                "stream_key",
                f"destination '{self.id}' ({self.platform}) has no stream key",
                f"Set stream_key, or the environment variable {self.key_variable}, "
                "or set enabled = false.",
            )
        return self

    @property
    def preset(self) -> PlatformPreset:
        """The platform's ingest URL, bitrate limit and recommended keyframe interval."""
        return PLATFORM_PRESETS[self.platform]

    @property
    def rtmp_url(self) -> str:
        """The server URL without the key."""
        url = self.url or self.preset.rtmp_url
        assert url is not None  # guaranteed by validation
        return url

    @property
    def max_bitrate(self) -> int | None:
        """The most the platform accepts, in kbps (``None``: no known limit)."""
        return self.preset.max_bitrate

    @property
    def key_variable(self) -> str:
        """The environment variable that can hold this destination's stream key."""
        return destination_key_variable(self.id)

    def publish_url(self) -> str:
        """The full URL ffmpeg publishes to. Contains the stream key: never log it."""
        if self.stream_key is None:
            return self.rtmp_url
        return f"{self.rtmp_url.rstrip('/')}/{self.stream_key.get_secret_value()}"

    @property
    def display_url(self) -> str:
        """The publish URL with the key masked, safe to show and log."""
        return redact_url(self.publish_url(), has_stream_key=self.stream_key is not None)


class RecorderDestination(StrictModel):
    """Local recording into ``path`` (a folder), cut into files of ``segment_seconds``."""

    id: DestinationId
    platform: Literal["recorder"]
    path: Path
    segment_seconds: Annotated[Int, Field(ge=10, le=86_400)] = 600
    enabled: bool = True

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_config_path(value, info)

    @property
    def display_url(self) -> str:
        """Where the recordings go, for status and logs."""
        return str(self.path)


Destination = Annotated[RtmpDestination | RecorderDestination, Field(discriminator="platform")]
