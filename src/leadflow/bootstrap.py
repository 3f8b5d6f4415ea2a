"""The one place that reads Settings and wires adapters together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .adapters.fs_blobs import FsBlobStore
from .adapters.sqlite_db import Database, store_unavailable
from .adapters.sqlite_leads import SqliteLeadRepository
from .adapters.sqlite_ledger import SqliteBatchLedger
from .adapters.sqlite_mappings import SqliteMappingStore
from .adapters.sqlite_orders import SqliteOrderStore
from .adapters.sqlite_provider_cache import SqliteProviderCache
from .adapters.sqlite_queue import SqliteQueue
from .adapters.sqlite_read_model import SqliteLeadReadModel
from .adapters.sqlite_schema_errors import SqliteSchemaErrorLog
from .adapters.sqlite_store import SqliteUserStore
from .jobs.status_store import SqliteStatusStore
from .notify.outbox import SqliteOutbox
from .pipelines.upsert import WritePorts
from .ports import (
    BatchLedger,
    BlobStore,
    LeadReadModel,
    LeadRepository,
    MappingStore,
    Queue,
    SchemaErrorLog,
    UserStore,
)
from .security import load_or_create_secret
from .settings import Settings


class UnsupportedBackend(RuntimeError):
    """The configured backend is not available in this build."""


@dataclass
class Services:
    settings: Settings
    lead_repo: LeadRepository  # lead writes (the write guarantee, ports.py)
    lead_reads: LeadReadModel  # lead queries, as API documents
    schema_errors: SchemaErrorLog  # rejected records with their reasons
    ledger: BatchLedger  # which batches of a job are in, with their counts
    users: UserStore
    queue: Queue  # batches of jobs; its DLQ holds what failed max_receive_count times
    blobs: BlobStore  # uploads, result files, error files
    status: SqliteStatusStore  # jobs and their status documents
    provider_cache: SqliteProviderCache  # remote providers' answers by input
    orders: SqliteOrderStore  # complete sales orders (seed 003)
    outbox: SqliteOutbox  # notifications to send, each once
    secret: str
    mappings: MappingStore  # column mappings saved by name (the web app's import page)
    # Whether an exception means the store is unavailable (disk I/O error, read-only,
    # locked): loops then retry the same work later instead of failing it.
    store_unavailable: Callable[[BaseException], bool] = field(default=lambda _: False)

    def write_ports(self, ledgered: bool = True) -> WritePorts:
        """The ports upsert.write_batches takes (`ledgered` False: no ledger, as for
        in-process imports that nobody redelivers)."""
        return WritePorts(self.lead_repo, self.schema_errors, self.ledger if ledgered else None)


BULK_AUTOCHECKPOINT = 20_000  # pages: bulk imports checkpoint rarely, in big steps


def bootstrap(settings: Settings, bulk: bool = False) -> Services:
    """Build the adapter set the settings ask for (`bulk` tunes it for large imports)."""
    if settings.backend != "local":
        raise UnsupportedBackend(
            f"LEADFLOW_BACKEND={settings.backend} is not available yet; use 'local'"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_path, BULK_AUTOCHECKPOINT if bulk else 1000)
    secret = settings.secret_key or load_or_create_secret(settings.data_dir)
    return Services(
        settings=settings,
        lead_repo=SqliteLeadRepository(db),
        lead_reads=SqliteLeadReadModel(db),
        schema_errors=SqliteSchemaErrorLog(db),
        ledger=SqliteBatchLedger(db),
        users=SqliteUserStore(db),
        queue=SqliteQueue(db, "batches", settings.max_receive_count),
        blobs=FsBlobStore(settings.data_dir / "blobs"),
        status=SqliteStatusStore(db),
        provider_cache=SqliteProviderCache(db),
        orders=SqliteOrderStore(db),
        outbox=SqliteOutbox(db),
        secret=secret,
        mappings=SqliteMappingStore(db),
        store_unavailable=store_unavailable,
    )


def _open_write_ports(db_path: Path) -> WritePorts:
    db = Database(db_path, BULK_AUTOCHECKPOINT)
    return WritePorts(SqliteLeadRepository(db), SqliteSchemaErrorLog(db))


def write_ports_factory(settings: Settings) -> Callable[[], WritePorts]:
    """Opens the lead write ports afresh (without a ledger), for import worker processes."""
    return partial(_open_write_ports, settings.db_path)
