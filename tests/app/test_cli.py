"""The ``vistter`` command: validate, run (as a real process), telemetry."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from conftest import SPEC_EXAMPLE as EXAMPLE

from vistter.cli import main

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- validate ---------------------------------------------------------------------------


def test_validate_accepts_the_spec_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "valid (6 cues, 3600 s)" in capsys.readouterr().out


def test_validate_lists_every_problem_with_its_field_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(EXAMPLE.read_text())
    video = document["timeline"]["tracks"]["video"]["cues"]
    video[2]["start_time"] = 62
    video[0]["params"]["camera_id"] = 9
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    assert main(["validate", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "2 problem(s)" in out
    assert "timeline.tracks.video.cues[2].start_time:" in out
    assert "timeline.tracks.video.cues[0].params.camera_id: camera 9 is not configured" in out
    assert "how to fix:" in out


def test_validate_without_config_skips_camera_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["timeline"]["tracks"]["video"]["cues"][0]["params"]["camera_id"] = 9
    path = tmp_path / "t.json"
    path.write_text(json.dumps(document))
    assert main(["validate", "--no-config", str(path)]) == 0


def test_validate_unreadable_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "how to fix" in err


def test_validate_bad_json_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"timeline": {\n  "id": 1,,\n}}')
    assert main(["validate", str(path)]) == 2
    assert "line 2" in capsys.readouterr().err


# -- run ------------------------------------------------------------------------------


def write_config(tmp_path: Path, api_port: int, telemetry_port: int) -> Path:
    config = tmp_path / "vistter.toml"
    config.write_text(
        f"""
[api]
host = "127.0.0.1"
port = {api_port}

[telemetry]
endpoint = "tcp://127.0.0.1:{telemetry_port}"
system_interval = 0.5

[paths]
assets_dir = "{REPO / 'assets'}"
data_dir = "{tmp_path / 'var'}"
"""
    )
    return config


class Running:
    def __init__(self, process: subprocess.Popen[bytes], api_port: int, telemetry: str) -> None:
        self.process = process
        self.base = f"http://127.0.0.1:{api_port}"
        self.telemetry = telemetry

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, timeout=5)

    def wait_healthy(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                response = self.get("/api/health")
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no health answer within {timeout} s\n{self.output()}")

    def output(self) -> str:
        return ""


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    api_port, telemetry_port = free_port(), free_port()
    config = write_config(tmp_path, api_port, telemetry_port)
    log = (tmp_path / "vistter.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "vistter", "run", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    run = Running(process, api_port, f"tcp://127.0.0.1:{telemetry_port}")
    log_path = tmp_path / "vistter.log"
    run.output = log_path.read_text  # type: ignore[method-assign]
    try:
        yield run
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


@pytest.mark.timeout(60)
def test_run_serves_health_and_tree_and_stops_cleanly_on_sigterm(running: Running) -> None:
    health = running.wait_healthy()
    assert health["status"] == "ok"
    assert health["actors"]["running"] == health["actors"]["total"] >= 4
    tree = running.get("/api/supervision").json()
    assert tree["id"] == "root" and tree["strategy"] == "one_for_one"
    ids = [child["id"] for child in tree["children"]]
    assert ids == ["telemetry", "sources", "program", "outputs", "show", "api"]
    telemetry = tree["children"][0]
    assert [c["id"] for c in telemetry["children"]] == ["publisher", "system", "stream"]

    descendants = psutil.Process(running.process.pid).children(recursive=True)
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(30) == 0, running.output()
    assert "stopped cleanly" in running.output()
    for child in descendants:
        assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE


@pytest.mark.timeout(60)
def test_supervision_events_reach_the_telemetry_command(running: Running) -> None:
    running.wait_healthy()
    watcher = subprocess.Popen(
        [sys.executable, "-m", "vistter", "telemetry", "--endpoint", running.telemetry,
         "--topic", "event.supervision", "--count", "2", "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # the subscriber needs a moment to join (ZeroMQ slow joiner); restart until seen
        deadline = time.monotonic() + 20
        while watcher.poll() is None and time.monotonic() < deadline:
            response = httpx.post(running.base + "/api/supervision/restart",
                                  json={"path": "telemetry/system"}, timeout=10)
            assert response.status_code == 200, response.text
            with contextlib.suppress(subprocess.TimeoutExpired):
                watcher.wait(1)
        out, err = watcher.communicate(timeout=10)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(5)
    assert watcher.returncode == 0, err
    lines = [line for line in out.splitlines() if "event.supervision" in line]
    assert len(lines) >= 2, out
    assert '"path": "root/telemetry/system"' in out or '"path":"root/telemetry/system"' in out
    assert "child_terminated" in out or "child_started" in out


@pytest.mark.timeout(60)
def test_the_running_appliance_keeps_a_timeline_library(running: Running) -> None:
    running.wait_healthy()
    document = json.loads(EXAMPLE.read_text())
    document["timeline"]["fallback"].pop("backup_camera_id")  # this config has no cameras
    for cue in document["timeline"]["tracks"]["video"]["cues"]:
        cue["action"] = "show_media"
        cue["params"] = {"media_url": "/assets/transition_slide.png", "transition": "cut"}
    created = httpx.post(running.base + "/api/timelines", json=document, timeout=10)
    assert created.status_code == 201, created.text
    listing = httpx.get(running.base + "/api/timelines", timeout=10).json()
    assert [t["name"] for t in listing["timelines"]] == ["Daily Marina Stream"]


@pytest.mark.timeout(60)
def test_restart_endpoint_rejects_unknown_and_self(running: Running) -> None:
    running.wait_healthy()
    missing = httpx.post(running.base + "/api/supervision/restart",
                         json={"path": "telemetry/nope"}, timeout=10)
    assert missing.status_code == 404
    assert "known children: publisher, system" in missing.json()["hint"]
    itself = httpx.post(running.base + "/api/supervision/restart", json={"path": "api"},
                        timeout=10)
    assert itself.status_code == 409


@pytest.mark.timeout(60)
def test_run_refuses_a_public_bind_without_token(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port(), free_port())
    config.write_text(config.read_text().replace('host = "127.0.0.1"', 'host = "0.0.0.0"'))
    env = {k: v for k, v in os.environ.items() if k != "VISTTER_API_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "vistter", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=30, env=env, check=False,
    )
    assert result.returncode == 2
    assert "0.0.0.0" in result.stderr and "token" in result.stderr


@pytest.mark.timeout(60)
def test_run_with_a_broken_config_says_what_to_fix(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[api]\nport = 'eighty'\n")
    result = subprocess.run(
        [sys.executable, "-m", "vistter", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 2
    assert "api.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_to_an_srt_listener_url_says_to_use_caller_mode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--to", "srt://127.0.0.1:9000?mode=listener"]) == 2
    err = capsys.readouterr().err
    assert "caller mode" in err and "srt://HOST:PORT" in err


@pytest.mark.timeout(60)
def test_status_shows_the_encoder_and_why(running: Running) -> None:
    running.wait_healthy()
    status = httpx.get(running.base + "/api/status", timeout=10).json()
    assert status["encoder"]["name"] == "libx264"
    assert "h264_v4l2m2m" in status["encoder"]["why"]
    assert status["program"]["encoder"]["encoder"] == "libx264"
    assert status["on_air"]
    assert status["sources"]["slate"]["state"] == "online"
