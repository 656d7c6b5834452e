"""Owned processes get an allow-listed environment and read secrets on stdin, not argv."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vistter.media.secrets import concat_input, ffconcat_quote
from vistter.supervisors.child_env import child_environment
from vistter.supervisors.processes import ProcessSet
from vistter.supervisors.secret_input import MAX_SECRET_INPUT, SecretInput


def test_only_allow_listed_variables_pass_and_never_vistter_ones() -> None:
    parent = {
        "PATH": "/usr/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_TIME": "C", "TZ": "UTC",
        "GST_PLUGIN_PATH": "/g", "VISTTER_API_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "a",
        "VISTTER_DESTINATION_YT_STREAM_KEY": "k", "SHELL": "/bin/bash",
    }  # fmt: skip
    assert child_environment(parent=parent) == {
        "PATH": "/usr/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_TIME": "C", "TZ": "UTC",
        "GST_PLUGIN_PATH": "/g",
    }  # fmt: skip
    assert child_environment({"FFREPORT": "level=8"}, parent={})["FFREPORT"] == "level=8"


@pytest.mark.timeout(20)
def test_a_spawned_process_reads_its_secret_on_stdin_and_has_a_clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VISTTER_API_TOKEN", "tok-Lk19")
    secret = SecretInput(b"rtsp://u:pw-Zz81@cam/x\n")
    script = (
        "import os, sys; data = sys.stdin.buffer.read(); "
        "open(sys.argv[1], 'wb').write(data + b'|' + repr(sorted(os.environ)).encode())"
    )
    out = tmp_path / "seen"
    processes = ProcessSet()
    process = processes.spawn("t", [sys.executable, "-c", script, str(out)], stdin=secret)
    assert process.popen.wait(15) == 0
    processes.end_all()
    data, _, names = out.read_bytes().partition(b"|")
    assert data == b"rtsp://u:pw-Zz81@cam/x\n"
    assert b"VISTTER_" not in names


def test_secret_inputs_are_bounded_and_ffconcat_values_cannot_inject_lines() -> None:
    with pytest.raises(ValueError, match="at most"):
        SecretInput(b"x" * (MAX_SECRET_INPUT + 1))
    assert ffconcat_quote("it's") == "'it'\\''s'"
    with pytest.raises(ValueError, match="line breaks"):
        concat_input("rtsp://h/x\nfile 'other'")
    args, stdin = concat_input("rtsp://u:p@h/x", [("timeout", "5")])
    assert args[-2:] == ["-i", "pipe:0"] and "u:p" not in " ".join(args)
    assert stdin.payload == b"ffconcat version 1.0\nfile 'rtsp://u:p@h/x'\noption timeout '5'\n"
    assert "u:p" not in repr(stdin)


def test_an_option_name_must_be_bare_for_ffmpeg_to_apply_it() -> None:
    with pytest.raises(ValueError, match="not an ffmpeg option name"):
        concat_input("rtsp://u:p@h/x", [("time out", "5")])
    with pytest.raises(ValueError, match="not an ffmpeg option name"):
        concat_input("rtsp://u:p@h/x", [("'timeout'", "5")])
