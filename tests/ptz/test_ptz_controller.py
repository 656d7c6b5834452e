"""PTZ pre-roll: the controller with the real ONVIF client against the fake camera."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from support.eventsink import RecordingSink as BaseSink
from support.fake_onvif import PTZ_PROFILE, FakeOnvifCamera

from vistter.clock import FakeClock
from vistter.models.cameras import CameraConfig
from vistter.ptz import PtzController, PtzResult, PtzTimeouts

PASSWORD = "s3cret-ptz-pass"
SETTLE = 2.0
CURRENT_SHOT = "the cue runs on the current shot"


class RecordingSink(BaseSink):
    def alerts(self) -> list[dict[str, Any]]:
        return self.of("alert")

@pytest.fixture(autouse=True)
def _no_leaked_loop_threads() -> Iterator[None]:
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("vistter-ptz-"):
            thread.join(timeout=5)
    assert [t.name for t in threading.enumerate() if t.name.startswith("vistter-ptz-")] == []


@pytest.fixture
def fake() -> Iterator[FakeOnvifCamera]:
    with FakeOnvifCamera(password=PASSWORD) as camera:
        yield camera


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-preroll") as executor:
        yield executor


def _camera(port: int, *, password: str = PASSWORD, with_ptz: bool = True) -> CameraConfig:
    ptz = {
        "host": "127.0.0.1",
        "port": port,
        "username": "operator",
        "password": password,
        "presets": {"wide_shot": "1", "close_up": "2"},
        "settle_time": SETTLE,
    }
    return CameraConfig.model_validate(
        {"id": 2, "url": "lavfi:testsrc2=size=320x240:rate=15", "ptz": ptz if with_ptz else None}
    )


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


def _controller(
    camera: CameraConfig,
    clock: FakeClock,
    sink: RecordingSink,
    timeouts: PtzTimeouts | None = None,
) -> PtzController:
    return PtzController(
        camera,
        clock=clock,
        timeouts=timeouts or PtzTimeouts(connect=1.0, request=1.0),
        events=sink,
    )


def _settle(clock: FakeClock, future: Future[PtzResult]) -> float:
    """Advance fake time in steps until the pre-roll returns; return how far time moved.

    Fails if the pre-roll returns before ``SETTLE`` seconds of fake time have passed.
    """
    advanced = 0.0
    for _ in range(40):
        if future.done():
            return advanced
        if advanced < SETTLE:
            # Not settled yet: the pre-roll must still be waiting on the clock.
            with pytest.raises(TimeoutError):
                future.result(timeout=0.1)
        clock.advance(0.5)
        advanced += 0.5
        try:
            future.result(timeout=0.05)
        except TimeoutError:
            continue
        return advanced
    raise AssertionError("the pre-roll never returned")


@pytest.mark.timeout(30)
def test_preroll_moves_off_air_and_waits_the_settle_time(
    fake: FakeOnvifCamera, pool: ThreadPoolExecutor, sink: RecordingSink
) -> None:
    clock = FakeClock()
    controller = _controller(_camera(fake.port), clock, sink)
    try:
        future = pool.submit(controller.preroll, "close_up", on_air=False)
        call = fake.wait_for_call("GotoPreset", timeout=10)
        assert call.arguments == {"ProfileToken": PTZ_PROFILE, "PresetToken": "2"}
        assert not future.done()
        advanced = _settle(clock, future)
        result = future.result(timeout=1)
    finally:
        controller.close()
    assert advanced >= SETTLE
    assert result.ok, result.message
    assert result.preset == "close_up"
    assert result.preset_token == "2"
    assert result.on_air is False
    assert result.settle_time >= SETTLE
    assert sink.alerts() == []


@pytest.mark.timeout(30)
def test_second_preroll_reuses_the_connection(
    fake: FakeOnvifCamera, pool: ThreadPoolExecutor, sink: RecordingSink
) -> None:
    clock = FakeClock()
    controller = _controller(_camera(fake.port), clock, sink)
    try:
        for preset in ("wide_shot", "close_up"):
            future = pool.submit(controller.preroll, preset, on_air=False)
            _settle(clock, future)
            assert future.result(timeout=1).ok
    finally:
        controller.close()
    assert [c.arguments["PresetToken"] for c in fake.calls_of("GotoPreset")] == ["1", "2"]
    assert len(fake.calls_of("GetServices")) == 1


@pytest.mark.timeout(30)
def test_preroll_on_air_moves_and_says_so(
    fake: FakeOnvifCamera,
    pool: ThreadPoolExecutor,
    sink: RecordingSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vistter.ptz")
    clock = FakeClock()
    controller = _controller(_camera(fake.port), clock, sink)
    try:
        future = pool.submit(controller.preroll, "wide_shot", on_air=True)
        _settle(clock, future)
        result = future.result(timeout=1)
    finally:
        controller.close()
    assert result.ok and result.on_air
    assert "Camera 2 is on air: moving to preset 'wide_shot' on air" in caplog.text
    assert fake.calls_of("GotoPreset")[0].arguments["PresetToken"] == "1"


@pytest.mark.timeout(30)
def test_camera_that_does_not_answer_is_a_failed_result_within_the_bound(
    fake: FakeOnvifCamera, sink: RecordingSink
) -> None:
    fake.mode = "slow"
    controller = _controller(_camera(fake.port), FakeClock(), sink, PtzTimeouts())
    try:
        started = time.monotonic()
        result = controller.preroll("close_up", on_air=False)
        elapsed = time.monotonic() - started
    finally:
        controller.close()
    assert not result.ok
    assert result.message == f"Camera 2 PTZ did not answer within 3 s; {CURRENT_SHOT}"
    assert 2.7 <= elapsed < 3.0 + 1.5
    [alert] = sink.alerts()
    assert alert["source"] == "camera:2"
    assert alert["severity"] == "warning"
    assert alert["message"] == result.message


@pytest.mark.timeout(30)
def test_hanging_goto_preset_is_bounded_by_the_request_timeout(
    fake: FakeOnvifCamera, sink: RecordingSink
) -> None:
    fake.mode, fake.only = "slow", frozenset({"GotoPreset"})
    controller = _controller(_camera(fake.port), FakeClock(), sink)
    try:
        started = time.monotonic()
        result = controller.preroll("wide_shot", on_air=False)
        assert time.monotonic() - started < 1.0 + 1.0 + 1.5
    finally:
        controller.close()
    assert not result.ok
    assert result.message == f"Camera 2 PTZ did not answer within 1 s; {CURRENT_SHOT}"


@pytest.mark.timeout(30)
def test_soap_fault_is_a_failed_result_with_the_fault_text(
    fake: FakeOnvifCamera, sink: RecordingSink
) -> None:
    fake.mode, fake.only = "error", frozenset({"GotoPreset"})
    fake.fault_text = "PTZ motor is jammed"
    controller = _controller(_camera(fake.port), FakeClock(), sink)
    try:
        result = controller.preroll("close_up", on_air=False)
    finally:
        controller.close()
    assert not result.ok
    assert "PTZ motor is jammed" in result.message
    assert result.message.endswith(CURRENT_SHOT)
    assert "preset 'close_up'" in result.message
    assert [a["message"] for a in sink.alerts()] == [result.message]


@pytest.mark.timeout(30)
def test_unknown_preset_is_a_failed_result_listing_the_presets(
    fake: FakeOnvifCamera, sink: RecordingSink
) -> None:
    controller = _controller(_camera(fake.port), FakeClock(), sink)
    try:
        result = controller.preroll("bird_nest", on_air=False)
    finally:
        controller.close()
    assert not result.ok
    assert "'bird_nest'" in result.message
    assert "known presets: close_up, wide_shot" in result.message
    assert "ptz.presets" in result.hint
    assert fake.operations() == []
    assert len(sink.alerts()) == 1


@pytest.mark.timeout(30)
def test_camera_without_ptz_is_a_failed_result(sink: RecordingSink) -> None:
    controller = _controller(_camera(1, with_ptz=False), FakeClock(), sink)
    result = controller.preroll("close_up", on_air=False)
    controller.close()
    assert not result.ok
    assert controller.has_ptz is False
    assert result.message == f"Camera 2 has no PTZ; {CURRENT_SHOT}"


@pytest.mark.timeout(30)
def test_unreachable_camera_is_a_failed_result() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    sink = RecordingSink()
    controller = _controller(_camera(port), FakeClock(), sink)
    try:
        result = controller.preroll("close_up", on_air=False)
    finally:
        controller.close()
    assert not result.ok
    assert result.message.startswith("Camera 2 PTZ failed:")
    assert result.message.endswith(CURRENT_SHOT)


@pytest.mark.timeout(30)
def test_a_failure_drops_the_connection_and_the_next_preroll_reconnects(
    fake: FakeOnvifCamera, pool: ThreadPoolExecutor, sink: RecordingSink
) -> None:
    fake.mode, fake.only = "slow", frozenset({"GotoPreset"})
    clock = FakeClock()
    controller = _controller(_camera(fake.port), clock, sink)
    try:
        assert not controller.preroll("close_up", on_air=False).ok
        fake.mode = "healthy"
        future = pool.submit(controller.preroll, "close_up", on_air=False)
        _settle(clock, future)
        assert future.result(timeout=1).ok
    finally:
        controller.close()
    assert len(fake.calls_of("GetServices")) == 2
    assert len(fake.calls_of("GotoPreset")) == 2


@pytest.mark.timeout(30)
def test_close_cuts_a_settle_wait_short(
    fake: FakeOnvifCamera, pool: ThreadPoolExecutor, sink: RecordingSink
) -> None:
    controller = _controller(_camera(fake.port), FakeClock(), sink)
    future = pool.submit(controller.preroll, "close_up", on_air=False)
    fake.wait_for_call("GotoPreset", timeout=10)
    controller.close()
    result = future.result(timeout=5)
    assert result.ok
    assert "settle cut short" in result.message
    after = controller.preroll("wide_shot", on_air=False)
    assert not after.ok
    assert "shut down" in after.message


@pytest.mark.timeout(30)
def test_password_is_never_logged(
    fake: FakeOnvifCamera,
    pool: ThreadPoolExecutor,
    sink: RecordingSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    results: list[PtzResult] = []

    controller = _controller(_camera(fake.port), clock, sink)
    try:
        future = pool.submit(controller.preroll, "close_up", on_air=True)
        _settle(clock, future)
        results.append(future.result(timeout=1))
    finally:
        controller.close()

    wrong = "wrong-" + PASSWORD
    refused = _controller(_camera(fake.port, password=wrong), clock, sink)
    try:
        results.append(refused.preroll("close_up", on_air=False))
    finally:
        refused.close()

    assert results[0].ok
    assert not results[1].ok
    assert "credentials" in results[1].message
    # The SOAP envelopes were logged (debug), with the user name but never the password.
    assert "operator" in caplog.text
    for secret in (PASSWORD, wrong):
        assert secret not in caplog.text
        assert all(secret not in repr(r) for r in results)
        assert secret not in repr(sink.events)
        assert secret not in repr(_camera(fake.port))
