"""Media come from the assets folder only; data feed URLs only where ``[network]`` allows.

Validation is never a file-existence oracle: a reference outside the assets folder gets the
same answer whether or not the file exists, and no message names a server path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC_EXAMPLE

from vistter.models.assets import AssetPathError, check_reference, resolve_asset
from vistter.models.config import ApplianceConfig, ConfigInvalid, parse_config
from vistter.models.validation import validate_timeline

MEDIA = "timeline.tracks.video.cues[1].params.media_url"
SOURCE = "timeline.tracks.overlays[1].cues[0].params.source"

REFUSED = [
    "/etc/passwd",
    "/proc/self/environ",
    "/assets/../../etc/passwd",
    "../secret.png",
    "slides/../../x.png",
    "file:///etc/passwd",
    "FILE:/etc/passwd",
    "http://169.254.169.254/latest/meta-data",
    "https://cdn.example.org/slide.png",
    "rtsp://cam/stream",
    "data:image/png;base64,AAAA",
    "~/slide.png",
    "C:\\slides\\a.png",
    "/assets//x.png",
    "/assets/./x.png",
    "/assets/.upload-abc.part",
    "a\x00.png",
]


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE.read_text())
    return data


@pytest.fixture
def config(tmp_path: Path) -> ApplianceConfig:
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("transition_slide.png", "logo.png", "technical_difficulties.png"):
        (assets / name).write_bytes(b"png")
    return parse_config(
        {"cameras": [{"id": n, "url": f"rtsp://cam{n}/s"} for n in (1, 2, 3)],
         "paths": {"assets_dir": str(assets), "data_dir": str(tmp_path / "var")}},
        env={},
    )  # fmt: skip


@pytest.mark.parametrize("reference", REFUSED)
def test_anything_but_a_file_in_the_assets_folder_is_refused(
    reference: str, config: ApplianceConfig, tmp_path: Path
) -> None:
    with pytest.raises(AssetPathError):
        check_reference(reference)
    data = example()
    data["timeline"]["tracks"]["video"]["cues"][1]["params"]["media_url"] = reference
    for with_config in (config, None):
        problems = validate_timeline(data, with_config)
        assert [p.path for p in problems] == [MEDIA], problems
        assert "/assets/NAME" in problems[0].hint
        assert str(tmp_path) not in problems[0].message + problems[0].hint


def test_an_existing_and_a_missing_outside_file_get_the_same_answer(
    config: ApplianceConfig,
) -> None:
    answers = []
    for reference in ("/etc/passwd", "/etc/no-such-file-here"):
        data = example()
        data["timeline"]["tracks"]["video"]["cues"][1]["params"]["media_url"] = reference
        (problem,) = validate_timeline(data, config)
        answers.append(problem.message.replace(reference, "<ref>"))
    assert answers[0] == answers[1]


def test_a_missing_asset_names_the_asset_not_the_folder(
    config: ApplianceConfig, tmp_path: Path
) -> None:
    data = example()
    data["timeline"]["tracks"]["video"]["cues"][1]["params"]["media_url"] = "/assets/nope.png"
    (problem,) = validate_timeline(data, config)
    assert problem.path == MEDIA
    assert problem.message == "the asset '/assets/nope.png' does not exist in the assets folder"
    assert str(tmp_path) not in problem.hint


def test_a_link_that_leads_out_of_the_folder_is_refused(
    config: ApplianceConfig, tmp_path: Path
) -> None:
    assets = config.paths.assets_dir
    (tmp_path / "outside.png").write_bytes(b"png")
    (assets / "sneaky.png").symlink_to(tmp_path / "outside.png")
    (assets / "gone.png").symlink_to("/etc/no-such-file-here")
    (assets / "sub").mkdir()
    (assets / "sub" / "inside.png").symlink_to(assets / "logo.png")
    for name in ("sneaky.png", "gone.png"):
        with pytest.raises(AssetPathError, match="outside the assets folder"):
            resolve_asset(f"/assets/{name}", assets)
    assert resolve_asset("sub/inside.png", assets) == assets / "sub" / "inside.png"
    data = example()
    data["timeline"]["tracks"]["video"]["cues"][1]["params"]["media_url"] = "/assets/sneaky.png"
    (problem,) = validate_timeline(data, config)
    assert "outside the assets folder" in problem.message and str(tmp_path) not in problem.message


def test_relative_and_assets_references_resolve_inside(config: ApplianceConfig) -> None:
    assets = config.paths.assets_dir
    assert resolve_asset("/assets/logo.png", assets) == assets / "logo.png"
    assert resolve_asset("logo.png", assets) == assets / "logo.png"
    assert resolve_asset("/assets/d e/f.png", assets) == assets / "d e" / "f.png"


def with_feed(url: str) -> dict[str, Any]:
    data = example()
    params = data["timeline"]["tracks"]["overlays"][1]["cues"][0]["params"]
    params.clear()
    params.update(type="dynamic_text", template="Tide {value}", source={"url": url})
    return data


@pytest.mark.parametrize(
    "url",
    [
        "http://tides.example.org/a.json",  # https only by default
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8080/api/status",  # the appliance's own API
        "https://localhost:8080/api/status",
        "https://[::1]/x",
        "https://10.0.0.5/x",
        "https://192.168.1.1/x",
    ],
)
def test_internal_or_plain_http_feeds_are_refused_by_the_default_policy(
    url: str, config: ApplianceConfig
) -> None:
    assert validate_timeline(with_feed(url)) == [], "without a config: only the syntax"
    problems = validate_timeline(with_feed(url), config)
    assert [p.path for p in problems] == [f"{SOURCE}.url"], problems
    assert "not allowed" in problems[0].message
    assert "[network]" in problems[0].hint


def test_the_network_settings_open_what_the_operator_lists(tmp_path: Path) -> None:
    config = parse_config(
        {"cameras": [{"id": n, "url": f"rtsp://cam{n}/s"} for n in (1, 2, 3)],
         "paths": {"assets_dir": str(tmp_path)},
         "network": {"allowed_schemes": ["https", "http"],
                     "allowed_hosts": ["192.168.1.0/24", "tides.local"]}},
        env={},
    )  # fmt: skip
    for url in ("http://192.168.1.20/a.json", "https://tides.local/a.json",
                "http://tides.example.org/a.json"):  # fmt: skip
        problems = [
            p for p in validate_timeline(with_feed(url), config) if p.path.endswith("source.url")
        ]
        assert problems == [], (url, problems)
    problems = validate_timeline(with_feed("http://192.168.2.20/a.json"), config)
    assert [p.path for p in problems if p.path.endswith("source.url")] == [f"{SOURCE}.url"]


def test_bad_network_settings_are_refused() -> None:
    with pytest.raises(ConfigInvalid, match=r"network\.allowed_schemes"):
        parse_config({"network": {"allowed_schemes": ["ftp"]}}, env={})
    with pytest.raises(ConfigInvalid, match="not a network"):
        parse_config({"network": {"allowed_hosts": ["10.0.0.0/99"]}}, env={})


@pytest.mark.parametrize(
    "url", ["ftp://x.org/a.json", "https:///a.json", "https://x.org:99999/a", "https://x .org/"]
)
def test_a_malformed_feed_url_is_a_problem_without_config(url: str) -> None:
    problems = validate_timeline(with_feed(url))
    assert [p.path for p in problems] == [f"{SOURCE}.url"], problems
    assert problems[0].hint
