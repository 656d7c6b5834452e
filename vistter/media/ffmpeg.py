"""Finding the ffmpeg binary and asking it what it can do.

Precedence: a path set in the configuration, then the ``VISTTER_FFMPEG`` environment variable,
then the static binary bundled with ``imageio-ffmpeg``. A configured or environment path that
does not work is an error (the operator asked for it; silently using another ffmpeg would hide
a broken install); only the bundled binary is the default.

The probes here run short-lived ``ffmpeg -version`` / ``-encoders`` processes with a bounded
timeout in the calling thread (an actor's ``setup`` or a CLI command); they are not owned
processes because they cannot outlive the call: ``subprocess.run`` kills them on timeout.
Like every child, they get the allow-listed environment of
:func:`~vistter.supervisors.child_env.child_environment`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import imageio_ffmpeg

from vistter.errors import ConfigError
from vistter.supervisors.child_env import child_environment

ENV_VAR = "VISTTER_FFMPEG"
PROBE_TIMEOUT = 10.0

FfmpegSource = Literal["configured", "environment", "imageio-ffmpeg"]


class FfmpegNotFoundError(ConfigError):
    """No working ffmpeg binary at the place Vistter was told (or expected) to find one."""


@dataclass(frozen=True, slots=True)
class FfmpegBinary:
    """A working ffmpeg: absolute ``path``, ``version`` string and where it came from."""

    path: str
    version: str
    source: FfmpegSource

    def describe(self) -> str:
        return f"ffmpeg {self.version} at {self.path} ({self.source})"


_HOW_TO_FIX = {
    "configured": "Fix the configured ffmpeg path, or remove it to use the bundled ffmpeg.",
    "environment": f"Fix or unset the {ENV_VAR} environment variable to use the bundled ffmpeg.",
    "imageio-ffmpeg": (
        "Reinstall the imageio-ffmpeg package (pip install --force-reinstall imageio-ffmpeg), "
        f"or set {ENV_VAR} or the configured ffmpeg path to a working ffmpeg."
    ),
}


def _where(source: FfmpegSource, path: str) -> str:
    if source == "configured":
        return f"the configured ffmpeg {path!r}"
    if source == "environment":
        return f"{ENV_VAR}={path!r}"
    return f"the bundled imageio-ffmpeg binary {path!r}"


def _resolve(candidate: str, source: FfmpegSource) -> str:
    if os.sep in candidate or (os.altsep and os.altsep in candidate):
        path = os.path.abspath(os.path.expanduser(candidate))
        if not os.path.isfile(path):
            raise FfmpegNotFoundError(
                f"{_where(source, candidate)} does not exist or is not a file.",
                hint=_HOW_TO_FIX[source],
            )
        return path
    found = shutil.which(candidate)
    if found is None:
        raise FfmpegNotFoundError(
            f"{_where(source, candidate)} is not on the PATH.", hint=_HOW_TO_FIX[source]
        )
    return os.path.abspath(found)


def probe_version(path: str, source: FfmpegSource, timeout: float = PROBE_TIMEOUT) -> str:
    """Run ``path -version`` and return the version word; raise FfmpegNotFoundError if it fails."""
    where = _where(source, path)
    try:
        result = subprocess.run(
            [path, "-hide_banner", "-version"],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FfmpegNotFoundError(
            f"{where} did not answer -version within {timeout:g} s.", hint=_HOW_TO_FIX[source]
        ) from None
    except OSError as exc:
        raise FfmpegNotFoundError(
            f"{where} cannot be run: {exc.strerror or exc}.", hint=_HOW_TO_FIX[source]
        ) from None
    text = result.stdout.decode("utf-8", "replace")
    match = re.search(r"^ffmpeg version (\S+)", text, re.MULTILINE)
    if result.returncode != 0 or match is None:
        last = _last_line(result.stderr.decode("utf-8", "replace")) or _last_line(text)
        raise FfmpegNotFoundError(
            f"{where} is not a working ffmpeg (-version exited {result.returncode}"
            + (f": {last}" if last else "")
            + ").",
            hint=_HOW_TO_FIX[source],
        )
    return match.group(1)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _bundled() -> str:
    try:
        path: str = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise FfmpegNotFoundError(
            f"imageio-ffmpeg has no ffmpeg binary: {exc}", hint=_HOW_TO_FIX["imageio-ffmpeg"]
        ) from None
    return path


def find_ffmpeg(
    configured: str | None = None, env: Mapping[str, str] | None = None
) -> FfmpegBinary:
    """The ffmpeg to use, checked to run (``-version``, bounded timeout).

    ``configured`` (a path or a command name on the PATH) wins, then ``env[VISTTER_FFMPEG]``
    (``env`` defaults to ``os.environ``), then imageio-ffmpeg's bundled binary. Raises
    :class:`FfmpegNotFoundError` naming the path that failed and how to fix it. Runs in the
    calling thread and may block up to :data:`PROBE_TIMEOUT` seconds.
    """
    environ = os.environ if env is None else env
    source: FfmpegSource
    if configured:
        source, candidate = "configured", configured
    elif environ.get(ENV_VAR):
        source, candidate = "environment", environ[ENV_VAR]
    else:
        source, candidate = "imageio-ffmpeg", _bundled()
    path = _resolve(candidate, source)
    return FfmpegBinary(path=path, version=probe_version(path, source), source=source)


_encoders_lock = threading.Lock()
_encoders_cache: dict[str, frozenset[str]] = {}


def parse_encoders(text: str) -> frozenset[str]:
    """Encoder names from the output of ``ffmpeg -encoders`` (video, audio and subtitle)."""
    names: set[str] = set()
    listing = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("------"):
            listing = True
            continue
        if not listing:
            continue
        parts = stripped.split()
        if len(parts) >= 2 and re.fullmatch(r"[VAS][A-Z.]{5}", parts[0]):
            names.add(parts[1])
    return frozenset(names)


def encoders(binary: FfmpegBinary, timeout: float = PROBE_TIMEOUT) -> frozenset[str]:
    """Names of the encoders built into ``binary`` (``ffmpeg -encoders``), cached per path.

    Raises :class:`FfmpegNotFoundError` if the listing cannot be run.
    """
    with _encoders_lock:
        cached = _encoders_cache.get(binary.path)
    if cached is not None:
        return cached
    try:
        result = subprocess.run(
            [binary.path, "-hide_banner", "-encoders"],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise FfmpegNotFoundError(
            f"{_where(binary.source, binary.path)} could not list its encoders: {exc}.",
            hint=_HOW_TO_FIX[binary.source],
        ) from None
    names = parse_encoders(result.stdout.decode("utf-8", "replace"))
    if result.returncode != 0 or not names:
        raise FfmpegNotFoundError(
            f"{_where(binary.source, binary.path)} lists no encoders "
            f"(-encoders exited {result.returncode}).",
            hint=_HOW_TO_FIX[binary.source],
        )
    with _encoders_lock:
        _encoders_cache[binary.path] = names
    return names


def clear_encoders_cache() -> None:
    """Forget every cached ``-encoders`` listing (tests, or after replacing a binary)."""
    with _encoders_lock:
        _encoders_cache.clear()
