"""Revisions of stored timelines: the ETag a reader gets and the If-Match a writer sends back.

Every stored change to a timeline (replace, rename, activate) adds one to its ``revision``
column in the same transaction (schema version 3). The entity tag is ``"<id>-<revision>"``:
strong, and different after every change. A writer that sends the tag it read
(``If-Match``) has its write refused with :class:`TimelineChangedError` (HTTP 412) when the
stored revision moved on meanwhile; the check and the write are one ``BEGIN IMMEDIATE``
transaction, so of two writers holding the same tag exactly one wins. A writer without
``If-Match`` (a script, an older client) writes as before.

Pure functions: they run in the calling thread and raise nothing but the documented errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vistter.store.errors import TimelineChangedError

__all__ = ["IfMatch", "changed_elsewhere", "etag_of", "parse_if_match"]

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')
_MAX_HEADER_CHARS = 2048

CHANGED_PROBLEM = (
    "This timeline was changed elsewhere (in another tab or by another person) since you "
    "opened it."
)
CHANGED_HINT = "Reload it to see the other changes, or save yours as a copy."


def etag_of(timeline_id: int, revision: int) -> str:
    """The entity tag of a timeline at a revision, quoted as it goes in a header."""
    return f'"{timeline_id}-{revision}"'


@dataclass(frozen=True, slots=True)
class IfMatch:
    """A parsed ``If-Match`` header: ``*`` (any stored version) or a list of entity tags.

    Weak tags (``W/"..."``) never match: If-Match uses the strong comparison (RFC 9110).
    """

    any_version: bool
    tags: tuple[str, ...] = ()

    def matches(self, etag: str) -> bool:
        """True when a write against the version tagged ``etag`` may go ahead."""
        return self.any_version or etag in self.tags


def parse_if_match(header: str | None) -> IfMatch | None:
    """The ``If-Match`` header as an :class:`IfMatch`; ``None`` when there is none (or it is
    blank). A bare token without quotes (a tag copied without them) counts as that tag; a
    malformed list matches nothing, so the write is refused rather than forced."""
    if header is None or not header.strip():
        return None
    text = header.strip()[:_MAX_HEADER_CHARS]
    if text == "*":
        return IfMatch(any_version=True)
    if '"' not in text:
        return IfMatch(False, tuple(f'"{token.strip()}"' for token in text.split(",")
                                    if token.strip()))  # fmt: skip
    tags: list[str] = []
    position = 0
    while position < len(text):
        match = _TAG.match(text, position)
        if match is None:
            return IfMatch(False)  # malformed: it names no version, so nothing matches it
        if match.group(1) is None:
            tags.append(f'"{match.group(2)}"')
        position = match.end()
    return IfMatch(False, tuple(tags))


def changed_elsewhere(timeline_id: int, current_etag: str) -> TimelineChangedError:
    """The refusal of a write whose ``If-Match`` names an older (or another) version."""
    return TimelineChangedError(CHANGED_PROBLEM, hint=CHANGED_HINT, timeline_id=timeline_id,
                                current_etag=current_etag)  # fmt: skip
