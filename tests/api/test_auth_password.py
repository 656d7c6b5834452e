"""The admin password: argon2 hash and verify, the ``[api]`` settings, the environment
variable hashed at load, ``vistter hash-password``, and the session store and login limit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vistter.api.auth import LoginSettings
from vistter.api.login_limit import LoginLimiter
from vistter.api.session_store import SessionStore
from vistter.cli import EXIT_USAGE, main
from vistter.clock import FakeClock
from vistter.models.config import ConfigInvalid, load_config
from vistter.models.env import apply_env_overrides
from vistter.models.settings import ApiConfig
from vistter.password_cli import cmd_hash_password
from vistter.passwords import (
    PasswordTooShortError,
    check_password_hash,
    hash_password,
    verify_password,
)

PASSWORD = "sunlit-marina-office"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)  # the real parameters, once


def test_the_hash_verifies_the_password_and_nothing_else(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert verify_password(password_hash, PASSWORD)
    assert not verify_password(password_hash, PASSWORD.upper())
    assert not verify_password(password_hash, "")
    assert not verify_password("$argon2id$garbage", PASSWORD)  # never raises
    assert not verify_password(password_hash, PASSWORD * 100)
    assert hash_password(PASSWORD) != password_hash  # a new salt each time


def test_a_short_password_is_refused_with_what_to_do() -> None:
    with pytest.raises(PasswordTooShortError, match="at least 8") as raised:
        hash_password("1234")
    assert raised.value.hint


def test_the_setting_takes_an_argon2_hash_and_refuses_anything_else(password_hash: str) -> None:
    api = ApiConfig.model_validate({"admin_password_hash": password_hash})
    assert api.admin_password_hash is not None
    assert password_hash not in repr(api)
    settings = LoginSettings.from_config(api)
    assert settings.password_hash == password_hash and password_hash not in repr(settings)
    assert ApiConfig.model_validate({"admin_password_hash": "  "}).admin_password_hash is None
    with pytest.raises(ValueError, match="not an argon2 hash"):
        ApiConfig.model_validate({"admin_password_hash": PASSWORD})
    with pytest.raises(ValueError, match="not an argon2 hash"):
        check_password_hash("$2b$12$bcrypt")


def test_the_environment_password_is_hashed_when_the_config_loads(tmp_path: Path) -> None:
    raw = apply_env_overrides({"api": {"host": "127.0.0.1"}},
                              {"VISTTER_ADMIN_PASSWORD": PASSWORD})
    stored = raw["api"]["admin_password_hash"]
    assert stored != PASSWORD and verify_password(stored, PASSWORD)
    config_path = tmp_path / "vistter.toml"
    config_path.write_text("[api]\nport = 8099\n")
    config = load_config(config_path, env={"VISTTER_ADMIN_PASSWORD": PASSWORD})
    secret = config.api.admin_password_hash
    assert secret is not None and verify_password(secret.get_secret_value(), PASSWORD)
    assert PASSWORD not in config.model_dump_json()


def test_a_config_hash_that_is_not_argon2_is_a_clear_config_error(tmp_path: Path) -> None:
    config_path = tmp_path / "vistter.toml"
    config_path.write_text('[api]\nadmin_password_hash = "hunter2hunter2"\n')
    with pytest.raises(ConfigInvalid) as raised:
        load_config(config_path, env={})
    [problem] = raised.value.problems
    assert problem.path == "api.admin_password_hash"
    assert "vistter hash-password" in problem.hint
    assert "hunter2hunter2" not in str(raised.value)  # a pasted password is not echoed


def test_hash_password_reads_stdin_and_prints_only_the_hash() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cmd_hash_password(io.StringIO(PASSWORD + "\n"), out, err) == 0
    printed = out.getvalue().strip()
    assert verify_password(printed, PASSWORD)
    assert PASSWORD not in out.getvalue() + err.getvalue()
    assert "admin_password_hash" in err.getvalue()


@pytest.mark.parametrize("command", ["hash-password", "passwd"])
def test_the_cli_refuses_an_empty_or_short_password(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main([command]) == EXIT_USAGE
    assert "No password on standard input" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main([command]) == EXIT_USAGE
    assert "at least 8" in capsys.readouterr().err


# -- the session store and the login limit --------------------------------------------------


def test_sessions_expire_and_the_store_stays_bounded() -> None:
    clock = FakeClock()
    store = SessionStore(clock, lifetime=100, max_sessions=3)
    first = store.create()
    assert store.get(first.id) == first and first.csrf_matches(first.csrf_token)
    assert not first.csrf_matches(None) and not first.csrf_matches(first.id)
    clock.advance(10)
    others = [store.create() for _ in range(3)]
    assert store.get(first.id) is None  # the oldest made room
    assert len(store) == 3
    clock.advance(90)
    assert all(store.get(s.id) is not None for s in others)
    clock.advance(10)
    assert all(store.get(s.id) is None for s in others) and len(store) == 0
    assert store.get(None) is None and store.get("") is None and not store.end("unknown")


def test_the_login_limit_counts_per_address_within_the_window() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(clock, attempts=2, window=30, max_addresses=2)
    assert limiter.begin("10.0.0.1") == 0
    clock.advance(10)
    assert limiter.begin("10.0.0.1") == 0
    assert limiter.begin("10.0.0.1") == 20  # the first failure leaves the window in 20 s
    assert limiter.begin("10.0.0.2") == 0  # another address is not held back
    clock.advance(20)
    assert limiter.begin("10.0.0.1") == 0  # one slot free again
    limiter.succeeded("10.0.0.1")
    assert limiter.begin("10.0.0.1") == 0 and limiter.begin("10.0.0.1") == 0
    assert limiter.begin("10.0.0.3") == 0  # a third address: the least recent one is dropped
    assert limiter.begin("10.0.0.2") == 0
