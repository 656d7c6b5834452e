"""``GET /api/status`` carries degraded mode: level, steps active, reason with figures,
since; its shape is the documented ``DegradedReply`` (the OpenAPI document says so)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_openapi import full_deps

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import create_app
from vistter.api.replies import DegradedReply, StatusReply
from vistter.degraded.signals import Reading, Signals, Verdict
from vistter.degraded.state import DegradedState
from vistter.degraded.steps import LadderPlan, Level
from vistter.models.degraded import DegradedConfig

REASON = "destination 'yt' accepted 2100 kbps of the 4500 kbps stream, 6.2 MB queued"


@pytest.fixture
def state_and_client(tmp_path: Path) -> Iterator[tuple[DegradedState, TestClient]]:
    state = DegradedState()
    for base in full_deps(tmp_path):
        deps = replace(base, status=lambda: {"on_air": {}, "encoder": {},
                                             "degraded": state.status()})
        with TestClient(create_app(deps), raise_server_exceptions=True) as client:
            yield state, client


def _status(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/status")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    StatusReply.model_validate(body)
    return body


def test_status_shows_the_configured_encode_when_not_degraded(
    state_and_client: tuple[DegradedState, TestClient],
) -> None:
    _, client = state_and_client
    degraded = _status(client)["degraded"]
    assert degraded["active"] is False and degraded["level"] == 0
    assert degraded["steps"] == [] and degraded["since"] is None
    assert degraded["overlays"] == "full" and degraded["bitrate_kbps"] is None


def test_status_shows_level_steps_reason_and_since(
    state_and_client: tuple[DegradedState, TestClient],
) -> None:
    state, client = state_and_client
    plan = LadderPlan.build(DegradedConfig(), 4500, 720, 30)
    level = Level(bitrate=2, load=3)
    state.set(level, plan.degradation(level), reason=REASON, since=1_700_000_000.0)
    state.set_signals(Signals(Reading(Verdict.BAD, REASON), Reading(Verdict.GOOD, "")))
    degraded = _status(client)["degraded"]
    DegradedReply.model_validate(degraded)  # closed: every key documented, none missing
    assert degraded["active"] is True and degraded["level"] == 5
    assert (degraded["network_level"], degraded["load_level"]) == (2, 3)
    assert degraded["steps"] == ["bitrate 2880 kbps (64 %)", "overlays off", "output 540p"]
    assert degraded["reason"] == REASON and degraded["since"] == 1_700_000_000.0
    assert (degraded["bitrate_kbps"], degraded["height"], degraded["fps"]) == (2880, 540, None)
    assert degraded["signals"]["network"] == {"verdict": "bad", "reason": REASON}


def test_the_openapi_document_describes_the_degraded_object(
    state_and_client: tuple[DegradedState, TestClient],
) -> None:
    _, client = state_and_client
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "degraded" in schemas["StatusReply"]["properties"]
    degraded = schemas["DegradedReply"]
    assert {"level", "steps", "reason", "since", "signals"} <= set(degraded["required"])
