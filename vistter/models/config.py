"""The appliance configuration: cameras, destinations, encoding, API, telemetry, folders.

Loaded from a TOML file by :func:`load_config`; secrets may come from the environment
instead (see :mod:`vistter.models.env`). Relative paths in the file are relative to the
file's folder. Every problem found is reported at once, in a :class:`ConfigInvalid` whose
message never contains a secret.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from vistter.errors import ConfigError
from vistter.models._types import DEFAULT_CONFIG_DIR, StrictModel
from vistter.models.alerts import AlertsConfig, WebhookRetry
from vistter.models.cameras import CameraConfig, PtzConfig
from vistter.models.degraded import DegradedConfig
from vistter.models.destinations import (
    AnyDestination,
    Destination,
    RecorderDestination,
    RtmpDestination,
    SrtDestination,
)
from vistter.models.env import apply_env_overrides, env_token
from vistter.models.network import NetworkConfig
from vistter.models.preview import PreviewOutput
from vistter.models.problems import Problem, custom_error, problems_from_validation_error
from vistter.models.redact import redact_url
from vistter.models.settings import (
    ApiConfig,
    EncodingConfig,
    PathsConfig,
    ShowConfig,
    TelemetryConfig,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ApplianceConfig",
    "ConfigInvalid",
    "check_destination_bitrate",
    "load_config",
    "parse_config",
    "redact_url",
]

#: The built-in demo configuration, used when no file is given.
DEFAULT_CONFIG_PATH = DEFAULT_CONFIG_DIR / "demo.toml"

_FIELD_HINTS = {
    "stall_timeout": "Seconds without a new frame before a camera counts as stalled, e.g. 0.5.",
    "bitrate_kbps": "The program bitrate in kbps, e.g. 4500.",
    "port": "Use a TCP port number between 1 and 65535.",
}


class ConfigInvalid(ConfigError):  # noqa: N818 - reads as a state, like TimelineInvalid
    """The configuration does not pass validation; ``problems`` lists everything found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "; ".join(f"{p.path or '(document)'}: {p.message}" for p in problems)
        hints = " ".join(dict.fromkeys(p.hint for p in problems if p.hint))
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"{source} has {count}: {listing}.", hint=hints)


def check_destination_bitrate(
    destination: AnyDestination, encoding: EncodingConfig, path: str = "encoding.bitrate_kbps"
) -> Problem | None:
    """A problem when the program bitrate is more than the destination's platform accepts."""
    limit = destination.max_bitrate
    if limit is None or encoding.bitrate_kbps <= limit:
        return None
    return Problem(
        path=path,
        message=(
            f"destination '{destination.id}' ({destination.platform}) accepts at most "
            f"{limit} kbps, but the program is encoded at {encoding.bitrate_kbps} kbps"
        ),
        hint=(
            f"Lower encoding.bitrate_kbps to {limit} or less, or use a lower profile, "
            f"or set enabled = false on destination '{destination.id}'."
        ),
    )


class ApplianceConfig(StrictModel):
    """Everything the appliance needs to know besides the timeline."""

    cameras: tuple[CameraConfig, ...] = ()
    destinations: tuple[Destination, ...] = ()
    encoding: EncodingConfig = Field(default_factory=EncodingConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    show: ShowConfig = Field(default_factory=ShowConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    preview: PreviewOutput = Field(default_factory=PreviewOutput)
    degraded: DegradedConfig = Field(default_factory=DegradedConfig)

    @model_validator(mode="after")
    def _consistent(self) -> ApplianceConfig:
        problems = [*self._camera_problems(), *self._destination_problems()]
        if problems:
            raise custom_error(
                "; ".join(p.message for p in problems), problems[0].hint, problems=problems
            )
        return self

    def _camera_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        seen: set[int] = set()
        for index, camera in enumerate(self.cameras):
            if camera.id in seen:
                problems.append(
                    Problem(
                        f"cameras[{index}].id",
                        f"camera id {camera.id} is used twice",
                        "Give every camera its own id.",
                    )
                )
            seen.add(camera.id)
        for index, camera in enumerate(self.cameras):
            backup = camera.backup_camera_id
            path = f"cameras[{index}].backup_camera_id"
            if backup == camera.id:
                problems.append(
                    Problem(
                        path,
                        f"camera {camera.id} is its own backup",
                        "Name a different camera as backup, or remove backup_camera_id.",
                    )
                )
            elif backup is not None and backup not in seen:
                problems.append(
                    Problem(
                        path,
                        f"camera {camera.id} has backup camera {backup}, which is not configured",
                        f"Use one of the configured camera ids ({_ids(seen)}), or add camera "
                        f"{backup}.",
                    )
                )
        return problems

    def _destination_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        seen_ids: set[str] = set()
        seen_tokens: dict[str, str] = {}
        for index, destination in enumerate(self.destinations):
            path = f"destinations[{index}].id"
            token = env_token(destination.id)
            if destination.id in seen_ids:
                problems.append(
                    Problem(
                        path,
                        f"destination id '{destination.id}' is used twice",
                        "Give every destination its own id.",
                    )
                )
            elif token in seen_tokens:
                problems.append(
                    Problem(
                        path,
                        f"destination ids '{seen_tokens[token]}' and '{destination.id}' share "
                        "the same environment variable names",
                        "Rename one so they differ in more than punctuation and case.",
                    )
                )
            seen_ids.add(destination.id)
            seen_tokens.setdefault(token, destination.id)
            if isinstance(destination, RtmpDestination) and destination.enabled:
                problem = check_destination_bitrate(destination, self.encoding)
                if problem is not None:
                    problems.append(problem)
        return problems

    @property
    def camera_ids(self) -> frozenset[int]:
        return frozenset(camera.id for camera in self.cameras)

    def find_camera(self, camera_id: int) -> CameraConfig | None:
        """The camera with this id, or ``None``."""
        return next((camera for camera in self.cameras if camera.id == camera_id), None)

    def find_destination(self, destination_id: str) -> AnyDestination | None:
        """The destination with this id, or ``None``."""
        return next((d for d in self.destinations if d.id == destination_id), None)

    @property
    def enabled_destinations(self) -> tuple[AnyDestination, ...]:
        return tuple(d for d in self.destinations if d.enabled)

    def warnings(self) -> list[str]:
        """Things that work but are not recommended (for the pre-flight checklist)."""
        notes: list[str] = []
        for destination in self.enabled_destinations:
            if not isinstance(destination, RtmpDestination):
                continue
            recommended = destination.preset.recommended_keyframe
            if self.encoding.keyframe_interval > recommended:
                notes.append(
                    f"destination '{destination.id}' recommends a keyframe every "
                    f"{recommended} s; the program has one every "
                    f"{self.encoding.keyframe_interval} s (set encoding.keyframe_interval)."
                )
        return notes


def _ids(ids: set[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids)) or "none yet"


def _field_names() -> frozenset[str]:
    models: list[type[StrictModel]] = [
        ApplianceConfig, CameraConfig, PtzConfig, RtmpDestination, SrtDestination,
        RecorderDestination,
        EncodingConfig, ApiConfig, TelemetryConfig, PathsConfig, ShowConfig, NetworkConfig,
        AlertsConfig, WebhookRetry, PreviewOutput,
    ]  # fmt: skip
    return frozenset(name for model in models for name in model.model_fields)


def parse_config(
    raw: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    source: str = "the configuration",
) -> ApplianceConfig:
    """Validate already-parsed configuration data (a TOML document as a dict).

    Relative paths resolve against ``base_dir`` (default: the repository's ``config/``);
    ``env`` (default ``os.environ``) supplies secret overrides. Raises :class:`ConfigInvalid`.
    """
    data = apply_env_overrides(dict(raw), env)
    data.setdefault("paths", {})
    context = {"base_dir": (base_dir or DEFAULT_CONFIG_DIR).absolute()}
    try:
        return ApplianceConfig.model_validate(data, context=context)
    except ValidationError as error:
        problems = problems_from_validation_error(
            error, data, field_hints=_FIELD_HINTS, vocabulary=_field_names()
        )
        raise ConfigInvalid(source, problems) from None


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> ApplianceConfig:
    """Load and validate the TOML configuration at ``path`` (default: the built-in demo).

    ``env`` defaults to ``os.environ``. Raises :class:`~vistter.errors.ConfigError` (or its
    subclass :class:`ConfigInvalid`) naming the file, what is wrong and how to fix it.
    """
    source = DEFAULT_CONFIG_PATH if path is None else Path(path)
    try:
        content = source.read_bytes()
    except FileNotFoundError:
        hint = (
            "Pass the path of your configuration file; config/vistter.example.toml is a "
            "starting point."
        )
        what = "the demo configuration" if path is None else "the configuration file"
        raise ConfigError(f"{what} {source} does not exist.", hint=hint) from None
    except OSError as error:
        raise ConfigError(
            f"cannot read the configuration file {source}: {error.strerror}.",
            hint="Check that the path is a readable file.",
        ) from None
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{source} is not UTF-8 text.", hint="Save the file as UTF-8."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{source} is not valid TOML: {error}.",
            hint=(
                "Fix the syntax at that line and column: text needs double quotes, tables "
                "are written [encoding], lists of tables [[cameras]]."
            ),
        ) from None
    return parse_config(raw, base_dir=source.parent.absolute(), env=env, source=str(source))

