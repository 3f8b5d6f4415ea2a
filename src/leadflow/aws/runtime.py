"""The services of a Lambda container: built once, on the first invocation, by bootstrap.

A container serves many invocations one at a time; building the adapters (and reading
the signing key) once per container is what keeps the handlers cheap.
"""

from __future__ import annotations

from ..bootstrap import Services, bootstrap
from ..settings import Settings

_services: Services | None = None


def services() -> Services:
    """This container's services, from the LEADFLOW_* environment (bootstrap's rules)."""
    global _services
    if _services is None:
        _services = bootstrap(Settings())
    return _services


def reset() -> None:
    """Forget the services (a test changes the environment between containers)."""
    global _services
    _services = None
