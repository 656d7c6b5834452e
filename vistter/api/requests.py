"""The request bodies of the control API, as pydantic models.

Each route that takes a JSON body names its model in its :class:`~vistter.api.contract.Operation`;
the operation parses the body with that model before the endpoint runs, and the OpenAPI
document is generated from the same model, so what is documented is what is accepted.

Numbers and ids are bounded so nothing a client sends can overflow on its way to an actor:
timeline ids fit SQLite's integer, camera ids a 32-bit integer, seconds the longest timeline.
Text is checked by pydantic-core, which refuses a lone UTF-16 surrogate (``"\\ud800"``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter

from vistter.models._types import Identifier, Int, Number, StrictModel, Text
from vistter.models.limits import MAX_NAME_CHARS, MAX_TEXT_CHARS, MAX_TEXT_LINES
from vistter.models.timeline import MAX_TIMELINE_SECONDS

__all__ = [
    "MAX_CAMERA_ID",
    "MAX_ROW_ID",
    "CloneRequest",
    "ForceCameraRequest",
    "GoLiveRequest",
    "JumpRequest",
    "JumpToCue",
    "JumpToTime",
    "LiveTextRequest",
    "LoadRequest",
    "RenameRequest",
    "RestartRequest",
    "RowId",
]

#: SQLite's largest integer: a bigger id cannot be stored, so names nothing.
MAX_ROW_ID = 2**63 - 1
#: Camera ids are small whole numbers in the configuration; 2**31 - 1 leaves room to spare.
MAX_CAMERA_ID = 2**31 - 1

#: The id of a stored timeline, execution or asset.
RowId = Annotated[Int, Field(ge=1, le=MAX_ROW_ID)]


class _Request(StrictModel):
    """A request body: unknown keys refused, and no coercion (``"yes"`` is not ``true``,
    ``"2"`` is not ``2``), so what passes is exactly what the schema says."""

    model_config = ConfigDict(strict=True)


class RestartRequest(_Request):
    """Restart one actor of the supervision tree."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"path": "telemetry/system"}]})

    path: Annotated[
        str, StringConstraints(min_length=1, max_length=256, pattern=r"^/*[^/\s]+(/+[^/\s]+)*/*$")
    ] = Field(description="The actor's path in GET /api/supervision, e.g. telemetry/system.")


class LoadRequest(_Request):
    """Load a timeline of the library into the show (it does not go live by itself)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"timeline_id": 1, "loop": True}]})

    timeline_id: RowId = Field(description="A timeline's id from GET /api/timelines.")
    loop: bool | None = Field(
        default=None, description="Start over at the end (default: the timeline's own loop)."
    )


class GoLiveRequest(_Request):
    """Go live with the loaded timeline (the body is optional)."""

    force: bool = Field(
        default=False, description="Go live even when a preflight check blocks it."
    )


class JumpToCue(_Request):
    """Jump to the start of a cue of the loaded timeline."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"cue_id": "cue_v3"}]})

    cue_id: Identifier


class JumpToTime(_Request):
    """Jump to a time into the loaded timeline."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"seconds": 65}]})

    seconds: Annotated[Number, Field(ge=0, le=MAX_TIMELINE_SECONDS)] = Field(
        description="Seconds from the timeline's start."
    )


#: A jump names either a cue or a time, never both.
JumpRequest = JumpToCue | JumpToTime
JUMP_REQUEST: TypeAdapter[JumpToCue | JumpToTime] = TypeAdapter(JumpRequest)


class ForceCameraRequest(_Request):
    """Put one camera on air whatever the timeline says, until released."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"camera_id": 2}]})

    camera_id: Annotated[Int, Field(ge=1, le=MAX_CAMERA_ID)]


class LiveTextRequest(_Request):
    """Change the text of an overlay cue live (``null``: back to the timeline's text)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"cue_id": "cue_o3", "text": "Tide: High 4:10 PM"}]}
    )

    cue_id: Identifier
    text: Annotated[Text, Field(max_length=MAX_TEXT_CHARS)] | None = Field(
        description=f"At most {MAX_TEXT_CHARS} characters (and {MAX_TEXT_LINES} lines: "
        "checked when the overlay takes it)."
    )


class CloneRequest(_Request):
    """Copy a stored timeline (the body is optional: the copy is named "<name> (copy)")."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Marina, evening"}]})

    name: Text | None = Field(
        default=None, description="The copy's name; the timeline's rules for a name apply."
    )


class RenameRequest(_Request):
    """Rename a stored timeline (its document's ``timeline.name`` too)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Marina, evening"}]})

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
    ] = Field(description=f"The new name: 1 to {MAX_NAME_CHARS} characters (spaces around it "
              "are dropped).")
