"""Probe every destination at once with its kind's own check, publishing nothing (preflight).

Each output kind names its probe in the registry (the RTMP handshake, the SRT induction
handshake); a kind without one (the recorder, the preview) has no server to ask. The probes
run in parallel in short-lived threads, so checking five destinations takes one timeout,
not five.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from vistter.actors.outputs.kind import OutputModel
from vistter.actors.outputs.reachability import ProbeResult
from vistter.actors.outputs.registry import output_kind
from vistter.errors import ConfigError

__all__ = ["DestinationProbe", "probe_destinations"]

MAX_PARALLEL = 8


@dataclass(frozen=True)
class DestinationProbe:
    """One destination's answer: ``result`` None when its kind has nothing to probe;
    ``problem`` set when its URL names no usable server."""

    destination: OutputModel
    result: ProbeResult | None
    problem: str = ""


def probe_destinations(
    destinations: Sequence[OutputModel], timeout: float = 2.0
) -> list[DestinationProbe]:
    """Probe every destination in ``destinations`` (in order). Blocks the calling thread for
    about ``timeout`` seconds at most per batch of :data:`MAX_PARALLEL`; never raises for
    network errors or a bad URL (both are answers)."""

    def probe(destination: OutputModel) -> DestinationProbe:
        kind = output_kind(destination)
        if kind.probe is None:
            return DestinationProbe(destination, None)
        try:
            target = kind.probe(destination)
        except ConfigError as exc:
            return DestinationProbe(destination, None, problem=exc.problem)
        return DestinationProbe(destination, target.check(target.host, target.port, timeout))

    if not destinations:
        return []
    workers = min(MAX_PARALLEL, len(destinations))
    with ThreadPoolExecutor(workers, thread_name_prefix="vistter-preflight-probe") as pool:
        return list(pool.map(probe, destinations))
