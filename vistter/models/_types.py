"""Field types shared by the timeline and configuration models."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError


class StrictModel(BaseModel):
    """Immutable model that rejects unknown fields, so a typo is reported instead of ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: The largest whole number a float holds exactly (2**53); a :data:`Number` may not exceed it.
MAX_EXACT_INT = 2**53


def _finite_number(value: object) -> object:
    # Keep ints as ints and floats as floats, so a document round-trips unchanged,
    # but refuse what JSON/TOML would only turn into a number by accident.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number_type", "Input should be a number")
    if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
        # a JSON integer literal of hundreds of digits: no float can hold it
        raise PydanticCustomError(
            "number_too_large", "Input should be a number no larger than 2**53"
        )
    if not math.isfinite(value):
        raise PydanticCustomError("number_type", "Input should be a finite number")
    return value


#: A JSON/TOML number, kept as the int or float the user wrote (seconds, ratios, ...).
Number = Annotated[int | float, BeforeValidator(_finite_number)]
#: Seconds that may be zero.
NonNegativeSeconds = Annotated[Number, Field(ge=0)]
#: Seconds that must be more than zero.
PositiveSeconds = Annotated[Number, Field(gt=0)]
#: A whole number; ``true`` and ``"3"`` are refused.
Int = Annotated[int, Strict()]
#: ``true`` or ``false`` only: ``0``, ``1`` and ``"yes"`` are refused (they would not
#: round-trip, and the OpenAPI schema says boolean).
Flag = Annotated[bool, Strict()]
#: An identifier chosen by the user (cue ids, track ids).
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: Text that must not be empty.
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]
#: Any text, possibly empty. The constraint makes pydantic-core check the string, which
#: refuses a lone UTF-16 surrogate (JSON's ``"\\ud800"``): it cannot be stored or sent.
Text = Annotated[str, StringConstraints(min_length=0)]


#: The repository's ``config/`` folder: base of relative paths when no file is being loaded.
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def resolve_config_path(value: Path, info: ValidationInfo) -> Path:
    """``value`` made absolute against the configuration file's folder.

    The folder comes from the validation context key ``base_dir`` (set by the loader),
    else :data:`DEFAULT_CONFIG_DIR`. ``~`` is expanded; ``..`` is collapsed.
    """
    context = info.context if isinstance(info.context, dict) else {}
    base = Path(context.get("base_dir") or DEFAULT_CONFIG_DIR).absolute()
    path = value.expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(base / path))
