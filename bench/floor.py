"""The floor an import is compared with: csv.DictReader parse + one-transaction SQLite
upsert of the raw rows, with no validation, normalization or duplicate logic.

Two variants:
- schema (default): the raw rows go into leadflow's own `leads` table, created by its
  migrations, so the floor pays the same storage (columns and indexes) as an import;
- bare: a table of the CSV's columns with one unique index on the email column.

    python bench/floor.py FILE.csv DB [schema|bare]
"""

from __future__ import annotations

import csv
import sqlite3
import sys
from pathlib import Path

# bench/ runs from a checkout: the package is importable from the venv
from leadflow.adapters.sqlite_db import connect, migrate

SCHEMA_COLUMNS = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "E-mail": "email",
    "Phone": "phone",
    "Company Name": "company",
    "Job Title": "title",
    "Notes": "remarks",
}


def schema_floor(source: Path, db: Path) -> None:
    conn = connect(db)
    migrate(conn)
    columns = list(SCHEMA_COLUMNS.values())
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "email")
    sql = (
        f"INSERT INTO leads (lead_id, owner, source, created_at, updated_at, {names}) "
        f"VALUES (?, 'admin', 'upload', '', '', {', '.join('?' * len(columns))}) "
        f"ON CONFLICT (owner, email) WHERE email IS NOT NULL DO UPDATE SET {updates}"
    )
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        conn.execute("BEGIN")
        conn.executemany(
            sql,
            ((str(n), *(row[h] for h in SCHEMA_COLUMNS)) for n, row in enumerate(reader)),
        )
        conn.execute("COMMIT")
    conn.close()


def bare_floor(source: Path, db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or [])
        names = [f"c{i}" for i in range(len(columns))]
        conn.execute(f"CREATE TABLE raw ({', '.join(n + ' TEXT' for n in names)})")
        key = names[columns.index("E-mail")]
        conn.execute(f"CREATE UNIQUE INDEX raw_key ON raw ({key})")
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != key)
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO raw VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}",
            ([row[c] for c in columns] for row in reader),
        )
        conn.execute("COMMIT")
    conn.close()


if __name__ == "__main__":
    variant = sys.argv[3] if len(sys.argv) > 3 else "schema"
    (schema_floor if variant == "schema" else bare_floor)(Path(sys.argv[1]), Path(sys.argv[2]))
