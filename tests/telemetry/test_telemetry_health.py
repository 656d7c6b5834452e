"""The spec's check_stream_health rules, one by one and together."""

from __future__ import annotations

from typing import Any

import pytest

from vistter.telemetry.health import HealthThresholds, check_stream_health


def reading(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "encoding_cpu": 40.0,
        "buffer_fullness": 80.0,
        "destinations": {"youtube": {"status": "active", "bitrate": 4.5},
                         "facebook": {"status": "active", "bitrate": 4.5}},
    }
    return {**base, **changes}


def test_all_within_limits_is_healthy() -> None:
    health = check_stream_health(reading(), 0.0)
    assert (health.state, health.warnings, health.errors) == ("healthy", (), ())
    assert health.to_dict() == {"state": "healthy", "reasons": [], "warnings": [], "errors": []}


@pytest.mark.parametrize(("cpu", "state"), [(90.0, "healthy"), (90.1, "degraded")])
def test_cpu_over_90_percent_is_degraded(cpu: float, state: str) -> None:
    health = check_stream_health(reading(encoding_cpu=cpu), 0.0)
    assert health.state == state
    if state == "degraded":
        assert health.warnings == ("High CPU usage: the encoder uses 90.1 % (more than 90 %)",)
        assert health.errors == ()


@pytest.mark.parametrize(("dropped", "state"), [(5.0, "healthy"), (5.5, "unhealthy")])
def test_more_than_5_dropped_frames_per_second_is_unhealthy(dropped: float, state: str) -> None:
    health = check_stream_health(reading(), dropped)
    assert health.state == state
    if state == "unhealthy":
        assert health.errors == ("Dropping frames: 5.5 per second (more than 5)",)


def test_low_buffer_warns_without_changing_the_state() -> None:
    health = check_stream_health(reading(buffer_fullness=9.0), 0.0)
    assert health.state == "healthy"
    assert health.warnings == ("Low buffer: 9 % (less than 10 %)",)
    assert check_stream_health(reading(buffer_fullness=10.0), 0.0).warnings == ()


def test_a_destination_not_active_is_unhealthy_but_standby_is_not_counted() -> None:
    destinations = {"youtube": {"status": "retrying", "bitrate": 0.0},
                    "facebook": {"status": "active", "bitrate": 4.5},
                    "twitch": {"status": "standby", "bitrate": 0.0}}  # fmt: skip
    health = check_stream_health(reading(destinations=destinations), 0.0)
    assert health.state == "unhealthy"
    assert health.errors == ("youtube disconnected (retrying)",)


def test_unhealthy_wins_over_degraded_whatever_the_order_and_reasons_list_errors_first() -> None:
    health = check_stream_health(
        reading(encoding_cpu=97.0, buffer_fullness=2.0,
                destinations={"youtube": {"status": "failed", "bitrate": 0}}),
        12.0,
    )  # fmt: skip
    assert health.state == "unhealthy"
    assert health.reasons == (
        "Dropping frames: 12.0 per second (more than 5)",
        "youtube disconnected (failed)",
        "High CPU usage: the encoder uses 97.0 % (more than 90 %)",
        "Low buffer: 2 % (less than 10 %)",
    )


def test_thresholds_can_be_given_and_missing_figures_are_not_judged() -> None:
    limits = HealthThresholds(cpu_percent=50, dropped_per_second=1, buffer_percent=50)
    assert check_stream_health(reading(encoding_cpu=60), 0, limits).state == "degraded"
    assert check_stream_health({}, 0.0).state == "healthy"
