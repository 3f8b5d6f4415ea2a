"""Adapter sets for the contract suites of the non-lead ports (tests/contract/test_*.py).

Each suite asks the `adapter_set` fixture for the ports it tests; the fixture runs it once
per adapter set in ADAPTER_SETS. An adapter set builds every port over one store and one
clock that the test moves with `advance(seconds)`. To run the suites on another store
(the AWS adapters on moto), add a class with the same methods and an entry in
ADAPTER_SETS: the suites do not change. A store that keeps its own time (moto's SQS
visibility timeouts, DynamoDB TTL) must move it in `advance` (freezegun's `tick`, or a
clock injected into the adapter), and `strict_leases = False` where a stale receipt
may still act (SQS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest
from aws_port_adapters import AwsSet

from leadflow.adapters.memory_jobs import MemoryJobStore
from leadflow.adapters.memory_misc import MemoryMappingStore, MemoryOrderStore, MemoryProviderCache
from leadflow.adapters.memory_outbox import MemoryOutbox
from leadflow.adapters.memory_queue import MemoryQueue
from leadflow.adapters.memory_store import MemoryUserStore
from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_jobs import SqliteJobStore
from leadflow.adapters.sqlite_mappings import SqliteMappingStore
from leadflow.adapters.sqlite_orders import SqliteOrderStore
from leadflow.adapters.sqlite_outbox import SqliteOutbox
from leadflow.adapters.sqlite_provider_cache import SqliteProviderCache
from leadflow.adapters.sqlite_queue import SqliteDeadLetters, SqliteQueue
from leadflow.adapters.sqlite_store import SqliteUserStore
from leadflow.ports import (
    DeadLetters,
    JobStore,
    MappingStore,
    OrderStore,
    Outbox,
    ProviderCache,
    Queue,
    UserStore,
)

START = 1_800_000_000.0  # epoch seconds: 2027-01-15


class FakeClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class AdapterSet(Protocol):
    """Every non-lead port over one store; `clock()` is the time the adapters see."""

    name: str
    # whether a receipt from before a later receive is refused (SQS may accept it)
    strict_leases: bool

    def clock(self) -> float: ...

    def advance(self, seconds: float) -> None: ...

    def jobs(self) -> JobStore: ...

    def queue(self, max_receive_count: int = 3) -> tuple[Queue, DeadLetters]: ...

    def outbox(self) -> Outbox: ...

    def orders(self) -> OrderStore: ...

    def provider_cache(self) -> ProviderCache: ...

    def users(self) -> UserStore: ...

    def mappings(self) -> MappingStore: ...


class MemorySet:
    name = "memory"
    strict_leases = True

    def __init__(self, tmp_path: Path) -> None:
        self._clock = FakeClock()

    def clock(self) -> float:
        return self._clock()

    def advance(self, seconds: float) -> None:
        self._clock.advance(seconds)

    def jobs(self) -> JobStore:
        return MemoryJobStore(self._clock)

    def queue(self, max_receive_count: int = 3) -> tuple[Queue, DeadLetters]:
        queue = MemoryQueue(max_receive_count, self._clock)
        return queue, queue.dead_letters

    def outbox(self) -> Outbox:
        return MemoryOutbox(self._clock)

    def orders(self) -> OrderStore:
        return MemoryOrderStore()

    def provider_cache(self) -> ProviderCache:
        return MemoryProviderCache()

    def users(self) -> UserStore:
        return MemoryUserStore()

    def mappings(self) -> MappingStore:
        return MemoryMappingStore()


class SqliteSet:
    name = "sqlite"
    strict_leases = True

    def __init__(self, tmp_path: Path) -> None:
        self._clock = FakeClock()
        self.db = Database(tmp_path / "contract.db")

    def clock(self) -> float:
        return self._clock()

    def advance(self, seconds: float) -> None:
        self._clock.advance(seconds)

    def jobs(self) -> JobStore:
        return SqliteJobStore(self.db, self._clock)

    def queue(self, max_receive_count: int = 3) -> tuple[Queue, DeadLetters]:
        return (
            SqliteQueue(self.db, "contract", max_receive_count, self._clock),
            SqliteDeadLetters(self.db, "contract", self._clock),
        )

    def outbox(self) -> Outbox:
        return SqliteOutbox(self.db, self._clock)

    def orders(self) -> OrderStore:
        return SqliteOrderStore(self.db)

    def provider_cache(self) -> ProviderCache:
        return SqliteProviderCache(self.db)

    def users(self) -> UserStore:
        return SqliteUserStore(self.db)

    def mappings(self) -> MappingStore:
        return SqliteMappingStore(self.db)


# name -> the class building that adapter set from a fresh temporary directory
ADAPTER_SETS: dict[str, Callable[[Path], AdapterSet]] = {
    "memory": MemorySet,
    "sqlite": SqliteSet,
    "aws": AwsSet,  # SQS, DynamoDB (and S3) on moto: tests/contract/aws_port_adapters.py
}


@pytest.fixture(params=sorted(ADAPTER_SETS))
def adapter_set(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AdapterSet]:
    """One adapter set per run of each contract test."""
    adapters = ADAPTER_SETS[request.param](tmp_path)
    yield adapters
    close = getattr(adapters, "close", None)
    if close is not None:
        close()  # moto stops, its clock is restored
