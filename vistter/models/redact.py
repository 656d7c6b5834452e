"""Make URLs safe to log: no passwords, tokens or stream keys."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "redact_url"]

MASK = "***"
_SECRET_QUERY_WORDS = ("key", "token", "pass", "pwd", "secret", "auth", "sig")


def redact_url(url: str, *, has_stream_key: bool = False) -> str:
    """``url`` with its userinfo, secret-looking query values and (optionally) key removed.

    ``rtsp://admin:pw@cam/stream`` -> ``rtsp://***@cam/stream``. With ``has_stream_key`` the
    last path segment is taken to be a stream key (``rtmp://host/app/KEY`` ->
    ``rtmp://host/app/***``); pass it for the publish URL of a destination that has a key.
    A URL that cannot be parsed is replaced entirely by ``***``. Never raises.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
        path = parts.path
        if has_stream_key:
            head, sep, last = path.rstrip("/").rpartition("/")
            if last:
                path = f"{head}{sep}{MASK}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [
                    (name, MASK if any(w in name.lower() for w in _SECRET_QUERY_WORDS) else value)
                    for name, value in pairs
                ],
                safe="*",
            )
        return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))
    except ValueError:
        return MASK
