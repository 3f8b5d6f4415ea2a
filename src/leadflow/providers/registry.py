"""The provider factory: built-in providers plus any that packages register through the
Python entry-point group `leadflow.providers` (name = "module:factory")."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from ..settings import Settings
from .base import Provider, UnknownProvider

Factory = Callable[[Settings], Provider]  # called with the service's settings
ENTRY_POINT_GROUP = "leadflow.providers"
_factories: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Make a provider available under `name` (a later registration replaces it)."""
    _factories[name] = factory


def names() -> list[str]:
    _load_entry_points()
    return sorted(_factories)


def create(name: str, settings: Settings) -> Provider:
    """A provider by name; UnknownProvider lists the names that exist."""
    _load_entry_points()
    factory = _factories.get(name)
    if factory is None:
        known = ", ".join(sorted(_factories)) or "none"
        raise UnknownProvider(f"no provider {name!r}; available: {known}")
    return factory(settings)


_loaded = False


def _load_entry_points() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in _factories:
            _factories[point.name] = point.load()


def _builtins() -> None:
    from .offline import OfflineProvider

    register("offline", lambda settings: OfflineProvider(settings.default_region))
    register("http", _http_provider)
    register("llm", _llm_provider)


def _llm_provider(settings: Settings) -> Provider:
    from .client import ProviderClient
    from .llm import LlmProvider

    if not settings.llm_api_key:
        # refused before any job starts: a keyless call can only fail, forever
        raise UnknownProvider("the llm provider needs LEADFLOW_LLM_API_KEY")
    client = ProviderClient(
        "llm", concurrency=settings.provider_concurrency, timeout=settings.provider_timeout
    )
    return LlmProvider(
        client,
        settings.llm_base_url,
        settings.llm_model,
        settings.llm_api_key,
        settings.provider_concurrency,
    )


def _http_provider(settings: Settings) -> Provider:
    from .client import ProviderClient
    from .http_provider import HttpProvider

    if not settings.http_provider_url:
        raise UnknownProvider("the http provider needs LEADFLOW_HTTP_PROVIDER_URL")
    client = ProviderClient(
        "http", concurrency=settings.provider_concurrency, timeout=settings.provider_timeout
    )
    return HttpProvider(settings.http_provider_url, client, settings.http_provider_key)


_builtins()
