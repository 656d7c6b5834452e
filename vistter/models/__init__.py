"""Data models: timelines, the appliance configuration, and their validation."""

from vistter.models.config import (
    DEFAULT_CONFIG_PATH,
    ApplianceConfig,
    ConfigInvalid,
    load_config,
    parse_config,
)
from vistter.models.presets import ENCODING_PROFILES, PLATFORM_PRESETS
from vistter.models.problems import Problem
from vistter.models.redact import redact_url
from vistter.models.timeline import Timeline, TimelineDocument
from vistter.models.validation import (
    TimelineInvalid,
    load_timeline,
    load_timeline_file,
    validate_timeline,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENCODING_PROFILES",
    "PLATFORM_PRESETS",
    "ApplianceConfig",
    "ConfigInvalid",
    "Problem",
    "Timeline",
    "TimelineDocument",
    "TimelineInvalid",
    "load_config",
    "load_timeline",
    "load_timeline_file",
    "parse_config",
    "redact_url",
    "validate_timeline",
]
