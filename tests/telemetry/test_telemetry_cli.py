"""run_telemetry_cli: what `vistter telemetry` prints."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import time
from collections.abc import Iterator

import pykka
import pytest

from vistter.supervisors.link import Link
from vistter.telemetry import TelemetryBus, TelemetryPublisher, run_telemetry_cli

pytestmark = pytest.mark.timeout(60)

LINE = re.compile(r"^(\S+) (\S+) #(\d+) (\{.*\})$")


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


@pytest.fixture
def bus_and_endpoint() -> tuple[TelemetryBus, str]:
    bus = TelemetryBus()
    link = Link("test/telemetry/publisher")
    ref = TelemetryPublisher.start(link, bus, "tcp://127.0.0.1:*")
    assert link.ready.wait(10), link.exit
    endpoint: str = ref.proxy().endpoint().get(timeout=10)
    return bus, endpoint


class Feeder:
    """Publishes a metrics.stream and an event.camera message every 20 ms until stopped."""

    def __init__(self, bus: TelemetryBus) -> None:
        self.bus = bus
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="test-feeder")

    def run(self) -> None:
        i = 0
        while not self.stop.wait(0.02):
            self.bus.publish("metrics.stream", {"i": i, "name": "dock"})
            self.bus.publish("event.camera", {"i": i})
            i += 1

    def __enter__(self) -> Feeder:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def test_prints_one_line_per_message_with_topic_filter(
    bus_and_endpoint: tuple[TelemetryBus, str],
) -> None:
    bus, endpoint = bus_and_endpoint
    out = io.StringIO()
    with Feeder(bus):
        code = run_telemetry_cli(endpoint, "metrics.", out, max_messages=5, timeout=20)
    assert code == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 6, lines
    seqs = []
    for line in lines[:5]:
        match = LINE.match(line)
        assert match, line
        when, topic, seq, payload = match.groups()
        assert dt.datetime.fromisoformat(when).tzinfo is not None
        assert topic == "metrics.stream"
        assert json.loads(payload)["name"] == "dock"
        seqs.append(int(seq))
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert lines[5].startswith("# received 5, missed 0")


def test_stops_on_the_stop_event(bus_and_endpoint: tuple[TelemetryBus, str]) -> None:
    _, endpoint = bus_and_endpoint
    out = io.StringIO()
    stop = threading.Event()
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(run_telemetry_cli(
        endpoint, None, out, stop=stop)))
    runner.start()
    stop.set()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert result == [0]
    assert out.getvalue().startswith("# received 0, missed 0")


def test_timeout_without_messages_returns_zero() -> None:
    out = io.StringIO()
    started = time.monotonic()
    # Nobody is bound here: ZeroMQ keeps retrying the connection in the background.
    assert run_telemetry_cli("tcp://127.0.0.1:9", None, out, timeout=0.3) == 0
    assert time.monotonic() - started < 5
    assert out.getvalue().startswith("# received 0")


def test_ctrl_c_ends_cleanly(bus_and_endpoint: tuple[TelemetryBus, str]) -> None:
    bus, endpoint = bus_and_endpoint

    class InterruptingOut(io.StringIO):
        lines = 0

        def write(self, text: str) -> int:
            if not text.startswith("#"):
                self.lines += 1
                if self.lines == 2:
                    raise KeyboardInterrupt
            return super().write(text)

    out = InterruptingOut()
    with Feeder(bus):
        assert run_telemetry_cli(endpoint, "event.", out, timeout=20) == 0
    lines = out.getvalue().splitlines()
    assert LINE.match(lines[0])
    assert lines[0].split()[1] == "event.camera"
    assert lines[-1].startswith("# received 2")


def test_bad_endpoint_is_exit_code_2() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_telemetry_cli("carrier-pigeon://x", None, out, timeout=1, err=err) == 2
    assert "carrier-pigeon://x" in err.getvalue()
    assert "[telemetry]" in err.getvalue()
    assert out.getvalue() == ""
