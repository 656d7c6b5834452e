"""An admin password alone lets the API listen beyond loopback: the console login protects it.

No test here listens beyond loopback: the exposed address is 192.0.2.77 (TEST-NET-1, never
on this machine), so a start that passes the guard fails at the bind with "not on this
machine" instead of being refused for missing credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pykka
import pytest
from support.mediapath import REPO

from vistter.api import ApiDeps, ApiServer, check_bind, create_app
from vistter.appliance import Appliance
from vistter.errors import BindRefusedError, UnknownChildError
from vistter.models.config import parse_config
from vistter.passwords import ADMIN_PASSWORD_VARIABLE
from vistter.supervisors.link import ExitReason, Link
from vistter.tree import api_spec

NOT_HERE = "192.0.2.77"


@pytest.fixture(autouse=True)
def _stop_actors() -> Any:
    yield
    pykka.ActorRegistry.stop_all(timeout=10)


def app() -> Any:
    return create_app(ApiDeps(tree=lambda: {}, validate_timeline=lambda d: [], started_at=0.0,
                              version="1", token=None))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_check_bind_allows_exposed_hosts_with_an_admin_password(host: str) -> None:
    check_bind(host, None, admin_password=True)
    with pytest.raises(BindRefusedError) as info:
        check_bind(host, None, admin_password=False)
    assert "admin password" in str(info.value) and "VISTTER_ADMIN_PASSWORD" in info.value.hint


def exit_error(link: Link) -> str:
    assert link.exited.wait(15)
    assert link.exit is not None and link.exit.reason == ExitReason.START_FAILED
    return link.exit.error or ""


@pytest.mark.timeout(60)
def test_the_api_server_passes_the_guard_with_an_admin_password() -> None:
    refused = Link("root/api")
    ApiServer.start(refused, app(), NOT_HERE, 0, None)
    assert "BindRefusedError" in exit_error(refused)
    allowed = Link("root/api")
    ApiServer.start(allowed, app(), NOT_HERE, 0, None, admin_password=True)
    error = exit_error(allowed)
    assert "BindRefusedError" not in error and "not on this machine" in error


def config(tmp_path: Path, *, password: bool) -> Any:
    """The media path's configuration with the API on an exposed address, and an admin
    password (hashed from the environment, as an installer sets it) when ``password``."""
    env = {ADMIN_PASSWORD_VARIABLE: "a long admin password"} if password else {}
    raw = {"api": {"host": NOT_HERE, "port": 0}, "show": {"always_on_air": True},
           "paths": {"assets_dir": str(REPO / "assets"), "data_dir": str(tmp_path / "var")}}
    return parse_config(raw, base_dir=tmp_path, env=env)


@pytest.mark.timeout(60)
def test_the_tree_passes_the_admin_password_to_the_api_server(tmp_path: Path) -> None:
    with_password = config(tmp_path, password=True)
    assert with_password.api.admin_password_hash is not None
    deps = ApiDeps(tree=lambda: {}, validate_timeline=lambda d: [], started_at=0.0,
                   version="1", token=None)
    link = Link("root/api")
    api_spec(with_password, deps).start(link)
    error = exit_error(link)
    assert "BindRefusedError" not in error and "not on this machine" in error


def test_the_appliance_refuses_an_exposed_api_only_without_credentials(tmp_path: Path) -> None:
    with pytest.raises(BindRefusedError):
        Appliance(config(tmp_path, password=False)).start()
    appliance = Appliance(config(tmp_path / "pw", password=True))
    try:
        with pytest.raises(UnknownChildError) as info:  # past the guard, the api child
            appliance.start()  # cannot bind an address that is not here
        assert "BindRefusedError" not in str(info.value)
        assert "not on this machine" in str(info.value)
    finally:
        appliance.stop()
