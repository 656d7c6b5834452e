"""A secret inside a URL is recognised and masked everywhere a URL is shown, and an RTMP key
pasted into a destination's URL becomes its write-only stream key."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest

from vistter.api.app import ApiDeps, create_app
from vistter.media.stderr_tail import secret_scrubber
from vistter.models.destinations import AnyDestination, RtmpDestination, SrtDestination
from vistter.models.redact import redact_url, scrub_urls, split_rtmp_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

YT_KEY = "abcd-efgh-ijkl-mnop"
FB_KEY = "FB-1234567-0-AbCdEf9?s_bl=1&s_sc=123&a=AbC123dEf456"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"rtmp://a.rtmp.youtube.com/live2/{YT_KEY}", "rtmp://a.rtmp.youtube.com/live2/***"),
        (f"rtmps://live-api-s.facebook.com:443/rtmp/{FB_KEY}",
         "rtmps://live-api-s.facebook.com:443/rtmp/***?s_bl=1&s_sc=123&a=***"),
        ("rtmp://live.twitch.tv/app/live_123_Xy/", "rtmp://live.twitch.tv/app/***"),
        ("rtmp://h/app", "rtmp://h/app"),
        ("rtmp://h:1935/live/", "rtmp://h:1935/live/"),
        ("srt://h:1?passphrase=0123456789ab&streamid=key-1&latency=200",
         "srt://h:1?passphrase=***&streamid=***&latency=200"),
        ("srt://h:1?streamid=#!::r=live/sk,m=publish", "srt://h:1?streamid=***#***"),
        ("srt://h:1?latency=200&x=AbCdEf123456", "srt://h:1?latency=200&x=***"),
        ("rtsp://user:pass@10.0.0.2/stream", "rtsp://***@10.0.0.2/stream"),
        ("https://example.invalid/feed.json?token=t0k&lat=52.1",
         "https://example.invalid/feed.json?token=***&lat=52.1"),
        ("http://cam.local/snap?password=pw&user=bob", "http://cam.local/snap?password=***&user=bob"),
    ],
)  # fmt: skip
def test_each_schemes_secret_parts_are_masked(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_split_rtmp_key_gives_the_same_publish_url_back() -> None:
    for url in (f"rtmp://a.rtmp.youtube.com/live2/{YT_KEY}",
                f"rtmps://live-api-s.facebook.com:443/rtmp/{FB_KEY}"):
        server, key = split_rtmp_key(url)
        assert key is not None and f"{server}/{key}" == url
    assert split_rtmp_key("rtmp://h/app") == ("rtmp://h/app", None)
    assert split_rtmp_key("srt://h:1?streamid=x") == ("srt://h:1?streamid=x", None)


def test_urls_inside_text_are_masked_and_punctuation_kept() -> None:
    line = (f"[flv] Error opening output rtmp://127.0.0.1:1935/live2/{YT_KEY}: Connection "
            "refused; tried 'srt://h:9?passphrase=0123456789ab'.")
    assert scrub_urls(line) == (
        "[flv] Error opening output rtmp://127.0.0.1:1935/live2/***: Connection refused; "
        "tried 'srt://h:9?passphrase=***'."
    )
    assert YT_KEY not in secret_scrubber(())(line)


def test_a_key_pasted_into_the_url_becomes_the_secret_stream_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for platform, url, key in (
        ("youtube", f"rtmp://a.rtmp.youtube.com/live2/{YT_KEY}", YT_KEY),
        ("facebook", f"rtmps://live-api-s.facebook.com:443/rtmp/{FB_KEY}", FB_KEY),
    ):
        destination = RtmpDestination.model_validate({"id": "d", "platform": platform, "url": url})
        assert destination.stream_key is not None
        assert destination.stream_key.get_secret_value() == key
        assert destination.publish_url() == url
        assert destination.display_url.endswith("/***")
        shown = repr(destination) + destination.model_dump_json() + destination.display_url
        assert "AbC123" not in shown and YT_KEY not in shown
    assert "kept as the secret stream_key" in caplog.text
    assert YT_KEY not in caplog.text and "AbC123" not in caplog.text


def test_a_key_in_the_url_is_taken_even_when_the_preset_needs_one() -> None:
    # YouTube needs a key: without the move this would be refused as "has no stream key"
    destination = RtmpDestination.model_validate(
        {"id": "yt", "platform": "youtube", "url": f"rtmp://a.rtmp.youtube.com/live2/{YT_KEY}"}
    )
    assert destination.url == "rtmp://a.rtmp.youtube.com/live2"


def test_srt_streamid_is_masked_in_display() -> None:
    destination = SrtDestination(id="s", platform="srt",
                                 url="srt://h:9000?streamid=#!::r=live/sk-9,m=publish")
    assert "sk-9" not in destination.display_url


class _Outputs:
    def __init__(self) -> None:
        self.added: list[AnyDestination] = []

    def list_destinations(self) -> list[dict[str, Any]]:
        return [{"id": d.id, "url": d.display_url} for d in self.added]

    def add_destination(self, destination: AnyDestination) -> str:
        self.added.append(destination)
        return f"destination-{destination.id}"

    def remove_destination(self, destination_id: str) -> None:
        raise AssertionError("not used")


def test_the_api_never_shows_a_key_pasted_into_the_url() -> None:
    outputs = _Outputs()
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda _: [], started_at=0.0,
                   version="t", destinations=outputs)
    client = TestClient(create_app(deps))
    answers = [
        client.post("/api/destinations", json={
            "id": "yt", "platform": "youtube",
            "url": f"rtmp://a.rtmp.youtube.com/live2/{YT_KEY}"}),
        client.post("/api/destinations", json={
            "id": "fb", "platform": "facebook",
            "url": f"rtmps://live-api-s.facebook.com:443/rtmp/{FB_KEY}"}),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    listing = client.get("/api/destinations")
    for text in (*(a.text for a in answers), listing.text):
        assert YT_KEY not in text and "AbC123" not in text and "FB-1234567" not in text
    assert answers[0].json()["url"] == "rtmp://a.rtmp.youtube.com/live2/***"
    yt = outputs.added[0]
    assert isinstance(yt, RtmpDestination) and yt.publish_url().endswith(YT_KEY)


def test_an_srt_passphrase_in_the_url_is_refused_without_echoing_it() -> None:
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda _: [], started_at=0.0,
                   version="t", destinations=_Outputs())
    client = TestClient(create_app(deps))
    answer = client.post("/api/destinations", json={
        "id": "s", "platform": "srt", "url": "srt://203.0.113.5:9000?passphrase=pass-Wq71-secret"})
    assert 400 <= answer.status_code < 500, answer.text
    assert "pass-Wq71" not in answer.text and "passphrase field" in answer.text
