"""Overlay pictures: logos, images and lower third templates, loaded from the assets folder.

A timeline names a picture as ``/assets/logo.png`` (or another form
:func:`~vistter.models.assets.resolve_asset` accepts; URLs are not: pictures come from the
assets folder only). Files are decoded once and cached by (path, modification time, size),
so re-rendering a lower third every minute does not decode its template again and replacing
the file is picked up. Pictures larger than :data:`~vistter.models.limits.MAX_PICTURE_BYTES`
or :data:`~vistter.models.limits.MAX_PICTURE_SIDE` /
:data:`~vistter.models.limits.MAX_PICTURE_PIXELS` are refused before they are decoded.
Errors name the picture as the timeline wrote it, never a server path.

Every function runs in the caller's thread. The cached images are shared: callers must not
draw on what :func:`load_picture` returns (it returns a copy for that reason).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import IO

from PIL import Image, UnidentifiedImageError

from vistter.models.assets import REFERENCE_HINT, AssetPathError, resolve_asset
from vistter.models.limits import MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS, MAX_PICTURE_SIDE
from vistter.overlays.errors import OverlayAssetError

__all__ = [
    "MAX_PICTURE_BYTES",
    "MAX_PICTURE_PIXELS",
    "MAX_PICTURE_SIDE",
    "load_picture",
    "picture_path",
]

_UPLOAD_HINT = "Upload it (POST /api/assets) or fix the name in the cue."


def picture_path(reference: str, assets_dir: Path) -> Path:
    """The file ``reference`` names in the assets folder.

    Raises :class:`OverlayAssetError` when it is not a file reference inside the folder.
    """
    try:
        return resolve_asset(reference, assets_dir)
    except AssetPathError as error:
        raise OverlayAssetError(
            f"the overlay picture {reference!r} is not usable: {error}.", hint=REFERENCE_HINT
        ) from None


def load_picture(reference: str, assets_dir: Path) -> Image.Image:
    """The picture ``reference`` names, as a fresh RGBA image the caller may change.

    Raises :class:`OverlayAssetError` naming the picture and the fix when it is missing, not
    a picture, or too large.
    """
    path = picture_path(reference, assets_dir)
    try:
        stat = path.stat()
    except OSError:
        raise OverlayAssetError(
            f"the overlay picture {reference!r} does not exist in the assets folder.",
            hint=_UPLOAD_HINT,
        ) from None
    if not path.is_file():
        raise OverlayAssetError(
            f"the overlay picture {reference!r} is not a file.",
            hint="Point the cue at a PNG or JPEG file in the assets folder.",
        )
    if stat.st_size > MAX_PICTURE_BYTES:
        raise OverlayAssetError(
            f"the overlay picture {reference!r} is {stat.st_size} bytes, more than "
            f"{MAX_PICTURE_BYTES}.",
            hint="Export it smaller (a PNG at the size it is shown is enough).",
        )
    return _cached(str(path), stat.st_mtime_ns, stat.st_size, reference).copy()


@functools.lru_cache(maxsize=8)  # at most 8 x 32 MB decoded
def _cached(path: str, mtime_ns: int, size: int, name: str) -> Image.Image:
    """Decoded RGBA picture; the key's mtime and size make a replaced file load again."""
    del mtime_ns, size  # cache key only
    try:
        with open(path, "rb") as handle:
            return _decode(handle, repr(name))
    except OSError as error:
        raise OverlayAssetError(
            f"the overlay picture {name!r} cannot be read: {error.strerror or 'I/O error'}.",
            hint="Check the file's permissions, or upload it again.",
        ) from None


def _decode(stream: IO[bytes], name: str) -> Image.Image:
    try:
        image = Image.open(stream)
        width, height = image.size
        if width * height > MAX_PICTURE_PIXELS or max(width, height) > MAX_PICTURE_SIDE:
            raise OverlayAssetError(
                f"the overlay picture {name} is {width}x{height} pixels, too large.",
                hint=f"Use a picture of at most {MAX_PICTURE_SIDE} pixels a side and "
                f"{MAX_PICTURE_PIXELS} pixels in all.",
            )
        return image.convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise OverlayAssetError(
            f"the overlay picture {name} is not a picture Vistter can read.",
            hint="Use a PNG (with transparency) or a JPEG.",
        ) from None
    except OSError:
        raise OverlayAssetError(
            f"the overlay picture {name} is damaged.",
            hint="Export it again as a PNG and upload it.",
        ) from None
