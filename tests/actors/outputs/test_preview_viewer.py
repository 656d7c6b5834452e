"""The preview output: viewers are fanout queues that start on a keyframe, are bounded in
number, are dropped when they stop reading, and never cost a destination a byte."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from typing import Any

import av
import pykka
import pytest

from vistter.actors.fanout.table import MIN_CAPACITY_BYTES, FanoutTable
from vistter.actors.fanout.ts import PACKET_SIZE, PAT_PID, TsBatch, TsScanner, packet_pid
from vistter.actors.outputs.preview import (
    PreviewActor,
    PreviewFullError,
    PreviewViewer,
    viewer_capacity,
)
from vistter.models.preview import PreviewOutput
from vistter.supervisors.link import Link

FPS = 30
CHUNK = 16 * 1024


@pytest.fixture(scope="module")
def program_ts(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """8 s of 320x240 H.264 (keyframe every second, ~1 Mbit/s) and AAC, as the encoder
    would hand the fanout."""
    from chaos.realparts import ffmpeg_exe

    path = tmp_path_factory.mktemp("preview") / "program.ts"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
         "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}",
         "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "8",
         "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
         "-b:v", "1000k", "-maxrate", "1000k", "-bufsize", "1000k",
         "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0",
         "-c:a", "aac", "-f", "mpegts", "-muxdelay", "0", "-y", str(path)],
        check=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return path.read_bytes()


def batches(data: bytes) -> Iterator[TsBatch]:
    scanner = TsScanner()
    for at in range(0, len(data), CHUNK):
        batch = scanner.feed(data[at : at + CHUNK])
        if batch is not None:
            yield batch


@pytest.fixture
def fanout() -> FanoutTable:
    return FanoutTable()


@pytest.fixture
def preview(fanout: FanoutTable) -> Iterator[Any]:
    ref = PreviewActor.start(Link("test/outputs/preview-preview"), PreviewOutput(max_viewers=2),
                             fanout, capacity_bytes=MIN_CAPACITY_BYTES)
    yield ref.proxy()
    if ref.is_alive():
        ref.stop(timeout=5)
    pykka.ActorRegistry.stop_all(timeout=5)


def open_viewer(preview: Any) -> PreviewViewer:
    viewer: PreviewViewer = preview.open_viewer("127.0.0.1:1").get(timeout=5)
    return viewer


def read_all(viewer: PreviewViewer) -> bytes:
    out = bytearray()
    while (part := viewer.read(0)) is not None:
        out += part
    return bytes(out)


def test_a_viewer_starts_with_pat_pmt_and_a_keyframe_and_decodes(
    preview: Any, fanout: FanoutTable, program_ts: bytes
) -> None:
    data = program_ts
    offset = 200 * PACKET_SIZE  # join mid-GOP, as a browser does
    viewer = open_viewer(preview)
    received = bytearray()
    for batch in batches(data[offset:]):
        fanout.publish(batch)
        received += read_all(viewer)  # a viewer that keeps up
    assert viewer.ended is None
    assert packet_pid(bytes(received), 0) == PAT_PID
    with av.open(io.BytesIO(bytes(received)), mode="r", format="mpegts") as container:
        frames = list(container.decode(video=0))
    assert frames[0].key_frame, "the preview must start on a keyframe"
    assert (frames[0].width, frames[0].height) == (320, 240)
    assert len(frames) >= 6 * FPS  # about 8 s of program minus the wait for a keyframe


def test_viewers_are_limited_and_a_closed_one_frees_its_slot(preview: Any) -> None:
    first, second = open_viewer(preview), open_viewer(preview)
    with pytest.raises(PreviewFullError) as refused:
        open_viewer(preview)
    assert "2 viewer" in str(refused.value) and refused.value.hint
    status = preview.status().get(timeout=5)
    assert [v["id"] for v in status["viewers"]] == [first.viewer_id, second.viewer_id]
    assert status["viewers_refused"] == 1
    first.close()
    third = open_viewer(preview)
    assert third.viewer_id not in (first.viewer_id, second.viewer_id)
    assert preview.status().get(timeout=5)["viewers_served"] == 3


def test_a_viewer_that_stops_reading_is_dropped_and_a_destination_loses_nothing(
    preview: Any, fanout: FanoutTable, program_ts: bytes
) -> None:
    recorder = fanout.attach("rec")  # a destination with the default 8 MiB queue
    viewer = open_viewer(preview)
    recorded = bytearray()
    for batch in batches(program_ts):
        fanout.publish(batch)
        while (part := recorder.get(0)) is not None:
            recorded += part
    # ~1 MB went by: far more than the viewer's queue; it never read a byte
    assert viewer.read(0) is None
    assert viewer.ended is not None and viewer.ended.startswith("too slow")
    assert fanout.get(viewer.viewer_id) is None, "a dropped viewer leaves the fanout"
    stats = recorder.stats()
    assert stats.dropped_bytes == 0 and stats.overflows == 0
    assert stats.bytes_in == stats.bytes_out + stats.skipped_bytes - 2 * PACKET_SIZE
    status = preview.status().get(timeout=5)
    assert status["viewers"] == [] and status["viewers_dropped_slow"] == 1


def test_stopping_the_preview_ends_every_viewer(preview: Any, fanout: FanoutTable) -> None:
    viewer = open_viewer(preview)
    preview.actor_ref.stop(timeout=5)
    assert viewer.ended == "the preview output stopped"
    assert viewer.read(5) is None  # at once: its queue is closed
    assert fanout.get(viewer.viewer_id) is None


def test_a_viewer_queue_holds_about_max_lag_seconds_of_program() -> None:
    assert viewer_capacity(4500, 1.5) == 843_750
    assert viewer_capacity(100, 0.5) == MIN_CAPACITY_BYTES


def test_the_preview_section_defaults_and_bounds() -> None:
    preview = PreviewOutput()
    assert (preview.id, preview.kind, preview.max_viewers) == ("preview", "preview", 4)
    assert preview.display_url == "/api/preview.ts"
    with pytest.raises(ValueError, match="max_viewers"):
        PreviewOutput(max_viewers=0)
