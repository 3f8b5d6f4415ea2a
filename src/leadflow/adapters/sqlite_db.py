"""SQLite connections (WAL, busy timeout, explicit transactions) and versioned migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..domain.search import document

# Each entry moves the schema one version up; never edit a released entry, append one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE leads (
        seq INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        email TEXT,
        phone TEXT,
        phone_valid INTEGER,
        first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        company TEXT NOT NULL DEFAULT '',
        remarks TEXT NOT NULL DEFAULT '',
        opt_in INTEGER,
        interests TEXT,
        source TEXT NOT NULL,
        source_file TEXT,
        attributes TEXT,
        enrichment TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        import_id TEXT,
        import_row INTEGER,
        created_import_id TEXT
    );
    CREATE UNIQUE INDEX leads_owner_email ON leads(owner, email) WHERE email IS NOT NULL;
    CREATE INDEX leads_owner_phone ON leads(owner, phone);
    CREATE UNIQUE INDEX leads_owner_phone_key ON leads(owner, phone)
        WHERE email IS NULL AND phone_valid = 1;
    CREATE TABLE lead_audit (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        lead_id TEXT NOT NULL,
        action TEXT NOT NULL,
        email TEXT,
        previous_source_file TEXT,
        new_source_file TEXT,
        fields_changed TEXT NOT NULL,
        previous TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        import_id TEXT NOT NULL,
        timestamp TEXT NOT NULL
    );
    CREATE INDEX lead_audit_lead ON lead_audit(owner, lead_id);
    CREATE INDEX lead_audit_import ON lead_audit(import_id);
    CREATE TABLE import_skips (
        import_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        key TEXT NOT NULL,
        row INTEGER NOT NULL,
        PRIMARY KEY (import_id, owner, key)
    ) WITHOUT ROWID;
    CREATE TABLE schema_errors (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        source TEXT NOT NULL,
        import_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        record TEXT NOT NULL,
        errors TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX schema_errors_owner ON schema_errors(owner, id);
    CREATE INDEX schema_errors_import ON schema_errors(import_id);
    """,
    # 2: the durable queue and its dead-letter queue (one table; dead_at marks the DLQ)
    """
    CREATE TABLE queue_messages (
        id INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        owner TEXT,
        body TEXT NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        dead_at TEXT
    );
    CREATE INDEX queue_ready ON queue_messages(queue, dead_at, visible_at);
    CREATE INDEX queue_dead ON queue_messages(queue, owner, dead_at);
    """,
    # 3: the batch ledger: a batch's effect and its counts commit together, once
    """
    CREATE TABLE job_batches (
        job_id TEXT NOT NULL,
        batch_no INTEGER NOT NULL,
        counts TEXT,
        PRIMARY KEY (job_id, batch_no)
    ) WITHOUT ROWID;
    """,
    # 4: jobs (uploads) and their status documents; progress comes from job_batches
    """
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        stage TEXT NOT NULL,
        options TEXT NOT NULL,
        blob_key TEXT,
        file_name TEXT,
        file_size INTEGER,
        total_batches INTEGER,
        total_leads INTEGER,
        start_time TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        ended_at REAL,
        ttl INTEGER
    );
    CREATE INDEX jobs_ttl ON jobs(ttl);
    """,
    # 5: each batch's row outcomes, for the job's result file
    """
    ALTER TABLE job_batches ADD COLUMN outcomes TEXT;
    ALTER TABLE jobs ADD COLUMN result_key TEXT;
    """,
    # 6: the undo of an upload, recorded in its status
    """
    ALTER TABLE jobs ADD COLUMN undo TEXT;
    """,
    # 7: what the reader noticed about an uploaded file (not UTF-8, several sheets ...)
    """
    ALTER TABLE jobs ADD COLUMN warnings TEXT;
    """,
    # 8: a job's running totals, kept with each batch's ledger entry (status reads O(1))
    """
    ALTER TABLE jobs ADD COLUMN done_batches INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN totals TEXT;
    """,
    # 9: remote providers' answers, by provider and input, so identical inputs cost nothing
    """
    CREATE TABLE provider_cache (
        provider TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (provider, input_hash)
    ) WITHOUT ROWID;
    """,
    # 10: sales orders (seed 003), one row per order item and source
    """
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        source TEXT NOT NULL,
        order_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        item_desc TEXT NOT NULL,
        qty INTEGER NOT NULL,
        contact_name TEXT NOT NULL,
        contact_email TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (owner, source, order_id, item_id)
    );
    """,
    # 11: the notification outbox (one entry per lead and file) and the alarm's state
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        idem_key TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        claimed_at REAL,
        channel TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_pending ON outbox(status, id);
    CREATE TABLE alarms (name TEXT PRIMARY KEY, raised INTEGER NOT NULL);
    """,
    # 12: an import_undone audit entry keeps the values the undo restored
    """
    ALTER TABLE lead_audit ADD COLUMN restored TEXT;
    """,
    # 13: an owner's leads newest first (the leads page's first screen) without sorting
    # them all: the index hands them out in `seq` order
    """
    CREATE INDEX leads_owner_seq ON leads(owner, seq);
    """,
    # 14: an outbox entry waits until next_at (epoch seconds) after a 429 or a failure
    """
    ALTER TABLE outbox ADD COLUMN next_at REAL;
    """,
    # 15: how an upload's columns were mapped (header -> field, null: kept in attributes)
    """
    ALTER TABLE jobs ADD COLUMN columns TEXT;
    """,
    # 16: each lead's folded search text (domain/search.py). Inserts bring it (a trigger
    # would cost half again the insert); a trigger keeps it through updates, and the
    # backfill fills it for leads stored before, both through leadflow_search_document,
    # which every connection registers.
    """
    ALTER TABLE leads ADD COLUMN search TEXT NOT NULL DEFAULT '';
    UPDATE leads SET search = leadflow_search_document(name, email, company, title, phone);
    CREATE TRIGGER leads_search_update AFTER UPDATE OF name, email, company, title, phone
    ON leads BEGIN
        UPDATE leads
        SET search = leadflow_search_document(NEW.name, NEW.email, NEW.company, NEW.title,
                                              NEW.phone)
        WHERE seq = NEW.seq;
    END;
    """,
    # 17: the write guarantee (ports.py): each lead's version (every write checks and
    # moves it), each ledgered row's receipt (its outcome and count deltas, written with
    # its lead), the row an audit entry came from, and one schema error per (import, row)
    """
    ALTER TABLE leads ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE import_receipts (
        import_id TEXT NOT NULL,
        row INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        lead_id TEXT,
        counts TEXT NOT NULL,
        PRIMARY KEY (import_id, row)
    ) WITHOUT ROWID;
    ALTER TABLE lead_audit ADD COLUMN import_row INTEGER;
    CREATE INDEX schema_errors_import_row ON schema_errors(import_id, position);
    """,
    # 18: the job kind `process` is named
    # `enrichment`, as the code now writes it; rows stored before are renamed
    """
    UPDATE jobs SET kind = 'enrichment' WHERE kind = 'process';
    """,
    # 19: leads without a phone stay out of the phone index: a lookup by phone
    # (`phone = ?` implies `phone IS NOT NULL`, so the planner still uses it) finds the
    # same leads, and an insert without a phone (seed 000's records) touches one index
    # page fewer
    """
    DROP INDEX leads_owner_phone;
    CREATE INDEX leads_owner_phone ON leads(owner, phone) WHERE phone IS NOT NULL;
    """,
)


def connect(
    path: Path,
    autocheckpoint: int = 1000,
    factory: type[sqlite3.Connection] = sqlite3.Connection,
) -> sqlite3.Connection:
    """A connection in autocommit mode: transactions are opened explicitly.

    `autocheckpoint` is the WAL size in pages that makes a commit copy the WAL back into
    the database: small keeps API latency even, large suits bulk imports.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=30, factory=factory
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint, safe with WAL
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-16384")  # 16 MB per connection: bounded memory
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint)}")
    # the leads' search text is folded in Python (all of Unicode, not SQLite's ASCII)
    conn.create_function("leadflow_search_document", 5, document, deterministic=True)
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the newest version; returns that version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)


def store_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be used right now (disk I/O error, disk
    full, read-only, locked, cannot open) rather than that the work itself is wrong."""
    return isinstance(exc, sqlite3.OperationalError)


def database_error(exc: BaseException) -> bool:
    """Whether `exc` is one of SQLite's own errors (for callers that must not import it)."""
    return isinstance(exc, sqlite3.Error)


def _statements(script: str) -> Iterator[str]:
    """The script's statements one by one (a trigger's body holds semicolons)."""
    statement = ""
    for part in script.split(";"):
        statement += part + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                yield statement
            statement = ""
    if statement.strip(" \n;"):
        yield statement  # an unfinished statement: SQLite says what is wrong with it


class Database:
    """One SQLite file; a connection per thread, migrated on first open.

    A connection that failed with an operational error (disk I/O error, read-only file)
    is closed and the thread's next call opens a fresh one: after such an error SQLite
    may have left it unusable, and a new connection sees the file as it now is.
    `factory` is the sqlite3.Connection class to use (tests inject failing ones).
    """

    def __init__(
        self,
        path: Path,
        autocheckpoint: int = 1000,
        factory: type[sqlite3.Connection] = sqlite3.Connection,
    ) -> None:
        self.path = path
        self.autocheckpoint = autocheckpoint
        self.factory = factory
        self._local = threading.local()
        # Threads of one process queue here for the write lock, instead of in SQLite's
        # busy handler, which sleeps and retries and so makes a long latency tail.
        self._write_lock = threading.Lock()
        migrate(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self.autocheckpoint, self.factory)
            self._local.conn = conn
        return conn

    def discard(self) -> None:
        """Close this thread's connection; the next use opens a fresh one."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass  # closing a broken connection may fail too: it is dropped anyway

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        conn = self.conn
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.OperationalError:
                # A failed COMMIT may leave the transaction open, holding the write lock:
                # end it, then start afresh with a new connection.
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # closing the connection below rolls back too
                self.discard()
                raise


_sessions = threading.local()  # per thread: the Databases it has a session open on


@contextmanager
def session(db: Database) -> Iterator[None]:
    """One transaction for every write of the adapters of `db` inside it (this thread):
    SQLite groups many conditional writes for speed. Re-entrant."""
    open_on: set[int] = getattr(_sessions, "open_on", set())
    _sessions.open_on = open_on
    if id(db) in open_on:
        yield
        return
    with db.transaction():
        open_on.add(id(db))
        try:
            yield
        finally:
            open_on.discard(id(db))


@contextmanager
def write(db: Database) -> Iterator[sqlite3.Connection]:
    """The thread's session transaction if one is open on `db`, else a transaction of
    its own."""
    if id(db) in getattr(_sessions, "open_on", ()):
        yield db.conn
        return
    with db.transaction() as conn:
        yield conn
