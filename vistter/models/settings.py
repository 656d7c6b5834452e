"""Appliance settings: encoding, control API, telemetry bus and folders."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from vistter.models._types import (
    Int,
    NonEmptyText,
    NonNegativeSeconds,
    PositiveSeconds,
    StrictModel,
    resolve_config_path,
)
from vistter.models.assets import AssetPathError, check_reference
from vistter.models.presets import ENCODING_PROFILES, X264_PRESETS
from vistter.models.problems import custom_error
from vistter.passwords import ADMIN_PASSWORD_VARIABLE, check_password_hash

__all__ = ["ApiConfig", "EncodingConfig", "PathsConfig", "ShowConfig", "TelemetryConfig"]

_MIB = 1024 * 1024


class EncodingConfig(StrictModel):
    """The one program encode.

    ``profile`` picks the spec's defaults (``reliability``: CBR 4500 kbps, keyframe every 2 s;
    ``quality``: VBR 6000 kbps, keyframe every 4 s); any field given explicitly wins. When
    ``bitrate_kbps`` is given without ``bufsize_kbps``, the buffer is twice the bitrate.
    ``encoder`` is ``auto`` (detect a hardware encoder, else libx264) or an ffmpeg encoder
    name; ``ffmpeg_path`` (or ``VISTTER_FFMPEG``) replaces the bundled ffmpeg.
    """

    profile: Literal["reliability", "quality"] = "reliability"
    bitrate_kbps: Annotated[Int, Field(ge=100, le=100_000)] = 4500
    bitrate_mode: Literal["cbr", "vbr"] = "cbr"
    keyframe_interval: Annotated[PositiveSeconds, Field(le=20)] = 2
    bufsize_kbps: Annotated[Int, Field(ge=100, le=400_000)] = 9000
    preset: str = "fast"
    h264_profile: Literal["baseline", "main", "high"] = "main"
    level: Annotated[str, Field(pattern=r"^[1-6](\.[0-9])?$")] = "4.1"
    encoder: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")] = "auto"
    ffmpeg_path: Path | None = None
    audio_bed: Path | None = None
    """An audio file looped under the program instead of silence (relative to the config)."""
    width: Annotated[Int, Field(ge=160, le=3840)] = 1280
    height: Annotated[Int, Field(ge=90, le=2160)] = 720
    fps: Annotated[Int, Field(ge=1, le=60)] = 30
    restart_buffer_seconds: Annotated[float, Field(ge=0, le=10)] = 2.0
    """Program frames kept while the encoder restarts (encoded when it is back, so no frame
    is lost); 2 s at 720p30 holds up to ~83 MB meanwhile."""

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        profile = ENCODING_PROFILES.get(str(data.get("profile", "reliability")))
        if profile is None:
            return data  # the profile field reports the unknown name
        filled = dict(data)
        for name, value in asdict(profile).items():
            filled.setdefault(name, value)
        bitrate = data.get("bitrate_kbps")
        if "bufsize_kbps" not in data and isinstance(bitrate, int):
            filled["bufsize_kbps"] = 2 * bitrate
        return filled

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in X264_PRESETS:
            raise custom_error(
                f"'{value}' is not an encoder preset",
                f"Use one of {', '.join(X264_PRESETS)} (faster presets use less CPU).",
            )
        return value

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise custom_error(f"{value} is odd", "Use an even number of pixels (yuv420p).")
        return value

    @field_validator("ffmpeg_path")
    @classmethod
    def _resolve_ffmpeg(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None or len(value.parts) == 1:
            return value  # a bare name is looked up on PATH
        return resolve_config_path(value, info)

    @field_validator("audio_bed")
    @classmethod
    def _audio_bed_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = resolve_config_path(value, info)
        if not path.is_file():
            raise custom_error(
                f"the audio bed {path} does not exist",
                "Point encoding.audio_bed at an audio file (MP3, AAC, WAV), or remove it for "
                "a silent track.",
            )
        return path

    @property
    def resolution(self) -> str:
        """``"1280x720"``."""
        return f"{self.width}x{self.height}"

    @property
    def keyframe_frames(self) -> int:
        """The GOP length in frames."""
        return max(1, round(self.keyframe_interval * self.fps))


class ApiConfig(StrictModel):
    """The control API: where it listens, its bearer token, the console's admin password and
    request size limits.

    ``max_upload_bytes`` bounds one upload (413 beyond it); ``max_inflight_upload_bytes``
    bounds what all uploads in progress hold on disk together (507 beyond it).

    Listening beyond loopback without a ``token`` or an admin password is refused at start.
    """

    host: NonEmptyText = "127.0.0.1"
    port: Annotated[Int, Field(ge=0, le=65_535)] = 8080
    token: SecretStr | None = None
    max_body_bytes: Annotated[Int, Field(ge=1024)] = 1 * _MIB
    max_upload_bytes: Annotated[Int, Field(ge=1024)] = 64 * _MIB
    max_inflight_upload_bytes: Annotated[Int, Field(ge=1024)] = 256 * _MIB
    """Bytes all uploads being received at once may hold on disk (beyond it: 507)."""
    admin_password_hash: SecretStr | None = None
    """The argon2 hash of the console's admin password (``vistter hash-password`` prints it;
    ``VISTTER_ADMIN_PASSWORD`` is hashed into it at start). Set: the page asks to log in."""
    session_lifetime: Annotated[PositiveSeconds, Field(le=7 * 86_400)] = 12 * 3600
    """Seconds a console login lasts; then the page asks for the password again."""
    login_attempts: Annotated[Int, Field(ge=1, le=1000)] = 5
    """Wrong passwords one client address may try per ``login_window``; then 429."""
    login_window: Annotated[PositiveSeconds, Field(le=86_400)] = 60

    @field_validator("token", "admin_password_hash")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("admin_password_hash")
    @classmethod
    def _argon2_hash(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            check_password_hash(value.get_secret_value().strip())
        except ValueError as error:
            raise custom_error(
                f"the admin password hash is not usable: {error}",
                "Run 'vistter hash-password', type the password, and paste the line it prints "
                f"here; or set {ADMIN_PASSWORD_VARIABLE} in the environment instead.",
            ) from None
        return SecretStr(value.get_secret_value().strip())

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can connect."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class TelemetryConfig(StrictModel):
    """The ZeroMQ PUB endpoint of the telemetry bus and the system sampling period."""

    endpoint: NonEmptyText = "tcp://127.0.0.1:5556"
    system_interval: PositiveSeconds = 5

    @field_validator("endpoint")
    @classmethod
    def _zmq_endpoint(cls, value: str) -> str:
        if not value.startswith(("tcp://", "ipc://", "inproc://")):
            raise custom_error(
                "the telemetry endpoint is not a ZeroMQ address",
                "Write tcp://HOST:PORT (e.g. tcp://127.0.0.1:5556) or ipc:///path.",
            )
        return value


class PathsConfig(StrictModel):
    """Folders, relative to the configuration file: assets (images, media) and data
    (database, recordings, uploads)."""

    assets_dir: Path = Field(default=Path("../assets"), validate_default=True)
    data_dir: Path = Field(default=Path("../var"), validate_default=True)

    @field_validator("assets_dir", "data_dir")
    @classmethod
    def _absolute(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_config_path(value, info)


class ShowConfig(StrictModel):
    """What plays when the appliance starts.

    ``timeline`` is a timeline file in the spec's JSON format (relative to the configuration
    file), loaded and ready when the appliance starts; with ``autostart`` the show goes live
    on it as soon as the appliance is up, and with ``loop`` it starts over at its end (the
    spec's looping timeline). Platform destinations (RTMP, SRT) publish only while the show
    is live, unless ``always_on_air`` keeps them publishing all the time (the slate between
    shows: a 24/7 appliance). ``starting_soon`` is an image of the assets folder (such as
    ``starting_soon.png``, shipped) the platforms receive during a GO LIVE countdown, from its
    start to the show's first frame; unset, they receive nothing until the show's first frame.
    ``start_grace`` is how long a camera that is still *starting* (connecting, no frame yet,
    as at go-live right after start-up) is waited for on the slate before the program cuts to
    its backup; a camera that fails (offline) falls back at once.
    """

    timeline: Path | None = None
    autostart: bool = False
    loop: bool = True
    always_on_air: bool = False
    starting_soon: str | None = None
    start_grace: Annotated[NonNegativeSeconds, Field(le=60)] = 5
    """Seconds a starting camera is waited for on the slate (an RTSP camera's first frame
    takes 1-3 s); 0: a camera without a picture falls back to its backup at once."""

    @field_validator("starting_soon")
    @classmethod
    def _an_asset(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            check_reference(value.strip())
        except AssetPathError as error:
            raise custom_error(
                f"the starting-soon slate must be an image of the assets folder: {error}",
                'Name a file of the assets folder, e.g. starting_soon = "starting_soon.png".',
            ) from None
        return value.strip()

    @field_validator("timeline")
    @classmethod
    def _absolute(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_config_path(value, info)
