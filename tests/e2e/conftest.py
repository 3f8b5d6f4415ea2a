"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import LEADFLOW, Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    assert LEADFLOW.exists(), f"console script missing: {LEADFLOW}"
    workdir = tmp_path / "work"
    workdir.mkdir()
    return Cli(workdir=workdir, data_dir=tmp_path / "data")
