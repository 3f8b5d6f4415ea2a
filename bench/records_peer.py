"""The peer for bench/api_load.py: a minimal FastAPI endpoint that upserts records.

POST /records takes the same body as leadflow's POST /v1/records (a JSON list of seed-000
records) and upserts each record into one SQLite table keyed by email, in one
transaction, then answers {"received", "saved"}. No token, no validation model, no
de-duplication rules, no audit: the floor leadflow's endpoint is compared with.

    .venv/bin/python bench/records_peer.py --port 8100 --db /tmp/peer.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from typing import Any

import uvicorn
from fastapi import FastAPI, Request


def make_app(db_path: str) -> FastAPI:
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS leads (email TEXT PRIMARY KEY, name TEXT, "
        "opt_in INTEGER, interests TEXT)"
    )
    app = FastAPI()

    @app.post("/records")
    async def records(request: Request) -> dict[str, Any]:
        body = json.loads(await request.body())
        rows = [
            (
                r["email"].strip().lower(),
                r["name"],
                int(bool(r["optIn"])),
                json.dumps(r["interests"]),
            )
            for r in body
        ]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO leads (email, name, opt_in, interests) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(email) DO UPDATE SET name = excluded.name, opt_in = excluded.opt_in, "
            "interests = excluded.interests",
            rows,
        )
        conn.execute("COMMIT")
        return {"received": len(body), "saved": len(rows)}

    @app.get("/count")
    def count() -> dict[str, int]:
        return {"leads": conn.execute("SELECT count(*) FROM leads").fetchone()[0]}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    uvicorn.run(
        make_app(args.db), host=args.host, port=args.port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
