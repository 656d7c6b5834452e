"""The timeline library: stored timelines that can be listed, edited, cloned, imported, exported.

Each timeline is stored twice in one transaction: the whole JSON document exactly as it was
given (``timelines.document``, so export gives back what was imported, value for value) and
its tracks and cues spread over ``timeline_tracks`` / ``timeline_cues`` for queries. Every
document is validated (:func:`vistter.models.validation.load_timeline`) before anything is
written; an invalid one raises :class:`~vistter.models.validation.TimelineInvalid` and the
library is left as it was.

Library ids are the database's integer ids. The document's own ``timeline.id`` (the *key*) is
unique in the library too, so an exported file can be imported elsewhere without clashing
silently; :meth:`TimelineLibrary.clone` gives the copy a new key.

Every method runs in the calling thread (an API worker, an actor) on that thread's
connection, see :mod:`vistter.store.db`.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vistter.errors import TimelineError
from vistter.models.config import ApplianceConfig
from vistter.models.timeline import Cue, OverlayCue, OverlayTrack, TimelineDocument
from vistter.models.validation import load_timeline
from vistter.store.db import Database, parse_timestamp
from vistter.store.errors import (
    TimelineKeyTakenError,
    TimelineNotFoundError,
    TimelineRunningError,
)
from vistter.store.revisions import IfMatch, changed_elsewhere, etag_of
from vistter.store.timeline_listing import TimelineSummary, list_timelines, matches_query

__all__ = [
    "IfMatch",
    "TimelineLibrary",
    "TimelineRecord",
    "TimelineSummary",
    "parse_timeline_json",
]

_KEY_MAX = 128  # Identifier's max_length in vistter.models._types

@dataclass(frozen=True, slots=True)
class TimelineRecord:
    """A stored timeline: its columns and the whole document as it was given.

    ``document`` is a fresh copy of the stored JSON; changing it changes nothing stored.
    """

    id: int
    key: str
    name: str
    description: str | None
    duration: float
    fps: int
    resolution: str
    created_at: datetime
    modified_at: datetime
    is_active: bool
    document: dict[str, Any]
    revision: int = 1

    @property
    def etag(self) -> str:
        """The entity tag of this stored version (see :mod:`vistter.store.revisions`)."""
        return etag_of(self.id, self.revision)

    def to_model(self) -> TimelineDocument:
        """The document as the validated model the orchestrator runs."""
        return TimelineDocument.model_validate(self.document)


def parse_timeline_json(text: str | bytes) -> object:
    """Parse timeline JSON text; raise :class:`TimelineError` with line and column if bad.

    ``NaN`` and ``Infinity`` are refused: they are not JSON and could not be exported.
    """

    def refuse_constant(name: str) -> object:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as error:
        raise TimelineError(
            f"the timeline is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
            hint="Fix the JSON there (a missing comma or quote, or a trailing comma).",
        ) from None
    except UnicodeDecodeError:
        raise TimelineError(
            "the timeline is not UTF-8 text.", hint="Save it as UTF-8 JSON."
        ) from None
    except ValueError as error:
        raise TimelineError(
            f"the timeline is not valid JSON: {error}.",
            hint="Write a finite number (e.g. 0 or 10.5) instead.",
        ) from None


class TimelineLibrary:
    """Create, read, update, clone, delete, import and export stored timelines."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reading -------------------------------------------------------------------------

    def get(self, timeline_id: int) -> TimelineRecord:
        """The stored timeline; raises :class:`TimelineNotFoundError` for an unknown id."""
        with self._db.read() as connection:
            row = connection.execute(
                "SELECT * FROM timelines WHERE id = ?", (timeline_id,)
            ).fetchone()
        if row is None:
            raise _not_found(timeline_id)
        return _record(row)

    def get_by_key(self, key: str) -> TimelineRecord:
        """The stored timeline whose document id (``timeline.id``) is ``key``."""
        with self._db.read() as connection:
            row = connection.execute(
                "SELECT * FROM timelines WHERE timeline_key = ?", (key,)
            ).fetchone()
        if row is None:
            raise TimelineNotFoundError(
                f"no stored timeline has the id '{key}'.",
                hint="List the timelines to see their ids, or import the timeline first.",
            )
        return _record(row)

    def list(self, query: str | None = None) -> builtins.list[TimelineSummary]:
        """Every stored timeline (or those whose name contains ``query``, ignoring case), by
        name (case-insensitive), then id; one query whatever their number (see
        :mod:`vistter.store.timeline_listing`)."""
        with self._db.read() as connection:
            summaries = list_timelines(connection)
        return [summary for summary in summaries if matches_query(summary.name, query)]

    def export_json(self, timeline_id: int) -> str:
        """The timeline in the spec's JSON format, exactly the document that was stored."""
        return json.dumps(self.get(timeline_id).document, indent=2, ensure_ascii=False) + "\n"

    # -- writing -------------------------------------------------------------------------

    def create(self, document: object, config: ApplianceConfig | None = None) -> TimelineRecord:
        """Validate and store a timeline document (parsed JSON, ``{"timeline": {...}}``).

        With ``config`` its cameras and asset files are checked too. Raises ``TimelineInvalid``
        (every problem, with field paths) or :class:`TimelineKeyTakenError`; either way nothing
        is stored.
        """
        model, text = _validated(document, config)
        with self._db.write() as connection:
            timeline_id = self._insert(connection, model, text)
        return self.get(timeline_id)

    def import_json(
        self, text: str | bytes, config: ApplianceConfig | None = None
    ) -> TimelineRecord:
        """Parse timeline JSON text and :meth:`create` it."""
        return self.create(parse_timeline_json(text), config)

    def update(
        self,
        timeline_id: int,
        document: object,
        config: ApplianceConfig | None = None,
        *,
        if_match: IfMatch | None = None,
    ) -> TimelineRecord:
        """Replace a stored timeline's document (validated first; on any error the stored
        version is left untouched). A running show keeps the version it loaded.

        ``if_match`` (the version the writer read): raises :class:`TimelineChangedError` and
        writes nothing when the stored version is another; checked in the write's transaction.
        """
        model, text = _validated(document, config)
        with self._db.write() as connection:
            _check_version(connection, timeline_id, if_match)
            self._check_key_free(connection, model.timeline.id, timeline_id)
            timeline = model.timeline
            connection.execute(
                "UPDATE timelines SET timeline_key = ?, name = ?, description = ?, duration = ?, "
                "fps = ?, resolution = ?, modified_at = ?, document = ?, "
                "revision = revision + 1 WHERE id = ?",
                (
                    timeline.id, timeline.name, timeline.description, timeline.duration,
                    timeline.fps, timeline.resolution, self._db.now(), text, timeline_id,
                ),
            )  # fmt: skip
            connection.execute("DELETE FROM timeline_tracks WHERE timeline_id = ?", (timeline_id,))
            _insert_tracks(connection, timeline_id, model)
        return self.get(timeline_id)

    def set_active(self, timeline_id: int, active: bool) -> TimelineRecord:
        """Mark a timeline active or inactive (hidden from schedules; still stored)."""
        with self._db.write() as connection:
            changed = connection.execute(
                "UPDATE timelines SET is_active = ?, modified_at = ?, revision = revision + 1 "
                "WHERE id = ?",
                (int(active), self._db.now(), timeline_id),
            ).rowcount
        if not changed:
            raise _not_found(timeline_id)
        return self.get(timeline_id)

    def rename(
        self, timeline_id: int, name: str, *, if_match: IfMatch | None = None
    ) -> TimelineRecord:
        """Give a stored timeline a new name, in its document too (``timeline.name``).

        The renamed document is validated (schema and timing, as :meth:`clone` does: a rename
        does not fail because a camera left the configuration since). Raises
        ``TimelineInvalid`` (e.g. an empty name), :class:`TimelineNotFoundError` or
        :class:`TimelineChangedError` (``if_match`` names another version); then nothing is
        written.
        """
        with self._db.write() as connection:
            _check_version(connection, timeline_id, if_match)
            row = connection.execute(
                "SELECT document FROM timelines WHERE id = ?", (timeline_id,)
            ).fetchone()
            document = json.loads(row["document"])
            document["timeline"]["name"] = name
            model, text = _validated(document, None)
            connection.execute(
                "UPDATE timelines SET name = ?, modified_at = ?, document = ?, "
                "revision = revision + 1 WHERE id = ?",
                (model.timeline.name, self._db.now(), text, timeline_id),
            )
        return self.get(timeline_id)

    def clone(self, timeline_id: int, new_name: str | None = None) -> TimelineRecord:
        """Store a copy named ``new_name`` (default "<name> (copy)") under a new key
        ("<key>_copy", "<key>_copy_2", ...)."""
        with self._db.write() as connection:
            row = connection.execute(
                "SELECT name, document FROM timelines WHERE id = ?", (timeline_id,)
            ).fetchone()
            if row is None:
                raise _not_found(timeline_id)
            document = json.loads(row["document"])
            body = document["timeline"]
            body["id"] = _free_copy_key(connection, str(body["id"]))
            body["name"] = new_name if new_name is not None else f"{row['name']} (copy)"
            model, text = _validated(document, None)
            new_id = self._insert(connection, model, text)
        return self.get(new_id)

    def delete(self, timeline_id: int) -> None:
        """Delete a timeline with its tracks and cues; its execution history is kept.

        Raises :class:`TimelineRunningError` while it is on air (an execution is running).
        """
        with self._db.write() as connection:
            found = list_timelines(connection, where="t.id = ?", parameters=(timeline_id,))
            if not found:
                raise _not_found(timeline_id)
            if found[0].is_running:
                raise TimelineRunningError(
                    f"timeline {timeline_id} ('{found[0].name}') is on air (running), so it "
                    "cannot be deleted.",
                    hint="Stop the show first, then delete the timeline.",
                )
            connection.execute("DELETE FROM timelines WHERE id = ?", (timeline_id,))

    # -- internals -----------------------------------------------------------------------

    def _insert(self, connection: sqlite3.Connection, model: TimelineDocument, text: str) -> int:
        timeline = model.timeline
        self._check_key_free(connection, timeline.id, None)
        now = self._db.now()
        cursor = connection.execute(
            "INSERT INTO timelines (timeline_key, name, description, duration, fps, resolution, "
            "created_at, modified_at, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                timeline.id, timeline.name, timeline.description, timeline.duration,
                timeline.fps, timeline.resolution, now, now, text,
            ),
        )  # fmt: skip
        timeline_id = cursor.lastrowid
        assert timeline_id is not None
        _insert_tracks(connection, timeline_id, model)
        return timeline_id

    @staticmethod
    def _check_key_free(connection: sqlite3.Connection, key: str, own_id: int | None) -> None:
        row = connection.execute(
            "SELECT id, name FROM timelines WHERE timeline_key = ?", (key,)
        ).fetchone()
        if row is not None and row["id"] != own_id:
            raise TimelineKeyTakenError(
                f"timeline {row['id']} ('{row['name']}') already has the id '{key}'.",
                hint="Give this timeline another timeline.id, update the stored one instead, "
                "or clone it.",
            )


def _not_found(timeline_id: int) -> TimelineNotFoundError:
    return TimelineNotFoundError(
        f"there is no stored timeline {timeline_id}.",
        hint="List the timelines to see their ids; it may have been deleted.",
    )


def _check_version(
    connection: sqlite3.Connection, timeline_id: int, if_match: IfMatch | None
) -> None:
    """Inside a write transaction: the timeline exists and, with ``if_match``, is still the
    version the writer read."""
    row = connection.execute(
        "SELECT revision FROM timelines WHERE id = ?", (timeline_id,)
    ).fetchone()
    if row is None:
        raise _not_found(timeline_id)
    current = etag_of(timeline_id, row["revision"])
    if if_match is not None and not if_match.matches(current):
        raise changed_elsewhere(timeline_id, current)


def _validated(document: object, config: ApplianceConfig | None) -> tuple[TimelineDocument, str]:
    model = load_timeline(document, config)
    try:
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TimelineError(
            f"the timeline cannot be stored as JSON: {error}.",
            hint="Pass the document as parsed JSON (dicts, lists, strings, numbers).",
        ) from None
    return model, text


def _free_copy_key(connection: sqlite3.Connection, key: str) -> str:
    number = 1
    while True:
        suffix = "_copy" if number == 1 else f"_copy_{number}"
        candidate = key[: _KEY_MAX - len(suffix)] + suffix
        taken = connection.execute(
            "SELECT 1 FROM timelines WHERE timeline_key = ?", (candidate,)
        ).fetchone()
        if taken is None:
            return candidate
        number += 1


def _insert_tracks(
    connection: sqlite3.Connection, timeline_id: int, model: TimelineDocument
) -> None:
    for order, track in enumerate(model.timeline.tracks_in_order):
        layer = track.layer if isinstance(track, OverlayTrack) else 0
        cursor = connection.execute(
            "INSERT INTO timeline_tracks (timeline_id, track_key, track_type, track_name, "
            "track_order, layer) VALUES (?, ?, ?, ?, ?, ?)",
            (
                timeline_id, track.track_id, track.type, track.track_id, order,
                layer,
            ),
        )  # fmt: skip
        track_row = cursor.lastrowid
        connection.executemany(
            "INSERT INTO timeline_cues (track_id, cue_key, cue_order, start_time, duration, "
            "action_type, action_params, transition_type, transition_duration) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(track_row, cue.id, index, cue.start_time, cue.duration, cue.action,
              json.dumps(cue.params.model_dump(mode="json", by_alias=True, exclude_unset=True),
                         ensure_ascii=False),
              *_transition(cue))
             for index, cue in enumerate(track.cues)],
        )  # fmt: skip


def _transition(cue: Cue) -> tuple[str, float]:
    if isinstance(cue, OverlayCue):
        fade_in = float(cue.params.fade_in)
        return ("fade", fade_in) if fade_in > 0 else ("cut", 0.0)
    return cue.params.transition, cue.params.transition_seconds


def _record(row: sqlite3.Row) -> TimelineRecord:
    return TimelineRecord(
        id=row["id"],
        key=row["timeline_key"],
        name=row["name"],
        description=row["description"],
        duration=row["duration"],
        fps=row["fps"],
        resolution=row["resolution"],
        created_at=parse_timestamp(row["created_at"]),
        modified_at=parse_timestamp(row["modified_at"]),
        is_active=bool(row["is_active"]),
        document=json.loads(row["document"]),
        revision=row["revision"],
    )
