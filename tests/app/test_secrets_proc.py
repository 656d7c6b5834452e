"""Secrets never reach a child process's environment, nor (cameras) its command line.

A real appliance runs as its own process on the demo configuration, with the API token in
``VISTTER_API_TOKEN``, an RTMP destination to a local nginx-rtmp with a stream key, an SRT
destination with a passphrase to a local SRT listener, and its backup camera turned into a
real RTSP camera (GStreamer) that needs a user and password (the password from
``VISTTER_CAMERA_3_PASSWORD``). While the streams reach nginx and the SRT listener and the
camera is online, ``/proc/<pid>/cmdline`` and ``/proc/<pid>/environ`` of EVERY descendant of
the appliance are read:

- no secret (token, password, stream keys, passphrase) is in any descendant's environment;
- neither the token, the camera password nor any RTMP stream key is in any command line
  (the camera's URL goes to ffmpeg's stdin, an RTMP URL to its publisher's stdin,
  :mod:`vistter.media.secrets`);
- the one exception, stated here on purpose: the SRT passphrase is in exactly one command
  line, its own SRT publisher's (``ffmpeg ... -passphrase VALUE -f mpegts srt://...``). The
  bundled ffmpeg takes SRT options from its argv only and PyAV has no libsrt (see
  :mod:`vistter.media.secrets`); this pins that it goes nowhere else.

A key pasted into the URL field of a destination added through the API is moved into the
secret stream key: the answer, ``/api/destinations``, ``/api/status`` and the log never
show it, and nginx still gets the stream under that key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import tomli_w
from support.demo_appliance import demo_config, free_port, stop_by_pid

from chaos.realparts import NginxRtmp, RtspCameraServer, SimulatedCamera, SrtListener

TOKEN = "api-token-Zq81-xyzzy"
PASSWORD = "cam-pw-Hk29:x/y"
KEY = "live-key-Mn57-abcd"
PASTED = "pasted-Rt64-efgh"
PASSPHRASE = "srt-pass-Wq38-ijkl"
CAMERA_USER = "operator"
START_TIMEOUT = 60.0


class Api:
    """The appliance's control API with the bearer token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    def get(self, path: str) -> Any:
        response = httpx.get(self.base_url + path, headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.base_url + path, json=body, headers=self.headers, timeout=30)


def wait_for(what: str, predicate: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, KeyError, TypeError, OSError) as error:
            last = error
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} ({last})\n{tail}")


def appliance_config(
    workdir: Path, nginx: NginxRtmp, srt: SrtListener, camera_url: str, api_port: int
) -> Path:
    path = demo_config(workdir, api_port, free_port())
    raw: dict[str, Any] = tomllib.loads(path.read_text())
    raw["encoding"] = {**raw["encoding"], "width": 640, "height": 360, "bitrate_kbps": 800}
    backup = next(camera for camera in raw["cameras"] if camera["id"] == 3)
    backup.update(url=camera_url, username=CAMERA_USER)  # password: from the environment
    raw["destinations"].append({
        "id": "main", "platform": "custom_rtmp",
        "url": f"rtmp://127.0.0.1:{nginx.rtmp_port}/live", "stream_key": KEY,
    })  # fmt: skip
    raw["destinations"].append(
        {"id": "contrib", "platform": "srt", "url": srt.url, "passphrase": PASSPHRASE}
    )
    path.write_text(tomli_w.dumps(raw))
    return path


@contextmanager
def running(config: Path, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    env = {**os.environ, "VISTTER_API_TOKEN": TOKEN, "VISTTER_CAMERA_3_PASSWORD": PASSWORD}
    log_path = workdir / "vistter.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "vistter", "run", "--config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir, env=env,
        )  # fmt: skip
    try:
        yield process, log_path
    finally:
        stop_by_pid(process)


def read_proc(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""  # it ended between the listing and the read


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_no_secret_in_any_childs_environment_or_command_line(tmp_path: Path) -> None:
    (tmp_path / "nginx").mkdir()
    (tmp_path / "srt").mkdir()
    camera = SimulatedCamera(name="backup", pattern="ball", width=320, height=240, fps=15)
    with (
        NginxRtmp(tmp_path / "nginx") as nginx,
        SrtListener(tmp_path / "srt", passphrase=PASSPHRASE) as srt,
        RtspCameraServer([camera], credentials=(CAMERA_USER, PASSWORD)) as cameras,
    ):
        api_port = free_port()
        config = appliance_config(tmp_path, nginx, srt, cameras.url("backup"), api_port)
        api = Api(f"http://127.0.0.1:{api_port}")
        with running(config, tmp_path) as (process, log):
            wait_for("the show to be live", lambda: api.get("/api/show")["state"] == "live",
                     START_TIMEOUT, log)
            wait_for("bytes accepted by nginx under the key",
                     lambda: (nginx.stream_bytes_in(KEY) or 0) > 50_000, 60, log)
            wait_for("the RTSP camera online", lambda: _camera_3(api), 60, log)
            wait_for("bytes received by the SRT listener", lambda: srt.received_bytes() > 20_000,
                     60, log)

            added = api.post("/api/destinations", {
                "id": "pasted", "platform": "custom_rtmp",
                "url": f"rtmp://127.0.0.1:{nginx.rtmp_port}/live/{PASTED}",
            })  # fmt: skip
            assert added.status_code == 201, added.text
            assert PASTED not in added.text and added.json()["url"].endswith("/live/***")
            wait_for("bytes accepted by nginx under the pasted key",
                     lambda: (nginx.stream_bytes_in(PASTED) or 0) > 20_000, 60, log)

            shown = repr(api.get("/api/destinations")) + repr(api.get("/api/status"))
            descendants = psutil.Process(process.pid).children(recursive=True)
            seen = {child.pid: (read_proc(child.pid, "cmdline"), read_proc(child.pid, "environ"))
                    for child in descendants}
        log_text = log.read_text(errors="replace")

    assert len(seen) >= 5, f"expected ingests, encoder and publishers, found {len(seen)}"
    for secret in (TOKEN, PASSWORD, KEY, PASTED, PASSPHRASE):
        assert secret not in shown, f"{secret!r} is shown by the API"
        assert secret not in log_text, f"{secret!r} is in the appliance's log"
        for pid, (_, environ) in seen.items():
            assert secret.encode() not in environ, f"{secret!r} in the environment of {pid}"
            assert b"VISTTER_" not in environ, f"a VISTTER_ variable in the environment of {pid}"
    for secret in (TOKEN, PASSWORD, "cam-pw-Hk29", KEY, PASTED):
        for pid, (cmdline, _) in seen.items():
            assert secret.encode() not in cmdline, f"{secret!r} in the command line of {pid}"
    publishers = [cmdline for cmdline, _ in seen.values()
                  if cmdline.endswith(b"\0vistter.actors.outputs.flv_publisher\0")]
    assert len(publishers) == 2, "the two RTMP destinations publish through the PyAV publisher"
    # The stated exception: the SRT passphrase is in its own SRT publisher's argv (the
    # bundled ffmpeg takes SRT options from its argv only; PyAV has no libsrt), nowhere else.
    holders = [cmdline.split(b"\0") for cmdline, _ in seen.values()
               if PASSPHRASE.encode() in cmdline]
    assert len(holders) == 1, holders
    argv = holders[0]
    assert argv[argv.index(b"-passphrase") + 1] == PASSPHRASE.encode()
    assert argv[-2] == srt.url.encode() and argv[-4:-2] == [b"-f", b"mpegts"], argv


def _camera_3(api: Api) -> bool:
    """The RTSP camera (needing its user and password) is online: receiving frames."""
    sources: dict[str, dict[str, Any]] = api.get("/api/status")["sources"]
    return bool(sources["camera:3"]["state"] == "online")
