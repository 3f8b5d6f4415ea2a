"""Benchmark: `GET /v1/leads?q=` over many leads (SQLite), the folded search column
against two peers on the same table: the query before it (LIKE over five columns,
ASCII-only folding) and a per-row Python fold function (what folding costs without
the column). Prints one JSON object.

    .venv/bin/python bench/search_bench.py --leads 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_read_model import SqliteLeadReadModel
from leadflow.domain.search import document, fold
from leadflow.ports import LeadQuery

FIRST = ["Jörg", "Ann", "Zoë", "Łukasz", "José", "Mia", "Søren", "Chloé", "Bo", "Ivy"]
LAST = ["Müller", "Lee", "Østergaard", "Dvořák", "García", "Smith", "Nguyễn", "Brown"]
QUERIES = ["MÜLLER", "zoe", "dvorak", "(415) 555-0134", "nobody-at-all"]
OLD = (
    "SELECT seq FROM leads WHERE owner = ? AND (name LIKE ? OR email LIKE ? OR company "
    "LIKE ? OR phone LIKE ? OR title LIKE ?) ORDER BY seq DESC LIMIT 51"
)
PER_ROW = (
    "SELECT seq FROM leads WHERE owner = ? AND py_fold(name || char(10) || COALESCE(email, "
    "'') || char(10) || company || char(10) || title || char(10) || COALESCE(phone, '')) "
    "LIKE ? ORDER BY seq DESC LIMIT 51"
)


def build(db: Database, count: int) -> None:
    rows = []
    for i in range(count):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // 10) % len(LAST)]}"
        email = f"user{i}@example{i % 997}.com"
        company = f"Company {i % 5000}"
        phone = f"+1415{i % 10_000_000:07d}"
        rows.append(
            (f"l{i}", "alice", email, phone, 1, name, company, "CTO", "api", "T", "T",
             document(name, email, company, "CTO", phone))
        )  # fmt: skip
        if len(rows) == 50_000 or i == count - 1:
            with db.transaction() as conn:
                conn.executemany(
                    "INSERT INTO leads (lead_id, owner, email, phone, phone_valid, name, "
                    "company, title, source, created_at, updated_at, search) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            rows = []


def timed(run: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "leadflow.db")
        started = time.perf_counter()
        build(db, args.leads)
        built = time.perf_counter() - started
        store = SqliteLeadReadModel(db)
        conn = db.conn
        conn.create_function("py_fold", 1, fold, deterministic=True)
        results: dict[str, Any] = {}
        for q in QUERIES:
            like = f"%{q}%"
            ours = timed(lambda q=q: store.list_leads("alice", LeadQuery(q=q)), args.repeat)
            old = timed(lambda like=like: conn.execute(OLD, ["alice"] + [like] * 5).fetchall(),
                        args.repeat)  # fmt: skip
            per_row = timed(
                lambda q=q: conn.execute(PER_ROW, ["alice", f"%{fold(q)}%"]).fetchall(), 1
            )
            found = len(store.list_leads("alice", LeadQuery(q=q))[0])
            results[q] = {
                "folded_column_ms": round(ours * 1000, 1),
                "old_five_column_like_ms": round(old * 1000, 1),
                "per_row_python_fold_ms": round(per_row * 1000, 1),
                "ratio_vs_old": round(ours / old, 4) if old else None,
                "ratio_vs_per_row": round(ours / per_row, 5) if per_row else None,
                "found_first_page": found,
            }
        print(json.dumps({"leads": args.leads, "build_seconds": round(built, 1),
                          "queries": results}, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
