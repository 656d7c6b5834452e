"""The media path's building blocks, free of actors.

Frames and slots (:mod:`.frames`), RGB to yuv420p (:mod:`.yuv`), transitions (:mod:`.blend`),
overlay layers (:mod:`.overlay_layer`), the program's frame clock (:mod:`.program_clock`),
finding ffmpeg (:mod:`.ffmpeg`) and choosing the H.264 encoder (:mod:`.hwaccel`). The camera,
mixer and encoder actors are built on these.
"""

from vistter.media.blend import Blender, dissolve, fade_through_black
from vistter.media.ffmpeg import FfmpegBinary, FfmpegNotFoundError, encoders, find_ffmpeg
from vistter.media.frames import (
    Frame,
    FrameFormat,
    FrameSlot,
    SlotFrame,
    black_frame,
    new_frame,
    planes,
    read_frame_into,
    solid_frame,
)
from vistter.media.hwaccel import (
    EncoderCandidate,
    EncoderChoice,
    EncoderUnavailableError,
    NoUsableEncoderError,
    Trial,
    detect_encoder,
)
from vistter.media.overlay_layer import OverlayLayer, OverlayPositionError, place
from vistter.media.program_clock import ProgramClock, Tick
from vistter.media.yuv import image_to_frame, rgb_to_frame, rgb_to_yuv

__all__ = [
    "Blender",
    "EncoderCandidate",
    "EncoderChoice",
    "EncoderUnavailableError",
    "FfmpegBinary",
    "FfmpegNotFoundError",
    "Frame",
    "FrameFormat",
    "FrameSlot",
    "NoUsableEncoderError",
    "OverlayLayer",
    "OverlayPositionError",
    "ProgramClock",
    "SlotFrame",
    "Tick",
    "Trial",
    "black_frame",
    "detect_encoder",
    "dissolve",
    "encoders",
    "fade_through_black",
    "find_ffmpeg",
    "image_to_frame",
    "new_frame",
    "place",
    "planes",
    "read_frame_into",
    "rgb_to_frame",
    "rgb_to_yuv",
    "solid_frame",
]
