"""The one place that reads Settings and builds adapters, and the ports each part gets.

`bootstrap` builds the adapter set (a `Services` container, which the API routes and the
CLI use); `worker_ports`, `runtime_ports`, `inbox_ports` ... hand each pipeline and job
loop only the ports it uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .adapters.fs_blobs import FsBlobStore
from .adapters.sqlite_db import Database, database_error, store_unavailable
from .adapters.sqlite_jobs import SqliteJobStore
from .adapters.sqlite_leads import SqliteLeadRepository
from .adapters.sqlite_ledger import SqliteBatchLedger
from .adapters.sqlite_mappings import SqliteMappingStore
from .adapters.sqlite_orders import SqliteOrderStore
from .adapters.sqlite_outbox import SqliteOutbox
from .adapters.sqlite_provider_cache import SqliteProviderCache
from .adapters.sqlite_queue import SqliteDeadLetters, SqliteQueue
from .adapters.sqlite_read_model import SqliteLeadReadModel
from .adapters.sqlite_schema_errors import SqliteSchemaErrorLog
from .adapters.sqlite_store import SqliteUserStore
from .pipelines.upsert import WritePorts
from .ports import (
    BatchLedger,
    BlobStore,
    DeadLetters,
    Job,
    JobStore,
    LeadReadModel,
    LeadRepository,
    MappingStore,
    NotificationChannel,
    OrderStore,
    Outbox,
    ProviderCache,
    Queue,
    SchemaErrorLog,
    UserStore,
)
from .security import load_or_create_secret
from .settings import Settings

if TYPE_CHECKING:  # imported when used: `leadflow import` starts without the job loops
    from .aws.backend import AwsAdapters
    from .jobs.inbox import InboxPorts
    from .jobs.redrive import RedrivePorts
    from .jobs.runtime import RuntimePorts
    from .jobs.uploads import UploadPorts
    from .jobs.worker import WorkerPorts
    from .notify.notifier import NotifierPorts
    from .pipelines.realtime import RealtimePorts

QUEUE_NAME = "batches"


class UnsupportedBackend(RuntimeError):
    """The configured backend is not available in this build."""


class StoreUnreachable(RuntimeError):
    """The configured store cannot be opened (the data directory, the database file)."""


class BackendUnreachable(RuntimeError):
    """The AWS backend cannot start (endpoint, credentials, resources, signing key); the
    message says what to do."""


@dataclass
class Services:
    """The adapters of one process (API routes and the CLI use it; nothing else does)."""

    settings: Settings
    lead_repo: LeadRepository  # lead writes (the write guarantee, ports.py)
    lead_reads: LeadReadModel  # lead queries, as API documents
    schema_errors: SchemaErrorLog  # rejected records with their reasons
    ledger: BatchLedger  # which batches of a job are in, with their counts
    users: UserStore
    jobs: JobStore  # job records (the status documents are built from them)
    queue: Queue  # batches of jobs and other messages
    dead_letters: DeadLetters  # what failed max_receive_count times, or was buried
    blobs: BlobStore  # uploads, result files, error files
    provider_cache: ProviderCache  # remote providers' answers by input
    orders: OrderStore  # complete sales orders (seed 003)
    outbox: Outbox  # notifications to send, each once
    secret: str
    mappings: MappingStore  # column mappings saved by name (the web app's import page)
    # Whether an exception means the store is unavailable (disk I/O error, read-only,
    # locked): loops then retry the same work later instead of failing it.
    store_unavailable: Callable[[BaseException], bool] = field(default=lambda _: False)
    clock: Callable[[], float] = time.time
    aws: AwsAdapters | None = None  # the aws backend's clients (its inbox queue poller)

    def job_totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        """A job's (ledger entries, their counts summed): BatchLedger.totals."""
        return self.ledger.totals(job_id)

    def document_of(self, job: Job) -> dict[str, Any]:
        """The job's status document (seed 004)."""
        from .jobs.status import document

        return document(job, self.job_totals(job.job_id), self.clock())

    def job_document(self, job_id: str, owner: str) -> dict[str, Any] | None:
        """The job's status document, or None (unknown, expired, another owner's)."""
        job = self.jobs.get(job_id, owner)
        return None if job is None else self.document_of(job)

    def write_ports(self, ledgered: bool = True) -> WritePorts:
        """The ports upsert.write_batches takes (`ledgered` False: no ledger, as for
        in-process imports that nobody redelivers)."""
        return WritePorts(self.lead_repo, self.schema_errors, self.ledger if ledgered else None)


BULK_AUTOCHECKPOINT = 20_000  # pages: bulk imports checkpoint rarely, in big steps


def bootstrap(settings: Settings, bulk: bool = False) -> Services:
    """Build the adapter set the settings ask for (`bulk` tunes it for large imports).

    UnsupportedBackend: aws without the aws extra; BackendUnreachable: the aws backend
    cannot start; StoreUnreachable: the local data directory or database cannot be used.
    """
    if settings.backend == "aws":
        return _aws(settings)
    try:
        return _local(settings, bulk)
    except Exception as exc:
        if isinstance(exc, OSError) or database_error(exc):
            raise StoreUnreachable(str(exc)) from exc
        raise


def _local(settings: Settings, bulk: bool) -> Services:
    """The adapters of one machine: SQLite and the file system under LEADFLOW_DATA_DIR."""
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
        jobs=SqliteJobStore(db),
        queue=SqliteQueue(db, QUEUE_NAME, settings.max_receive_count),
        dead_letters=SqliteDeadLetters(db, QUEUE_NAME),
        blobs=FsBlobStore(settings.data_dir / "blobs", secret),
        provider_cache=SqliteProviderCache(db),
        orders=SqliteOrderStore(db),
        outbox=SqliteOutbox(db),
        secret=secret,
        mappings=SqliteMappingStore(db),
        store_unavailable=store_unavailable,
    )


def _aws(settings: Settings) -> Services:
    """The AWS adapter set (DynamoDB, SQS, S3; aws/backend.py), boto3 imported only here."""
    from .aws.clients import AwsExtraMissing

    missing = "LEADFLOW_BACKEND=aws needs the aws extra: pip install 'leadflow[aws]'"
    try:
        from .aws.backend import AwsBackendError, aws_unavailable, build
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("boto3", "botocore"):
            raise
        raise UnsupportedBackend(missing) from None
    try:
        built = build(settings)
    except AwsExtraMissing:
        raise UnsupportedBackend(missing) from None
    except AwsBackendError as exc:
        reason = str(exc)
        if not reason.startswith("LEADFLOW_BACKEND=aws"):
            reason = f"LEADFLOW_BACKEND=aws cannot start: {reason}"
        raise BackendUnreachable(reason) from None
    return Services(
        settings=settings,
        **built.adapters,
        secret=built.secret,
        store_unavailable=aws_unavailable,
        aws=built,
    )


def lead_channels(
    settings: Settings,
) -> tuple[NotificationChannel | None, NotificationChannel | None]:
    """The channels leads are announced on: (Slack, e-mail), None where not configured."""
    from .adapters.slack import SlackWebhookChannel
    from .adapters.smtp import SmtpChannel

    slack = SlackWebhookChannel(settings.slack_webhook_url) if settings.slack_webhook_url else None
    email: NotificationChannel | None = None
    if settings.email_from and settings.email_to:
        if settings.smtp_host:
            email = SmtpChannel(
                settings.smtp_host, settings.smtp_port, settings.email_from, settings.email_to
            )
        elif settings.backend == "aws":  # on AWS without an SMTP host: through SES
            from .aws.backend import ses_channel

            email = ses_channel(settings)
    return slack, email


def alert_channel(settings: Settings) -> NotificationChannel | None:
    """Where alarms go: the alert webhook, else the leads' webhook, else e-mail."""
    from .adapters.slack import SlackWebhookChannel

    url = settings.slack_alert_webhook_url or settings.slack_webhook_url
    return SlackWebhookChannel(url) if url else lead_channels(settings)[1]


def redrive_ports(services: Services) -> RedrivePorts:
    from .jobs.redrive import RedrivePorts

    s = services
    return RedrivePorts(s.settings, s.dead_letters, s.orders, s.outbox, alert_channel(s.settings))


def worker_ports(services: Services) -> WorkerPorts:
    from .jobs.worker import WorkerPorts

    s = services
    return WorkerPorts(
        settings=s.settings,
        jobs=s.jobs,
        totals=s.job_totals,
        queue=s.queue,
        dead_letters=s.dead_letters,
        write=s.write_ports(),
        ledger=s.ledger,
        blobs=s.blobs,
        provider_cache=s.provider_cache,
        redrive=redrive_ports(s),
        clock=s.clock,
    )


def upload_ports(services: Services) -> UploadPorts:
    from .jobs.uploads import UploadPorts

    s = services
    return UploadPorts(s.jobs, s.blobs, s.queue, s.settings.max_upload_bytes, s.clock)


def notifier_ports(services: Services) -> NotifierPorts:
    from .notify.notifier import NotifierPorts

    slack, email = lead_channels(services.settings)
    return NotifierPorts(services.settings, services.outbox, services.dead_letters, slack, email)


def realtime_ports(services: Services) -> RealtimePorts:
    from .notify.notifier import notifications_enabled
    from .pipelines.realtime import RealtimePorts

    s = services
    return RealtimePorts(
        s.settings,
        s.write_ports(),
        s.ledger,
        s.lead_reads,
        s.blobs,
        s.outbox,
        notifications_enabled(s.settings),
    )


def inbox_ports(services: Services) -> InboxPorts:
    from .jobs.inbox import InboxPorts

    s = services
    return InboxPorts(
        settings=s.settings,
        realtime=realtime_ports(s),
        notifier=notifier_ports(s),
        orders=s.orders,
        dead_letters=s.dead_letters,
        store_unavailable=s.store_unavailable,
    )


def runtime_ports(services: Services) -> RuntimePorts:
    from .jobs.runtime import RuntimePorts

    aws = services.aws
    inbox_queue = None
    if aws is not None:
        from .aws.inbox_objects import s3_opener

        inbox_queue = (aws.sqs, aws.inbox_queue_url, s3_opener(aws.s3, aws.bucket))
    return RuntimePorts(
        services.settings, worker_ports(services), inbox_ports(services), inbox_queue
    )


def _open_write_ports(db_path: Path) -> WritePorts:
    db = Database(db_path, BULK_AUTOCHECKPOINT)
    return WritePorts(SqliteLeadRepository(db), SqliteSchemaErrorLog(db))


def _open_aws_write_ports(settings: Settings) -> WritePorts:
    from .aws.backend import open_write_ports

    return open_write_ports(settings)


def write_ports_factory(settings: Settings) -> Callable[[], WritePorts]:
    """Opens the lead write ports afresh (without a ledger), for import worker processes
    (on aws: fresh DynamoDB clients in each process)."""
    if settings.backend == "aws":
        return partial(_open_aws_write_ports, settings)
    return partial(_open_write_ports, settings.db_path)
