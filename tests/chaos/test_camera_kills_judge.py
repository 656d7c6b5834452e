"""Scenario 12's judge: RSS against the baseline after the warm-up kills, leaks of processes,
threads and fds against the footprint before; the per-kill slope is reported."""

from __future__ import annotations

from typing import Any, cast

import pytest

from chaos.harness.scenario import Context, Measured
from chaos.harness.scenarios.cameras import CameraKills100

STEADY: dict[str, Any] = {
    "descendants_before": 7.0, "descendants_after": 7.0, "threads_before": 84.0,
    "threads_after": 84.0, "open_fds_before": 39.0, "open_fds_after": 39.0,
    "rss_mb_before": 119.5, "rss_mb_warm": 122.5, "restarts": 0,
}  # fmt: skip


def judged(**figures: Any) -> tuple[dict[str, bool], dict[str, Any]]:
    measured = Measured({}, 0.0, 1.0, {**STEADY, **figures})
    checks = CameraKills100().judge(cast(Context, None), measured)
    return {c.criterion: c.passed for c in checks}, measured.figures


def test_warm_up_growth_is_not_a_leak() -> None:
    per_kill = [122.6, 123.8, 123.8, 123.9, 124.6, 125.3, 125.3, 125.3, 125.3, 125.3]
    passed, figures = judged(rss_mb_after=125.3, rss_mb_per_kill=per_kill)
    assert all(passed.values()), passed
    assert figures["rss_growth_pct"] == 2.3
    assert figures["rss_growth_from_start_pct"] == 4.9  # shown, not judged
    assert figures["rss_mb_per_kill_late"] == 0.0


def test_growth_after_the_warm_up_fails_and_shows_per_kill() -> None:
    per_kill = [123.0 + 1.5 * n for n in range(10)]
    passed, figures = judged(rss_mb_after=137.0, rss_mb_per_kill=per_kill)
    assert passed == {
        "no leaked processes": True, "no leaked threads": True, "no leaked fds": True,
        "RSS within 5 % of the RSS after the warm-up kills": False,
        "supervisor restarts <= 0": True,
    }  # fmt: skip
    assert figures["rss_growth_pct"] == pytest.approx(11.8)
    assert figures["rss_mb_per_kill_late"] == pytest.approx(1.5)


def test_leaked_fds_threads_and_processes_fail() -> None:
    passed, _ = judged(rss_mb_after=123.0, open_fds_after=60.0, threads_after=90.0,
                       descendants_after=8.0)  # fmt: skip
    assert not passed["no leaked fds"] and not passed["no leaked threads"]
    assert not passed["no leaked processes"]


def test_no_footprint_is_a_failure_not_a_pass() -> None:
    passed, figures = judged(rss_mb_after=None, rss_mb_warm=None)
    assert not passed["RSS within 5 % of the RSS after the warm-up kills"]
    assert figures["rss_growth_pct"] is None
