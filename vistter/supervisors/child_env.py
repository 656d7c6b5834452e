"""The environment a child process (ffmpeg, a probe) gets: an allow-list, nothing else.

Vistter's own environment may hold secrets (``VISTTER_API_TOKEN``,
``VISTTER_DESTINATION_<ID>_STREAM_KEY``, ``VISTTER_CAMERA_<ID>_PASSWORD``...) and anything
else the service manager put there. A child inherits none of it: only what ffmpeg, its
libraries (locale, time zone, TLS certificates, fontconfig, hardware video drivers) and
GStreamer need. ``/proc/<pid>/environ`` of a child is readable by the same user, and a
crash report or ``FFREPORT`` may dump it; a secret that is not there cannot leak from there.

:func:`child_environment` is used by every spawn (:meth:`vistter.supervisors.processes.
ProcessSet.spawn`) and every short-lived probe (``ffmpeg -version``, ``-encoders``, the
hardware encoder trials, media probes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ALLOWED_NAMES", "ALLOWED_PREFIXES", "child_environment"]

#: Variables passed through when set.
ALLOWED_NAMES = frozenset(
    {
        "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
        # TLS for rtmps:// and https:// (OpenSSL's CA bundle location)
        "SSL_CERT_FILE", "SSL_CERT_DIR",
        # fontconfig (ffmpeg's drawtext, libass)
        "FONTCONFIG_FILE", "FONTCONFIG_PATH",
        # a configured system ffmpeg may need its own libraries
        "LD_LIBRARY_PATH",
        # hardware encoders: VA-API, NVIDIA, Intel QSV
        "LIBVA_DRIVER_NAME", "LIBVA_DRIVERS_PATH", "CUDA_VISIBLE_DEVICES",
        "XDG_RUNTIME_DIR",
    }
)  # fmt: skip

#: Variables passed through when their name starts with one of these (locale, GStreamer).
ALLOWED_PREFIXES = ("LC_", "GST_")


def _allowed(name: str) -> bool:
    if name.startswith("VISTTER_"):
        return False
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def child_environment(
    extra: Mapping[str, str] | None = None, *, parent: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The allow-listed part of ``parent`` (default ``os.environ``), plus ``extra``.

    ``extra`` is what a caller deliberately gives one child (never a secret: anything in a
    child's environment is as visible as its command line to the same user). ``VISTTER_*``
    never passes, whatever the allow-list says. Pure; never raises.
    """
    source = os.environ if parent is None else parent
    environment = {name: value for name, value in source.items() if _allowed(name)}
    if extra:
        environment.update(extra)
    return environment
