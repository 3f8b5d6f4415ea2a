"""The UserStore contract (ports.UserStore), on every adapter set."""

from __future__ import annotations

from port_adapters import AdapterSet


def test_users_by_name(adapter_set: AdapterSet) -> None:
    users = adapter_set.users()
    assert users.has_users() is False
    assert users.password_hash("alice") is None
    users.add_user("bob", "hash-b", "2027-01-01T00:00:00Z")
    users.add_user("alice", "hash-a", "2027-01-01T00:00:00Z")
    assert users.has_users() is True
    assert users.password_hash("alice") == "hash-a"
    assert users.password_hash("Alice") is None, "names are exact"
    assert users.usernames() == ["alice", "bob"]
    assert users.usernames(1) == ["alice"]


def test_adding_a_name_again_replaces_its_hash(adapter_set: AdapterSet) -> None:
    users = adapter_set.users()
    users.add_user("alice", "old", "t1")
    users.add_user("alice", "new", "t2")
    assert users.password_hash("alice") == "new"
    assert users.usernames() == ["alice"]
