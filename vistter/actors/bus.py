"""The program bus: every object of the media path that outlives the actors using it.

Built once per appliance from the configuration, in the thread that builds the tree. The
actors (cameras, mixer, encoder, fanout, destinations) are restarted by their supervisors;
the slots, queues and armed program changes here carry on across those restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vistter.actors.encoder.hwaccel import EncoderChoice, detect_encoder
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.program.clock import ProgramEpoch
from vistter.actors.program.fallback import FallbackPolicy
from vistter.actors.program.frame_queue import FrameQueue
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.kind import SourceContext
from vistter.actors.sources.table import SLATE_SOURCE_ID, SourceTable
from vistter.clock import Clock
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.media.frames import FrameFormat
from vistter.models.config import ApplianceConfig
from vistter.supervisors.link import EventSink

SLATE_IMAGE = "technical_difficulties.png"


@dataclass
class ProgramBus:
    """Shared, thread-safe objects of one program."""

    fmt: FrameFormat
    ffmpeg: FfmpegBinary
    encoder: EncoderChoice
    sources: SourceTable
    epoch: ProgramEpoch
    state: ProgramState
    fallback: FallbackPolicy
    frames: FrameQueue
    ts: TsPipe
    fanout: FanoutTable
    slate_image: Path

    @property
    def source_context(self) -> SourceContext:
        """What every source actor is started with (see the source registry)."""
        return SourceContext(self.fmt, self.sources, self.ffmpeg)

    @classmethod
    def build(cls, config: ApplianceConfig, clock: Clock, events: EventSink) -> ProgramBus:
        """Find ffmpeg, choose the encoder (a short trial encode per candidate) and make the
        shared objects. Raises :class:`~vistter.errors.ConfigError` when ffmpeg or the
        configured encoder cannot be used."""
        encoding = config.encoding
        ffmpeg = find_ffmpeg(str(encoding.ffmpeg_path) if encoding.ffmpeg_path else None)
        fmt = FrameFormat(encoding.width, encoding.height, encoding.fps)
        sources = SourceTable(fmt, clock)
        epoch = ProgramEpoch(fmt.fps)
        return cls(
            fmt=fmt,
            ffmpeg=ffmpeg,
            encoder=detect_encoder(ffmpeg, encoding.encoder),
            sources=sources,
            epoch=epoch,
            state=ProgramState(fmt, epoch=epoch),
            fallback=FallbackPolicy.from_cameras(
                sources, config.cameras, slate_id=SLATE_SOURCE_ID, events=events, clock=clock,
                start_grace=config.show.start_grace,
            ),
            frames=FrameQueue(
                restart_capacity=round(encoding.restart_buffer_seconds * encoding.fps)
            ),
            ts=TsPipe(),
            fanout=FanoutTable(),
            slate_image=config.paths.assets_dir / SLATE_IMAGE,
        )
