"""Problems: one thing wrong with a document, where it is, and how to fix it.

Both the timeline validator and the configuration loader report what they find as a list of
:class:`Problem`. Schema errors raised by pydantic are translated here into the same form, with
the field path written the way the user wrote the document (``cues[1].duration``), never
pydantic's internal location (which also names the union member it tried).

Messages never repeat the *value* the user gave: a value may be a secret.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

__all__ = [
    "Problem",
    "custom_error",
    "field_error",
    "format_path",
    "problems_from_validation_error",
]

#: Keys that select the member of a discriminated union; pydantic puts the selected tag
#: into the error location, which we strip again.
_DISCRIMINATORS = ("action", "type", "platform")

#: Pydantic error type used by our own validators to carry a hint (and maybe sub-problems).
_CUSTOM = "vistter"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document.

    ``path`` names the field as the user wrote it (``timeline.tracks.video.cues[1].duration``),
    ``message`` says what is wrong, ``hint`` says how to fix it.
    """

    path: str
    message: str
    hint: str

    def __str__(self) -> str:
        where = self.path or "(document)"
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")

    def to_dict(self) -> dict[str, str]:
        """The problem as the API returns it."""
        return {"path": self.path, "message": self.message, "hint": self.hint}


def custom_error(
    message: str, hint: str, *, problems: Sequence[Problem] = ()
) -> PydanticCustomError:
    """An error for a pydantic validator to raise that keeps our hint (and sub-problems).

    ``problems`` lets a model-level validator report several problems with their own paths
    (relative to the model being validated).
    """
    return PydanticCustomError(
        _CUSTOM,
        "{message}",
        {"message": message, "hint": hint, "problems": tuple(problems)},
    )


def field_error(field: str, message: str, hint: str) -> PydanticCustomError:
    """An error for a model-level validator to raise about one of the model's fields."""
    return custom_error(message, hint, problems=(Problem(field, message, hint),))


def format_path(parts: Iterable[str | int]) -> str:
    """``("timeline", "cues", 1, "duration")`` -> ``"timeline.cues[1].duration"``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _user_path(loc: tuple[int | str, ...], data: object) -> list[str | int]:
    """Drop the union tags pydantic adds to ``loc``, by walking the user's own data."""
    parts: list[str | int] = []
    node: object = data
    tag_skipped = False
    for element in loc:
        if (
            isinstance(node, dict)
            and isinstance(element, str)
            and not tag_skipped
            and any(node.get(key) == element for key in _DISCRIMINATORS)
        ):
            tag_skipped = True  # the tag of the union member; the next element is a field
            continue
        tag_skipped = False
        parts.append(element)
        if isinstance(node, dict):
            node = node.get(element)
        elif isinstance(node, list | tuple) and isinstance(element, int):
            node = node[element] if -len(node) <= element < len(node) else None
        else:
            node = None
    return parts


def _suggest(name: str, vocabulary: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(vocabulary)), n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


_GENERIC_HINTS = {
    "missing": "Add this field.",
    "int_type": "Write a whole number without quotes.",
    "int_from_float": "Write a whole number without quotes.",
    "number_type": "Write a number without quotes.",
    "float_type": "Write a number without quotes.",
    "string_type": "Write this as text in double quotes.",
    "bool_type": "Write true or false, without quotes.",
    "literal_error": "Use one of the values listed.",
    "model_type": "Write an object ({ ... }) here.",
    "model_attributes_type": "Write an object ({ ... }) here.",
    "dict_type": "Write an object ({ ... }) here.",
    "list_type": "Write a list ([ ... ]) here.",
    "tuple_type": "Write a list ([ ... ]) here.",
    "string_too_short": "This text must not be empty.",
    "string_too_long": "Shorten this text.",
    "string_pattern_mismatch": "Check the format of this value.",
    "greater_than": "Use a larger value.",
    "greater_than_equal": "Use a larger value.",
    "less_than": "Use a smaller value.",
    "less_than_equal": "Use a smaller value.",
}


def _translate(
    error: Any, data: object, field_hints: dict[str, str], vocabulary: Iterable[str]
) -> list[Problem]:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    parts = _user_path(tuple(error["loc"]), data)
    field = next((p for p in reversed(parts) if isinstance(p, str)), "")
    message: str = error["msg"]
    hint = field_hints.get(field) or _GENERIC_HINTS.get(kind, "Correct this value.")

    if kind == _CUSTOM:
        nested: tuple[Problem, ...] = ctx.get("problems", ())
        if nested:
            base = format_path(parts)
            return [
                Problem(
                    path=".".join(p for p in (base, sub.path) if p).replace(".[", "["),
                    message=sub.message,
                    hint=sub.hint,
                )
                for sub in nested
            ]
        message, hint = ctx["message"], ctx["hint"]
    elif kind == "missing":
        message = f"'{field}' is required"
    elif kind == "extra_forbidden":
        message = f"'{field}' is not a known field here"
        hint = "Remove it, or check its spelling" + _suggest(field, vocabulary) + "."
    elif kind == "union_tag_not_found":
        key = str(ctx.get("discriminator", "")).strip("'")
        parts.append(key)
        message = f"'{key}' is required"
        hint = "Add it, to say what kind of entry this is."
    elif kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", "")).strip("'")
        parts.append(key)
        message = f"'{ctx.get('tag')}' is not a valid {key} here"
        hint = f"Use one of {ctx.get('expected_tags')}."
    elif kind.startswith("value_error") and message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return [Problem(path=format_path(parts), message=message, hint=hint)]


def problems_from_validation_error(
    error: ValidationError,
    data: object,
    *,
    field_hints: dict[str, str] | None = None,
    vocabulary: Iterable[str] = (),
) -> list[Problem]:
    """Every error in ``error`` as a :class:`Problem`, with paths into the user's ``data``.

    ``field_hints`` maps a field name to the hint shown for any error on that field;
    ``vocabulary`` is the set of valid field names used to suggest a fix for a typo.
    """
    hints = field_hints or {}
    words = tuple(vocabulary)
    problems: list[Problem] = []
    for item in error.errors(include_url=False, include_input=False):
        problems.extend(_translate(item, data, hints, words))
    return problems
