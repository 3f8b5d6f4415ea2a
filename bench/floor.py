"""The floor an import is compared with: csv.DictReader parse + one-transaction SQLite
upsert of the raw rows (no validation, no normalization, no de-duplication logic)."""

from __future__ import annotations

import csv
import sqlite3
import sys
from pathlib import Path


def main(source: Path, db: Path) -> None:
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
    main(Path(sys.argv[1]), Path(sys.argv[2]))
