"""Program JPEG and camera thumbnails: right size, right colours, one encode per interval."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from vistter.actors.outputs.preview_stills import (
    JpegCache,
    PreviewStills,
    Still,
    scaled_size,
    yuv420_jpeg,
)
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.actors.sources.table import SourceTable, camera_source_id
from vistter.clock import FakeClock
from vistter.media.frames import FrameFormat, solid_frame
from vistter.media.yuv import rgb_to_yuv

FMT = FrameFormat(1280, 720, 30)
COLOURS = [(255, 0, 0), (0, 0, 255), (20, 200, 60), (255, 255, 255), (0, 0, 0)]


def decode(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    image.load()
    return image.convert("RGB")


def near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("rgb", COLOURS)
@pytest.mark.parametrize("width", [None, 320])
def test_a_frame_becomes_a_jpeg_of_its_colour_and_size(
    rgb: tuple[int, int, int], width: int | None
) -> None:
    frame = solid_frame(FMT, *rgb_to_yuv(*rgb))
    image = decode(yuv420_jpeg(frame, FMT, width))
    assert image.size == ((1280, 720) if width is None else (320, 180))
    centre = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(centre, tuple)
    assert near(centre, rgb), f"{centre} is not {rgb}: limited range must be expanded"


def test_thumbnail_sizes_keep_the_aspect_and_stay_even() -> None:
    assert scaled_size(FMT, 320) == (320, 180)
    assert scaled_size(FrameFormat(640, 360, 30), 1000) == (640, 360)
    assert scaled_size(FrameFormat(720, 576, 25), 320) == (320, 256)


def test_many_viewers_at_once_cost_one_encode_per_interval() -> None:
    clock = FakeClock()
    cache = JpegCache(clock, interval=1.0)
    made = []
    gate = threading.Barrier(8)

    def make() -> Still:
        made.append(1)
        return Still(b"jpeg", 1, 1, clock.monotonic())

    def viewer() -> None:
        gate.wait(5)
        assert cache.get("camera-1", make) is not None

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(made) == 1
    clock.advance(0.5)
    cache.get("camera-1", make)
    assert len(made) == 1
    clock.advance(0.6)
    cache.get("camera-1", make)
    assert len(made) == 2
    assert cache.get("camera-2", lambda: None) is None  # nothing yet: not cached
    assert cache.get("camera-2", make) is not None and len(made) == 3


def test_stills_come_from_the_program_queue_and_the_camera_slots() -> None:
    clock = FakeClock()
    frames = FrameQueue()
    sources = SourceTable(FMT, clock)
    stills = PreviewStills(FMT, frames, sources, lambda: {1, 2}, clock=clock, interval=1.0,
                           thumbnail_width=320)
    assert stills.program() is None, "no program frame yet"
    assert stills.thumbnail(1) is None, "camera 1 has sent nothing yet"
    frames.put(ProgramFrame(7, solid_frame(FMT, *rgb_to_yuv(0, 0, 255))))
    assert frames.get(0) is not None  # the encoder took it: still the newest program frame
    program = stills.program()
    assert program is not None and (program.width, program.height) == (1280, 720)
    assert near(decode(program.jpeg).getpixel((640, 360)), (0, 0, 255))  # type: ignore[arg-type]
    sources.slot(camera_source_id(2)).publish(solid_frame(FMT, *rgb_to_yuv(255, 0, 0)))
    clock.advance(0.25)
    thumb = stills.thumbnail(2)
    assert thumb is not None and decode(thumb.jpeg).size == (320, 180)
    assert thumb.frame_age == pytest.approx(0.25)
    assert stills.has_camera(2) and not stills.has_camera(3)
