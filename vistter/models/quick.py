"""Destinations given on the command line (``vistter run --to URL``) or posted to the API."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import TypeAdapter, ValidationError

from vistter.errors import ConfigError
from vistter.models.config import ApplianceConfig
from vistter.models.destinations import LiveDestination, RtmpDestination, SrtDestination
from vistter.models.problems import Problem, problems_from_validation_error

_LIVE_DESTINATION: TypeAdapter[RtmpDestination | SrtDestination] = TypeAdapter(LiveDestination)


def destination_from_url(url: str, destination_id: str) -> RtmpDestination | SrtDestination:
    """A ``custom_rtmp`` destination for ``rtmp[s]://host[:port]/app/key``, or an SRT one
    for ``srt://host:port?...``.

    The last path segment of an RTMP URL is taken as the stream key, and an SRT URL's
    ``passphrase`` option as the passphrase, so either is kept secret like a configured one.
    Raises :class:`~vistter.errors.ConfigError` for anything else.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() == "srt":
        return _srt_from_url(url, destination_id)
    path = parts.path.strip("/")
    if parts.scheme.lower() not in ("rtmp", "rtmps") or not parts.hostname or "/" not in path:
        raise ConfigError(
            f"--to needs an RTMP URL with an application and a stream name, got "
            f"{parts.scheme or '?'}://{parts.hostname or '?'}/...",
            hint="Write it as rtmp://HOST[:PORT]/APP/STREAM_KEY, e.g. rtmp://127.0.0.1/live/test, "
            "or srt://HOST:PORT[?passphrase=...].",
        )
    app, key = path.rsplit("/", 1)
    server = urlunsplit((parts.scheme, parts.netloc, "/" + app, "", ""))
    return RtmpDestination(
        id=destination_id, platform="custom_rtmp", url=server, stream_key=key
    )


def _srt_from_url(url: str, destination_id: str) -> SrtDestination:
    try:
        return SrtDestination.from_url(url, destination_id)
    except ValidationError as error:
        problems = problems_from_validation_error(error, {"url": "srt://..."})
        raise ConfigError(
            f"--to {destination_id}: " + "; ".join(p.message for p in problems),
            hint=problems[0].hint if problems else "Write it as srt://HOST:PORT.",
        ) from None


def with_quick_destinations(config: ApplianceConfig, urls: list[str]) -> ApplianceConfig:
    """``config`` plus one destination per URL (ids ``to-1``, ``to-2`` ...)."""
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


def parse_destination(
    data: object,
) -> tuple[RtmpDestination | SrtDestination | None, list[Problem]]:
    """An RTMP or SRT destination from JSON (the API), or every problem with its field path.

    Only network destinations can be added over the API: a recorder writes files, and where
    it writes belongs in the configuration file, not in a request.
    """
    try:
        return _LIVE_DESTINATION.validate_python(data), []
    except ValidationError as error:
        return None, problems_from_validation_error(error, data)
