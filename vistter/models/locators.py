"""Where on a timeline a problem is: the cue and track a page draws it on.

A timeline problem's ``path`` (``timeline.tracks.overlays[1].cues[3].params.x``) already says
where it is for a person reading JSON; a builder page wants the cue's id and the track's id
and place instead, to mark the block. :func:`locate` reads them from the path and the
document as the user sent it (so schema problems, found before any model exists, are located
too), and :class:`TimelineProblem` carries them. Tracks are numbered as a page lists them:
0 is the video track, 1 the first overlay track, and so on.

Also here: :func:`clock`, times as a person reads them on a ruler (``1:05``, ``1:00:00``).
Pure functions, any thread; nothing raises for odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from vistter.models.problems import Problem

__all__ = ["LOCATOR_KEYS", "ProblemLike", "TimelineProblem", "clock", "locate", "problem_json"]

_TRACK = re.compile(r"^timeline\.tracks\.(?:(video)|overlays\[(\d+)\])(?:\.cues\[(\d+)\])?")

#: The keys a located problem adds to ``{"path", "message", "hint"}``.
LOCATOR_KEYS = ("cue_id", "cue_index", "track_id", "track_index", "track_type")


@dataclass(frozen=True)
class TimelineProblem(Problem):
    """A problem of a timeline, with the cue and track it concerns (``None``: not one cue, or
    not one track). The locators do not take part in equality: two problems at the same path
    with the same words are the same problem."""

    cue_id: str | None = field(default=None, compare=False)
    cue_index: int | None = field(default=None, compare=False)
    track_id: str | None = field(default=None, compare=False)
    track_index: int | None = field(default=None, compare=False)
    track_type: Literal["video", "overlay"] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The problem as the API returns it, locators included (``null`` when none)."""
        return {**super().to_dict(), **{key: getattr(self, key) for key in LOCATOR_KEYS}}


class ProblemLike(Protocol):
    """What :func:`problem_json` needs of a problem (:class:`vistter.models.validation.Problem`)."""

    @property
    def path(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def hint(self) -> str: ...


def problem_json(problem: ProblemLike) -> dict[str, Any]:
    """``{"path", "message", "hint"}`` of any problem, plus the locators when it has them."""
    body: dict[str, Any] = {"path": problem.path, "message": problem.message,
                            "hint": problem.hint}  # fmt: skip
    if isinstance(problem, TimelineProblem):
        body.update({key: getattr(problem, key) for key in LOCATOR_KEYS})
    return body


def _member(node: object, key: str | int) -> object:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def locate(problem: Problem, document: object) -> TimelineProblem:
    """``problem`` with the cue and track its path points at in ``document`` (parsed JSON)."""
    match = _TRACK.match(problem.path)
    if match is None:
        return TimelineProblem(problem.path, problem.message, problem.hint)
    video, overlay, cue = match.groups()
    tracks = _member(_member(document, "timeline"), "tracks")
    if video:
        track, track_index, track_type = _member(tracks, "video"), 0, "video"
    else:
        position = int(overlay)
        track = _member(_member(tracks, "overlays"), position)
        track_index, track_type = position + 1, "overlay"
    cue_index = None if cue is None else int(cue)
    cue_node = None if cue_index is None else _member(_member(track, "cues"), cue_index)
    return TimelineProblem(
        problem.path, problem.message, problem.hint,
        cue_id=_text(_member(cue_node, "id")),
        cue_index=cue_index,
        track_id=_text(_member(track, "track_id")),
        track_index=track_index,
        track_type="video" if track_type == "video" else "overlay",
    )  # fmt: skip


def clock(seconds: float) -> str:
    """Seconds as a ruler shows them: ``65`` -> ``1:05``, ``65.5`` -> ``1:05.5``,
    ``3600`` -> ``1:00:00``."""
    total = round(max(0.0, float(seconds)), 3)
    whole = int(total)
    fraction = round(total - whole, 3)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:02d}" + (f"{fraction:.3f}".rstrip("0")[1:] if fraction else "")
    return f"{hours}:{minutes:02d}:{text}" if hours else f"{minutes}:{text}"
