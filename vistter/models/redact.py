"""Secrets inside URLs: recognising them, masking them, taking them out.

One place knows which parts of a URL are secret, for every scheme Vistter shows:

- the **userinfo** (``rtsp://admin:pw@cam/`` -> ``rtsp://***@cam/``), any scheme;
- an **RTMP stream key**: every path segment after the application
  (``rtmp://a.rtmp.youtube.com/live2/abcd-efgh`` -> ``.../live2/***``). On RTMP the stream
  name *is* what the server authenticates on (YouTube, Facebook, Twitch, nginx-rtmp with
  ``on_publish``), so whatever follows the application is treated as a key;
- **secret query options**: any whose name contains ``key``, ``token``, ``pass``
  (``passphrase``, ``password``), ``pwd``, ``secret``, ``auth``, ``sig`` or ``streamid``
  (SRT's ``streamid`` often carries a platform's key), and on RTMP and SRT URLs any value
  that looks like a key (8+ characters mixing letters and digits, or 16+ characters:
  Facebook's ``?s_bl=1&...&a=AbCd1234...``).

:func:`redact_url` masks them for anything shown (API, status, telemetry, logs, errors);
:func:`scrub_urls` masks every URL inside a free text (ffmpeg's stderr lines);
:func:`split_rtmp_key` takes a key pasted into an RTMP URL out of it, so the model keeps it
as its write-only ``stream_key`` from then on. Nothing here raises.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "RTMP_SCHEMES",
    "is_secret_query_name",
    "redact_url",
    "scrub_urls",
    "split_rtmp_key",
]

MASK = "***"
RTMP_SCHEMES = frozenset({"rtmp", "rtmps", "rtmpt", "rtmpe", "rtmpte", "rtmpts"})
_KEYED_SCHEMES = RTMP_SCHEMES | {"srt"}
_SECRET_QUERY_WORDS = ("key", "token", "pass", "pwd", "secret", "auth", "sig", "streamid")
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>.,;:)\]]")


def is_secret_query_name(name: str) -> bool:
    """True for a query option whose name says it holds a secret (``api_key``, ``token``...)."""
    low = name.lower()
    return any(word in low for word in _SECRET_QUERY_WORDS)


def _looks_like_key(value: str) -> bool:
    if len(value) >= 16:
        return True
    return (
        len(value) >= 8
        and any(c.isalpha() for c in value)
        and any(c.isdigit() for c in value)
    )


def split_rtmp_key(url: str) -> tuple[str, str | None]:
    """``(server URL, key)`` of an RTMP(S) URL: the key is every path segment after the
    application plus the query (``rtmps://h/rtmp/FB-1-0-Ab?s_bl=1`` ->
    ``("rtmps://h/rtmp", "FB-1-0-Ab?s_bl=1")``); ``(url, None)`` when there is none, when
    the scheme is not RTMP or the URL cannot be parsed. Joining the two with ``/`` gives the
    same publish URL back.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    if parts.scheme.lower() not in RTMP_SCHEMES:
        return url, None
    app, sep, rest = parts.path.lstrip("/").partition("/")
    rest = rest.strip("/")
    if not app or not sep or not rest:
        return url, None
    key = rest + (f"?{parts.query}" if parts.query else "")
    server = urlunsplit((parts.scheme, parts.netloc, f"/{app}", "", ""))
    return server, key


def redact_url(url: str, *, has_stream_key: bool = False) -> str:
    """``url`` with its userinfo, stream key and secret query values replaced by ``***``.

    ``rtsp://admin:pw@cam/stream`` -> ``rtsp://***@cam/stream``;
    ``rtmp://host/app/KEY`` -> ``rtmp://host/app/***``. ``has_stream_key`` (the last path
    segment is a key, whatever the scheme) is for a URL built from a model's key. A URL
    that cannot be parsed is replaced entirely by ``***``. Never raises.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
        path = parts.path
        if scheme in RTMP_SCHEMES:
            app, sep, rest = path.lstrip("/").partition("/")
            if app and sep and rest.strip("/"):
                path = f"/{app}/{MASK}"
        if has_stream_key and not path.endswith(f"/{MASK}"):
            head, sep, last = path.rstrip("/").rpartition("/")
            if last:
                path = f"{head}{sep}{MASK}"
        query = parts.query
        if query:
            keyed = scheme in _KEYED_SCHEMES
            query = urlencode(
                [
                    (name, MASK if is_secret_query_name(name)
                     or (keyed and _looks_like_key(value)) else value)
                    for name, value in parse_qsl(query, keep_blank_values=True)
                ],
                safe="*",
            )  # fmt: skip
        fragment = parts.fragment
        if fragment and scheme in _KEYED_SCHEMES:
            fragment = MASK  # an unescaped '#' in a value (SRT's "streamid=#!::r=...")
        return urlunsplit((parts.scheme, netloc, path, query, fragment))
    except ValueError:
        return MASK


def scrub_urls(text: str) -> str:
    """``text`` with every ``scheme://...`` in it passed through :func:`redact_url`."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
