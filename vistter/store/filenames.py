"""Upload file names made safe to store in the assets folder and to write in a timeline."""

from __future__ import annotations

import re
import unicodedata

from vistter.store.errors import AssetNameError

__all__ = ["MAX_NAME_BYTES", "safe_filename"]

#: Longest stored file name, in UTF-8 bytes (file systems allow 255).
MAX_NAME_BYTES = 200


def safe_filename(filename: str) -> str:
    """A name that is safe to store in the assets folder and to write in a timeline.

    Keeps only the last path component (no ``..``, no folders), turns anything but letters,
    digits, ``.``, ``_`` and ``-`` into ``_``, drops leading dots and dashes (no hidden files,
    nothing that looks like a command-line option) and shortens long names. Raises
    :class:`AssetNameError` when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", filename)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char if char.isalnum() or char in "._-" else "_" for char in name)
    name = re.sub(r"_{2,}", "_", name).lstrip("._-")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    while len(name.encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
        name = f"{stem}{dot}{extension}"
    if not stem.strip("._-") or not extension:
        raise AssetNameError(
            f"the file name {filename[:80]!r} has no usable name and extension.",
            hint="Name the file with letters or digits and its type's extension, e.g. logo.png.",
        )
    return name
