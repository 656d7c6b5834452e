"""schemathesis hooks for :mod:`bench.api_fuzz` (loaded by ``SCHEMATHESIS_HOOKS``).

The records stored before the run (ids in ``VISTTER_FUZZ_PROTECTED``) must come through it
unchanged, but a fuzzer that sends a valid document to ``PUT /api/timelines/{id}``, a name to
``PATCH /api/timelines/{id}`` or any ``DELETE`` may legitimately change them. Such requests
are sent to an id that names nothing instead. A ``PUT`` whose body does not validate still
reaches the stored record: the API must refuse it and leave the record as it was, which the
run then checks.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

from vistter.models.config import load_config
from vistter.models.validation import validate_timeline

_NOWHERE = 2**63 - 1  # a valid id that names no record
_PROTECTED: dict[str, list[int]] = json.loads(os.environ.get("VISTTER_FUZZ_PROTECTED", "{}"))
_CONFIG = load_config(env={})  # the demo configuration the appliance under test runs


def _would_change(method: str, collection: str, body: Any) -> bool:
    if method == "DELETE":
        return True
    if method == "PUT" and collection == "timelines":
        return not validate_timeline(body, _CONFIG)
    if method == "PATCH" and collection == "timelines":  # a rename: any name that is text
        return isinstance(body, dict) and isinstance(body.get("name"), str)
    return False


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Any, kwargs: Any) -> None:
    """Send a request that would change a protected record to an id that does not exist.

    ``before_call`` runs for every request of every phase (``map_case`` does not see the
    coverage phase's cases)."""
    parameters = case.path_parameters or {}
    record_id = parameters.get("record_id")
    for collection, ids in _PROTECTED.items():
        if (
            case.operation.path.startswith(f"/api/{collection}/")
            and str(record_id) in {str(i) for i in ids}  # some phases send it as text
            and _would_change(case.method.upper(), collection, case.body)
        ):
            case.path_parameters = {**parameters, "record_id": _NOWHERE}
