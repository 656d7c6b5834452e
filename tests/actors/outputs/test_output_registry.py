"""The output and source registries: every model has its kind, every kind its own children."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import SecretStr

from vistter.actors.outputs.registry import OUTPUT_KINDS, output_kind
from vistter.actors.sources.kind import SourceContext
from vistter.actors.sources.registry import SOURCE_KINDS, source_child, source_kind
from vistter.actors.sources.table import SourceTable
from vistter.clock import FakeClock
from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.cameras import CameraConfig
from vistter.models.destinations import (
    AnyDestination,
    RecorderDestination,
    RtmpDestination,
    SrtDestination,
)
from vistter.models.preview import PreviewOutput
from vistter.models.sources import SlateImage, StillMedia, VideoMedia, media_child_id


def test_every_destination_model_has_exactly_one_registered_kind() -> None:
    models = set(typing.get_args(AnyDestination))
    # the preview is the one kind the appliance makes itself (its [preview] section)
    assert models | {PreviewOutput} == {kind.model for kind in OUTPUT_KINDS.values()}
    for name, kind in OUTPUT_KINDS.items():
        assert kind.model.kind == name
    prefixes = [kind.prefix for kind in OUTPUT_KINDS.values()]
    assert len(prefixes) == len(set(prefixes)), prefixes


def test_each_kind_names_its_child_and_its_probe() -> None:
    rtmp = RtmpDestination(id="yt", platform="youtube", stream_key=SecretStr("k-123"))
    srt = SrtDestination(id="contrib", platform="srt", url="srt://198.51.100.7:9000")
    recorder = RecorderDestination(id="rec", platform="recorder", path=Path("/tmp/rec"))
    assert [output_kind(d).child_id(d) for d in (rtmp, srt, recorder)] == [
        "destination-yt", "srt-contrib", "recorder-rec",
    ]
    rtmp_probe = output_kind(rtmp).probe
    srt_probe = output_kind(srt).probe
    assert rtmp_probe is not None and srt_probe is not None
    assert (rtmp_probe(rtmp).host, rtmp_probe(rtmp).port) == ("a.rtmp.youtube.com", 1935)
    # the protocol's own handshake: a TCP connect is fooled by a black hole behind a proxy
    assert rtmp_probe(rtmp).check.__name__ == "rtmp_handshake"
    assert (srt_probe(srt).host, srt_probe(srt).port) == ("198.51.100.7", 9000)
    assert srt_probe(srt).check.__name__ == "srt_probe"
    assert output_kind(recorder).probe is None
    # platforms publish only while on air; the recorder takes the program all the time
    assert [output_kind(d).on_air_only for d in (rtmp, srt, recorder)] == [True, True, False]


def _context(ffmpeg: FfmpegBinary | None) -> SourceContext:
    fmt = FrameFormat(64, 36, 10)
    return SourceContext(fmt, SourceTable(fmt, FakeClock()), ffmpeg)


def test_every_source_model_has_its_kind_and_child_id(ffmpeg_binary: FfmpegBinary) -> None:
    assert set(SOURCE_KINDS) == {"camera", "still", "video", "slate"}
    camera = CameraConfig(id=3, name="Wharf", url="rtsp://127.0.0.1/cam")
    still = StillMedia("/assets/a.png", "media:/assets/a.png", Path("/tmp/a.png"))
    video = VideoMedia("/assets/v.mp4", "media:/assets/v.mp4", Path("/tmp/v.mp4"))
    slate = SlateImage(Path("/tmp/slate.png"))
    assert [source_kind(m).name for m in (camera, still, video, slate)] == [
        "camera", "still", "video", "slate",
    ]
    with_ffmpeg = _context(ffmpeg_binary)
    assert source_child(camera, with_ffmpeg).id == "camera-3"
    assert source_child(video, with_ffmpeg).id == media_child_id("/assets/v.mp4")
    context = _context(None)
    assert source_child(slate, context).id == "slate"
    assert source_child(still, context).id == media_child_id("/assets/a.png")
    with pytest.raises(ConfigError, match="no ffmpeg"):
        source_child(video, context)
    with pytest.raises(ConfigError, match="needs ffmpeg"):
        source_child(camera, context)
    with pytest.raises(LookupError):
        source_kind(object())
