"""Alert webhooks against a real HTTP server on 127.0.0.1 that fails, then answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vistter.alerts import AlertReport, AlertService, WebhookSender
from vistter.models.alerts import AlertsConfig, webhook_label
from vistter.supervisors.backoff import Backoff
from vistter.telemetry.bus import TelemetryBus

pytestmark = pytest.mark.timeout(30)

FAST = Backoff(initial=0.05, factor=2, maximum=0.2, reset_after=0)


class Hook:
    """A webhook endpoint: answers 500 ``failures`` times, then 200; records every POST."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[float, str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hook.cond:
                    hook.received.append((time.monotonic(), self.headers["Content-Type"],
                                          json.loads(body)))  # fmt: skip
                    failing = len(hook.received) <= hook.failures
                    hook.cond.notify_all()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify/s3cret-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return [body for _, _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook(failures=2)
    yield server
    server.close()


def test_a_failing_webhook_is_retried_on_the_backoff_until_it_answers(hook: Hook) -> None:
    sender = WebhookSender([hook.url], backoff=FAST, attempts=5, timeout=2)
    sender.start()
    try:
        sender.send({"event": "raised", "message": "Camera 2 offline"})
        bodies = hook.wait(3)
        assert bodies == [{"event": "raised", "message": "Camera 2 offline"}] * 3
        times = [at for at, _, _ in hook.received]
        assert times[1] - times[0] >= 0.045 and times[2] - times[1] >= 0.095  # 0.05, then 0.1
        assert {content_type for _, content_type, _ in hook.received} == {"application/json"}
        deadline = time.monotonic() + 5
        while sender.stats()["delivered"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = sender.stats()
        assert (stats["delivered"], stats["retried"], stats["abandoned"]) == (1, 2, 0)
        assert stats["webhooks"] == [webhook_label(hook.url)]
        assert "s3cret" not in repr(stats)  # the token in the URL is never shown
    finally:
        sender.close()
    time.sleep(0.3)
    assert len(hook.received) == 3  # delivered: no more attempts


def test_a_webhook_that_keeps_failing_is_given_up_after_its_attempts() -> None:
    hook = Hook(failures=100)
    sender = WebhookSender([hook.url], backoff=FAST, attempts=3, timeout=2)
    sender.start()
    try:
        sender.send({"event": "raised"})
        hook.wait(3)
        deadline = time.monotonic() + 5
        while sender.stats()["abandoned"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sender.stats()["abandoned"] == 1
        time.sleep(0.5)
        assert len(hook.received) == 3
    finally:
        sender.close()
        hook.close()


def test_the_service_posts_raised_and_cleared_alerts_from_its_config(hook: Hook) -> None:
    hook.failures = 0
    config = AlertsConfig.model_validate({
        "webhooks": [hook.url], "webhook_retry": {"initial": 0.05, "maximum": 0.2}})
    retry = config.webhook_retry
    sender = WebhookSender(config.webhooks, backoff=retry.backoff(), attempts=retry.attempts,
                           timeout=float(config.webhook_timeout))  # fmt: skip
    bus = TelemetryBus()
    service = AlertService(bus, history=10, webhooks=sender)
    service.open()
    try:
        started = time.monotonic()
        service.report(AlertReport(kind="disk_low", source="disk", message="Disk low",
                                   remediation="Delete old recordings."))  # fmt: skip
        service.report(AlertReport(kind="disk_low", source="disk", message="Disk low"))
        service.acknowledge(1)  # acknowledging is not news for a phone
        service.clear("disk/disk_low", "Free space is back.")
        raised, cleared = hook.wait(2)
        assert time.monotonic() - started < 5
        assert (raised["event"], raised["source"], raised["remediation"]) == (
            "raised", "disk", "Delete old recordings.")
        assert (cleared["event"], cleared["resolution"]) == ("cleared", "Free space is back.")
        time.sleep(0.3)
        assert len(hook.received) == 2
    finally:
        service.close()


def test_webhook_urls_must_be_http_and_stay_out_of_the_config_repr() -> None:
    with pytest.raises(ValueError, match="not an http"):
        AlertsConfig.model_validate({"webhooks": ["ftp://example.com/x"]})
    config = AlertsConfig.model_validate({"webhooks": ["https://ntfy.sh/secret-topic"]})
    assert "secret-topic" not in repr(config)
