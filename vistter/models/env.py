"""Secrets and paths taken from the environment instead of the configuration file.

A stream key or password is better kept out of the TOML file: the loader reads
``VISTTER_DESTINATION_<ID>_STREAM_KEY``, ``VISTTER_CAMERA_<ID>_PASSWORD``,
``VISTTER_CAMERA_<ID>_PTZ_PASSWORD``, ``VISTTER_API_TOKEN``, ``VISTTER_ADMIN_PASSWORD`` (hashed
with argon2 at once) and ``VISTTER_FFMPEG``
(``<ID>`` upper-cased, every character other than A-Z and 0-9 turned into ``_``).
An empty variable counts as unset.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vistter.passwords import ADMIN_PASSWORD_VARIABLE, hash_password

__all__ = [
    "API_TOKEN_VARIABLE",
    "FFMPEG_VARIABLE",
    "apply_env_overrides",
    "camera_password_variable",
    "camera_ptz_password_variable",
    "destination_key_variable",
    "env_token",
]

API_TOKEN_VARIABLE = "VISTTER_API_TOKEN"  # noqa: S105 - a variable name, not a secret
FFMPEG_VARIABLE = "VISTTER_FFMPEG"


def env_token(identifier: str | int) -> str:
    """An id as it appears in a variable name: ``"yt-main"`` -> ``"YT_MAIN"``."""
    return re.sub(r"[^A-Z0-9]", "_", str(identifier).upper())


def destination_key_variable(destination_id: str) -> str:
    """The variable that holds a destination's stream key."""
    return f"VISTTER_DESTINATION_{env_token(destination_id)}_STREAM_KEY"


def camera_password_variable(camera_id: int | str) -> str:
    """The variable that holds a camera's stream password."""
    return f"VISTTER_CAMERA_{env_token(camera_id)}_PASSWORD"


def camera_ptz_password_variable(camera_id: int | str) -> str:
    """The variable that holds a camera's PTZ (ONVIF) password."""
    return f"VISTTER_CAMERA_{env_token(camera_id)}_PTZ_PASSWORD"


def _table(raw: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = raw.setdefault(name, {})
    return value if isinstance(value, dict) else None


def _entries(raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = raw.get(name)
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def apply_env_overrides(
    raw: dict[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A copy of the raw configuration with the environment's secrets and paths applied.

    ``env`` defaults to ``os.environ``. Entries of the wrong shape are left alone, for the
    schema to report. A relative ``VISTTER_FFMPEG`` path with a directory part is taken
    relative to the current directory; a bare name (``ffmpeg``) is looked up on ``PATH``.
    """
    environ = os.environ if env is None else env
    result = copy.deepcopy(raw)

    def get(name: str) -> str | None:
        return environ.get(name) or None

    for destination in _entries(result, "destinations"):
        if isinstance(destination.get("id"), str):
            key = get(destination_key_variable(destination["id"]))
            if key is not None:  # an SRT destination's secret is its passphrase
                secret = "passphrase" if destination.get("platform") == "srt" else "stream_key"
                destination[secret] = key
    for camera in _entries(result, "cameras"):
        camera_id = camera.get("id")
        if not isinstance(camera_id, int) or isinstance(camera_id, bool):
            continue
        password = get(camera_password_variable(camera_id))
        if password is not None:
            camera["password"] = password
        ptz_password = get(camera_ptz_password_variable(camera_id))
        if ptz_password is not None and isinstance(camera.get("ptz"), dict):
            camera["ptz"]["password"] = ptz_password
    token = get(API_TOKEN_VARIABLE)
    if token is not None and (api := _table(result, "api")) is not None:
        api["token"] = token
    password = get(ADMIN_PASSWORD_VARIABLE)  # hashed now; the plain password is not kept
    if password is not None and (api := _table(result, "api")) is not None:
        api["admin_password_hash"] = hash_password(password)
    ffmpeg = get(FFMPEG_VARIABLE)
    if ffmpeg is not None and (encoding := _table(result, "encoding")) is not None:
        has_dir = os.sep in ffmpeg or (os.altsep is not None and os.altsep in ffmpeg)
        encoding["ffmpeg_path"] = str(Path(ffmpeg).expanduser().absolute()) if has_dir else ffmpeg
    return result
