"""The whole supervision tree of the appliance, top to bottom as ``GET /api/supervision`` shows it.

```
root (one_for_one)
├── telemetry  (one_for_one)            publisher, system, stream
├── sources    (one_for_one)            slate, camera-<id> ... (media-<hash> started by the show)
├── program    (rest_for_one)           mixer -> fanout -> encoder (-> degraded)
├── outputs    (one_for_one, dynamic)   <kind prefix>-<id>: destination-, srt-, recorder- ...
├── show       (one_for_all)            tracks (video-<track>, overlay-<track> ...), orchestrator
└── api                                 uvicorn serving the Starlette control app
```

Sources and outputs come from their registries (:mod:`vistter.actors.sources.registry`,
:mod:`vistter.actors.outputs.registry`): this module never asks what kind a source or an
output is. Cameras and destinations handle their expected failures (offline, refused) as
states with their own backoff; the supervisors' ``CRASH_BACKOFF`` only covers crashes (bugs),
so a crash loop is retried later instead of taking the appliance down.

Why ``program`` has the fanout *before* the encoder: every hand-over between its children
outlives them (the mixer's :class:`~vistter.actors.program.frame_queue.FrameQueue`, the
encoder's :class:`~vistter.actors.encoder.ts_pipe.TsPipe`, the fanout's queues), so an
encoder crash needs nothing else restarted but what depends on the encoder's settings
(degraded mode, after it). The frame queue keeps the frames made meanwhile, the new encoder
encodes them starting on a keyframe where the timeline is, and the fanout and every
destination carry on with the same connections: one continuous stream (see
:mod:`vistter.actors.encoder.encoder`). A fanout crash restarts the encoder after it (no
frame is lost: the same machinery) and every destination resumes at the next keyframe.

Why ``show`` is shaped this way: the track executors depend on the loaded timeline, so they
are dynamic children that the orchestrator starts on ``load`` and stops on the next ``load``.
They live in their own one_for_one ``tracks`` supervisor so that one executor's crash
restarts only that executor (it re-derives what to arm from the shared ShowState), while a
crash of the orchestrator (or ``tracks`` giving up) restarts the whole show: ``tracks`` comes
back empty and the new orchestrator fills it again in its ``setup``. ``tracks`` starts first
so that it runs when the orchestrator's ``setup`` calls into it (a sibling, not the parent).

Every function here runs in the thread that builds the tree (the appliance's); the start
functions they put in the specs run in the supervisors' threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.encoder.fallback import EncoderFallback
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.fanout.on_air import OnAir
from vistter.actors.outputs.kind import OutputModel
from vistter.actors.outputs.registry import output_kind
from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.sources.registry import source_child
from vistter.api.app import ApiDeps, create_app
from vistter.api.server import ApiServer
from vistter.degraded.child import DegradedChild
from vistter.models.config import ApplianceConfig
from vistter.models.sources import SlateImage
from vistter.show.context import ShowContext
from vistter.show.controls import ExecutionRecorder
from vistter.show.orchestrator import Orchestrator
from vistter.show.preflight import PreflightChecks
from vistter.show.tracks import TracksRef
from vistter.supervisors import (
    ChildSpec,
    Strategy,
    Supervisor,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.link import Link
from vistter.supervisors.spec import CRASH_BACKOFF, HEARTBEAT
from vistter.telemetry import Metrics, SystemSampler, TelemetryBus, TelemetryPublisher

__all__ = [
    "CRASH_BACKOFF",
    "HEARTBEAT",
    "ROOT_FLAGS",
    "SHOW_FLAGS",
    "TreeParts",
    "output_child",
    "root_children",
    "show_spec",
]

ROOT_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=5, period=30)
TELEMETRY_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ONE)
SUBTREE_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=5, period=30)
PROGRAM_FLAGS = SupervisorFlags(Strategy.REST_FOR_ONE, intensity=5, period=30)
SHOW_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ALL, intensity=5, period=30)


@dataclass(frozen=True)
class TreeParts:
    """What the tree is built from: the configuration and the objects that outlive actors.

    ``executions``: the show's run log (None: runs are not recorded); ``preflight``: how
    the show checks cameras, assets and destinations; ``api``: what the control API reads
    and calls; ``api_token``: its bearer token (None: loopback only).
    """

    config: ApplianceConfig
    telemetry: TelemetryBus
    metrics: Metrics
    program: ProgramBus
    show: ShowContext
    api: ApiDeps
    executions: ExecutionRecorder | None = None
    preflight: PreflightChecks | None = None
    stream: Callable[[Link], pykka.ActorRef[Any]] | None = None
    """Starts the ``STREAM_METRICS`` sampler under ``telemetry`` (None: no such child)."""
    degraded: DegradedChild | None = None
    """Degraded mode: the last child of ``program`` and the mixer's overlay gate (None: none)."""


def root_children(parts: TreeParts) -> list[ChildSpec]:
    """The root's children, in start order (they stop in reverse)."""
    return [
        telemetry_spec(parts.config, parts.telemetry, parts.metrics, stream=parts.stream),
        sources_spec(parts.config, parts.program),
        program_spec(parts.config, parts.program, degraded=parts.degraded),
        outputs_spec(parts.config, parts.program),
        show_spec(parts.show, recorder=parts.executions, preflight=parts.preflight,
                  air=parts.program.fanout.air),
        api_spec(parts.config, parts.api),
    ]


# -- telemetry ---------------------------------------------------------------------------


def telemetry_spec(
    config: ApplianceConfig, bus: TelemetryBus, metrics: Metrics,
    stream: Callable[[Link], pykka.ActorRef[Any]] | None = None,
) -> ChildSpec:
    """``telemetry``: the ZeroMQ publisher, the system sampler, the stream sampler."""
    telemetry = config.telemetry
    data_dir = config.paths.data_dir

    def start_sampler(link: Link) -> pykka.ActorRef[Any]:
        return SystemSampler.start(
            link, bus, telemetry.system_interval, metrics=metrics, data_dir=data_dir
        )

    children = [
        _worker("publisher", start_function_for(TelemetryPublisher, bus, telemetry.endpoint)),
        _worker("system", start_sampler),
        *([_worker("stream", stream)] if stream is not None else []),
    ]
    return _supervisor("telemetry", TELEMETRY_FLAGS, children)


# -- sources -----------------------------------------------------------------------------


def sources_spec(config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    """``sources``: the slate first (the program's last resort), then every camera. The
    show adds and removes stills and video files here while it runs."""
    context = bus.source_context
    models: list[object] = [SlateImage(bus.slate_image), *config.cameras]
    children = [
        source_child(model, context, restart_delay=CRASH_BACKOFF, heartbeat=HEARTBEAT)
        for model in models
    ]
    return _supervisor("sources", SUBTREE_FLAGS, children)


# -- program -----------------------------------------------------------------------------


def program_spec(
    config: ApplianceConfig, bus: ProgramBus, degraded: DegradedChild | None = None
) -> ChildSpec:
    """``program``: mixer -> fanout -> encoder (-> degraded), rest_for_one: an encoder
    restart touches neither the fanout nor any destination (see the module doc); degraded
    mode is last, so it restarts with the encoder and applies its level to the new one."""

    def start_mixer(link: Link) -> pykka.ActorRef[Any]:
        return ProgramMixer.start(
            link, bus.fmt, bus.sources, bus.state, bus.frames,
            fallback=bus.fallback, epoch=bus.epoch,
            overlays=degraded.overlays if degraded is not None else None,
        )  # fmt: skip

    encoding = config.encoding
    start_encoder = start_function_for(
        EncoderActor, bus.fmt, encoding, bus.encoder, bus.ffmpeg, bus.frames, bus.ts,
        audio_bed=encoding.audio_bed, air=bus.fanout.air,
        fallback=EncoderFallback(bus.encoder),
    )  # fmt: skip
    children = [
        _worker("mixer", start_mixer),
        _worker("fanout", start_function_for(FanoutActor, bus.ts, bus.fanout)),
        _worker("encoder", start_encoder),
        *([_worker("degraded", degraded.start)] if degraded is not None else []),
    ]
    return _supervisor("program", PROGRAM_FLAGS, children)


# -- outputs -----------------------------------------------------------------------------


def outputs_spec(config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    """``outputs``: one child per enabled destination; the API adds and removes more live."""
    children = [output_child(d, config, bus) for d in config.enabled_destinations]
    children += [output_child(config.preview, config, bus)] if config.preview.enabled else []
    return _supervisor("outputs", SUBTREE_FLAGS, children)


def output_child(destination: OutputModel, config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    """The child that feeds one destination from its fanout queue (its kind's actor). A
    platform destination's queue follows the on-air switch (``OutputKind.on_air_only``)."""
    kind = output_kind(destination)
    if kind.on_air_only:
        bus.fanout.gate(destination.id)
    return _worker(kind.child_id(destination), kind.start(destination, config, bus))


# -- show --------------------------------------------------------------------------------


def show_spec(
    context: ShowContext,
    *,
    recorder: ExecutionRecorder | None = None,
    preflight: PreflightChecks | None = None,
    air: OnAir | None = None,
) -> ChildSpec:
    """``show``: ``tracks`` (filled by the orchestrator), then the orchestrator.

    ``recorder``: the execution log (None: runs are not recorded); ``preflight``: how to
    check cameras, assets and destinations (its ``cameras`` also validates forced cameras);
    ``air``: the platform destinations' on-air switch, flipped by GO LIVE and Stop.
    """
    tracks = TracksRef()

    def start_orchestrator(link: Link) -> pykka.ActorRef[Any]:
        return Orchestrator.start(
            link, context, tracks, recorder=recorder, preflight=preflight, air=air
        )

    children = [
        ChildSpec.supervisor("tracks", tracks.start),
        _worker("orchestrator", start_orchestrator),
    ]
    return _supervisor("show", SHOW_FLAGS, children)


# -- api ---------------------------------------------------------------------------------


def api_spec(config: ApplianceConfig, deps: ApiDeps) -> ChildSpec:
    """``api``: uvicorn serving the Starlette control app."""
    api = config.api
    return ChildSpec(
        "api",
        start_function_for(ApiServer, create_app(deps), api.host, api.port, deps.token,
                           admin_password=api.admin_password_hash is not None),
        restart_delay=CRASH_BACKOFF,
    )


# -- shapes ------------------------------------------------------------------------------


def _worker(child_id: str, start: Callable[..., pykka.ActorRef[Any]]) -> ChildSpec:
    return ChildSpec(child_id, start, restart_delay=CRASH_BACKOFF, heartbeat=HEARTBEAT)


def _supervisor(child_id: str, flags: SupervisorFlags, children: list[ChildSpec]) -> ChildSpec:
    return ChildSpec.supervisor(child_id, start_function_for(Supervisor, flags, children))
