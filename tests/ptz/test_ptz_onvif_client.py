"""The ONVIF client (onvif-zeep-async, for real) against the local fake ONVIF camera."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import onvif  # type: ignore[import-untyped]
import pytest
from support.fake_onvif import PTZ_PROFILE, FakeOnvifCamera

from vistter.ptz import (
    OnvifPtzClient,
    PtzAuthError,
    PtzFaultError,
    PtzProtocolError,
    PtzTimeoutError,
    PtzTimeouts,
    PtzUnreachableError,
)

FAST = PtzTimeouts(connect=1.0, request=1.0)


def _ptz_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("vistter-ptz-")]


@pytest.fixture(autouse=True)
def _no_leaked_loop_threads() -> Iterator[None]:
    yield
    for thread in _ptz_threads():
        thread.join(timeout=5)
    assert _ptz_threads() == []


@pytest.fixture
def fake() -> Iterator[FakeOnvifCamera]:
    with FakeOnvifCamera() as camera:
        yield camera


def _client(fake: FakeOnvifCamera, password: str | None = None) -> OnvifPtzClient:
    return OnvifPtzClient(
        fake.host,
        fake.port,
        fake.username,
        fake.password if password is None else password,
        timeouts=FAST,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_wsdl_files_ship_inside_the_library() -> None:
    wsdl_dir = Path(onvif.__file__).parent / "wsdl"
    for name in ("devicemgmt.wsdl", "media.wsdl", "ptz.wsdl", "onvif.xsd"):
        assert (wsdl_dir / name).is_file(), name


@pytest.mark.timeout(20)
def test_goto_preset_reaches_the_camera_with_the_ptz_profile(fake: FakeOnvifCamera) -> None:
    with _client(fake) as client:
        client.connect()
        assert client.profile_token == PTZ_PROFILE
        client.goto_preset("2")

    call = fake.wait_for_call("GotoPreset", timeout=5)
    assert call.path == "/onvif/ptz_service"
    assert call.arguments["ProfileToken"] == PTZ_PROFILE
    assert call.arguments["PresetToken"] == "2"
    assert call.username == "operator"
    assert fake.auth_failures == 0
    assert fake.operations()[:2] == ["GetServices", "GetProfiles"]


@pytest.mark.timeout(20)
def test_get_presets_and_stop(fake: FakeOnvifCamera) -> None:
    with _client(fake) as client:
        client.connect()
        assert client.get_presets() == {"1": "wide", "2": "close"}
        client.stop()
    stop = fake.wait_for_call("Stop", timeout=5)
    assert stop.arguments["ProfileToken"] == PTZ_PROFILE


@pytest.mark.timeout(20)
def test_unknown_token_is_a_fault_with_the_cameras_text(fake: FakeOnvifCamera) -> None:
    with _client(fake) as client:
        client.connect()
        with pytest.raises(PtzFaultError) as caught:
            client.goto_preset("99")
    assert caught.value.fault == "The preset token does not exist"
    assert "The preset token does not exist" in str(caught.value)


@pytest.mark.timeout(20)
def test_soap_fault_on_goto_preset(fake: FakeOnvifCamera) -> None:
    fake.mode, fake.only = "error", frozenset({"GotoPreset"})
    with _client(fake) as client:
        client.connect()
        with pytest.raises(PtzFaultError) as caught:
            client.goto_preset("1")
    assert caught.value.fault == fake.fault_text
    assert not isinstance(caught.value, PtzAuthError)


@pytest.mark.timeout(20)
def test_wrong_password_is_an_auth_error(fake: FakeOnvifCamera) -> None:
    with (
        _client(fake, password="not-the-password") as client,
        pytest.raises(PtzAuthError) as caught,
    ):
        client.connect()
    assert fake.auth_failures >= 1
    assert "not-the-password" not in str(caught.value)
    assert "ptz.password" in caught.value.hint


@pytest.mark.timeout(20)
def test_camera_without_credentials_gets_an_empty_token() -> None:
    with FakeOnvifCamera(username="", password="") as fake:
        with OnvifPtzClient(fake.host, fake.port, None, None, timeouts=FAST) as client:
            client.connect()
            client.goto_preset("1")
        assert fake.calls_of("GotoPreset")[0].arguments["PresetToken"] == "1"
        assert fake.auth_failures == 0


@pytest.mark.timeout(20)
def test_camera_that_never_answers_times_out_within_the_bound(fake: FakeOnvifCamera) -> None:
    fake.mode = "slow"
    with _client(fake) as client:
        started = time.monotonic()
        with pytest.raises(PtzTimeoutError) as caught:
            client.connect()
        elapsed = time.monotonic() - started
    assert caught.value.seconds == FAST.connect
    assert FAST.connect * 0.9 <= elapsed < FAST.connect + 1.5
    assert "did not answer within 1 s" in str(caught.value)


@pytest.mark.timeout(20)
def test_request_timeout_bounds_a_hanging_goto_preset(fake: FakeOnvifCamera) -> None:
    fake.mode, fake.only = "slow", frozenset({"GotoPreset"})
    with _client(fake) as client:
        client.connect()
        started = time.monotonic()
        with pytest.raises(PtzTimeoutError):
            client.goto_preset("1")
        assert time.monotonic() - started < FAST.request + 1.5
        # The client is still usable after a timed-out request.
        assert client.get_presets() == {"1": "wide", "2": "close"}


@pytest.mark.timeout(20)
def test_refused_connection_is_unreachable() -> None:
    client = OnvifPtzClient("127.0.0.1", _free_port(), "operator", "pw", timeouts=FAST)
    try:
        with pytest.raises(PtzUnreachableError) as caught:
            client.connect()
    finally:
        client.close()
    assert "ptz.host" in caught.value.hint


@pytest.mark.timeout(20)
def test_close_is_idempotent_and_a_closed_client_fails_cleanly(fake: FakeOnvifCamera) -> None:
    client = _client(fake)
    client.connect()
    client.close()
    client.close()
    assert _ptz_threads() == []
    with pytest.raises(PtzProtocolError, match="not connected"):
        client.goto_preset("1")
