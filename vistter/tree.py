"""The media subtrees of the appliance, built from the configuration and the program bus.

```
sources  (one_for_one)    slate, camera-<id> ...
program  (rest_for_one)   mixer -> encoder -> fanout
outputs  (one_for_one)    destination-<id> / recorder-<id> ..., added and removed live
```

Cameras and destinations handle their expected failures (offline, refused) as states with
their own backoff; the supervisor's backoff only covers crashes (bugs), so a crash loop is
retried later instead of taking the appliance down.
"""

from __future__ import annotations

from typing import Any

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.encoder.encoder import EncoderActor
from vistter.actors.fanout.fanout import FanoutActor
from vistter.actors.outputs.destination import DestinationActor
from vistter.actors.outputs.recorder import RecorderActor
from vistter.actors.program.mixer import ProgramMixer
from vistter.actors.sources.camera import CameraActor
from vistter.actors.sources.files import SlateSource
from vistter.models.cameras import CameraConfig
from vistter.models.config import ApplianceConfig
from vistter.models.destinations import RecorderDestination, RtmpDestination
from vistter.supervisors import (
    Backoff,
    ChildSpec,
    HeartbeatSpec,
    Strategy,
    Supervisor,
    SupervisorFlags,
    start_function_for,
)
from vistter.supervisors.link import Link

CRASH_BACKOFF = Backoff(initial=1, factor=2, maximum=30, reset_after=60)
HEARTBEAT = HeartbeatSpec(interval=5, timeout=15)
SUBTREE_FLAGS = SupervisorFlags(Strategy.ONE_FOR_ONE, intensity=5, period=30)
PROGRAM_FLAGS = SupervisorFlags(Strategy.REST_FOR_ONE, intensity=5, period=30)

Destination = RtmpDestination | RecorderDestination


def sources_spec(config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    children = [
        ChildSpec(
            "slate",
            start_function_for(SlateSource, bus.fmt, bus.sources, bus.slate_image),
            restart_delay=CRASH_BACKOFF,
            heartbeat=HEARTBEAT,
        ),
        *(camera_spec(camera, bus) for camera in config.cameras),
    ]
    return ChildSpec.supervisor(
        "sources", start_function_for(Supervisor, SUBTREE_FLAGS, children)
    )


def camera_spec(camera: CameraConfig, bus: ProgramBus) -> ChildSpec:
    return ChildSpec(
        f"camera-{camera.id}",
        start_function_for(CameraActor, camera, bus.fmt, bus.sources, bus.ffmpeg),
        restart_delay=CRASH_BACKOFF,
        heartbeat=HEARTBEAT,
    )


def program_spec(config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    children = [
        ChildSpec(
            "mixer",
            _start_mixer(bus),
            restart_delay=CRASH_BACKOFF,
            heartbeat=HEARTBEAT,
        ),
        ChildSpec(
            "encoder",
            start_function_for(
                EncoderActor, bus.fmt, config.encoding, bus.encoder, bus.ffmpeg, bus.frames, bus.ts,
                audio_bed=config.encoding.audio_bed,
            ),
            restart_delay=CRASH_BACKOFF,
            heartbeat=HEARTBEAT,
        ),
        ChildSpec(
            "fanout",
            start_function_for(FanoutActor, bus.ts, bus.fanout),
            restart_delay=CRASH_BACKOFF,
            heartbeat=HEARTBEAT,
        ),
    ]
    return ChildSpec.supervisor(
        "program", start_function_for(Supervisor, PROGRAM_FLAGS, children)
    )


def _start_mixer(bus: ProgramBus) -> Any:
    def start(link: Link) -> pykka.ActorRef[Any]:
        return ProgramMixer.start(
            link, bus.fmt, bus.sources, bus.state, bus.frames,
            fallback=bus.fallback, epoch=bus.epoch,
        )

    return start


def output_id(destination: Destination) -> str:
    kind = "recorder" if isinstance(destination, RecorderDestination) else "destination"
    return f"{kind}-{destination.id}"


def output_spec(destination: Destination, config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    """The child that feeds one destination from its fanout queue."""

    def start(link: Link) -> pykka.ActorRef[Any]:
        queue = bus.fanout.attach(destination.id)
        if isinstance(destination, RecorderDestination):
            return RecorderActor.start(link, destination, queue, bus.ffmpeg)
        return DestinationActor.start(
            link, destination, queue, bus.ffmpeg, encoding=config.encoding
        )

    return ChildSpec(
        output_id(destination), start, restart_delay=CRASH_BACKOFF, heartbeat=HEARTBEAT
    )


def outputs_spec(config: ApplianceConfig, bus: ProgramBus) -> ChildSpec:
    children = [output_spec(d, config, bus) for d in config.enabled_destinations]
    return ChildSpec.supervisor(
        "outputs", start_function_for(Supervisor, SUBTREE_FLAGS, children)
    )
