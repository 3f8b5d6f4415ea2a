"""A file over the upload limit is refused with a readable message, not a stack of JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from web_server import WebServer, run_web_server, screenshot


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    limits = {"max_upload_bytes": 4096}
    with run_web_server(tmp_path_factory.mktemp("web-limits"), **limits) as server:
        yield server


def test_a_file_over_the_limit_says_so(
    web: WebServer, context: BrowserContext, page: Page, tmp_path: Path
) -> None:
    web.sign_in(context)
    big = tmp_path / "big.csv"
    big.write_text("name,email\n" + "".join(f"P{n},p{n}@x.example\n" for n in range(1000)))
    page.goto(web.url("/import"))
    page.get_by_label("File", exact=True).set_input_files(str(big))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("over the limit of 4096 bytes")
    expect(page.get_by_role("button", name="Start import")).to_have_count(0)
    assert [j.job_id for j in web.services.jobs.list("alice")] == []
    screenshot(page, tmp_path, "upload-too-large")
