"""Fixtures of the contract suites: every test runs on every adapter set."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from lead_adapter_sets import ADAPTER_SETS, LeadAdapters

_fresh = itertools.count()


@pytest.fixture(params=sorted(ADAPTER_SETS))
def adapters(request: pytest.FixtureRequest, tmp_path: Path) -> LeadAdapters:
    """The lead aggregate's ports over a fresh, empty store of one technology."""
    directory = tmp_path / f"set-{next(_fresh)}"
    directory.mkdir()
    return ADAPTER_SETS[request.param](directory)
