"""Dynamic text: what a ``dynamic_text`` overlay shows now, and when that next changes.

A template such as ``"Tide {value} · {time:%H:%M}"`` changes for two reasons: the clock
(here once a minute) and the data source's value. :class:`DynamicTextSource` answers both
so its owner re-renders only when the text really changes:

- :meth:`DynamicTextSource.next_change` is the first instant after ``now`` at which the
  ``{time}`` part reads differently (``None`` when the template has no ``{time}``). The
  owner renders the text for that instant ahead of time and arms it for the frame at which
  the wall clock reaches it, so ``12:00`` appears on the first frame of 12:00;
- the value comes from a :class:`~vistter.overlays.data_provider.DataProvider` (or is
  passed in); the owner re-renders when the provider reports a changed value.

How the change time is found: the finest strftime field in the template sets the step
(``%S`` a second, ``%M`` a minute, ``%H``/``%I``/``%p`` an hour, dates a day; an unknown
field, and a bare ``{time}``, a second). On-air time is shown to the second: microseconds
are dropped before formatting, so ``{time}`` reads ``2024-06-01 12:00:00``. From ``now``
the source walks the step boundaries (``12:34:00``, ``12:35:00``, ...) until the time part
reads differently, so ``%p`` changes at noon and midnight, not every hour. The walk stops
after 400 steps and returns that boundary (the owner then checks again). Times are whatever
``now`` gives: the local wall clock by default (naive), or aware datetimes from an injected
function.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from vistter.media.frames import FrameFormat
from vistter.models.overlays import DynamicTextOverlay
from vistter.overlays.data_provider import DataProvider
from vistter.overlays.render import RenderedOverlay, render_overlay

__all__ = ["DynamicTextSource", "change_step", "next_time_change"]

_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_STEPS: dict[str, timedelta] = {
    **dict.fromkeys("STXcrsf", _SECOND),
    **dict.fromkeys("MR", _MINUTE),
    **dict.fromkeys("HIklpPzZ", _HOUR),
    **dict.fromkeys("aAbBCdDeFgGhjmuUVwWxyYn%t", _DAY),
}
_DIRECTIVE = re.compile(r"%[-_0^#]?[EO]?(.)")
_MAX_STEPS = 400
_LATEST = object()


def _time_specs(template: str) -> tuple[str, ...]:
    """The format specs of every ``{time...}`` placeholder, in order."""
    parsed = string.Formatter().parse(template)
    return tuple(spec or "" for _, name, spec, _ in parsed if name == "time")


def change_step(template: str) -> timedelta | None:
    """The finest time step the template's ``{time}`` shows, or ``None`` without ``{time}``."""
    specs = _time_specs(template)
    if not specs:
        return None
    step = _DAY
    for spec in specs:
        if not spec:
            return _SECOND  # str(datetime), shown to the second
        for directive in _DIRECTIVE.findall(spec):
            step = min(step, _STEPS.get(directive, _SECOND))
    return step


def _boundary_after(moment: datetime, step: timedelta) -> datetime:
    """The first multiple of ``step`` (second, minute, hour, day) strictly after ``moment``."""
    if step == _SECOND:
        base = moment.replace(microsecond=0)
    elif step == _MINUTE:
        base = moment.replace(second=0, microsecond=0)
    elif step == _HOUR:
        base = moment.replace(minute=0, second=0, microsecond=0)
    else:
        base = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return base + step


def _time_text(specs: tuple[str, ...], moment: datetime) -> tuple[str, ...]:
    shown = moment.replace(microsecond=0)
    return tuple(format(shown, spec) for spec in specs)


def next_time_change(template: str, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which the template's ``{time}`` reads differently.

    ``None`` when the template shows no time. Runs in the caller's thread; pure.
    """
    step = change_step(template)
    if step is None:
        return None
    specs = _time_specs(template)
    shown = _time_text(specs, now)
    candidate = _boundary_after(now, step)
    for _ in range(_MAX_STEPS):
        if _time_text(specs, candidate) != shown:
            return candidate
        candidate += step
    return candidate


class DynamicTextSource:
    """The text of one ``dynamic_text`` overlay over time.

    ``provider`` supplies ``{value}`` (its last good value); ``now`` is the time function
    (default: local wall clock ``datetime.now``; tests inject their own). Not thread-safe
    itself beyond what the provider offers; use it from its owner's thread.
    """

    def __init__(
        self,
        params: DynamicTextOverlay,
        provider: DataProvider | None = None,
        *,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.params = params
        self.provider = provider
        self._now = now

    @property
    def uses_time(self) -> bool:
        """True when the template shows the time (it changes on its own)."""
        return "time" in self.params.placeholders

    @property
    def uses_value(self) -> bool:
        """True when the template shows a data source's value."""
        return "value" in self.params.placeholders

    def now(self) -> datetime:
        """The current time from the injected time function."""
        return self._now()

    def value(self) -> object:
        """The value ``{value}`` shows: the provider's last good value, else ``None``."""
        return None if self.provider is None else self.provider.value

    def text(self, moment: datetime | None = None, value: object = _LATEST) -> str:
        """The text at ``moment`` (default now) with ``value`` (default the provider's).

        Raises ``ValueError``/``TypeError`` when the template's format does not fit the value.
        """
        shown_value = self.value() if value is _LATEST else value
        shown = (self.now() if moment is None else moment).replace(microsecond=0)
        return self.params.render(shown, shown_value)

    def next_change(self, now: datetime | None = None) -> datetime | None:
        """When the time part of the text next changes after ``now`` (default now).

        ``None`` when the template shows no time (only a new value changes it).
        """
        return next_time_change(self.params.template, self.now() if now is None else now)

    def seconds_to_next_change(self, now: datetime | None = None) -> float | None:
        """Seconds from ``now`` to :meth:`next_change` (for ``Clock.call_later``), or None."""
        moment = self.now() if now is None else now
        change = next_time_change(self.params.template, moment)
        return None if change is None else (change - moment).total_seconds()

    def render(
        self,
        fmt: FrameFormat,
        assets_dir: Path,
        *,
        moment: datetime | None = None,
        scale: float = 1.0,
    ) -> RenderedOverlay:
        """:func:`~vistter.overlays.render.render_overlay` of the text at ``moment``.

        Raises :class:`~vistter.overlays.errors.OverlayTextError` when the template does not
        fit the value.
        """
        return render_overlay(
            self.params,
            fmt,
            assets_dir,
            now=self.now() if moment is None else moment,
            value=self.value(),
            scale=scale,
        )
