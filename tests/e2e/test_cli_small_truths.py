"""Small things a new user trips over, through the real console script: the region
setting, an unknown owner, a busy port, the `make run` hint, status errors as sentences,
one-line errors, and the follow-up hint that keeps --owner."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time

from cli_runner import LEADFLOW, Cli


def _one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_the_default_region_is_checked_and_upper_cased(cli: Cli) -> None:
    bad = cli.run("errors", "list", env={"LEADFLOW_DEFAULT_REGION": "XX"})
    _one_line_failure(bad, "LEADFLOW_DEFAULT_REGION", "'XX' is not a phone region")
    path = cli.workdir / "de.csv"
    path.write_text("Email,Phone\nhans@x.de,030 1234567\n")
    cli.import_json(str(path), env={"LEADFLOW_DEFAULT_REGION": "de"})
    assert [lead["phone"] for lead in cli.leads()] == ["+49301234567"]


def test_an_unknown_owner_is_warned_about_with_the_known_users(cli: Cli) -> None:
    for name in ("alice", "bob"):
        added = cli.run("users", "add", name, stdin="a-long-password\n")
        assert added.returncode == 0, added.stderr
    path = cli.workdir / "one.csv"
    path.write_text("Email\nann@x.io\n")
    result = cli.run("import", str(path), "--owner", "alcie", "--json")
    assert result.returncode == 0, result.stderr
    assert "there is no user 'alcie'" in result.stderr
    assert "Known users: alice, bob" in result.stderr
    known = cli.run("import", str(path), "--owner", "alice", "--json")
    assert "warning" not in known.stderr


def test_the_follow_up_hint_keeps_the_owner(cli: Cli) -> None:
    path = cli.workdir / "bad.csv"
    path.write_text("Email\nnot-an-email\nok@x.io\n")
    result = cli.run("import", str(path), "--owner", "bob")
    assert result.returncode == 0, result.stderr
    hint = next(line for line in result.stdout.splitlines() if "errors list" in line)
    assert hint.rstrip().endswith("--owner bob")
    command = hint.split("reasons: ", 1)[1].split()
    listed = cli.run(*command[1:], "--json")
    assert listed.returncode == 0 and "not-an-email" in listed.stdout


def test_parser_errors_are_one_line(cli: Cli) -> None:
    path = cli.workdir / "broken.json"
    path.write_text('{"leads": [\n  {"email": "a@x.io"},\n  {oops\n')
    _one_line_failure(cli.run("import", str(path)), "broken.json")


def test_status_prints_an_error_as_a_sentence(cli: Cli) -> None:
    assert cli.run("users", "add", "alice", stdin="a-long-password\n").returncode == 0
    conn = sqlite3.connect(cli.data_dir / "leadflow.db")
    error = {"message": "bad.json is not valid JSON:\n line 3", "code": "unreadable_file"}
    with conn:
        conn.execute(
            "INSERT INTO jobs (job_id, owner, kind, status, stage, options, file_name, "
            "created_at, updated_at, error) VALUES ('j1', 'alice', 'upload', 'error', "
            "'file_processing', '{}', 'bad.json', 'T', 'T', ?)",
            (json.dumps(error),),
        )
    result = cli.run("status", "j1")
    assert result.returncode == 1
    assert "Error (unreadable_file): bad.json is not valid JSON: line 3." in result.stderr
    assert "{" not in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_busy_port_exits_2_with_one_line(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli.run("serve", "--port", str(port))
    line = _one_line_failure(result, f"port {port} on 127.0.0.1 is already in use")
    assert "--port" in line


def test_the_first_start_hint_names_the_data_directory(cli: Cli) -> None:
    port = _free_port()
    environ = {"LEADFLOW_DATA_DIR": str(cli.data_dir), "LEADFLOW_PORT": str(port)}
    server = subprocess.Popen(
        [str(LEADFLOW), "serve"],
        cwd=cli.workdir,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")},
             **environ, "COLUMNS": "300"},
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        lines = []
        give_up = time.monotonic() + 60  # a guard against a hang, not a speed check
        while time.monotonic() < give_up:
            line = server.stderr.readline()
            lines.append(line)
            if "users add" in line:
                break
    finally:
        server.terminate()
        server.wait(30)
    hint = lines[-1]
    assert f"LEADFLOW_DATA_DIR={cli.data_dir.resolve()}" in hint, lines
    # the hint, run as printed, adds the user to the directory the server used
    command = hint.split("with:", 1)[1].strip()
    done = subprocess.run(
        ["bash", "-c", command.replace(".venv/bin/leadflow", str(LEADFLOW))],
        cwd=cli.workdir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    users = sqlite3.connect(cli.data_dir / "leadflow.db").execute("SELECT username FROM users")
    assert [row[0] for row in users] == ["admin"]
