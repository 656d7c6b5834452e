"""The RTMP side of the rig: nginx-rtmp recording every publish into its own file, with a
publish hook that lets the harness see (and refuse) every publish attempt.

Unlike :class:`chaos.realparts.NginxRtmp` (one file per key, overwritten on a reconnect), this
ingest keeps every publish session: ``record_unique on`` names each file
``<key>-<unix time>.flv``. nginx calls ``on_publish`` / ``on_publish_done`` on a small HTTP
server in the harness, which stamps each call with the harness's monotonic clock and answers
403 for keys listed in ``rejected_keys`` (a platform refusing a wrong stream key).
Every process is ended by PID; everything binds 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from chaos.realparts.nginx_rtmp import find_nginx, find_rtmp_module
from chaos.realparts.ports import LOOPBACK, free_port, wait_until_accepts
from chaos.realparts.procs import end_process

__all__ = ["PublishEvent", "RecordingIngest"]


@dataclass(frozen=True)
class PublishEvent:
    """One call of nginx's publish hook: ``call`` is ``publish`` or ``publish_done``."""

    at: float  # harness monotonic seconds
    call: str
    key: str
    accepted: bool


class _HookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rejected: Collection[str]) -> None:
        super().__init__((LOOPBACK, 0), _HookHandler)
        self.rejected = set(rejected)
        self.events: list[PublishEvent] = []
        self.lock = threading.Lock()


class _HookHandler(BaseHTTPRequestHandler):
    """Runs in one of the hook server's threads per request; never raises to nginx."""

    server: _HookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
        call = (form.get("call") or [self.path.strip("/")])[0]
        key = (form.get("name") or [""])[0]
        accepted = not (call == "publish" and key in self.server.rejected)
        with self.server.lock:
            self.server.events.append(PublishEvent(time.monotonic(), call, key, accepted))
        self.send_response(200 if accepted else 403)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: the events list is the log


class RecordingIngest:
    """nginx-rtmp on 127.0.0.1 (app ``live``) recording each publish session to its own file.

    Methods run in the caller's thread; the hook server answers in its own threads.
    """

    def __init__(self, workdir: Path, *, rejected_keys: Collection[str] = ()) -> None:
        self.workdir = workdir.resolve()  # nginx reads relative paths against its prefix
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.record_dir = self.workdir / "rec"
        self.rtmp_port = free_port()
        self.http_port = free_port()
        self._hooks = _HookServer(rejected_keys)
        self._hook_thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        """``rtmp://127.0.0.1:<port>/live``: the server part of a destination's url."""
        return f"rtmp://{LOOPBACK}:{self.rtmp_port}/live"

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        """Start the hook server and nginx; raises RuntimeError when nginx does not come up."""
        if self._hook_thread is None:
            self._hook_thread = threading.Thread(
                target=self._hooks.serve_forever, name="chaos-publish-hooks", daemon=True
            )
            self._hook_thread.start()
        config = self.workdir / "nginx.conf"
        config.write_text(self._config(find_rtmp_module()))
        argv = [find_nginx(), "-p", str(self.workdir), "-c", str(config),
                "-e", str(self.workdir / "error.log")]  # fmt: skip
        with (self.workdir / "nginx.stderr").open("ab") as stderr:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        started = wait_until_accepts(
            self.rtmp_port, 10.0, still_starting=lambda: self.pid is not None
        )
        if not started:
            self.stop()
            raise RuntimeError(f"nginx-rtmp did not start; see {self.workdir / 'error.log'}")

    def stop(self) -> None:
        """End nginx by PID and stop the hook server."""
        if self._process is not None:
            end_process(self._process)
            self._process = None
        if self._hook_thread is not None:
            self._hooks.shutdown()
            self._hooks.server_close()
            self._hook_thread = None

    def events(self, key: str | None = None) -> list[PublishEvent]:
        """Every publish hook call so far (for ``key`` only, when given), oldest first."""
        with self._hooks.lock:
            return [e for e in self._hooks.events if key is None or e.key == key]

    def sessions(self, key: str) -> list[Path]:
        """The recorded files of ``key``, one per accepted publish, oldest first."""
        files = self.record_dir.glob(f"{key}-*.flv")
        return sorted(files, key=lambda path: (path.stat().st_mtime, path.name))

    def bytes_in(self, timeout: float = 1.0) -> dict[str, int]:
        """Bytes nginx accepted per key now publishing (``/stat``); {} when it does not answer."""
        url = f"http://{LOOPBACK}:{self.http_port}/stat"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                root = ET.fromstring(response.read())  # noqa: S314 (our own nginx)
        except (OSError, ET.ParseError):
            return {}
        found: dict[str, int] = {}
        for stream in root.iter("stream"):
            if stream.find("publishing") is not None:
                found[stream.findtext("name") or ""] = int(stream.findtext("bytes_in") or 0)
        return found

    def _config(self, module: Path) -> str:
        temp = self.workdir / "temp"
        temp.mkdir(exist_ok=True)
        self.record_dir.mkdir(exist_ok=True)
        hooks = f"http://{LOOPBACK}:{self._hooks.server_address[1]}"
        return f"""load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {self.workdir / "nginx.pid"};
error_log {self.workdir / "error.log"} info;
events {{ worker_connections 256; }}
rtmp {{
    access_log {self.workdir / "rtmp-access.log"};
    server {{
        listen {LOOPBACK}:{self.rtmp_port};
        chunk_size 4096;
        application live {{
            live on;
            record all;
            record_path {self.record_dir};
            record_unique on;
            record_suffix .flv;
            on_publish {hooks}/publish;
            on_publish_done {hooks}/publish_done;
        }}
    }}
}}
http {{
    access_log off;
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    server {{
        listen {LOOPBACK}:{self.http_port};
        location /stat {{ rtmp_stat all; }}
    }}
}}
"""
