"""Absolute links the API hands out (signed downloads), never built from the Host header.

A Host header is whatever the client sent: building links from it lets anyone who can
make the server answer (a poisoned cache, a shared proxy) point other users' download
links at their own host. Links start at LEADFLOW_PUBLIC_URL; without it, at the address
the server itself listens on.
"""

from __future__ import annotations

from starlette.requests import Request

from ..settings import Settings


def public_base_url(request: Request, settings: Settings) -> str:
    """The base URL (no trailing slash) that absolute links start with."""
    if settings.public_url:
        return settings.public_url
    server = request.scope.get("server")
    host, port = (server[0], server[1]) if server else (settings.host, settings.port)
    if ":" in host:  # an IPv6 address needs its brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{port}"
