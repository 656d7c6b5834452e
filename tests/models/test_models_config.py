"""The appliance configuration: the demo and example files, profiles, presets, secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vistter.errors import ConfigError
from vistter.models.config import (
    DEFAULT_CONFIG_PATH,
    ApplianceConfig,
    ConfigInvalid,
    load_config,
    parse_config,
    redact_url,
)
from vistter.models.destinations import RecorderDestination, RtmpDestination, SrtDestination
from vistter.models.presets import ENCODING_PROFILES, PLATFORM_PRESETS
from vistter.models.settings import ApiConfig, EncodingConfig

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "vistter.example.toml"
EXAMPLE_ENV = {
    "VISTTER_DESTINATION_YOUTUBE_STREAM_KEY": "yt-key-0001",
    "VISTTER_DESTINATION_FACEBOOK_STREAM_KEY": "FB-key-0002",
}
SECRET = "s3cr3t-Value-42"


def write(tmp_path: Path, text: str, name: str = "vistter.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(raw: dict[str, Any], env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(raw, env=env or {})
    return [(p.path, p.message) for p in caught.value.problems]


def test_demo_config() -> None:
    config = load_config(env={})
    assert load_config(DEFAULT_CONFIG_PATH, env={}) == config
    assert [camera.id for camera in config.cameras] == [1, 2, 3]
    assert [camera.backup_camera_id for camera in config.cameras] == [3, 3, None]
    assert all(camera.is_lavfi for camera in config.cameras)
    sources = {camera.lavfi_graph.split("=", 1)[0] for camera in config.cameras}
    assert len(sources) == 3, "each simulated camera must look different"
    assert "rgbtestsrc" in sources
    encoding = config.encoding
    assert (encoding.profile, encoding.bitrate_kbps, encoding.bufsize_kbps) == (
        "reliability",
        2500,
        5000,
    )
    assert (encoding.width, encoding.height, encoding.fps) == (1280, 720, 30)
    assert encoding.keyframe_frames == 60
    (recorder,) = config.destinations
    assert isinstance(recorder, RecorderDestination)
    assert config.paths.data_dir == REPO / "var"
    assert config.paths.data_dir in recorder.path.parents
    assert config.paths.assets_dir == REPO / "assets"
    for name in ("technical_difficulties.png", "transition_slide.png", "logo.png"):
        assert (config.paths.assets_dir / name).is_file()
    assert config.api.is_loopback
    assert config.telemetry.endpoint == "tcp://127.0.0.1:5556"
    assert config.warnings() == []


def test_production_example_loads_with_keys_from_the_environment() -> None:
    config = load_config(EXAMPLE, env=EXAMPLE_ENV)
    youtube, facebook, twitch, contribution, archive = config.destinations
    assert isinstance(youtube, RtmpDestination)
    assert youtube.publish_url() == "rtmp://a.rtmp.youtube.com/live2/yt-key-0001"
    assert youtube.display_url == "rtmp://a.rtmp.youtube.com/live2/***"
    assert isinstance(facebook, RtmpDestination)
    assert facebook.rtmp_url == "rtmps://live-api-s.facebook.com:443/rtmp"
    assert isinstance(twitch, RtmpDestination)
    assert not twitch.enabled
    assert isinstance(contribution, SrtDestination)
    assert contribution.url == "srt://203.0.113.10:9000?latency=200000"
    assert not contribution.enabled and contribution.passphrase is None
    assert isinstance(archive, RecorderDestination)
    assert archive.path == Path("/var/lib/vistter/recordings")
    assert config.encoding.bitrate_kbps == 4000  # lowered for facebook
    cam1 = config.find_camera(1)
    assert cam1 is not None
    assert cam1.ptz is not None
    assert cam1.ptz.presets["wide_shot"] == "1"
    assert config.find_camera(9) is None
    assert config.find_destination("archive") is archive


def test_production_example_without_keys_names_the_variables() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(EXAMPLE, env={})
    problems = caught.value.problems
    assert [p.path for p in problems] == [
        "destinations[0].stream_key",
        "destinations[1].stream_key",
    ]
    assert "VISTTER_DESTINATION_YOUTUBE_STREAM_KEY" in problems[0].hint
    assert "vistter.example.toml" in str(caught.value)


def test_platform_presets_are_the_spec_table() -> None:
    table = {
        name: (p.rtmp_url, p.key_format, p.max_bitrate, p.recommended_keyframe)
        for name, p in PLATFORM_PRESETS.items()
    }
    assert table == {
        "youtube": ("rtmp://a.rtmp.youtube.com/live2", "stream_key", 8000, 2),
        "facebook": ("rtmps://live-api-s.facebook.com:443/rtmp", "stream_key", 4000, 2),
        "twitch": ("rtmp://live.twitch.tv/app", "stream_key", 6000, 2),
        "custom_rtmp": (None, "optional", None, 2),
    }


def test_encoding_profiles() -> None:
    reliability = EncodingConfig()
    assert (
        reliability.bitrate_kbps,
        reliability.bitrate_mode,
        reliability.keyframe_interval,
        reliability.bufsize_kbps,
        reliability.preset,
        reliability.h264_profile,
        reliability.level,
    ) == (4500, "cbr", 2, 9000, "fast", "main", "4.1")
    quality = EncodingConfig(profile="quality")
    assert (
        quality.bitrate_kbps,
        quality.bitrate_mode,
        quality.keyframe_interval,
        quality.bufsize_kbps,
        quality.preset,
        quality.h264_profile,
        quality.level,
    ) == (6000, "vbr", 4, 12000, "medium", "high", "4.2")
    assert ENCODING_PROFILES["quality"].bitrate_kbps == 6000
    tuned = EncodingConfig.model_validate({"profile": "quality", "bitrate_kbps": 5000})
    assert (tuned.bitrate_kbps, tuned.bufsize_kbps, tuned.preset) == (5000, 10000, "medium")
    explicit = EncodingConfig.model_validate({"bitrate_kbps": 3000, "bufsize_kbps": 3000})
    assert explicit.bufsize_kbps == 3000
    assert (EncodingConfig().resolution, EncodingConfig().encoder) == ("1280x720", "auto")


@pytest.mark.parametrize(
    ("encoding", "path", "words"),
    [
        ({"profile": "fastest"}, "encoding.profile", "'reliability' or 'quality'"),
        ({"preset": "turbo"}, "encoding.preset", "not an encoder preset"),
        ({"width": 1281}, "encoding.width", "odd"),
        ({"fps": 120}, "encoding.fps", "less than or equal to 60"),
        ({"bitrate_kbps": "4500"}, "encoding.bitrate_kbps", "integer"),
        ({"level": "4.1.2"}, "encoding.level", "pattern"),
    ],
)
def test_bad_encoding_values(encoding: dict[str, Any], path: str, words: str) -> None:
    ((found_path, message),) = problems_of({"encoding": encoding})
    assert found_path == path
    assert words in message


def test_facebook_refuses_the_reliability_bitrate() -> None:
    raw = {"destinations": [{"id": "fb", "platform": "facebook", "stream_key": "k"}]}
    with pytest.raises(ConfigInvalid) as caught:
        parse_config({**raw, "encoding": {"profile": "reliability"}}, env={})
    (problem,) = caught.value.problems
    assert problem.path == "encoding.bitrate_kbps"
    assert "'fb' (facebook) accepts at most 4000 kbps" in problem.message
    assert "4500" in problem.message
    assert "encoding.bitrate_kbps" in problem.hint
    assert "lower profile" in problem.hint
    # fixed by lowering the bitrate ...
    parse_config({**raw, "encoding": {"bitrate_kbps": 4000}}, env={})
    # ... or by disabling the destination
    disabled = {"destinations": [{"id": "fb", "platform": "facebook", "enabled": False}]}
    parse_config(disabled, env={})


def test_quality_profile_limits_per_platform() -> None:
    def destinations(platform: str) -> dict[str, Any]:
        return {
            "encoding": {"profile": "quality"},
            "destinations": [{"id": "d", "platform": platform, "stream_key": "k"}],
        }

    youtube = parse_config(destinations("youtube"), env={})
    assert youtube.warnings() == [
        "destination 'd' recommends a keyframe every 2 s; the program has one every 4 s "
        "(set encoding.keyframe_interval)."
    ]
    parse_config(destinations("twitch"), env={})  # 6000 is exactly twitch's limit
    assert problems_of(destinations("facebook"))[0][0] == "encoding.bitrate_kbps"


def test_camera_rules() -> None:
    cameras = [
        {"id": 1, "url": "lavfi:testsrc2", "backup_camera_id": 1},
        {"id": 2, "url": "lavfi:testsrc2", "backup_camera_id": 5},
        {"id": 2, "url": "lavfi:testsrc2"},
    ]
    assert problems_of({"cameras": cameras}) == [
        ("cameras[2].id", "camera id 2 is used twice"),
        ("cameras[0].backup_camera_id", "camera 1 is its own backup"),
        ("cameras[1].backup_camera_id", "camera 2 has backup camera 5, which is not configured"),
    ]


def test_camera_defaults_and_urls() -> None:
    config = parse_config(
        {
            "cameras": [
                {
                    "id": 4,
                    "url": "rtsp://10.0.0.4:554/live",
                    "username": "op@site",
                    "password": "p:ss/w@rd",
                }
            ]
        },
        env={},
    )
    (camera,) = config.cameras
    assert (camera.transport, camera.stall_timeout, camera.label) == ("tcp", 0.5, "Camera 4")
    assert camera.authenticated_url() == "rtsp://op%40site:p%3Ass%2Fw%40rd@10.0.0.4:554/live"
    assert camera.display_url == "rtsp://10.0.0.4:554/live"
    with pytest.raises(ValueError, match="not a lavfi source"):
        _ = camera.lavfi_graph


def test_credentials_in_camera_urls_are_refused_without_echoing_them() -> None:
    raw = {"cameras": [{"id": 1, "url": f"rtsp://admin:{SECRET}@10.0.0.1/stream"}]}
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(raw, env={})
    assert caught.value.problems[0].path == "cameras[0].url"
    assert "credentials" in caught.value.problems[0].message
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.problems)


def test_destination_rules() -> None:
    destinations = [
        {"id": "custom", "platform": "custom_rtmp"},
        {"id": "srt", "platform": "custom_rtmp", "url": "srt://host:9000"},
        {"id": "tw", "platform": "twitch", "stream_key": "k"},
        {"id": "tw", "platform": "recorder", "path": "rec"},
        {"id": "TW", "platform": "recorder", "path": "rec"},
        {"id": "x", "platform": "periscope"},
        {"id": "bad id!", "platform": "recorder", "path": "rec"},
    ]
    found = problems_of({"destinations": destinations})
    assert [path for path, _ in found] == [
        "destinations[0].url",
        "destinations[1].url",
        "destinations[5].platform",
        "destinations[6].id",
    ]
    assert "'periscope' is not a valid platform" in found[2][1]
    del destinations[5:]
    destinations[:2] = []
    assert problems_of({"destinations": destinations}) == [
        ("destinations[1].id", "destination id 'tw' is used twice"),
        (
            "destinations[2].id",
            "destination ids 'tw' and 'TW' share the same environment variable names",
        ),
    ]


def test_custom_rtmp_with_and_without_key() -> None:
    config = parse_config(
        {
            "destinations": [
                {"id": "a", "platform": "custom_rtmp", "url": "rtmp://127.0.0.1:1935/live/"},
                {"id": "b", "platform": "custom_rtmp", "url": "rtmp://h/app", "stream_key": "k1"},
            ]
        },
        env={},
    )
    a, b = config.destinations
    assert isinstance(a, RtmpDestination)
    assert isinstance(b, RtmpDestination)
    assert a.publish_url() == "rtmp://127.0.0.1:1935/live/"
    assert a.display_url == "rtmp://127.0.0.1:1935/live/"
    assert a.max_bitrate is None
    assert b.publish_url() == "rtmp://h/app/k1"
    assert b.display_url == "rtmp://h/app/***"


def test_environment_overrides_secrets_and_ffmpeg(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[encoding]
ffmpeg_path = "bin/ffmpeg"

[[cameras]]
id = 12
url = "rtsp://cam/stream"
username = "viewer"
password = "from-file"
ptz = { host = "cam", password = "ptz-from-file" }

[[destinations]]
id = "yt-main.1"
platform = "youtube"
stream_key = "from-file"

[api]
token = "from-file"
""",
    )
    from_file = load_config(path, env={})
    assert from_file.encoding.ffmpeg_path == tmp_path / "bin" / "ffmpeg"
    env = {
        "VISTTER_DESTINATION_YT_MAIN_1_STREAM_KEY": "key-from-env",
        "VISTTER_CAMERA_12_PASSWORD": "pw-from-env",
        "VISTTER_CAMERA_12_PTZ_PASSWORD": "ptz-from-env",
        "VISTTER_API_TOKEN": "token-from-env",
        "VISTTER_FFMPEG": "/opt/ffmpeg/bin/ffmpeg",
    }
    config = load_config(path, env=env)
    (camera,) = config.cameras
    (destination,) = config.destinations
    assert isinstance(destination, RtmpDestination)
    assert destination.stream_key is not None
    assert destination.stream_key.get_secret_value() == "key-from-env"
    assert destination.key_variable == "VISTTER_DESTINATION_YT_MAIN_1_STREAM_KEY"
    assert camera.password is not None
    assert camera.password.get_secret_value() == "pw-from-env"
    assert camera.ptz is not None
    assert camera.ptz.password is not None
    assert camera.ptz.password.get_secret_value() == "ptz-from-env"
    assert config.api.token is not None
    assert config.api.token.get_secret_value() == "token-from-env"
    assert config.encoding.ffmpeg_path == Path("/opt/ffmpeg/bin/ffmpeg")
    # an empty variable counts as unset; a bare name stays a PATH lookup
    empty = load_config(path, env={"VISTTER_API_TOKEN": "", "VISTTER_FFMPEG": "ffmpeg7"})
    assert empty.api.token is not None
    assert empty.api.token.get_secret_value() == "from-file"
    assert empty.encoding.ffmpeg_path == Path("ffmpeg7")


def test_secrets_stay_secret(tmp_path: Path) -> None:
    raw: dict[str, Any] = {
        "cameras": [
            {
                "id": 1,
                "url": "rtsp://c/s",
                "username": "u",
                "password": SECRET,
                "ptz": {"host": "c", "password": SECRET},
            },
        ],
        "destinations": [{"id": "yt", "platform": "youtube", "stream_key": SECRET}],
        "api": {"token": SECRET},
    }
    config = parse_config(raw, env={})
    shown = [
        repr(config),
        str(config),
        repr(config.model_dump()),
        json.dumps(config.model_dump(mode="json")),
        config.model_dump_json(),
        config.destinations[0].display_url,
    ]
    for text in shown:
        assert SECRET not in text
    assert "**********" in json.dumps(config.model_dump(mode="json"))
    # ... and not in errors, even when the secret is the thing that is wrong
    raw["cameras"][0]["stall_timeout"] = -1
    raw["destinations"][0]["stream_key"] = SECRET + " \n oops"
    raw["api"]["port"] = 70000
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(raw, env={})
    error = caught.value
    assert [p.path for p in error.problems] == [
        "cameras[0].stall_timeout",
        "destinations[0].stream_key",
        "api.port",
    ]
    for text in (str(error), repr(error), error.hint, json.dumps(error.to_dict())):
        assert SECRET not in text
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_paths_resolve_against_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[paths]
assets_dir = "media"

[[destinations]]
id = "rec"
platform = "recorder"
path = "../recordings"
""",
        name="etc/vistter.toml",
    )
    config = load_config(path, env={})
    assert config.paths.assets_dir == tmp_path / "etc" / "media"
    assert config.paths.data_dir == tmp_path / "var"  # default ../var
    assert config.destinations[0].display_url == str(tmp_path / "recordings")
    # without a file, defaults are relative to the repository's config folder
    assert ApplianceConfig().paths.assets_dir == REPO / "assets"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[encoding]\nbitrate_kbps = 4500\nbitrate_kbps = 3000\n', "line 3"),
        ("[[cameras]]\nid = 1\nurl = rtsp://cam\n", "line 3, column 7"),
        ("[api\nport = 1\n", "line 1"),
    ],
)
def test_malformed_toml(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert "is not valid TOML" in message
    assert words in message
    assert str(path) in message
    assert "double quotes" in caught.value.hint


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_config(tmp_path / "nope.toml", env={})
    assert "vistter.example.toml" in caught.value.hint
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path, env={})  # a folder
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe[api]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary, env={})


def test_typos_and_wrong_shapes(tmp_path: Path) -> None:
    path = write(tmp_path, '[encodng]\nbitrate_kbps = 1\n\n[[cameras]]\nid = 1\nurll = "x"\n')
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path, env={})
    found = {p.path: p for p in caught.value.problems}
    assert set(found) == {"encodng", "cameras[0].url", "cameras[0].urll"}
    assert "did you mean 'encoding'?" in found["encodng"].hint
    assert "did you mean 'url'?" in found["cameras[0].urll"].hint
    assert found["cameras[0].url"].message == "'url' is required"
    with pytest.raises(ConfigInvalid):
        parse_config({"cameras": {"id": 1}, "destinations": "none"}, env={})


def test_api_config() -> None:
    api = ApiConfig()
    assert (api.host, api.port, api.token) == ("127.0.0.1", 8080, None)
    assert (api.max_body_bytes, api.max_upload_bytes) == (1024 * 1024, 64 * 1024 * 1024)
    assert ApiConfig(host="::1").is_loopback
    assert ApiConfig(host="localhost").is_loopback
    assert not ApiConfig(host="0.0.0.0").is_loopback
    assert ApiConfig.model_validate({"token": "  "}).token is None


@pytest.mark.parametrize(
    ("url", "has_key", "expected"),
    [
        ("rtsp://admin:pw@10.0.0.1:554/live", False, "rtsp://***@10.0.0.1:554/live"),
        ("rtmp://a.rtmp.youtube.com/live2/abcd-efgh", True, "rtmp://a.rtmp.youtube.com/live2/***"),
        ("rtmp://a.rtmp.youtube.com/live2", False, "rtmp://a.rtmp.youtube.com/live2"),
        ("rtmps://h:443/rtmp/KEY?x=1&token=t0k", True, "rtmps://h:443/rtmp/***?x=1&token=***"),
        (
            "https://u@example.invalid/tide.json?api_key=zz",
            False,
            "https://***@example.invalid/tide.json?api_key=***",
        ),
        ("lavfi:testsrc2=size=1280x720:rate=30", False, "lavfi:testsrc2=size=1280x720:rate=30"),
        ("http://[::1", False, "***"),
    ],
)
def test_redact_url(url: str, has_key: bool, expected: str) -> None:
    assert redact_url(url, has_stream_key=has_key) == expected


def test_an_srt_passphrase_can_come_from_the_environment_and_stays_secret() -> None:
    env = {**EXAMPLE_ENV, "VISTTER_DESTINATION_CONTRIBUTION_STREAM_KEY": SECRET}
    config = load_config(EXAMPLE, env=env)
    contribution = config.find_destination("contribution")
    assert isinstance(contribution, SrtDestination)
    assert contribution.passphrase_value() == SECRET
    assert SECRET not in repr(config) + config.model_dump_json() + contribution.display_url
