"""Overlay pictures: logos, images and lower third templates, loaded from the assets folder.

A timeline names a picture as ``/assets/logo.png`` (or another form
:func:`~vistter.models.assets.resolve_asset` accepts). Local files are decoded once and
cached by (path, modification time, size), so re-rendering a lower third every minute does
not decode its template again and replacing the file is picked up. ``http(s)://`` pictures
are fetched with a timeout and a size limit every time they are loaded (rendering happens
ahead of time, off the frame path).

Every function runs in the caller's thread. The cached images are shared: callers must not
draw on what :func:`load_picture` returns (it returns a copy for that reason).
"""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path
from typing import IO

from PIL import Image, UnidentifiedImageError

from vistter.models.assets import AssetPathError, resolve_asset
from vistter.overlays.errors import OverlayAssetError
from vistter.overlays.fetch import fetch_bytes, safe_url

__all__ = ["MAX_PICTURE_BYTES", "MAX_PICTURE_PIXELS", "load_picture", "picture_path"]

MAX_PICTURE_BYTES = 32 * 1024 * 1024
"""Largest picture file (or download) an overlay may use."""
MAX_PICTURE_PIXELS = 40_000_000
"""Largest decoded picture (width x height) an overlay may use: a guard against huge files."""
FETCH_TIMEOUT = 10.0
"""Seconds a remote picture may take per network step."""


def picture_path(reference: str, assets_dir: Path) -> Path | None:
    """The local file ``reference`` names (``None`` for an http(s) URL).

    Raises :class:`OverlayAssetError` when it climbs out of the assets folder.
    """
    try:
        return resolve_asset(reference, assets_dir)
    except AssetPathError as error:
        raise OverlayAssetError(
            f"the overlay picture {reference!r} is not usable: {error}.",
            hint="Name a file inside the assets folder, such as /assets/logo.png.",
        ) from None


def load_picture(reference: str, assets_dir: Path) -> Image.Image:
    """The picture ``reference`` names, as a fresh RGBA image the caller may change.

    Raises :class:`OverlayAssetError` naming the file and the fix when it is missing, not a
    picture, too large, or (for a URL) cannot be fetched.
    """
    path = picture_path(reference, assets_dir)
    if path is None:
        data = fetch_bytes(
            reference,
            timeout=FETCH_TIMEOUT,
            limit=MAX_PICTURE_BYTES,
            error_type=OverlayAssetError,
            what="overlay picture",
        )
        return _decode(BytesIO(data), safe_url(reference))
    try:
        stat = path.stat()
    except OSError:
        raise OverlayAssetError(
            f"the overlay picture {reference!r} does not exist (looked for {path}).",
            hint=f"Upload it to the assets folder ({assets_dir}) or fix the name in the cue.",
        ) from None
    if not path.is_file():
        raise OverlayAssetError(
            f"the overlay picture {reference!r} is not a file ({path}).",
            hint="Point the cue at a PNG or JPEG file in the assets folder.",
        )
    if stat.st_size > MAX_PICTURE_BYTES:
        raise OverlayAssetError(
            f"the overlay picture {path} is {stat.st_size} bytes, more than {MAX_PICTURE_BYTES}.",
            hint="Export it smaller (a PNG at the size it is shown is enough).",
        )
    return _cached(str(path), stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int, size: int) -> Image.Image:
    """Decoded RGBA picture; the key's mtime and size make a replaced file load again."""
    del mtime_ns, size  # cache key only
    try:
        with open(path, "rb") as handle:
            return _decode(handle, path)
    except OSError as error:
        raise OverlayAssetError(
            f"the overlay picture {path} cannot be read: {error.strerror or error}.",
            hint="Check the file's permissions, or upload it again.",
        ) from None


def _decode(stream: IO[bytes], name: str) -> Image.Image:
    try:
        image = Image.open(stream)
        width, height = image.size
        if width * height > MAX_PICTURE_PIXELS:
            raise OverlayAssetError(
                f"the overlay picture {name} is {width}x{height} pixels, too large.",
                hint=f"Use a picture of at most {MAX_PICTURE_PIXELS} pixels.",
            )
        return image.convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise OverlayAssetError(
            f"the overlay picture {name} is not a picture Vistter can read.",
            hint="Use a PNG (with transparency) or a JPEG.",
        ) from None
    except OSError as error:
        raise OverlayAssetError(
            f"the overlay picture {name} is damaged: {error}.",
            hint="Export it again as a PNG and upload it.",
        ) from None
