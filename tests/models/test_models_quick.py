"""``vistter run --to URL``: quick RTMP destinations with the key kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from vistter.errors import ConfigError
from vistter.models.config import load_config
from vistter.models.destinations import RtmpDestination, SrtDestination
from vistter.models.quick import destination_from_url, with_quick_destinations


def test_url_is_split_into_server_and_secret_key() -> None:
    destination = destination_from_url("rtmp://127.0.0.1:1935/live/abc123", "to-1")
    assert isinstance(destination, RtmpDestination)
    assert destination.rtmp_url == "rtmp://127.0.0.1:1935/live"
    assert destination.publish_url() == "rtmp://127.0.0.1:1935/live/abc123"
    assert "abc123" not in destination.display_url
    assert "abc123" not in repr(destination)


@pytest.mark.parametrize("url", ["http://x/live/k", "rtmp://host/onlyapp", "rtmp:///live/k"])
def test_bad_urls_are_refused_with_the_expected_form(url: str) -> None:
    with pytest.raises(ConfigError, match="rtmp://HOST"):
        destination_from_url(url, "to-1")


def test_quick_destinations_are_added_to_the_configured_ones() -> None:
    config = with_quick_destinations(
        load_config(), ["rtmp://127.0.0.1/live/a", "rtmps://127.0.0.1/app/b"]
    )
    assert [d.id for d in config.destinations] == ["recorder", "to-1", "to-2"]
    assert [d.id for d in config.enabled_destinations][-1] == "to-2"


def test_audio_bed_must_exist(tmp_path: Path) -> None:
    from vistter.models.config import parse_config

    with pytest.raises(ConfigError, match="audio bed"):
        parse_config({"encoding": {"audio_bed": "missing.mp3"}}, base_dir=tmp_path, env={})
    (tmp_path / "bed.mp3").write_bytes(b"ID3")
    config = parse_config({"encoding": {"audio_bed": "bed.mp3"}}, base_dir=tmp_path, env={})
    assert config.encoding.audio_bed == tmp_path / "bed.mp3"


def test_an_srt_url_becomes_an_srt_destination_with_a_secret_passphrase() -> None:
    config = with_quick_destinations(
        load_config(), ["srt://127.0.0.1:9000?latency=120000&passphrase=pass-phrase-42"]
    )
    destination = config.find_destination("to-1")
    assert isinstance(destination, SrtDestination)
    assert destination.url == "srt://127.0.0.1:9000?latency=120000"
    assert destination.passphrase_value() == "pass-phrase-42"
    assert "pass-phrase-42" not in repr(config) + destination.display_url


@pytest.mark.parametrize(
    ("url", "what"),
    [("srt://127.0.0.1:9000?mode=listener", "caller mode"),
     ("srt://127.0.0.1", "host and a port"),
     ("srt://127.0.0.1:9000?passphrase=short", "10 to 79 characters")],
)
def test_unusable_srt_urls_say_what_to_fix(url: str, what: str) -> None:
    with pytest.raises(ConfigError, match=what) as error:
        destination_from_url(url, "to-1")
    assert error.value.hint
