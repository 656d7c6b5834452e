"""Which network addresses a timeline may make the appliance fetch: ``[network]`` settings.

Data feeds of dynamic texts (``source.url``) are the only network sources a timeline can
name (media and pictures come from the assets folder, see :mod:`vistter.models.assets`). A
URL is allowed when its scheme is in ``allowed_schemes`` (default: https only) and its host
is a public address; a host that is (or resolves to) a loopback, private, link-local,
shared, multicast, reserved or unspecified address, or one of this machine's own addresses,
is refused unless ``allowed_hosts`` lists its name, its address or a network holding it::

    [network]
    allowed_schemes = ["https"]                    # add "http" for a plain-http feed
    allowed_hosts = ["tides.local", "192.168.1.0/24"]

The timeline validator checks the scheme and any literal address (no DNS lookup at
validation); the fetcher checks again after DNS resolution, on the address it actually
connected to, and on every redirect (:mod:`vistter.overlays.fetch`).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from vistter.models._types import StrictModel
from vistter.models.problems import custom_error

__all__ = ["NetworkConfig", "NetworkRefusedError", "is_public", "local_addresses"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class NetworkRefusedError(ValueError):
    """A URL's scheme or host is not allowed by the ``[network]`` settings."""


def _plain(address: IpAddress) -> IpAddress:
    """An IPv4-mapped or 6to4/NAT64-free IPv6 address as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IpAddress) -> bool:
    """True for a global unicast address (not loopback, private, link-local, shared, ...)."""
    plain = _plain(address)
    return plain.is_global and not plain.is_multicast


@functools.lru_cache(maxsize=1)
def local_addresses() -> frozenset[IpAddress]:
    """The addresses of this machine's network interfaces (refused like private ones)."""
    import psutil  # noqa: PLC0415 - only needed when a URL is checked

    found: set[IpAddress] = set()
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            try:
                found.add(_plain(ipaddress.ip_address(entry.address.split("%", 1)[0])))
            except ValueError:
                continue  # a MAC address
    return frozenset(found)


class NetworkConfig(StrictModel):
    """What a timeline may fetch over the network (see the module doc)."""

    allowed_schemes: tuple[Literal["https", "http"], ...] = ("https",)
    allowed_hosts: tuple[Annotated[str, Field(min_length=1, max_length=253)], ...] = ()

    @field_validator("allowed_hosts")
    @classmethod
    def _valid_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for host in value:
            if "/" in host:
                try:
                    ipaddress.ip_network(host, strict=False)
                except ValueError:
                    raise custom_error(
                        f"'{host}' is not a network",
                        "Write a host name, an address, or a network such as 192.168.1.0/24.",
                    ) from None
        return tuple(host.lower() for host in value)

    @functools.cached_property
    def _networks(self) -> tuple[IpNetwork, ...]:
        networks: list[IpNetwork] = []
        for host in self.allowed_hosts:
            try:
                networks.append(ipaddress.ip_network(host.strip("[]"), strict=False))
            except ValueError:
                continue  # a name
        return tuple(networks)

    def host_listed(self, host: str) -> bool:
        """True when ``allowed_hosts`` lists this host name or address (or its network)."""
        name = host.lower().rstrip(".")
        if name in self.allowed_hosts:
            return True
        try:
            address = _plain(ipaddress.ip_address(name.strip("[]")))
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def check_url(self, url: str) -> tuple[str, str]:
        """``(scheme, host)`` of an allowed URL; no DNS lookup (validation time).

        Raises :class:`NetworkRefusedError` when the scheme is not allowed, there is no host,
        or the host is a local name or a literal non-public address that is not listed.
        """
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise NetworkRefusedError("the URL cannot be parsed") from None
        scheme = parts.scheme.lower()
        if scheme not in self.allowed_schemes:
            raise NetworkRefusedError(
                f"the scheme '{scheme}' is not allowed (allowed: "
                f"{', '.join(self.allowed_schemes)})"
            )
        if not host:
            raise NetworkRefusedError("the URL has no host")
        if self.host_listed(host):
            return scheme, host
        if host.rstrip(".") in _LOCAL_NAMES or host.rstrip(".").endswith(".localhost"):
            raise NetworkRefusedError(f"the host '{host}' is this machine")
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return scheme, host  # a name: checked again after DNS resolution, when fetched
        self.check_address(host, address)
        return scheme, host

    def check_address(self, host: str, address: IpAddress) -> None:
        """Raise :class:`NetworkRefusedError` unless ``address`` (what ``host`` resolved to)
        may be fetched from."""
        if self.host_listed(host) or self.host_listed(str(_plain(address))):
            return
        if not is_public(address):
            raise NetworkRefusedError(
                f"the host '{host}' is a loopback, private, link-local or other non-public "
                "address"
            )
        if _plain(address) in local_addresses():
            raise NetworkRefusedError(f"the host '{host}' is an address of this machine")
