"""The last line of defence on exit: no child process outlives the appliance.

Every process is owned by an actor that ends it; this guard runs after the tree stopped
and ends, by PID, any child of ours that is still there (which would be a bug, and is
logged as one). It never looks at processes that are not our descendants.
"""

from __future__ import annotations

import contextlib
import logging

import psutil

logger = logging.getLogger(__name__)


def end_stray_children(grace: float = 3.0) -> list[int]:
    """Terminate, wait, then kill every remaining descendant. Returns their PIDs."""
    children = psutil.Process().children(recursive=True)
    if not children:
        return []
    pids = [child.pid for child in children]
    logger.error("BUG: %d child process(es) outlived their actors: %s", len(pids), pids)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=grace)
    return pids
