"""What the show has loaded, for the library listing's ``loaded`` and ``on_air`` columns.

The execution log says which timeline is running (that is what refuses a delete). The show's
orchestrator also knows which timeline is *loaded* (before it goes live, or while it is
paused). :func:`loaded_from_orchestrator` asks it, briefly: a listing must not wait on a busy
or restarting show, so any failure to answer in :data:`ASK_TIMEOUT` seconds is "unknown"
(``None``) and the listing falls back on the execution log alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pykka

from vistter.errors import OperatorError

__all__ = ["ASK_TIMEOUT", "LoadedShow", "loaded_from_orchestrator", "loaded_from_status"]

ASK_TIMEOUT = 2.0
_ON_AIR_STATES = frozenset({"starting", "live", "paused"})


@dataclass(frozen=True, slots=True)
class LoadedShow:
    """The library id of the timeline the show has loaded, and whether it is on air."""

    timeline_id: int
    on_air: bool


def loaded_from_status(status: Mapping[str, Any]) -> LoadedShow | None:
    """The loaded library timeline in a show status (``None``: nothing from the library)."""
    timeline = status.get("timeline")
    if not isinstance(timeline, Mapping):
        return None
    db_id = timeline.get("db_id")
    if not isinstance(db_id, int) or isinstance(db_id, bool):
        return None
    return LoadedShow(db_id, status.get("state") in _ON_AIR_STATES)


def loaded_from_orchestrator(orchestrator: Callable[[], Any]) -> LoadedShow | None:
    """Ask the orchestrator (its proxy, from ``orchestrator()``) what it has loaded.

    Blocks up to :data:`ASK_TIMEOUT` seconds: call it from a worker thread. Never raises for
    a show that is not there, busy or restarting: that is ``None``.
    """
    try:
        status = orchestrator().status().get(timeout=ASK_TIMEOUT)
    except (pykka.ActorDeadError, pykka.Timeout, OperatorError, RuntimeError):
        return None
    return loaded_from_status(status) if isinstance(status, Mapping) else None
