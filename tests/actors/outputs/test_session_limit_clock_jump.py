"""The planned reconnect before a platform's session limit after the wall clock jumps an hour:
it still happens on the monotonic clock, and the wall time shown for it follows the wall
clock (before, it kept the time computed at go-live, an hour off after the jump)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vistter.actors.outputs.session_limit import SessionPlan
from vistter.clock import FakeClock


@pytest.mark.parametrize(("jump_hours", "shown"), [(1, "22:48"), (-1, "20:48")])
def test_planned_time_follows_a_wall_clock_jump_and_the_plan_does_not_move(
    jump_hours: int, shown: str
) -> None:
    clock = FakeClock(1000.0)
    offset = timedelta(0)

    def wall() -> datetime:
        base = datetime(2026, 12, 3, 13, 58, 0, tzinfo=UTC)
        return base + timedelta(seconds=clock.monotonic() - 1000.0) + offset

    plan = SessionPlan("facebook", 8 * 3600.0, 600.0, wall)
    plan.session_started(clock.monotonic())
    assert plan.status(clock.monotonic())["message"].endswith("limit at 21:48")
    clock.advance(60.0)
    offset = timedelta(hours=jump_hours)
    status = plan.status(clock.monotonic())
    assert status["message"].endswith(f"limit at {shown}")
    assert status["planned_at"] is not None and status["planned_at"].startswith(
        f"2026-12-03T{shown}"
    )
    assert plan.planned_at == 1000.0 + 8 * 3600 - 600  # the reconnect itself did not move
    assert not plan.due(1000.0 + 8 * 3600 - 601) and plan.due(1000.0 + 8 * 3600 - 600)
