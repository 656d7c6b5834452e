"""Where a part of the appliance reads the configuration: a fixed copy, or the running
appliance's configuration now.

The cameras change while live (:mod:`vistter.live_cameras`); the appliance then keeps its
:class:`~vistter.models.config.ApplianceConfig` current (``cameras`` replaced on each change)
and hands the API's timeline checks, the show's load and the render previews a callable that
reads it, so a timeline may use a camera added a moment ago. Tests and tools that have a fixed
configuration pass it as is.
"""

from __future__ import annotations

from collections.abc import Callable

from vistter.models.config import ApplianceConfig

__all__ = ["ConfigSource", "config_now", "optional_config_now"]

ConfigSource = ApplianceConfig | Callable[[], ApplianceConfig]
"""A configuration, or a callable returning the current one (any thread, never waits)."""


def config_now(source: ConfigSource) -> ApplianceConfig:
    """The configuration ``source`` holds now."""
    return source if isinstance(source, ApplianceConfig) else source()


def optional_config_now(source: ConfigSource | None) -> ApplianceConfig | None:
    """:func:`config_now`, or ``None`` for no configuration."""
    return None if source is None else config_now(source)
