"""The appliance's side of the preflight checks that look at the world: destinations
reachable, disk space. Plain functions for :class:`~vistter.show.preflight.PreflightChecks`;
they run in the orchestrator's thread and never raise for what they find."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from vistter.actors.outputs.kind import OutputModel
from vistter.actors.outputs.probe_all import probe_destinations
from vistter.show.preflight import DestinationReach, DiskSpace

__all__ = ["destination_reach", "disk_space"]

PROBE_TIMEOUT = 2.0


def destination_reach(
    destinations: Sequence[OutputModel], timeout: float = PROBE_TIMEOUT
) -> list[DestinationReach]:
    """Probe every destination with its protocol's handshake (in parallel, nothing is
    published); a local output answers ``reachable=None``."""
    reach: list[DestinationReach] = []
    for probe in probe_destinations(destinations, timeout):
        model, result = probe.destination, probe.result
        if probe.problem:
            reach.append(DestinationReach(model.id, model.display_url, False, probe.problem))
        elif result is None:
            reach.append(DestinationReach(model.id, model.display_url, None))
        else:
            reach.append(
                DestinationReach(model.id, model.display_url, result.reachable, result.detail)
            )
    return reach


def disk_space(path: Path) -> DiskSpace:
    """Free space of the file system holding ``path`` (or its nearest existing parent)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return DiskSpace(str(path), usage.free, usage.total)
