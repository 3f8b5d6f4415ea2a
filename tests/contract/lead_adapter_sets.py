"""The adapter sets the lead-aggregate contract suites run on, by name.

Each set is the four ports of the lead aggregate over one store. Adding a technology is
one entry in ADAPTER_SETS (the AWS helpers add "aws": DynamoDB on moto).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_lead_set import aws_set

from leadflow.adapters.memory_leads import MemoryLeadData, MemoryLeadReadModel, MemoryLeadRepository
from leadflow.adapters.memory_ledger import MemoryBatchLedger, MemorySchemaErrorLog
from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_leads import SqliteLeadRepository
from leadflow.adapters.sqlite_ledger import SqliteBatchLedger
from leadflow.adapters.sqlite_read_model import SqliteLeadReadModel
from leadflow.adapters.sqlite_schema_errors import SqliteSchemaErrorLog
from leadflow.pipelines.upsert import WritePorts
from leadflow.ports import BatchLedger, LeadReadModel, LeadRepository, SchemaErrorLog


@dataclass
class LeadAdapters:
    """The lead aggregate's ports over one store."""

    name: str
    repo: LeadRepository
    reads: LeadReadModel
    errors: SchemaErrorLog
    ledger: BatchLedger

    def write_ports(self, ledgered: bool = True) -> WritePorts:
        return WritePorts(self.repo, self.errors, self.ledger if ledgered else None)


def memory_set(directory: Path) -> LeadAdapters:
    data = MemoryLeadData()
    return LeadAdapters(
        "memory",
        MemoryLeadRepository(data),
        MemoryLeadReadModel(data),
        MemorySchemaErrorLog(),
        MemoryBatchLedger(),
    )


def sqlite_set(directory: Path) -> LeadAdapters:
    db = Database(directory / "leads.db")
    return LeadAdapters(
        "sqlite",
        SqliteLeadRepository(db),
        SqliteLeadReadModel(db),
        SqliteSchemaErrorLog(db),
        SqliteBatchLedger(db),
    )


ADAPTER_SETS: dict[str, Callable[[Path], LeadAdapters]] = {
    "memory": memory_set,
    "sqlite": sqlite_set,
    "aws": aws_set,
}

_fresh = itertools.count()


@pytest.fixture(params=sorted(ADAPTER_SETS))
def adapters(request: pytest.FixtureRequest, tmp_path: Path) -> LeadAdapters:
    """The lead aggregate's ports over a fresh, empty store of one technology."""
    directory = tmp_path / f"set-{next(_fresh)}"
    directory.mkdir()
    return ADAPTER_SETS[request.param](directory)
