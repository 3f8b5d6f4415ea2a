"""First run: a fresh data directory offers the setup-code form, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from web_server import WebServer, axe_violations, describe, run_web_server, screenshot

from leadflow.web.setup_code import code_path


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with run_web_server(tmp_path_factory.mktemp("web-first-run"), users=False) as server:
        yield server


def test_axe_on_the_first_run_page(web: WebServer, browser: Browser, tmp_path: Path) -> None:
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(web.url("/"))
        violations = axe_violations(page)
        screenshot(page, tmp_path, "first-run")
    finally:
        context.close()
    assert not violations, describe(violations)


def test_first_user_needs_the_setup_code_once(web: WebServer, page: Page, tmp_path: Path) -> None:
    page.goto(web.url("/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    code = code_path(web.data_dir).read_text().strip()

    page.get_by_label("Setup code").fill("WRONG-CODE-0000")
    page.get_by_label("Username").fill("mallory")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("alert")).to_contain_text("not the setup code")
    assert not web.services.users.has_users()

    page.get_by_label("Setup code").fill(code.lower())
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Create user").click()
    expect(page).to_have_url(web.url("/import"))
    expect(page.get_by_role("link", name="Leads")).to_be_visible()
    assert not code_path(web.data_dir).exists()  # consumed
    assert web.services.users.password_hash("admin") is not None
    screenshot(page, tmp_path, "first-user")

    page.context.clear_cookies()
    page.goto(web.url("/"))
    expect(page).to_have_url(web.url("/signin"))  # no second first run
