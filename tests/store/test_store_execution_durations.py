"""A run's duration is measured on the monotonic clock: a wall-clock jump does not falsify it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_store_executions import show

from vistter.store import Database, ExecutionLog, TimelineLibrary


class JumpingWallClock:
    """A wall clock that stays put until a test moves it (an NTP step, a DST change)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class ManualMonotonic:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> JumpingWallClock:
    return JumpingWallClock()


@pytest.fixture
def db(tmp_path: Path, wall: JumpingWallClock) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db", wall_clock=wall) as database:
        yield database


@pytest.mark.parametrize("jump", [timedelta(hours=-1), timedelta(hours=1)])
def test_a_wall_clock_jump_during_a_run_does_not_change_its_duration(
    db: Database, wall: JumpingWallClock, jump: timedelta
) -> None:
    monotonic = ManualMonotonic()
    log = ExecutionLog(db, monotonic=monotonic)
    run = log.start(TimelineLibrary(db).create(show()).id)
    monotonic.now += 90.0
    wall.now += timedelta(seconds=90) + jump  # 90 s later, and the clock was stepped
    record = log.finish(run, "completed")
    assert record.duration_seconds == 90.0
    assert record.completed_at is not None
    assert record.completed_at - record.started_at == timedelta(seconds=90) + jump
    assert log.get(run).duration_seconds == 90.0  # stored, not only in memory
    assert ExecutionLog(db).get(run).duration_seconds == 90.0  # another log reads it too


def test_a_run_closed_without_a_measure_falls_back_to_its_stamps_never_negative(
    db: Database, wall: JumpingWallClock
) -> None:
    timeline_id = TimelineLibrary(db).create(show()).id
    crashed = ExecutionLog(db, runner="1-dead")
    run = crashed.start(timeline_id)
    wall.now -= timedelta(hours=1)  # the clock went back before Vistter started again
    assert ExecutionLog(db).recover() == [run]
    record = ExecutionLog(db).get(run)
    assert record.status == "error"
    assert record.duration_seconds == 0.0
