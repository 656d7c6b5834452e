"""Camera configuration: where a camera's stream comes from and how to move it (PTZ)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator

from vistter.models._types import (
    Int,
    NonEmptyText,
    NonNegativeSeconds,
    PositiveSeconds,
    StrictModel,
)
from vistter.models.env import camera_password_variable
from vistter.models.problems import custom_error
from vistter.models.redact import redact_url

__all__ = ["LAVFI_PREFIX", "CameraConfig", "PtzConfig"]

#: Prefix of a simulated camera: ``lavfi:testsrc2=size=1280x720:rate=30``.
LAVFI_PREFIX = "lavfi:"
_AUTH_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https", "rtmp", "rtmps"})


class PtzConfig(StrictModel):
    """ONVIF pan-tilt-zoom control of a camera.

    ``presets`` maps the names timelines use (``preset_id``) to the camera's ONVIF preset
    tokens; ``settle_time`` is how long the camera needs to stop moving after a preset move.
    """

    host: NonEmptyText
    port: Annotated[Int, Field(ge=1, le=65_535)] = 80
    username: str | None = None
    password: SecretStr | None = None
    presets: dict[str, NonEmptyText] = Field(default_factory=dict)
    settle_time: NonNegativeSeconds = 2.0


class CameraConfig(StrictModel):
    """One camera: an ffmpeg input URL (RTSP, ... or ``lavfi:`` for a simulated one).

    Credentials go in ``username``/``password`` (or ``VISTTER_CAMERA_<ID>_PASSWORD``), never
    in the URL, so the URL can be shown and logged as is.
    """

    id: Annotated[Int, Field(ge=1)]
    name: str | None = None
    url: NonEmptyText
    username: str | None = None
    password: SecretStr | None = None
    transport: Literal["tcp", "udp"] = "tcp"
    backup_camera_id: Annotated[Int, Field(ge=1)] | None = None
    stall_timeout: PositiveSeconds = 0.5
    ptz: PtzConfig | None = None

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        if value.startswith(LAVFI_PREFIX):
            if not value[len(LAVFI_PREFIX) :].strip():
                raise custom_error(
                    "the lavfi source is empty",
                    "Write a lavfi graph after 'lavfi:', "
                    "e.g. lavfi:testsrc2=size=1280x720:rate=30.",
                )
            return value
        try:
            netloc = urlsplit(value).netloc
        except ValueError:
            raise custom_error(
                "the camera url cannot be parsed", "Write a URL such as rtsp://host:554/stream."
            ) from None
        if "@" in netloc:
            raise custom_error(
                "the camera url contains credentials",
                "Remove user:password@ from the url and set username and password instead "
                "(or the environment variable VISTTER_CAMERA_<ID>_PASSWORD).",
            )
        return value

    @property
    def label(self) -> str:
        """The name an operator sees: ``name``, else ``Camera <id>``."""
        return self.name or f"Camera {self.id}"

    @property
    def is_lavfi(self) -> bool:
        """True for a simulated camera made from an ffmpeg lavfi source."""
        return self.url.startswith(LAVFI_PREFIX)

    @property
    def lavfi_graph(self) -> str:
        """The lavfi graph (``testsrc2=size=...``); raises ``ValueError`` for real cameras."""
        if not self.is_lavfi:
            raise ValueError(f"camera {self.id} is not a lavfi source")
        return self.url[len(LAVFI_PREFIX) :]

    @property
    def password_variable(self) -> str:
        """The environment variable that can hold this camera's password."""
        return camera_password_variable(self.id)

    @property
    def display_url(self) -> str:
        """The URL safe to show and log."""
        return redact_url(self.url)

    def authenticated_url(self) -> str:
        """The URL with ``username:password@`` inserted, for ffmpeg only.

        Contains the password in clear text: never log it or put it in a status.
        """
        if self.is_lavfi or not self.username:
            return self.url
        parts = urlsplit(self.url)
        if parts.scheme.lower() not in _AUTH_SCHEMES:
            return self.url
        userinfo = quote(self.username, safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password.get_secret_value(), safe="")
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))
