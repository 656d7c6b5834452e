"""Destinations given on the command line (``vistter run --to URL``) or posted to the API."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import TypeAdapter, ValidationError

from vistter.errors import ConfigError
from vistter.models.config import ApplianceConfig
from vistter.models.destinations import RtmpDestination
from vistter.models.problems import Problem, problems_from_validation_error

_RTMP_DESTINATION = TypeAdapter(RtmpDestination)


def destination_from_url(url: str, destination_id: str) -> RtmpDestination:
    """A ``custom_rtmp`` destination for ``rtmp[s]://host[:port]/app/key``.

    The last path segment is taken as the stream key, so it is kept secret like any
    configured key. Raises :class:`~vistter.errors.ConfigError` for anything but an RTMP URL.
    """
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if parts.scheme.lower() not in ("rtmp", "rtmps") or not parts.hostname or "/" not in path:
        raise ConfigError(
            f"--to needs an RTMP URL with an application and a stream name, got "
            f"{parts.scheme or '?'}://{parts.hostname or '?'}/...",
            hint="Write it as rtmp://HOST[:PORT]/APP/STREAM_KEY, e.g. rtmp://127.0.0.1/live/test.",
        )
    app, key = path.rsplit("/", 1)
    server = urlunsplit((parts.scheme, parts.netloc, "/" + app, "", ""))
    return RtmpDestination(
        id=destination_id, platform="custom_rtmp", url=server, stream_key=key
    )


def with_quick_destinations(config: ApplianceConfig, urls: list[str]) -> ApplianceConfig:
    """``config`` plus one ``custom_rtmp`` destination per URL (ids ``to-1``, ``to-2`` ...)."""
    if not urls:
        return config
    added = tuple(destination_from_url(url, f"to-{n}") for n, url in enumerate(urls, 1))
    taken = {d.id for d in config.destinations} & {d.id for d in added}
    if taken:
        raise ConfigError(
            f"the configuration already has destinations named {sorted(taken)}",
            hint="rename them in the configuration; --to uses the ids to-1, to-2, ...",
        )
    return config.model_copy(update={"destinations": (*config.destinations, *added)})


def parse_destination(data: object) -> tuple[RtmpDestination | None, list[Problem]]:
    """An RTMP destination from JSON (the API), or every problem with its field path.

    Only RTMP(S) destinations can be added over the API: a recorder writes files, and where
    it writes belongs in the configuration file, not in a request.
    """
    try:
        return _RTMP_DESTINATION.validate_python(data), []
    except ValidationError as error:
        return None, problems_from_validation_error(error, data)
