"""``kill -9`` of a real appliance during timeline PUTs and uploads loses nothing stored.

The appliance runs as its own process (``python -m vistter run``) on 127.0.0.1 with a
private data and assets folder. While clients replace timelines and stream an upload, the
process is killed with SIGKILL (by its PID), then started again on the same folders. Then:
the database passes ``PRAGMA integrity_check``, every timeline is exactly one of the
versions a client sent (never a mix), every stored asset's file is whole, and no partial
upload file is left.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SPEC_EXAMPLE

REPO = Path(__file__).resolve().parents[2]
TIMELINES = 4
UPLOAD_CHUNK = 64 * 1024
UPLOAD_CHUNKS = 400  # 25 MB over 8 s or more: in progress when the process dies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Appliance:
    """One ``vistter run`` process on the given folders; killed or stopped by PID."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        config = root / "vistter.toml"
        config.write_text(
            f'[api]\nhost = "127.0.0.1"\nport = {self.port}\n\n'
            f'[telemetry]\nendpoint = "tcp://127.0.0.1:{free_port()}"\n\n'
            f'[paths]\nassets_dir = "{root / "assets"}"\ndata_dir = "{root / "var"}"\n'
        )
        self.log = (root / "vistter.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vistter", "run", "--config", str(config)],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=root,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.root / "vistter.log").read_text()
            try:
                if httpx.get(self.base + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no health answer in {timeout} s")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


@pytest.fixture
def appliances(tmp_path: Path) -> Iterator[list[Appliance]]:
    started: list[Appliance] = []
    try:
        yield started
    finally:
        for appliance in started:
            appliance.stop()


def timeline(index: int, version: int) -> dict[str, Any]:
    """A valid timeline for an appliance without cameras; ``version`` changes many fields."""
    document: dict[str, Any] = copy.deepcopy(json.loads(SPEC_EXAMPLE.read_text()))
    body = document["timeline"]
    body["id"] = f"kill_{index}"
    body["name"] = f"Timeline {index} v{version}"
    body["description"] = f"version {version} " + "x" * (version % 7) * 100
    body["duration"] = 3600 + version
    body.pop("fallback")
    for cue in body["tracks"]["video"]["cues"]:
        cue["action"] = "show_media"
        cue["params"] = {"media_url": "/assets/slide.png", "transition": "cut"}
    body["tracks"]["overlays"][1]["cues"][0]["params"]["text"] = f"Tide v{version}"
    body["tracks"]["overlays"][0]["cues"] = body["tracks"]["overlays"][0]["cues"][:1]
    return document


def slow_upload(base: str, sent: threading.Event) -> None:
    def body() -> Iterator[bytes]:
        yield b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
        for index in range(UPLOAD_CHUNKS):
            if index == 8:
                sent.set()
            time.sleep(0.02)
            yield bytes([index % 251]) * UPLOAD_CHUNK

    with contextlib.suppress(httpx.HTTPError):  # the appliance dies under it
        httpx.post(base + "/api/assets", params={"name": "big.mp4"}, content=body(),
                   headers={"content-type": "video/mp4"}, timeout=30)  # fmt: skip


@pytest.mark.timeout(150)
def test_sigkill_during_puts_and_uploads_keeps_the_store_whole(
    tmp_path: Path, appliances: list[Appliance]
) -> None:
    from PIL import Image

    (tmp_path / "assets").mkdir()
    Image.new("RGB", (64, 36), (10, 20, 30)).save(tmp_path / "assets" / "slide.png")
    slate = "technical_difficulties.png"  # the appliance's slate
    (tmp_path / "assets" / slate).write_bytes((REPO / "assets" / slate).read_bytes())
    first = Appliance(tmp_path)
    appliances.append(first)
    first.wait_healthy()

    sent: dict[int, list[dict[str, Any]]] = {}
    ids: dict[int, int] = {}
    for index in range(TIMELINES):
        document = timeline(index, 0)
        created = httpx.post(first.base + "/api/timelines", json=document, timeout=10)
        assert created.status_code == 201, created.text
        ids[index] = created.json()["id"]
        sent[index] = [document]
    logo = httpx.post(first.base + "/api/assets", params={"name": "logo.png"},
                      content=(tmp_path / "assets" / "slide.png").read_bytes(),
                      headers={"content-type": "image/png"}, timeout=10)  # fmt: skip
    assert logo.status_code == 201, logo.text

    stop = threading.Event()
    acknowledged = [0]

    def put_forever(index: int) -> None:
        with httpx.Client(base_url=first.base, timeout=10) as client:
            version = 0
            while not stop.is_set():
                version += 1
                document = timeline(index, version)
                sent[index].append(document)  # sent from now on: may be what is stored
                try:
                    response = client.put(f"/api/timelines/{ids[index]}", json=document)
                except httpx.HTTPError:
                    return  # the appliance died under it
                assert response.status_code == 200, response.text
                acknowledged[0] += 1

    upload_started = threading.Event()
    workers = [threading.Thread(target=put_forever, args=(i,)) for i in range(TIMELINES)]
    workers.append(threading.Thread(target=slow_upload, args=(first.base, upload_started)))
    for worker in workers:
        worker.start()
    assert upload_started.wait(30)
    deadline = time.monotonic() + 30
    while acknowledged[0] < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    partial = list((tmp_path / "assets").glob(".upload-*.part"))
    assert partial, "an upload is in progress when the process is killed"
    first.kill()  # SIGKILL by PID, mid-write
    stop.set()
    for worker in workers:
        worker.join(40)
        assert not worker.is_alive()
    assert acknowledged[0] >= 40
    assert list((tmp_path / "assets").glob(".upload-*.part")), "the kill left a partial file"

    second = Appliance(tmp_path)
    appliances.append(second)
    second.wait_healthy()

    database = tmp_path / "var" / "vistter.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    for index, versions in sent.items():
        stored = httpx.get(f"{second.base}/api/timelines/{ids[index]}", timeout=10)
        assert stored.status_code == 200, stored.text
        assert stored.json()["document"] in versions, f"timeline {index} is not a sent version"
    assert list((tmp_path / "assets").glob(".upload-*.part")) == []
    listing = httpx.get(second.base + "/api/assets", timeout=10).json()["assets"]
    assert [asset["filename"] for asset in listing] == ["logo.png"]
    for asset in listing:
        data = (tmp_path / "assets" / asset["filename"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == asset["checksum"]
    assert not (tmp_path / "assets" / "big.mp4").exists()
    second.stop()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
