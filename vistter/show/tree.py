"""The show subtree: the orchestrator and the track executors it starts for each timeline.

```
show  (one_for_all)
├── tracks        (one_for_one, filled by the orchestrator: video-<track>, overlay-<track>...)
└── orchestrator  (the state machine; the API talks to it)
```

Why this shape: the executors depend on the loaded timeline (one per overlay track), so they
are dynamic children that the orchestrator starts on ``load`` and stops on the next ``load``.
They live in their own one_for_one ``tracks`` supervisor so that one executor's crash restarts
only that executor (it re-derives what to arm from the shared ShowState), while a crash of
the orchestrator (or ``tracks`` giving up) restarts the whole show: ``tracks`` comes back
empty and the new orchestrator fills it again from the ShowState in its ``setup``. ``tracks``
starts first so that it is running when the orchestrator's ``setup`` calls into it (a child
must not call its own supervisor from ``setup``; ``tracks`` is a sibling, not the parent).
"""

from __future__ import annotations

from typing import Any

import pykka

from vistter.show.context import ShowContext
from vistter.show.controls import ExecutionRecorder
from vistter.show.orchestrator import Orchestrator
from vistter.show.preflight import PreflightChecks
from vistter.show.tracks import CRASH_BACKOFF, HEARTBEAT, TracksRef
from vistter.supervisors import ChildSpec, Strategy, Supervisor, SupervisorFlags
from vistter.supervisors.link import Link

__all__ = ["SHOW_FLAGS", "show_spec"]

SHOW_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ALL, intensity=5, period=30)


def show_spec(
    context: ShowContext,
    *,
    recorder: ExecutionRecorder | None = None,
    preflight: PreflightChecks | None = None,
) -> ChildSpec:
    """The ``show`` subtree for the root supervisor (see the module doc).

    ``recorder``: the execution log (None: runs are not recorded); ``preflight``: how to
    check cameras, assets and destinations (its ``cameras`` also validates forced cameras).
    """
    tracks = TracksRef()

    def start_orchestrator(link: Link) -> pykka.ActorRef[Any]:
        return Orchestrator.start(link, context, tracks, recorder=recorder, preflight=preflight)

    children = [
        ChildSpec.supervisor("tracks", tracks.start),
        ChildSpec("orchestrator", start_orchestrator, restart_delay=CRASH_BACKOFF,
                  heartbeat=HEARTBEAT),
    ]

    def start_show(link: Link) -> pykka.ActorRef[Any]:
        return Supervisor.start(link, SHOW_FLAGS, children)

    return ChildSpec.supervisor("show", start_show)
