"""The source registry: every kind of program source (camera, still, video file, slate).

A new kind of source is one module with its actor and its
:class:`~vistter.actors.sources.kind.SourceKind` value, plus its model; then one line in
:data:`SOURCE_KINDS`. The tree (:mod:`vistter.tree`) and the show's media on demand only
ever start sources through :func:`source_child`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from vistter.actors.sources.camera import CAMERA
from vistter.actors.sources.files import SLATE, STILL, VIDEO
from vistter.actors.sources.kind import SourceContext, SourceKind
from vistter.supervisors import Backoff, ChildSpec, HeartbeatSpec

__all__ = ["SOURCE_KINDS", "SourceContext", "source_child", "source_kind"]

#: Every source kind by name.
SOURCE_KINDS: Mapping[str, SourceKind[Any]] = MappingProxyType(
    {kind.name: kind for kind in (CAMERA, STILL, VIDEO, SLATE)}
)


def source_kind(model: object) -> SourceKind[Any]:
    """The registry entry whose model ``model`` is. Raises :class:`LookupError` for a model
    no kind is registered for (a bug: a new model without its registry line)."""
    for kind in SOURCE_KINDS.values():
        if isinstance(model, kind.model):
            return kind
    raise LookupError(f"no source kind is registered for {type(model).__name__}")


def source_child(
    model: object,
    context: SourceContext,
    *,
    restart_delay: Backoff | None = None,
    heartbeat: HeartbeatSpec | None = None,
) -> ChildSpec:
    """The ``sources`` child that plays ``model``."""
    kind = source_kind(model)
    return ChildSpec(
        kind.child_id(model), kind.start(model, context),
        restart_delay=restart_delay, heartbeat=heartbeat,
    )  # fmt: skip
