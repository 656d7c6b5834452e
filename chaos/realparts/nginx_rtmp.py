"""A real RTMP ingest for tests: nginx with the Debian ``libnginx-mod-rtmp`` module.

nginx runs in the foreground as ONE process (``daemon off; master_process off;``), bound to
127.0.0.1 on free ports, with its config, pid file, logs, temp paths and recordings all inside
one work directory. It can be stopped and started again on the SAME ports to simulate a
destination outage. Every publish is recorded to ``<workdir>/rec/<app>/<key>.flv``.

``rejected_keys`` makes it refuse those stream keys the way platforms do, after the handshake,
``connect`` and ``createStream`` went through: nginx-rtmp asks its ``on_publish`` hook (a
location of the same nginx, ``notify_method get``), which answers 403, and nginx-rtmp closes
the connection right after the ``publish`` command. Change the set with
:meth:`NginxRtmp.reject_keys`, then ``stop()`` and ``start()``.

Fails the test loudly (never skips) when nginx or the rtmp module is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest

from .ports import LOOPBACK, free_port, wait_until_accepts
from .procs import end_process

INSTALL_HINT = (
    "install nginx and libnginx-mod-rtmp (run scripts/install-system-deps.sh as root, "
    "or apt-get install nginx libnginx-mod-rtmp)"
)
_MODULE_NAME = "ngx_rtmp_module.so"
_MODULE_DIRS = (Path("/usr/lib/nginx/modules"), Path("/usr/share/nginx/modules"))
_MODULES_AVAILABLE = Path("/usr/share/nginx/modules-available")
_DEBIAN_NGINX_PREFIX = Path("/usr/share/nginx")
_APP = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


def find_nginx() -> str:
    """Path of the nginx binary (``/usr/sbin`` is often not on a user's PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail(f"nginx is not installed; {INSTALL_HINT}", pytrace=False)
    return found


def find_rtmp_module() -> Path:
    """Absolute path of ``ngx_rtmp_module.so`` from the Debian package.

    Looks in the module directories, then follows ``load_module`` lines in
    ``/usr/share/nginx/modules-available/*.conf`` (relative to nginx's Debian prefix).
    """
    for directory in _MODULE_DIRS:
        candidate = directory / _MODULE_NAME
        if candidate.is_file():
            return candidate
    for conf in sorted(_MODULES_AVAILABLE.glob("*.conf")):
        for match in re.finditer(r"load_module\s+([^;\s]+);", conf.read_text(errors="replace")):
            candidate = _DEBIAN_NGINX_PREFIX / match[1]
            if candidate.name == _MODULE_NAME and candidate.is_file():
                return candidate.resolve()
    pytest.fail(
        f"the nginx RTMP module ({_MODULE_NAME}) is not installed; {INSTALL_HINT}", pytrace=False
    )


class NginxRtmp:
    """nginx-rtmp on 127.0.0.1, as a context manager.

    ``with NginxRtmp(tmp_path) as ingest:`` starts it and waits until the RTMP port accepts;
    leaving the block stops it by PID. ``url(key=...)`` is where a publisher sends,
    ``recording(key)`` is the .flv nginx wrote, ``stop()``/``start()`` simulate an outage on
    the same ports. Methods run in the caller's thread; nothing here is thread-safe.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        apps: Sequence[str] = ("live",),
        record_append: bool = False,
        startup_timeout: float = 10.0,
        rejected_keys: Collection[str] = (),
    ) -> None:
        for app in apps:
            if not _APP.match(app):
                raise ValueError(f"application name {app!r} must match [A-Za-z0-9_-]+")
        self.rejected_keys: frozenset[str] = frozenset()
        self.reject_keys(rejected_keys)
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="nginx-rtmp-")) if workdir is None else workdir
        self.apps = tuple(apps)
        self.record_append = record_append
        self.startup_timeout = startup_timeout
        self.rtmp_port = free_port()
        self.http_port = free_port()
        while self.http_port == self.rtmp_port:
            self.http_port = free_port()
        self.record_dir = self.workdir / "rec"
        self.error_log = self.workdir / "error.log"
        self.config_path = self.workdir / "nginx.conf"
        self._process: subprocess.Popen[bytes] | None = None

    # -- addresses ---------------------------------------------------------------------

    def url(self, app: str = "live", key: str = "name") -> str:
        """``rtmp://127.0.0.1:<port>/<app>/<key>``: where a publisher sends."""
        self._check_app(app)
        return f"rtmp://{LOOPBACK}:{self.rtmp_port}/{app}/{key}"

    def recording(self, key: str, app: str = "live") -> Path:
        """The .flv nginx records for stream ``key`` (it may not exist yet)."""
        self._check_app(app)
        return self.record_dir / app / f"{key}.flv"

    @property
    def stat_url(self) -> str:
        """``http://127.0.0.1:<port>/stat``: nginx-rtmp's XML statistics."""
        return f"http://{LOOPBACK}:{self.http_port}/stat"

    def reject_keys(self, keys: Collection[str]) -> None:
        """Refuse these stream keys from the next :meth:`start` on (none: accept every key)."""
        for key in keys:
            if not _KEY.match(key):
                raise ValueError(f"a rejected key {key!r} must match [A-Za-z0-9_.-]+")
        self.rejected_keys = frozenset(keys)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """PID of the running nginx, or None when it is stopped."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start nginx (again, on the same ports) and wait until the RTMP port accepts.

        Fails the test with nginx's error log when it does not come up in time.
        """
        if self.running:
            raise RuntimeError("nginx is already running; stop() it before start()")
        nginx = find_nginx()
        self._write_config(find_rtmp_module())
        argv = [
            nginx,
            "-p",
            str(self.workdir),
            "-c",
            str(self.config_path),
            "-e",
            str(self.error_log),
        ]
        with (self.workdir / "nginx.stderr").open("ab") as stderr:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        if not wait_until_accepts(
            self.rtmp_port, self.startup_timeout, still_starting=lambda: self.running
        ):
            code = end_process(self._process)
            self._process = None
            pytest.fail(
                f"nginx-rtmp did not accept on {LOOPBACK}:{self.rtmp_port} within "
                f"{self.startup_timeout} s (exit code {code}); error.log: "
                f"{self.error_log_tail()}",
                pytrace=False,
            )

    def stop(self, grace: float = 3.0) -> None:
        """Stop nginx by PID (terminate, wait, kill). Publishers see their connection drop."""
        if self._process is not None:
            end_process(self._process, grace)
            self._process = None

    def close(self) -> None:
        """Stop nginx and delete the work directory if this object created it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> NginxRtmp:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- inspection --------------------------------------------------------------------

    def error_log_tail(self, limit: int = 2000) -> str:
        try:
            return self.error_log.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no error.log)"

    def stat(self, timeout: float = 2.0) -> ET.Element:
        """nginx-rtmp's statistics (``rtmp_stat all``) as parsed XML."""
        # our own nginx on 127.0.0.1 (http://), started by this module
        with urllib.request.urlopen(self.stat_url, timeout=timeout) as response:  # noqa: S310
            return ET.fromstring(response.read())  # noqa: S314 (our own nginx's stat page)

    def stream_bytes_in(self, key: str, app: str = "live") -> int | None:
        """Bytes nginx has accepted from the publisher of ``key``; None if not publishing.

        This is how a test judges a destination by bytes actually accepted.
        """
        for application in self.stat().iter("application"):
            if application.findtext("name") != app:
                continue
            for stream in application.iter("stream"):
                if stream.findtext("name") == key and stream.find("publishing") is not None:
                    return int(stream.findtext("bytes_in") or 0)
        return None

    def publish_calls(self, key: str) -> int:
        """How many times a publisher offered ``key`` (its ``publish`` command), accepted or
        not, since the work directory was made. Counted from the ``on_publish`` hook's access
        log, so only while some key is rejected (:meth:`reject_keys`)."""
        try:
            log = (self.workdir / "http-access.log").read_text(errors="replace")
        except OSError:
            return 0
        return sum(
            1
            for line in log.splitlines()
            if "/on_publish?" in line and "call=publish&" in line and f"&name={key}&" in line
        )

    # -- internals ---------------------------------------------------------------------

    def _check_app(self, app: str) -> None:
        if app not in self.apps:
            raise ValueError(f"application {app!r} is not configured; configured: {self.apps}")

    def _write_config(self, module: Path) -> None:
        temp = self.workdir / "temp"
        for directory in (temp, *(self.record_dir / app for app in self.apps)):
            directory.mkdir(parents=True, exist_ok=True)
        hook = (
            f"\n            notify_method get;\n            on_publish "
            f"http://{LOOPBACK}:{self.http_port}/on_publish;"
            if self.rejected_keys
            else ""
        )
        applications = "\n".join(
            f"""        application {app} {{
            live on;
            record all;
            record_path {self.record_dir / app};
            record_unique off;
            record_append {"on" if self.record_append else "off"};
            record_suffix .flv;{hook}
        }}"""
            for app in self.apps
        )
        self.config_path.write_text(
            f"""load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {self.workdir / "nginx.pid"};
error_log {self.error_log} info;

events {{
    worker_connections 256;
}}

rtmp {{
    access_log {self.workdir / "rtmp-access.log"};
    server {{
        listen {LOOPBACK}:{self.rtmp_port};
        chunk_size 4096;
{applications}
    }}
}}

http {{
    access_log {self.workdir / "http-access.log"};
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    server {{
        listen {LOOPBACK}:{self.http_port};
        location /stat {{
            rtmp_stat all;
        }}{self._publish_check()}
    }}
}}
"""
        )

    def _publish_check(self) -> str:
        """The ``on_publish`` hook's location: 403 for a rejected key, else 204."""
        if not self.rejected_keys:
            return ""
        names = "|".join(re.escape(key) for key in sorted(self.rejected_keys))
        return f"""
        location = /on_publish {{
            if ($arg_name ~ "^({names})$") {{
                return 403;
            }}
            return 204;
        }}"""
