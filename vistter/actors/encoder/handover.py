"""A planned handover between two encoder runs: which frame, which settings, which run.

Made by the encoder actor's thread (:meth:`~vistter.actors.encoder.encoder.EncoderActor.
reconfigure`, :meth:`~vistter.actors.encoder.encoder.EncoderActor.new_keyframe_at`), which
then starts the next run and sets :attr:`Handover.ready`; read by the writer thread, which
switches to that run at the first program frame at or after :attr:`Handover.first_frame`
(waiting for ``ready`` if it gets there first) and posts the handover back to the actor.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vistter.actors.encoder.overrides import EncodeOverrides

if TYPE_CHECKING:
    from vistter.actors.encoder.run import EncodeRun

__all__ = ["Handover"]


@dataclass(eq=False)
class Handover:
    """One planned handover; ``run`` is None until the next ffmpeg is started, ``error``
    says why it could not be. ``go_live``: the platforms wait for the next run (GO LIVE),
    the old run's tail is only for the local outputs, so it drains at a lower priority."""

    first_frame: int
    overrides: EncodeOverrides
    go_live: bool = False
    run: EncodeRun | None = None
    error: BaseException | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def failed(self, error: BaseException) -> None:
        """The next run could not be started (actor thread): the writer stops waiting."""
        self.error = error
        self.ready.set()
