"""Where a timeline's media and image references live on disk."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["ASSETS_PREFIX", "AssetPathError", "resolve_asset"]

#: Timelines name assets as ``/assets/<name>``: the appliance's ``paths.assets_dir``.
ASSETS_PREFIX = "/assets/"


class AssetPathError(ValueError):
    """An asset reference points outside the assets folder."""


def resolve_asset(reference: str, assets_dir: Path) -> Path | None:
    """The local file an asset reference names, or ``None`` for a network URL.

    ``/assets/x.png`` and ``x.png`` -> ``<assets_dir>/x.png``; ``file:///srv/a.mp4`` and other
    absolute paths are taken as they are; ``http(s)://``, ``rtsp://`` and other URLs are not
    local (``None``). Raises :class:`AssetPathError` when ``/assets/...`` or a relative
    reference climbs out of the assets folder with ``..``. Does not check that the file exists.
    """
    if "://" in reference:
        parts = urlsplit(reference)
        if parts.scheme.lower() != "file":
            return None
        return Path(unquote(parts.path))
    inside = reference.removeprefix(ASSETS_PREFIX) if reference.startswith(ASSETS_PREFIX) else None
    if inside is None and os.path.isabs(reference):
        return Path(reference)
    relative = inside if inside is not None else reference
    root = Path(os.path.normpath(assets_dir.absolute()))
    target = Path(os.path.normpath(root / relative))
    if target != root and root not in target.parents:
        raise AssetPathError(f"'{reference}' points outside the assets folder")
    return target
