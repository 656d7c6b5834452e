"""What degraded mode may change in the running encode, on top of ``[encoding]``.

An :class:`EncodeOverrides` is applied by the encoder actor's planned restart
(``EncoderActor.reconfigure``): a new ffmpeg with the new arguments takes over at a frame
boundary, the frames made meanwhile are kept, and the destinations see one continuous stream
(timestamps go on, the new stream starts on a keyframe). ``None`` in a field means "as
configured". The program itself (the mixer's frames) keeps its size and rate: a lower output
size or rate is ffmpeg's scaler and frame-rate filter, so only the encode gets cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EncodeOverrides"]


@dataclass(frozen=True, slots=True)
class EncodeOverrides:
    """Changes to the configured encode; the default (all None) is "none"."""

    bitrate_kbps: int | None = None
    """Video bitrate (the buffer follows at twice it); None: ``[encoding] bitrate_kbps``."""
    height: int | None = None
    """Output height in pixels, even, at most the program's (the width keeps the aspect);
    None: the program's size."""
    fps: int | None = None
    """Output frame rate, at most the program's; None: the program's rate."""

    def __post_init__(self) -> None:
        if self.bitrate_kbps is not None and self.bitrate_kbps < 100:
            raise ValueError(f"bitrate {self.bitrate_kbps} kbps is below 100 kbps")
        if self.height is not None and (self.height < 90 or self.height % 2):
            raise ValueError(f"output height {self.height} is not an even number >= 90")
        if self.fps is not None and self.fps < 1:
            raise ValueError(f"output rate {self.fps} fps is below 1")

    @property
    def is_none(self) -> bool:
        """Whether nothing is overridden (the configured encode)."""
        return self.bitrate_kbps is None and self.height is None and self.fps is None

    def describe(self) -> str:
        """For logs and alerts: e.g. ``"3600 kbps, 540p, 25 fps"`` or ``"as configured"``."""
        parts = []
        if self.bitrate_kbps is not None:
            parts.append(f"{self.bitrate_kbps} kbps")
        if self.height is not None:
            parts.append(f"{self.height}p")
        if self.fps is not None:
            parts.append(f"{self.fps} fps")
        return ", ".join(parts) or "as configured"
