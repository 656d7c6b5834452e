"""The ``{record_id}`` of the library and asset routes: its OpenAPI parameter, and reading it
from a request (an id larger than SQLite can hold names nothing: 404, never an overflow)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from vistter.api.contract import Parameter
from vistter.api.requests import MAX_ROW_ID

__all__ = ["RECORD_ID", "path_id"]

RECORD_ID = Parameter("record_id", "path", {"type": "integer", "minimum": 1,
                                            "maximum": MAX_ROW_ID}, "The record's id.")


def path_id(request: Request, not_found: Callable[[int], Exception]) -> int:
    """The record id in the path; raises ``not_found(id)`` when it is beyond SQLite's range.
    Runs in the event loop thread."""
    value = int(request.path_params["record_id"])
    if value > MAX_ROW_ID:  # SQLite's largest integer: a bigger id names nothing
        raise not_found(value)
    return value
