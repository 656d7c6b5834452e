"""Which stored timelines use which assets.

A timeline uses an asset when one of its file references (a video cue's ``media_url``, an
overlay's ``image_url`` or data ``source.path``, the fallback's ``test_pattern``: see
:func:`asset_references`) resolves to the asset's file in the assets folder. Every stored
document is read **once** per question, whatever the number of assets asked about, so the
asset listing costs two queries. A document stored by another version that no longer
validates is matched, carefully, by the file name appearing in its text.

Runs in the calling thread, inside the transaction it is given.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from vistter.models.assets import AssetPathError, resolve_asset
from vistter.models.overlays import DynamicTextOverlay, ImageOverlay, LogoOverlay, LowerThirdOverlay
from vistter.models.timeline import MediaCue, TimelineDocument

__all__ = ["AssetUser", "asset_references", "asset_users"]


@dataclass(frozen=True, slots=True)
class AssetUser:
    """A stored timeline that uses an asset, and the fields where (empty when the document
    could only be matched by its text)."""

    id: int
    name: str
    fields: tuple[str, ...] = ()

    def describe(self) -> str:
        """``timeline 3 'Marina' (timeline.fallback.test_pattern)`` for an error message."""
        where = f"timeline {self.id} '{self.name}'"
        return f"{where} ({', '.join(self.fields)})" if self.fields else where


def asset_references(document: TimelineDocument) -> Iterator[tuple[str, str]]:
    """Every ``(field path, reference)`` in a timeline that names a file (asset or path)."""
    timeline = document.timeline
    for index, cue in enumerate(timeline.tracks.video.cues):
        if isinstance(cue, MediaCue):
            yield f"timeline.tracks.video.cues[{index}].params.media_url", cue.params.media_url
    for track_index, track in enumerate(timeline.tracks.overlays):
        for index, overlay_cue in enumerate(track.cues):
            params = overlay_cue.params
            path = f"timeline.tracks.overlays[{track_index}].cues[{index}].params"
            if isinstance(params, LogoOverlay | ImageOverlay | LowerThirdOverlay):
                if params.image_url is not None:
                    yield f"{path}.image_url", params.image_url
            elif isinstance(params, DynamicTextOverlay) and params.source and params.source.path:
                yield f"{path}.source.path", params.source.path
    if timeline.fallback is not None and timeline.fallback.test_pattern is not None:
        yield "timeline.fallback.test_pattern", timeline.fallback.test_pattern


def _file_name(reference: str, assets_dir: Path) -> str | None:
    """The name of the file in ``assets_dir`` that ``reference`` resolves to, if it is one."""
    try:
        resolved = Path(os.path.normpath(resolve_asset(reference, assets_dir)))
    except AssetPathError:
        return None
    return resolved.name if resolved.parent == assets_dir else None


def asset_users(
    connection: sqlite3.Connection, assets_dir: Path, filenames: Collection[str]
) -> dict[str, list[AssetUser]]:
    """For each of ``filenames`` (files in the absolute, normalised ``assets_dir``), the
    stored timelines that use it, by timeline id; a name nobody uses maps to ``[]``."""
    wanted = set(filenames)
    users: dict[str, list[AssetUser]] = {name: [] for name in wanted}
    if not wanted:
        return users
    for row in connection.execute("SELECT id, name, document FROM timelines ORDER BY id"):
        try:
            document = TimelineDocument.model_validate(json.loads(row["document"]))
        except ValidationError:  # stored by another version: match the name in its text
            for name in wanted:
                if name in row["document"]:
                    users[name].append(AssetUser(row["id"], row["name"]))
            continue
        fields: dict[str, list[str]] = {}
        for path, reference in asset_references(document):
            found = _file_name(reference, assets_dir)
            if found is not None and found in wanted:
                fields.setdefault(found, []).append(path)
        for name, paths in fields.items():
            users[name].append(AssetUser(row["id"], row["name"], tuple(paths)))
    return users
