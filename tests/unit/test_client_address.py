"""client_address: X-Forwarded-For believed only from trusted proxies, read from the right."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.requests import Request

from leadflow.api.client_address import client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], PROXIES, "203.0.113.9"),  # untrusted peer
        ("10.1.2.3", ["198.51.100.1"], (), "10.1.2.3"),  # no proxies configured
        ("10.1.2.3", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1, 10.9.9.9"], PROXIES, "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6", "198.51.100.1"], PROXIES, "198.51.100.1"),  # two headers
        ("10.1.2.3", ["not-an-ip"], PROXIES, "10.1.2.3"),
        ("10.1.2.3", [], PROXIES, "10.1.2.3"),
        ("10.1.2.3", ["10.0.0.7"], PROXIES, "10.1.2.3"),  # only proxies: the peer
        ("::1", ["2001:db8::1"], PROXIES, "2001:db8::1"),
    ],
)
def test_client_address(
    peer: str,
    forwarded: list[str],
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
    expected: str,
) -> None:
    assert client_address(request(peer, *forwarded), proxies) == expected
