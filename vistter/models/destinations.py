"""Destination configuration: where the one encoded program is sent.

A destination is an RTMP(S) publish to a platform (YouTube, Facebook, Twitch, or a custom
server), an SRT publish (caller mode) to an SRT listener, or a local recorder writing segment
files. The ``platform`` field selects which (a discriminated union); each model's ``kind``
names its entry in the output registry (:mod:`vistter.actors.outputs.registry`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

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
from vistter.models.redact import MASK, redact_url, split_rtmp_key

__all__ = [
    "SESSION_LIMIT_HOURS",
    "AnyDestination",
    "Destination",
    "DestinationId",
    "LiveDestination",
    "RecorderDestination",
    "RtmpDestination",
    "SrtDestination",
]

logger = logging.getLogger(__name__)

#: A destination id: letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit.
DestinationId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
]


#: How long a platform lets one live video run (hours) before it ends it; a destination
#: reconnects at a quiet moment before that (:mod:`vistter.actors.outputs.session_limit`).
SESSION_LIMIT_HOURS: dict[str, float] = {"facebook": 8.0, "twitch": 48.0}


class RtmpDestination(StrictModel):
    """An RTMP(S) publish: ``url`` (default: the platform's ingest) plus the stream key.

    The key is a write-only secret: it shows as ``**********`` in ``repr`` and dumps, and
    only :meth:`publish_url` (for ffmpeg) reveals it.
    """

    kind: ClassVar[str] = "rtmp"

    id: DestinationId
    platform: Literal["youtube", "facebook", "twitch", "custom_rtmp"]
    url: NonEmptyText | None = None
    stream_key: SecretStr | None = None
    enabled: bool = True
    max_session_hours: Annotated[float, Field(ge=0, le=8760)] | None = None
    """Reconnect (planned, at a cut) before one publish session lasts this long; None: the
    platform's limit (Facebook 8, Twitch 48, others none); 0: never."""
    reconnect_margin_minutes: Annotated[float, Field(gt=0, le=600)] = 10.0
    """How long before the limit the planned reconnect starts looking for a quiet moment."""

    @model_validator(mode="before")
    @classmethod
    def _key_out_of_url(cls, data: Any) -> Any:
        """A stream key pasted at the end of ``url`` (``rtmp://host/app/KEY``, no
        ``stream_key``) is moved into ``stream_key``, so it is a write-only secret from then
        on (the publish URL stays the same). Logged as a warning, without the key."""
        if not isinstance(data, dict):
            return data
        url, key = data.get("url"), data.get("stream_key")
        if not isinstance(url, str) or key not in (None, ""):
            return data
        server, found = split_rtmp_key(url.strip())
        if found is None:
            return data
        logger.warning(
            "destination '%s': a stream key was found at the end of its url (%s); it is now "
            "kept as the secret stream_key. Put it in stream_key (or %s) next time.",
            data.get("id"), redact_url(url), destination_key_variable(str(data.get("id"))),
        )  # fmt: skip
        return {**data, "url": server, "stream_key": found}

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
                "or set enabled = false. (A key pasted at the end of url, "
                "rtmp://HOST/APP/KEY, is taken out of it and kept as the secret stream_key.)",
            )
        self._check_session_limit()
        return self

    def _check_session_limit(self) -> None:
        platform_limit = SESSION_LIMIT_HOURS.get(self.platform)
        hours = self.max_session_hours
        if hours is not None and platform_limit is not None and hours > platform_limit:
            raise field_error(
                "max_session_hours",
                f"destination '{self.id}': {self.platform} ends a live video after "
                f"{platform_limit:g} hours, so max_session_hours ({hours:g}) must be at most "
                f"{platform_limit:g}",
                f"Set max_session_hours to {platform_limit:g} or less, or leave it out.",
            )
        limit = self.session_limit_seconds
        if limit is not None and self.reconnect_margin_minutes * 60 >= limit:
            raise field_error(
                "reconnect_margin_minutes",
                f"destination '{self.id}': reconnect_margin_minutes "
                f"({self.reconnect_margin_minutes:g}) must be shorter than the session limit "
                f"({limit / 60:g} minutes)",
                "Lower reconnect_margin_minutes or raise max_session_hours.",
            )

    @property
    def session_limit_seconds(self) -> float | None:
        """How long one publish session may last (None: no limit)."""
        hours = self.max_session_hours
        if hours is None:
            hours = SESSION_LIMIT_HOURS.get(self.platform)
        return None if not hours else hours * 3600.0

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
        if self.stream_key is None:
            return redact_url(self.rtmp_url)
        return f"{redact_url(self.rtmp_url).rstrip('/')}/{MASK}"


#: SRT passphrase length (libsrt: 10 to 79 characters; 0 turns encryption off).
SRT_PASSPHRASE_LENGTH = (10, 79)
_SRT_SECRET_QUERY = ("passphrase", "streamid", "srt_streamid")


class SrtDestination(StrictModel):
    """An SRT publish in caller mode: ``srt://HOST:PORT?option=value...`` plus a passphrase.

    The passphrase is a write-only secret like a stream key: ``**********`` in ``repr`` and
    dumps; only :meth:`passphrase_value` (for ffmpeg) reveals it. It must not be written in
    the URL. The ``streamid`` query option often carries a platform's key, so
    :attr:`display_url` masks it too.
    """

    kind: ClassVar[str] = "srt"

    id: DestinationId
    platform: Literal["srt"]
    url: NonEmptyText
    passphrase: SecretStr | None = None
    enabled: bool = True

    @field_validator("passphrase")
    @classmethod
    def _clean_passphrase(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        low, high = SRT_PASSPHRASE_LENGTH
        if not low <= len(value.get_secret_value()) <= high:
            raise custom_error(
                f"the SRT passphrase must be {low} to {high} characters long",
                "Use the same passphrase as the SRT listener (10 to 79 characters).",
            )
        return value

    @model_validator(mode="after")
    def _caller_url(self) -> SrtDestination:
        problem = srt_url_problem(self.url)
        if problem is not None:
            raise field_error("url", f"the url of destination '{self.id}' {problem}",
                              "Write it as srt://HOST:PORT, options after '?' "
                              "(e.g. srt://203.0.113.5:9000?latency=200000).")
        return self

    @property
    def endpoint(self) -> tuple[str, int]:
        """``(host, port)`` of the SRT listener."""
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None  # validated
        return parts.hostname, parts.port

    @property
    def max_bitrate(self) -> int | None:
        """An SRT listener has no platform limit known to Vistter."""
        return None

    def publish_url(self) -> str:
        """The URL ffmpeg publishes to (no passphrase in it: see :meth:`passphrase_value`).
        It may carry a ``streamid`` secret: never log it."""
        return self.url

    def passphrase_value(self) -> str | None:
        """The passphrase, for ffmpeg only. Never log it."""
        return None if self.passphrase is None else self.passphrase.get_secret_value()

    @property
    def display_url(self) -> str:
        """The URL with its secret-looking options masked, safe to show and log."""
        return _mask_query(redact_url(self.url), _SRT_SECRET_QUERY)

    @classmethod
    def from_url(cls, url: str, destination_id: str) -> SrtDestination:
        """An SRT destination for ``srt://host:port?...`` (``vistter run --to``); a
        ``passphrase`` option in the URL is taken out of it and kept as the secret."""
        parts = urlsplit(url)
        options = parts.query.split("&") if parts.query else []
        secret = [o for o in options if o.partition("=")[0] == "passphrase"]
        passphrase = unquote(secret[-1].partition("=")[2]) if secret else None
        rest = "&".join(o for o in options if o not in secret)
        clean = parts._replace(query=rest).geturl()
        return cls(id=destination_id, platform="srt", url=clean,
                   passphrase=None if passphrase is None else SecretStr(passphrase))


def srt_url_problem(url: str) -> str | None:
    """What is wrong with an SRT caller URL, or None. Never raises."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() != "srt":
        return "is not srt://"
    if not parts.hostname or port is None:
        return "needs a host and a port (srt://HOST:PORT)"
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if options.get("mode", "caller") != "caller":
        return "must use caller mode (Vistter connects to the SRT listener)"
    if "passphrase" in options:
        return "must not carry the passphrase (set the passphrase field: it is kept secret)"
    return None


def _mask_query(url: str, names: tuple[str, ...]) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        f"{name}={MASK if name.lower() in names else value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return parts._replace(query="&".join(pairs)).geturl()


class RecorderDestination(StrictModel):
    """Local recording into ``path`` (a folder), cut into files of ``segment_seconds``."""

    kind: ClassVar[str] = "recorder"

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

    @property
    def max_bitrate(self) -> int | None:
        """A recorder takes any bitrate."""
        return None


AnyDestination = RtmpDestination | SrtDestination | RecorderDestination
#: Any configured destination, chosen by its ``platform``.
Destination = Annotated[AnyDestination, Field(discriminator="platform")]
#: A destination the control API may add while live (a recorder's folder belongs in the file).
LiveDestination = Annotated[RtmpDestination | SrtDestination, Field(discriminator="platform")]
