"""Where a timeline's media and pictures come from: the assets folder, and nowhere else.

A timeline names a file as ``/assets/<relative path>`` (what an uploaded asset's
``file_path`` says) or as a bare relative path (``logo.png``, ``slides/a.png``). Everything
else is refused before any file is touched, with the same message whether or not something
exists there (validation is never a file-existence oracle):

- URLs of any scheme (``file://``, ``http://``, ``rtsp://``, ``data:``): media are not fetched;
- absolute paths other than ``/assets/...`` (``/etc/passwd``, ``/proc/self/environ``), ``~``;
- ``..``, ``.`` and empty path segments, backslashes and control characters;
- hidden names (a segment starting with ``.``, e.g. an upload still being received);
- a path that, with its symbolic links resolved, leads out of the assets folder.

:func:`check_reference` is the syntactic part (no file system; the models use it),
:func:`resolve_asset` adds the assets folder and the symlink check.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vistter.models.limits import MAX_REFERENCE_CHARS

__all__ = ["ASSETS_PREFIX", "REFERENCE_HINT", "AssetPathError", "check_reference", "resolve_asset"]

#: Timelines name assets as ``/assets/<name>``: the appliance's ``paths.assets_dir``.
ASSETS_PREFIX = "/assets/"

#: How to fix a refused reference.
REFERENCE_HINT = (
    "Name a file in the assets folder as /assets/NAME (upload it with POST /api/assets); "
    "URLs and other paths are not allowed."
)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AssetPathError(ValueError):
    """An asset reference is not a file inside the assets folder."""


def _shown(reference: str) -> str:
    return repr(reference if len(reference) <= 80 else reference[:77] + "...")


def check_reference(reference: str) -> str:
    """The path inside the assets folder that ``reference`` names (``"logos/a.png"``).

    Pure: touches no file. Raises :class:`AssetPathError` saying why the reference is not
    allowed (see the module doc).
    """
    shown = _shown(reference)
    if not reference:
        raise AssetPathError("the asset reference is empty")
    if len(reference) > MAX_REFERENCE_CHARS:
        raise AssetPathError(f"the asset reference is longer than {MAX_REFERENCE_CHARS} characters")
    if _CONTROL.search(reference) or "\\" in reference:
        raise AssetPathError(f"{shown} contains a backslash or a control character")
    if "://" in reference or _SCHEME.match(reference):
        raise AssetPathError(
            f"{shown} is a URL, not a local file inside the assets folder"
        )
    if reference.startswith(ASSETS_PREFIX):
        relative = reference.removeprefix(ASSETS_PREFIX)
    elif reference.startswith(("/", "~")):
        raise AssetPathError(f"{shown} is a path outside the assets folder")
    else:
        relative = reference
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise AssetPathError(
            f"{shown} has an empty, '.' or '..' part: it could lead outside the assets folder"
        )
    if any(part.startswith(".") for part in parts):
        raise AssetPathError(f"{shown} names a hidden file, which is not an asset")
    return relative


def resolve_asset(reference: str, assets_dir: Path) -> Path:
    """The file ``reference`` names: ``<assets_dir>/<relative path>``.

    Raises :class:`AssetPathError` when :func:`check_reference` refuses it, or when the path,
    with its symbolic links resolved, leads out of the assets folder. Does not check that the
    file exists.
    """
    relative = check_reference(reference)
    base = Path(os.path.normpath(Path(assets_dir).absolute()))
    target = base / relative
    root = os.path.realpath(base)
    real = os.path.realpath(target)
    if os.path.commonpath([root, real]) != root:
        raise AssetPathError(f"{_shown(reference)} leads outside the assets folder (a link)")
    return target
