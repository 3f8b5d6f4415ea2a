"""Every transition of every state machine names a state that exists (make deploy-check).

cfn-lint does not look inside state machines referenced by DefinitionUri, and a typo in
a `Next` only fails when an execution reaches it: this walks every state, including the
states inside Map item processors and Parallel branches, each checked within its own
scope (a Map's inner states cannot jump out of it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "aws"
MACHINES = sorted(DEPLOY.glob("*.asl.json"))


def scopes(machine: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, {"StartAt", "States"}) for the machine and each nested processor/branch."""
    yield where, machine
    for name, state in machine["States"].items():
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner is not None:
            yield from scopes(inner, f"{where}/{name}")
        for number, branch in enumerate(state.get("Branches", [])):
            yield from scopes(branch, f"{where}/{name}[{number}]")


def transitions(state: dict[str, Any]) -> Iterator[str]:
    """Every state name this state may go to next."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catch in state.get("Catch", []):
        yield catch["Next"]


def broken(machine: dict[str, Any]) -> list[str]:
    problems = []
    for where, scope in scopes(machine):
        states = scope["States"]
        if scope["StartAt"] not in states:
            problems.append(f"{where or '/'}: StartAt {scope['StartAt']!r} is not a state")
        for name, state in states.items():
            for target in transitions(state):
                if target not in states:
                    problems.append(f"{where}/{name}: {target!r} is not a state of its scope")
            ends = state.get("End") is True or state["Type"] in ("Succeed", "Fail", "Choice")
            if not ends and "Next" not in state:
                problems.append(f"{where}/{name}: neither Next nor End")
    return problems


def test_there_are_the_three_workflows() -> None:
    assert [m.name for m in MACHINES] == [
        "enrichment.asl.json",
        "optin.asl.json",
        "orders.asl.json",
    ]


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.name)
def test_every_transition_names_an_existing_state(path: Path) -> None:
    assert broken(json.loads(path.read_text())) == []


def test_the_check_finds_a_broken_transition_inside_a_map() -> None:
    machine = json.loads((DEPLOY / "orders.asl.json").read_text())
    processor = machine["States"]["CheckOrders"]["ItemProcessor"]
    processor["States"]["StoreOrder"]["Catch"][0]["Next"] = "SendToDeadLeters"
    machine["States"]["CheckOrders"]["Next"] = "Finished"
    assert broken(machine) == [
        "/CheckOrders: 'Finished' is not a state of its scope",
        "/CheckOrders/StoreOrder: 'SendToDeadLeters' is not a state of its scope",
    ]


def test_the_check_finds_a_jump_out_of_a_parallel_branch() -> None:
    machine = json.loads((DEPLOY / "optin.asl.json").read_text())
    branch = machine["States"]["LogErrorsAndRemoveDuplicates"]["Branches"][0]
    state = branch["States"]["LogSchemaErrors"]
    del state["End"]
    state["Next"] = "StoreOptIns"  # a state of the outer machine: not reachable from here
    assert broken(machine) == [
        "/LogErrorsAndRemoveDuplicates[0]/LogSchemaErrors: 'StoreOptIns' is not a state "
        "of its scope"
    ]
