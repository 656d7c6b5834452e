"""Dynamic text: its text over time and the instants at which it changes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from vistter.clock import FakeClock
from vistter.media.frames import FrameFormat
from vistter.models.overlays import DataSource, DynamicTextOverlay
from vistter.overlays import DataProvider, DynamicTextSource, OverlayTextError, next_time_change
from vistter.overlays.dynamic import change_step

FMT = FrameFormat(1280, 720, 30)


def dynamic(template: str, source: DataSource | None = None) -> DynamicTextOverlay:
    return DynamicTextOverlay(type="dynamic_text", template=template, source=source)


@pytest.mark.parametrize(
    ("template", "now", "expected"),
    [
        ("{time:%H:%M}", datetime(2024, 6, 1, 12, 34, 56, 500), datetime(2024, 6, 1, 12, 35)),
        ("{time:%H:%M}", datetime(2024, 6, 1, 12, 34), datetime(2024, 6, 1, 12, 35)),
        ("{time:%H:%M}", datetime(2024, 6, 1, 23, 59, 1), datetime(2024, 6, 2, 0, 0)),
        ("{time:%H:%M:%S}", datetime(2024, 6, 1, 12, 0, 0, 10), datetime(2024, 6, 1, 12, 0, 1)),
        ("{time:%H}h", datetime(2024, 6, 1, 12, 34), datetime(2024, 6, 1, 13, 0)),
        ("{time:%p}", datetime(2024, 6, 1, 9, 15), datetime(2024, 6, 1, 12, 0)),
        ("{time:%p}", datetime(2024, 6, 1, 12, 0), datetime(2024, 6, 2, 0, 0)),
        ("{time:%A}", datetime(2024, 6, 1, 12, 0), datetime(2024, 6, 2, 0, 0)),
        ("{time:%Y}", datetime(2024, 6, 1, 12, 0), datetime(2025, 1, 1, 0, 0)),
        ("{time:%-I:%M %p}", datetime(2024, 6, 1, 12, 59, 59), datetime(2024, 6, 1, 13, 0)),
        ("{time}", datetime(2024, 6, 1, 12, 0, 0, 250), datetime(2024, 6, 1, 12, 0, 1)),
        ("{time:%d %b} {time:%H:%M}", datetime(2024, 6, 1, 8, 0, 30), datetime(2024, 6, 1, 8, 1)),
    ],
)
def test_next_change_is_the_first_instant_the_time_reads_differently(
    template: str, now: datetime, expected: datetime
) -> None:
    change = next_time_change(template, now)
    assert change == expected
    source = DynamicTextSource(dynamic(template))
    assert source.text(change) != source.text(now)
    assert source.text(change - timedelta(microseconds=1)) == source.text(now)
    assert source.next_change(now) == change


def test_templates_without_time_never_change_on_their_own() -> None:
    assert next_time_change("Tide {value}", datetime(2024, 6, 1)) is None
    assert change_step("Tide {value}") is None
    assert change_step("{time:%H:%M}") == timedelta(minutes=1)
    assert change_step("{time:%Q}") == timedelta(seconds=1), "unknown field: check each second"


def test_aware_times_keep_their_zone() -> None:
    zone = timezone(timedelta(hours=10))
    now = datetime(2024, 6, 1, 12, 34, 10, tzinfo=zone)
    assert next_time_change("{time:%H:%M %z}", now) == datetime(2024, 6, 1, 12, 35, tzinfo=zone)


def test_minute_clock_rerenders_exactly_at_each_minute_boundary() -> None:
    """An owner that re-renders on ``next_change`` with a fake clock shows each minute once."""
    clock = FakeClock(start=0.0)
    start = datetime(2024, 6, 1, 12, 34, 42, 250_000)

    def wall() -> datetime:
        return start + timedelta(seconds=clock.monotonic())

    source = DynamicTextSource(dynamic("Marina {time:%H:%M}"), now=wall)
    shown: list[tuple[datetime, str]] = [(wall(), source.text())]

    def rerender() -> None:
        shown.append((wall(), source.render(FMT, Path("."), moment=wall()).text or ""))
        schedule()

    def schedule() -> None:
        delay = source.seconds_to_next_change()
        assert delay is not None and delay > 0
        clock.call_later(delay, rerender)

    schedule()
    for _ in range(3 * 60 * 4):  # three minutes in quarter seconds
        clock.advance(0.25)
    assert [text for _, text in shown] == [
        "Marina 12:34",
        "Marina 12:35",
        "Marina 12:36",
        "Marina 12:37",
    ]
    assert [moment for moment, _ in shown[1:]] == [
        datetime(2024, 6, 1, 12, 35),
        datetime(2024, 6, 1, 12, 36),
        datetime(2024, 6, 1, 12, 37),
    ]


def test_value_comes_from_the_provider_and_survives_a_failed_read(tmp_path: Path) -> None:
    (tmp_path / "tide.json").write_text(json.dumps({"tide": {"next_high": "3:45 PM"}}))
    data = DataSource(path="/assets/tide.json", key="tide.next_high")
    provider = DataProvider(data, tmp_path, clock=FakeClock())
    moment = datetime(2024, 6, 1, 14, 5)
    source = DynamicTextSource(
        dynamic("High tide {value} ({time:%H:%M})", data), provider, now=lambda: moment
    )
    assert source.uses_time and source.uses_value
    assert source.text() == "High tide  (14:05)", "no value before the first read"
    provider.read()
    assert source.text() == "High tide 3:45 PM (14:05)"
    (tmp_path / "tide.json").write_text("{broken")
    assert not provider.read().ok
    rendered = source.render(FMT, tmp_path)
    assert rendered.text == "High tide 3:45 PM (14:05)"
    assert source.text(value="4:00 PM") == "High tide 4:00 PM (14:05)"


def test_render_reports_a_template_that_does_not_fit_the_value(tmp_path: Path) -> None:
    data = DataSource(path="/assets/h.json")
    (tmp_path / "h.json").write_text('"high"')
    provider = DataProvider(data, tmp_path, clock=FakeClock())
    provider.read()
    source = DynamicTextSource(dynamic("{value:.1f} m", data), provider)
    assert not source.uses_time and source.next_change() is None
    with pytest.raises(OverlayTextError):
        source.render(FMT, tmp_path)
