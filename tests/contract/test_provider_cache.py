"""The ProviderCache contract (ports.ProviderCache), on every adapter set."""

from __future__ import annotations

from port_adapters import AdapterSet


def test_answers_by_provider_and_hash(adapter_set: AdapterSet) -> None:
    cache = adapter_set.provider_cache()
    assert cache.get_many("offline", ["h1"]) == {}
    cache.put_many("offline", {"h1": {"company": "Acme", "n": [1]}, "h2": {}})
    cache.put_many("llm", {"h1": {"company": "Other"}})
    assert cache.get_many("offline", ["h1", "h2", "h3"]) == {
        "h1": {"company": "Acme", "n": [1]},
        "h2": {},
    }
    assert cache.get_many("llm", iter(["h1", "h1"])) == {"h1": {"company": "Other"}}
    assert cache.get_many("http", ["h1"]) == {}
    cache.put_many("offline", {})


def test_a_later_put_replaces(adapter_set: AdapterSet) -> None:
    cache = adapter_set.provider_cache()
    cache.put_many("offline", {"h1": {"v": 1}})
    cache.put_many("offline", {"h1": {"v": 2}})
    assert cache.get_many("offline", ["h1"]) == {"h1": {"v": 2}}


def test_many_hashes_at_once(adapter_set: AdapterSet) -> None:
    cache = adapter_set.provider_cache()
    cache.put_many("offline", {f"h{n}": {"n": n} for n in range(1200)})
    found = cache.get_many("offline", [f"h{n}" for n in range(0, 1300, 1)])
    assert len(found) == 1200 and found["h1199"] == {"n": 1199}
