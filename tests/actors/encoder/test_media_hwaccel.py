"""Hardware encoder detection by trial encode, on this machine (which has no video hardware)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vistter.actors.encoder.hwaccel import (
    CANDIDATES,
    EncoderUnavailableError,
    clear_encoder_cache,
    detect_encoder,
    run_trial,
    summarize_stderr,
    trial_command,
)
from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg

HARDWARE = ["h264_v4l2m2m", "h264_videotoolbox", "h264_vaapi", "h264_qsv", "h264_nvenc"]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_encoder_cache()
    yield
    clear_encoder_cache()


@pytest.fixture(scope="module")
def ffmpeg() -> FfmpegBinary:
    return find_ffmpeg(None, env={})


def test_candidates_in_documented_order() -> None:
    assert [c.encoder for c in CANDIDATES] == [*HARDWARE, "libx264"]
    vaapi = CANDIDATES[2]
    assert vaapi.global_args == ("-vaapi_device", "/dev/dri/renderD128")
    assert vaapi.output_args() == ["-vf", "format=nv12,hwupload", "-c:v", "h264_vaapi"]
    assert CANDIDATES[-1].output_args() == ["-pix_fmt", "yuv420p", "-c:v", "libx264"]


@pytest.mark.timeout(90)
def test_auto_picks_libx264_here_and_says_why(ffmpeg: FfmpegBinary) -> None:
    choice = detect_encoder(ffmpeg)
    assert choice.encoder == "libx264"
    assert not choice.hardware
    assert not choice.configured
    assert [trial.encoder for trial in choice.trials] == [*HARDWARE, "libx264"]
    outcomes = {trial.encoder: trial for trial in choice.trials}
    assert outcomes["h264_videotoolbox"].outcome == "not_built"
    assert outcomes["h264_videotoolbox"].reason == "not built into this ffmpeg"
    for name in ("h264_v4l2m2m", "h264_vaapi", "h264_qsv", "h264_nvenc"):
        trial = outcomes[name]
        assert trial.outcome == "failed", (name, trial)
        assert trial.reason
        assert "\n" not in trial.reason
        assert not trial.reason.startswith("["), "context prefixes are stripped"
        assert "Nothing was written" not in trial.reason
    assert outcomes["libx264"].outcome == "ok"
    described = choice.describe()
    assert described.startswith("libx264 (software): h264_v4l2m2m trial failed: ")
    assert "h264_videotoolbox not built into this ffmpeg" in described
    for name in HARDWARE:
        assert name in described
    assert "libx264 works" not in described


@pytest.mark.timeout(90)
def test_detection_is_cached_per_binary(ffmpeg: FfmpegBinary) -> None:
    first = detect_encoder(ffmpeg)
    assert detect_encoder(ffmpeg) is first
    assert detect_encoder(ffmpeg, " AUTO ") is first
    clear_encoder_cache()
    assert detect_encoder(ffmpeg) is not first


@pytest.mark.timeout(60)
def test_configured_software_encoder(ffmpeg: FfmpegBinary) -> None:
    choice = detect_encoder(ffmpeg, "libx264")
    assert choice.encoder == "libx264"
    assert choice.configured
    assert [trial.encoder for trial in choice.trials] == ["libx264"]
    assert choice.describe() == "libx264 (software, configured)"


@pytest.mark.timeout(60)
def test_bogus_preference_raises_a_typed_error(ffmpeg: FfmpegBinary) -> None:
    with pytest.raises(EncoderUnavailableError) as caught:
        detect_encoder(ffmpeg, "h264_bogus")
    error = caught.value
    assert isinstance(error, ConfigError)
    assert "h264_bogus" in error.problem
    assert "not built into" in error.problem
    assert 'encoder = "auto"' in error.hint
    assert "libx264" in error.hint


@pytest.mark.timeout(60)
def test_configured_hardware_encoder_that_fails_here(ffmpeg: FfmpegBinary) -> None:
    with pytest.raises(EncoderUnavailableError) as caught:
        detect_encoder(ffmpeg, "h264_v4l2m2m")
    error = caught.value
    assert "does not work here" in error.problem
    assert "h264_v4l2m2m trial failed: " in error.problem
    assert 'encoder = "auto"' in error.hint
    # A failed explicit preference is not cached: the next call tries again.
    with pytest.raises(EncoderUnavailableError):
        detect_encoder(ffmpeg, "h264_v4l2m2m")


@pytest.mark.timeout(60)
def test_trial_timeout_is_reported(ffmpeg: FfmpegBinary) -> None:
    trial = run_trial(ffmpeg, CANDIDATES[-1], timeout=0.001)
    assert trial.outcome == "timeout"
    assert "no result within" in trial.reason
    assert trial.describe().startswith("libx264 trial timed out: ")


def test_trial_command_shape(ffmpeg: FfmpegBinary) -> None:
    command = trial_command(ffmpeg, CANDIDATES[2])
    assert command[0] == ffmpeg.path
    assert command.index("-vaapi_device") < command.index("-i")
    assert command[-3:] == ["-f", "null", "-"]
    assert "-frames:v" in command


def test_summarize_stderr_picks_the_telling_line() -> None:
    nvenc = """[h264_nvenc @ 0x5609c5207380] Cannot load libcuda.so.1
[vost#0:0/h264_nvenc @ 0x5609c5206880] [enc:h264_nvenc @ 0x5609c5207240] Error while opening encoder - maybe incorrect parameters such as bit_rate, rate, width or height.
[vf#0:0 @ 0x5609c5222200] Task finished with error code: -1 (Operation not permitted)
[out#0/null @ 0x5609c5205cc0] Nothing was written into output file, because at least one of its streams received no packets.
"""  # noqa: E501
    assert summarize_stderr(nvenc) == "Cannot load libcuda.so.1"
    generic_only = "[out#0 @ 0x1] Conversion failed!\n"
    assert summarize_stderr(generic_only) == "Conversion failed!"
    assert summarize_stderr("", 234) == "ffmpeg exited with code 234"
