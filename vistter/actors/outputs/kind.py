"""What an output kind tells the tree: an entry of the output registry.

An output kind (RTMP, SRT, the recorder, next the preview) is one module that defines its
actor and one :class:`OutputKind` value, plus its configuration model in
:mod:`vistter.models.destinations`; :mod:`vistter.actors.outputs.registry` lists the kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

from vistter.actors.outputs.reachability import ProbeTarget
from vistter.supervisors.spec import StartFunction

if TYPE_CHECKING:
    from vistter.actors.bus import ProgramBus
    from vistter.models.config import ApplianceConfig

__all__ = ["OutputKind", "OutputModel"]


class OutputModel(Protocol):
    """What every output model has (see :mod:`vistter.models.destinations`): its kind (the
    registry key), its id, and a URL or path safe to show."""

    kind: ClassVar[str]

    @property
    def id(self) -> str: ...

    @property
    def display_url(self) -> str: ...


M = TypeVar("M", bound=OutputModel)


@dataclass(frozen=True)
class OutputKind(Generic[M]):
    """One kind of output.

    ``name``: the registry key (the model's ``kind``); ``model``: its configuration model;
    ``prefix``: its children are ``<prefix>-<id>`` under ``outputs``; ``start``: the start
    function of its actor for one model, the appliance's configuration and the program bus
    (called in the thread that builds the tree; the function it returns runs in the
    supervisor's thread on every (re)start, attaches the fanout queue and starts the
    actor); ``probe``: where and how to check the server answers (None: nothing to probe,
    e.g. a local file); ``on_air_only``: a platform output, which publishes only while the
    show is on air (see :mod:`vistter.actors.fanout.on_air`); local outputs (the recorder,
    the preview) take the program all the time.
    """

    name: str
    model: type[M]
    prefix: str
    start: Callable[[M, ApplianceConfig, ProgramBus], StartFunction]
    probe: Callable[[M], ProbeTarget] | None = None
    on_air_only: bool = False

    def child_id(self, model: M) -> str:
        """The ``outputs`` child id of ``model``'s actor."""
        return f"{self.prefix}-{model.id}"
