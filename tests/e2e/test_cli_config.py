"""The CLI's answers to bad configuration: a clear message and exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from cli_runner import Cli


def _assert_clean_failure(result: object, *words: str) -> None:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr


def test_a_data_directory_that_cannot_be_made(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = cli.run("errors", "list", env={"LEADFLOW_DATA_DIR": str(blocker / "data")})
    _assert_clean_failure(result, "LEADFLOW_DATA_DIR")


def test_a_database_file_that_is_not_sqlite(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "garbage"
    data.mkdir()
    (data / "leadflow.db").write_text("this is not a database, it is a text file" * 100)
    result = cli.run("errors", "list", env={"LEADFLOW_DATA_DIR": str(data)})
    _assert_clean_failure(result, "not a database")


def test_a_setting_with_a_bad_value(cli: Cli) -> None:
    result = cli.run("errors", "list", env={"LEADFLOW_IMPORT_WORKERS": "many"})
    _assert_clean_failure(result, "LEADFLOW_IMPORT_WORKERS")


def test_the_aws_backend_without_an_endpoint_fails_plainly(cli: Cli) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    aws = {
        "LEADFLOW_BACKEND": "aws",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = cli.run("errors", "list", env=aws)
    _assert_clean_failure(result, "LEADFLOW_BACKEND=aws cannot start", "cannot reach AWS")
