"""Runs the installed `leadflow` console script against a fresh data directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEADFLOW = Path(sys.executable).parent / "leadflow"


def last_json_line(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output on stdout"
    summary = json.loads(lines[-1])
    assert isinstance(summary, dict)
    return summary


@dataclass
class Cli:
    """Runs the CLI with LEADFLOW_DATA_DIR pointing at a temporary directory."""

    workdir: Path
    data_dir: Path

    def run(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
        environ["LEADFLOW_DATA_DIR"] = str(self.data_dir)
        environ["COLUMNS"] = "200"  # keep rich from wrapping error messages
        environ.update(env or {})
        return subprocess.run(
            [str(LEADFLOW), *args],
            cwd=self.workdir,
            env=environ,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
        )

    def import_json(self, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        """`leadflow import ... --json`, asserting success; the summary it printed."""
        result = self.run("import", *args, "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return last_json_line(result.stdout)

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.data_dir / "leadflow.db")
        conn.row_factory = sqlite3.Row
        return conn

    def leads(self, owner: str | None = None) -> list[dict[str, Any]]:
        with self.db() as conn:
            sql = "SELECT * FROM leads"
            params: tuple[str, ...] = ()
            if owner is not None:
                sql += " WHERE owner = ?"
                params = (owner,)
            rows = [dict(row) for row in conn.execute(sql + " ORDER BY seq", params)]
        conn.close()
        return rows

    def lead_by_email(self, email: str) -> dict[str, Any]:
        matches = [lead for lead in self.leads() if lead["email"] == email]
        assert len(matches) == 1, matches
        return matches[0]
