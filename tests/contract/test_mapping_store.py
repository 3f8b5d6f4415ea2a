"""The MappingStore contract (ports.MappingStore), on every adapter set."""

from __future__ import annotations

from port_adapters import AdapterSet


def test_saved_by_name_per_owner(adapter_set: AdapterSet) -> None:
    store = adapter_set.mappings()
    store.save_mapping("alice", "HubSpot", {"E-mail": "email", "ID": "-"}, "t1")
    store.save_mapping("alice", "Acme", {"Org": "company"}, "t1")
    store.save_mapping("bob", "Bob's", {"Mail": "email"}, "t1")
    assert store.mapping_names("alice") == ["Acme", "HubSpot"]
    assert store.mapping_names("carol") == []
    assert store.get_mapping("alice", "HubSpot") == {"E-mail": "email", "ID": "-"}
    assert store.get_mapping("alice", "Bob's") is None  # another owner's
    assert store.get_mapping("bob", "HubSpot") is None


def test_saving_again_replaces(adapter_set: AdapterSet) -> None:
    store = adapter_set.mappings()
    store.save_mapping("alice", "HubSpot", {"E-mail": "email"}, "t1")
    store.save_mapping("alice", "HubSpot", {"Email Address": "email"}, "t2")
    assert store.mapping_names("alice") == ["HubSpot"]
    assert store.get_mapping("alice", "HubSpot") == {"Email Address": "email"}


def test_a_returned_mapping_is_a_copy(adapter_set: AdapterSet) -> None:
    store = adapter_set.mappings()
    mapping = {"E-mail": "email"}
    store.save_mapping("alice", "m", mapping, "t1")
    mapping["Name"] = "name"
    got = store.get_mapping("alice", "m")
    assert got == {"E-mail": "email"}
    got["X"] = "title"
    assert store.get_mapping("alice", "m") == {"E-mail": "email"}
