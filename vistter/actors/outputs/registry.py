"""The output registry: every kind of output, keyed by the destination model's ``kind``.

A new kind of output (the preview, HLS...) is one module with its actor and its
:class:`~vistter.actors.outputs.kind.OutputKind` value, plus its model in
:mod:`vistter.models.destinations` (with a ``kind`` class variable, an ``id`` and a
``display_url``, added to the ``Destination`` union); then one line in :data:`OUTPUT_KINDS`.
The tree (:mod:`vistter.tree`) and the appliance's live add/remove only ever go through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from vistter.actors.outputs.destination import RTMP
from vistter.actors.outputs.kind import OutputKind, OutputModel
from vistter.actors.outputs.preview import PREVIEW
from vistter.actors.outputs.recorder import RECORDER
from vistter.actors.outputs.srt import SRT
from vistter.errors import ConfigError

__all__ = ["OUTPUT_KINDS", "output_kind"]

#: Every output kind by name, in the order they are documented.
OUTPUT_KINDS: Mapping[str, OutputKind[Any]] = MappingProxyType(
    {kind.name: kind for kind in (RTMP, SRT, RECORDER, PREVIEW)}
)


def output_kind(destination: OutputModel) -> OutputKind[Any]:
    """The registry entry of ``destination``'s kind (any output model: a configured
    destination, or one the appliance makes itself). Raises :class:`ConfigError` for a model
    whose kind is not registered (a new model without its registry line)."""
    kind = OUTPUT_KINDS.get(destination.kind)
    if kind is None or not isinstance(destination, kind.model):
        raise ConfigError(
            f"destination '{destination.id}' is of kind {destination.kind!r}, which has no "
            "output registered.",
            hint="Add the kind's OutputKind to OUTPUT_KINDS in vistter/actors/outputs/registry.py.",
        )
    return kind
