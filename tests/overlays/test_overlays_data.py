"""Dynamic text data sources: JSON files and a real local HTTP server, last good value kept."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from vistter.clock import FakeClock, MonotonicClock
from vistter.models.network import NetworkConfig
from vistter.models.overlays import DataSource
from vistter.overlays import DataPoller, DataProvider, DataSourceError, DataStatus, pick_field

TIDE = {"station": "Wharfside", "tide": {"next_high": "3:45 PM", "height_m": 2.4},
        "tides": [{"time": "03:12"}, {"time": "15:45"}]}  # fmt: skip


#: The test server listens on plain http at 127.0.0.1, which the default policy refuses.
LOCAL_HTTP = NetworkConfig(allowed_schemes=("http", "https"), allowed_hosts=("127.0.0.1",))


def write_json(path: Path, document: object) -> None:
    path.write_text(json.dumps(document))


@pytest.fixture
def tide_file(tmp_path: Path) -> Path:
    path = tmp_path / "tide.json"
    write_json(path, TIDE)
    return path


def file_provider(tmp_path: Path, key: str | None, clock: Any = None) -> DataProvider:
    source = DataSource(path="/assets/tide.json", key=key, poll_interval=30)
    return DataProvider(source, tmp_path, clock=clock or FakeClock())


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("station", "Wharfside"),
        ("tide.next_high", "3:45 PM"),
        ("tide.height_m", 2.4),
        ("tides.1.time", "15:45"),
        ("tides.-1.time", "15:45"),
        ("tide", '{"height_m":2.4,"next_high":"3:45 PM"}'),
    ],
)
def test_json_file_field_selection(
    tmp_path: Path, tide_file: Path, key: str, expected: object
) -> None:
    provider = file_provider(tmp_path, key)
    status = provider.read()
    assert status.ok and status.error is None
    assert status.value == expected
    assert provider.value == expected
    assert status.changed and status.has_value


def test_whole_document_and_dotted_top_level_key(tmp_path: Path) -> None:
    assert pick_field(["a", 1], None) == '["a",1]'
    assert pick_field("plain", None) == "plain"
    assert pick_field({"a.b": 1, "a": {"b": 2}}, "a.b") == 1, "an exact key wins"
    assert pick_field({"a": None}, "a") is None


def test_missing_key_names_the_part_and_what_is_there() -> None:
    with pytest.raises(DataSourceError) as caught:
        pick_field(TIDE, "tide.next_low")
    assert "'next_low'" in caught.value.problem and "under tide" in caught.value.problem
    assert "next_high" in caught.value.hint
    with pytest.raises(DataSourceError, match="list of 2"):
        pick_field(TIDE, "tides.5.time")


def test_failed_reads_keep_the_last_good_value_and_report(tmp_path: Path, tide_file: Path) -> None:
    clock = FakeClock()
    provider = file_provider(tmp_path, "tide.next_high", clock)
    good = provider.read()
    assert good.read_at == clock.monotonic() and good.alert() is None

    tide_file.write_text('{"tide": {"next_high": ')  # half-written file
    clock.advance(30)
    bad = provider.read()
    assert not bad.ok and bad.value == "3:45 PM" and bad.failures == 1
    assert isinstance(bad.error, DataSourceError) and "not valid JSON" in bad.error.problem
    assert bad.read_at == good.read_at
    alert = bad.alert()
    assert alert is not None
    assert alert["severity"] == "warning" and alert["kind"] == "overlay_data"
    assert "keeps the last good value" in alert["message"] and alert["failures"] == 1
    assert alert["error"] == "DataSourceError"

    tide_file.unlink()
    missing = provider.read()
    assert missing.failures == 2 and missing.value == "3:45 PM"
    assert missing.error is not None and "does not exist" in missing.error.problem

    write_json(tide_file, {"tide": {"next_high": "4:10 PM"}})
    clock.advance(30)
    back = provider.read()
    assert back.ok and back.recovered and back.changed and back.value == "4:10 PM"
    assert back.failures == 0 and back.read_at == clock.monotonic()
    again = provider.read()
    assert not again.changed and not again.recovered
    assert provider.status is again


def test_type_change_counts_as_a_change(tmp_path: Path, tide_file: Path) -> None:
    provider = file_provider(tmp_path, "v")
    write_json(tide_file, {"v": 1})
    provider.read()
    write_json(tide_file, {"v": True})
    assert provider.read().changed


def test_never_read_source_alerts_without_a_value(tmp_path: Path) -> None:
    provider = file_provider(tmp_path, None)
    status = provider.read()
    assert not status.ok and not status.has_value and status.value is None
    alert = status.alert()
    assert alert is not None and "has no value yet" in alert["message"]


def test_path_outside_assets_is_a_reported_failure(tmp_path: Path) -> None:
    (tmp_path / "passwd.json").symlink_to("/etc/passwd")  # a link inside, leading out
    source = DataSource(path="/assets/passwd.json")
    status = DataProvider(source, tmp_path, clock=FakeClock()).read()
    assert not status.ok and status.error is not None
    assert "outside the assets folder" in status.error.problem
    assert "/etc" not in str(status.error)


def test_missing_file_names_the_source_not_the_server_path(tmp_path: Path) -> None:
    status = DataProvider(DataSource(path="gone.json"), tmp_path, clock=FakeClock()).read()
    assert status.error is not None and "'gone.json' does not exist" in status.error.problem
    assert str(tmp_path) not in json.dumps(status.alert())


class _Server:
    """A real HTTP server on 127.0.0.1 serving a JSON document the test can change."""

    def __init__(self) -> None:
        self.body: bytes = json.dumps(TIDE).encode()
        self.status = 200
        self.delay = threading.Event()  # set: hold the answer until `release` is set
        self.release = threading.Event()
        self.authorization: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.authorization.append(self.headers.get("Authorization"))
                if server.delay.is_set():
                    server.release.wait(10)
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="test-http", daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tide.json"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def http_server() -> Iterator[_Server]:
    server = _Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(30)
def test_http_source_reads_and_survives_errors(tmp_path: Path, http_server: _Server) -> None:
    source = DataSource(url=http_server.url, key="tide.next_high", poll_interval=5)
    provider = DataProvider(
        source, tmp_path, clock=MonotonicClock(), timeout=0.5, network=LOCAL_HTTP
    )
    assert provider.read().value == "3:45 PM"

    http_server.status = 500
    failed = provider.read()
    assert not failed.ok and failed.value == "3:45 PM"
    assert failed.error is not None and "HTTP 500" in failed.error.problem

    http_server.status = 200
    http_server.body = json.dumps({"tide": {"next_high": "4:02 PM"}}).encode()
    assert provider.read().value == "4:02 PM"

    http_server.delay.set()  # the server stops answering in time
    slow = provider.read()
    assert not slow.ok and slow.value == "4:02 PM"
    assert slow.error is not None and "could not be fetched" in slow.error.problem
    http_server.release.set()

    http_server.stop()  # nothing listens any more
    down = provider.read()
    assert not down.ok and down.failures == 2 and down.value == "4:02 PM"


def test_http_source_sends_credentials_and_hides_them(tmp_path: Path, http_server: _Server) -> None:
    http_server.status = 404
    url = http_server.url.replace("http://", "http://user:s3cret@") + "?token=abc"
    provider = DataProvider(
        DataSource(url=url), tmp_path, clock=FakeClock(), timeout=2, network=LOCAL_HTTP
    )
    status = provider.read()
    assert status.error is not None and "HTTP 404" in str(status.error)
    assert http_server.authorization == ["Basic dXNlcjpzM2NyZXQ="], "sent as basic auth"
    text = json.dumps(status.alert())
    assert "s3cret" not in text and "token" not in text and "user" not in text


class _CountingProvider(DataProvider):
    """Hands every read's status to the test as well."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: queue.Queue[DataStatus] = queue.Queue()

    def read(self) -> DataStatus:
        status = super().read()
        self.reads.put(status)
        return status


class _SteppedClock(FakeClock):
    """A fake clock that tells the test each time a thread starts waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: queue.Queue[float] = queue.Queue()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        deadline = self.monotonic() + timeout
        self.waits.put(deadline)
        return super().wait(event, deadline - self.monotonic())


@pytest.mark.timeout(30)
def test_poller_reports_changes_failures_and_recovery(tmp_path: Path, tide_file: Path) -> None:
    clock = _SteppedClock()
    source = DataSource(path="tide.json", key="tide.next_high", poll_interval=30)
    provider = _CountingProvider(source, tmp_path, clock=clock)
    reported: queue.Queue[DataStatus] = queue.Queue()
    crashed: queue.Queue[BaseException] = queue.Queue()
    poller = DataPoller(provider, clock=clock, on_status=reported.put, on_crash=crashed.put)
    poller.start()

    def poll() -> DataStatus:
        """One poll interval: the read it caused, once the poller is idle again."""
        clock.advance(30)
        status = provider.reads.get(timeout=5)
        assert clock.waits.get(timeout=5) == clock.monotonic() + 30
        return status

    try:
        first = reported.get(timeout=5)
        assert first.ok and first.value == "3:45 PM"
        assert provider.reads.get(timeout=5) is first
        clock.waits.get(timeout=5)
        # Unchanged value: read, but nobody is told.
        assert poll().ok
        assert reported.empty()
        # A new value is reported.
        write_json(tide_file, {"tide": {"next_high": "5:00 PM"}})
        assert poll().value == "5:00 PM"
        assert reported.get(timeout=5).value == "5:00 PM"
        # The first failure is reported, the second is not.
        tide_file.write_text("not json")
        assert not poll().ok
        failure = reported.get(timeout=5)
        assert failure.failures == 1 and failure.value == "5:00 PM"
        assert poll().failures == 2
        assert reported.empty()
        # Recovery is reported.
        write_json(tide_file, {"tide": {"next_high": "5:00 PM"}})
        assert poll().recovered
        assert reported.get(timeout=5).recovered
        assert crashed.empty()
    finally:
        assert poller.stop(5)
    assert not poller.alive


@pytest.mark.timeout(30)
def test_poller_tells_its_owner_when_it_dies(tmp_path: Path, tide_file: Path) -> None:
    provider = file_provider(tmp_path, "station")
    crashed: queue.Queue[BaseException] = queue.Queue()

    def broken(status: DataStatus) -> None:
        raise RuntimeError(f"bug while handling {status.value}")

    poller = DataPoller(provider, clock=FakeClock(), on_status=broken, on_crash=crashed.put)
    poller.start()
    error = crashed.get(timeout=5)
    assert isinstance(error, RuntimeError) and "Wharfside" in str(error)
    assert poller.stop(5)


def test_stopping_a_poller_that_never_started() -> None:
    provider = DataProvider(DataSource(path="x.json"), Path("."), clock=FakeClock())
    poller = DataPoller(provider, clock=FakeClock(), on_status=print, on_crash=print)
    assert poller.stop(1)
