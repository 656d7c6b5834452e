"""Finding ffmpeg: precedence, probing, clear errors, and the encoder listing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import imageio_ffmpeg
import pytest

from vistter.errors import ConfigError
from vistter.media.ffmpeg import (
    ENV_VAR,
    FfmpegNotFoundError,
    encoders,
    find_ffmpeg,
    parse_encoders,
    probe_version,
)

BUNDLED = imageio_ffmpeg.get_ffmpeg_exe()


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_bundled_ffmpeg_is_the_default() -> None:
    binary = find_ffmpeg(None, env={})
    assert binary.source == "imageio-ffmpeg"
    assert binary.path == os.path.abspath(BUNDLED)
    assert binary.version
    assert binary.version in binary.describe()


def test_environment_beats_bundled(tmp_path: Path) -> None:
    link = tmp_path / "my-ffmpeg"
    link.symlink_to(BUNDLED)
    binary = find_ffmpeg(None, env={ENV_VAR: str(link)})
    assert binary.source == "environment"
    assert binary.path == str(link)


def test_configured_beats_environment(tmp_path: Path) -> None:
    link = tmp_path / "configured-ffmpeg"
    link.symlink_to(BUNDLED)
    binary = find_ffmpeg(str(link), env={ENV_VAR: "/nowhere/ffmpeg"})
    assert binary.source == "configured"
    assert binary.path == str(link)


def test_empty_settings_fall_through() -> None:
    assert find_ffmpeg("", env={ENV_VAR: ""}).source == "imageio-ffmpeg"


def test_os_environ_is_read_when_env_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "/nowhere/at/all/ffmpeg")
    with pytest.raises(FfmpegNotFoundError, match="/nowhere/at/all/ffmpeg"):
        find_ffmpeg()


def test_missing_configured_path_names_it_and_how_to_fix() -> None:
    with pytest.raises(FfmpegNotFoundError) as caught:
        find_ffmpeg("/opt/nothing/here/ffmpeg", env={})
    error = caught.value
    assert isinstance(error, ConfigError)
    assert "/opt/nothing/here/ffmpeg" in error.problem
    assert "does not exist" in error.problem
    assert "configured ffmpeg path" in error.hint


def test_missing_environment_path_says_to_fix_the_variable() -> None:
    with pytest.raises(FfmpegNotFoundError) as caught:
        find_ffmpeg(None, env={ENV_VAR: "/opt/nothing/ffmpeg"})
    assert ENV_VAR in caught.value.problem
    assert ENV_VAR in caught.value.hint


def test_command_name_not_on_path() -> None:
    with pytest.raises(FfmpegNotFoundError, match="not on the PATH"):
        find_ffmpeg("vistter-no-such-ffmpeg-binary", env={})


def test_a_program_that_is_not_ffmpeg_is_refused(tmp_path: Path) -> None:
    fake = script(tmp_path, "not-ffmpeg", 'echo "boom: no codecs" >&2\nexit 3')
    with pytest.raises(FfmpegNotFoundError) as caught:
        find_ffmpeg(str(fake), env={})
    assert str(fake) in caught.value.problem
    assert "not a working ffmpeg" in caught.value.problem
    assert "exited 3" in caught.value.problem
    assert "boom: no codecs" in caught.value.problem


def test_a_file_that_cannot_run_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "ffmpeg"
    plain.write_text("not a program")
    with pytest.raises(FfmpegNotFoundError, match="cannot be run"):
        find_ffmpeg(str(plain), env={})


@pytest.mark.timeout(30)
def test_a_hanging_binary_is_bounded_by_the_timeout(tmp_path: Path) -> None:
    hang = script(tmp_path, "hang", "exec sleep 30")
    with pytest.raises(FfmpegNotFoundError, match="did not answer"):
        probe_version(str(hang), "configured", timeout=0.5)


def test_encoders_lists_what_the_binary_has() -> None:
    names = encoders(find_ffmpeg(None, env={}))
    assert "libx264" in names
    assert "h264_nvenc" in names
    assert "aac" in names
    assert "h264_videotoolbox" not in names, "a Linux build has no VideoToolbox"
    assert all(" " not in name for name in names)


def test_parse_encoders() -> None:
    text = """Encoders:
 V..... = Video
 A..... = Audio
 ------
 V....D libx264              libx264 H.264 / AVC
 V..... h264_qsv             H.264 (Intel Quick Sync Video acceleration)
 A....D aac                  AAC (Advanced Audio Coding)
"""
    assert parse_encoders(text) == {"libx264", "h264_qsv", "aac"}
