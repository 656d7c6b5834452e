"""The encode's ffmpeg command line, for both profiles, checked by running it."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from vistter.actors.encoder.command import encoder_command, video_rate_args
from vistter.actors.encoder.hwaccel import CANDIDATES, EncoderChoice, detect_encoder
from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg
from vistter.media.frames import FrameFormat, solid_frame
from vistter.models.settings import EncodingConfig

FMT = FrameFormat(320, 240, 30)


@pytest.fixture(scope="module")
def binary() -> FfmpegBinary:
    return find_ffmpeg()


@pytest.fixture(scope="module")
def x264(binary: FfmpegBinary) -> EncoderChoice:
    return detect_encoder(binary, "libx264")


def value_after(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


def test_reliability_profile_is_cbr_with_two_second_keyframes(
    binary: FfmpegBinary, x264: EncoderChoice
) -> None:
    argv = encoder_command(binary, FMT, EncodingConfig(), x264).argv
    for option, value in {
        "-b:v": "4500k", "-minrate": "4500k", "-maxrate": "4500k", "-bufsize": "9000k",
        "-g": "60", "-keyint_min": "60", "-sc_threshold": "0", "-preset": "fast",
        "-profile:v": "main", "-level:v": "4.1", "-x264-params": "nal-hrd=cbr",
        "-c:v": "libx264", "-pix_fmt": "yuv420p", "-c:a": "aac", "-b:a": "128k",
        "-s": "320x240", "-f": "rawvideo", "-i": "pipe:0",
    }.items():
        assert value_after(argv, option) == value, option
    assert argv[-1] == "pipe:1"
    assert value_after(argv, "-muxdelay") == "0"
    assert "anullsrc=r=48000:cl=stereo" in argv
    assert "-nostdin" not in argv  # stdin is the input
    assert "-output_ts_offset" not in argv


def test_quality_profile_is_capped_vbr_with_four_second_keyframes(
    binary: FfmpegBinary, x264: EncoderChoice
) -> None:
    argv = encoder_command(binary, FMT, EncodingConfig(profile="quality"), x264).argv
    assert value_after(argv, "-b:v") == "6000k"
    assert value_after(argv, "-maxrate") == "6000k"
    assert value_after(argv, "-bufsize") == "12000k"
    assert "-minrate" not in argv
    assert "-x264-params" not in argv
    assert value_after(argv, "-g") == "120"
    assert value_after(argv, "-profile:v") == "high"
    assert value_after(argv, "-level:v") == "4.2"
    assert value_after(argv, "-preset") == "medium"


def test_audio_bed_progress_fd_and_timestamp_offset(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    bed = tmp_path / "bed.m4a"
    command = encoder_command(
        binary, FMT, EncodingConfig(), x264, audio_bed=bed, progress_fd=7, ts_offset=12.5
    )
    argv = command.argv
    assert argv[argv.index("-stream_loop") : argv.index("-stream_loop") + 4] == [
        "-stream_loop", "-1", "-i", str(bed),
    ]
    assert value_after(argv, "-progress") == "pipe:7"
    assert value_after(argv, "-output_ts_offset") == "12.500000"
    assert "bed.m4a" in command.for_log
    assert "anullsrc" not in " ".join(argv)


def test_hardware_encoders_get_their_rate_control_switches() -> None:
    cbr = EncodingConfig()
    assert value_after(video_rate_args(cbr, "h264_nvenc", 30), "-rc") == "cbr"
    assert value_after(video_rate_args(cbr, "h264_vaapi", 30), "-rc_mode") == "CBR"
    pi = video_rate_args(cbr, "h264_v4l2m2m", 25)
    assert value_after(pi, "-g") == "50"
    assert "-preset" not in pi  # x264-only options stay away from hardware encoders
    vaapi = next(c for c in CANDIDATES if c.encoder == "h264_vaapi")
    choice = EncoderChoice(vaapi, "test")
    argv = encoder_command(find_ffmpeg(), FMT, cbr, choice).argv
    assert argv.index("-vaapi_device") < argv.index("-i")
    assert value_after(argv, "-vf") == "format=nv12,hwupload"


@pytest.mark.parametrize(
    ("profile", "frames", "gop_seconds", "h264_profile"),
    [("reliability", 150, 2.0, "Main"), ("quality", 270, 4.0, "High")],
)
def test_the_command_runs_and_produces_the_profile(
    binary: FfmpegBinary,
    x264: EncoderChoice,
    tmp_path: Path,
    profile: str,
    frames: int,
    gop_seconds: float,
    h264_profile: str,
) -> None:
    encoding = EncodingConfig(profile=profile, preset="superfast")
    argv = encoder_command(binary, FMT, encoding, x264).argv
    raw = solid_frame(FMT, 120, 100, 150).tobytes() * frames
    result = subprocess.run(argv, input=raw, capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    out = tmp_path / "out.ts"
    out.write_bytes(result.stdout)
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert container.streams.audio, "no audio track"
        assert video.codec_context.profile == h264_profile
        keys = [
            float(p.pts * p.time_base)
            for p in container.demux(video)
            if p.is_keyframe and p.pts is not None
        ]
    expected = [round(i * gop_seconds, 3) for i in range(len(keys))]
    assert [round(k - keys[0], 3) for k in keys] == expected
    assert len(keys) == -(-frames // int(gop_seconds * FMT.fps))


def test_a_short_audio_bed_is_looped_for_the_whole_program(
    binary: FfmpegBinary, x264: EncoderChoice, tmp_path: Path
) -> None:
    bed = tmp_path / "bed.m4a"
    subprocess.run(
        [
            binary.path, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1",
            "-c:a", "aac", "-y", str(bed),
        ],
        check=True,
        timeout=30,
    )
    frames = 120  # 4 s of video over a 1 s bed
    argv = encoder_command(
        binary, FMT, EncodingConfig(preset="superfast"), x264, audio_bed=bed
    ).argv
    raw = solid_frame(FMT, 120, 100, 150).tobytes() * frames
    result = subprocess.run(argv, input=raw, capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    out = tmp_path / "out.ts"
    out.write_bytes(result.stdout)
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        samples = [frame.to_ndarray() for frame in container.decode(audio)]
    pcm = np.concatenate([s.reshape(-1) for s in samples])
    seconds = sum(s.shape[-1] for s in samples) / 48_000
    assert seconds == pytest.approx(4.0, abs=0.15)  # looped, and cut with the video
    # The tone is there in every second, not only in the first.
    per_second = pcm.reshape(-1)[: int(len(pcm) // 4) * 4].reshape(4, -1)
    assert all(float(np.sqrt(np.mean(part.astype(np.float64) ** 2))) > 0.05 for part in per_second)


@pytest.mark.parametrize("rate", [24, 15])
def test_a_lower_rate_ends_with_the_last_program_frame(
    binary: FfmpegBinary, x264: EncoderChoice, rate: int
) -> None:
    """Degraded mode's lower rate: 250 program frames (8.333 s at 30 fps) give exactly
    250 * rate / 30 frames, the last one starting before 8.333 s. ``-r`` alone padded two
    frames past the end, which overlapped the next run at a handover."""
    overrides = EncodeOverrides(fps=rate, height=120)
    argv = encoder_command(
        binary, FMT, EncodingConfig(preset="ultrafast"), x264, overrides=overrides
    ).argv
    assert value_after(argv, "-vf").startswith(f"fps={rate},scale=-2:120,")
    rates = [argv[index + 1] for index, option in enumerate(argv) if option == "-r"]
    assert rates == [str(FMT.fps), str(rate)]  # the input's rate, then the output's
    raw = solid_frame(FMT, 120, 100, 150).tobytes() * 250
    result = subprocess.run(argv, input=raw, capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    with av.open(io.BytesIO(result.stdout), mode="r", format="mpegts") as container:
        video = container.streams.video[0]
        times = sorted(
            float(p.pts * p.time_base) for p in container.demux(video) if p.pts is not None
        )
    assert len(times) == 250 * rate // 30
    assert times[-1] - times[0] < 250 / 30 - 1 / rate + 1e-3


def test_the_programs_own_rate_and_size_add_no_filter(
    binary: FfmpegBinary, x264: EncoderChoice
) -> None:
    overrides = EncodeOverrides(fps=FMT.fps, height=FMT.height)
    argv = encoder_command(binary, FMT, EncodingConfig(), x264, overrides=overrides).argv
    assert "-vf" not in argv and value_after(argv, "-pix_fmt") == "yuv420p"
