"""The address a request came from, believing X-Forwarded-For only from trusted proxies.

Without configured proxies (the default) the address is the TCP peer: a client cannot
pick its own address by sending X-Forwarded-For, so per-address login limits hold. With
LEADFLOW_TRUSTED_PROXIES, the header is read from the right, skipping trusted proxies:
the first address not among them is the client (the left part is the client's own say).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request, proxies: Sequence[Network]) -> str:
    """The client's address (text); "unknown" when the server was not told the peer."""
    peer = request.client.host if request.client else "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy passed on garbage: fall back to the proxy itself
    return peer
