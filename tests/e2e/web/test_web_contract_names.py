"""The accessible names of the contract, as checks outside the code base look them up:
with Playwright's default (substring, case-insensitive) matching each name must find
exactly one element on every page state, not only with `exact=True`. And the back
button after signing out must not show a signed-in page again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from web_server import PASSWORDS, WebServer, run_web_server, screenshot

from leadflow.pipelines.importing import ImportOptions, import_records

NAV = ("Import", "Leads", "Jobs", "Dead letters", "Orders", "Chat")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with run_web_server(tmp_path_factory.mktemp("web-names")) as server:
        records = [{"name": "Ada Lovelace", "email": "ada@example.com", "company": "Acme"}]
        options = ImportOptions(owner="alice", source="api")
        import_records(server.services.write_ports(ledgered=False), records, options, None)
        yield server


def _sign_in(web: WebServer, page: Page, user: str = "alice") -> None:
    page.goto(web.url("/signin"))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(web.url("/import"))


def _nav_is_unambiguous(page: Page) -> None:
    for name in NAV:
        expect(page.get_by_role("link", name=name)).to_have_count(1)


def test_contract_names_match_one_element_each(web: WebServer, page: Page, tmp_path: Path) -> None:
    page.goto(web.url("/signin"))
    for label in ("Username", "Password"):
        expect(page.get_by_label(label)).to_have_count(1)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(1)
    _sign_in(web, page)
    _nav_is_unambiguous(page)
    expect(page.get_by_label("File")).to_have_count(1)  # was also the "Choose a file" section
    path = tmp_path / "names.csv"
    path.write_text("email,name\ngrace@example.com,Grace Hopper\n")
    page.get_by_label("File").set_input_files(str(path))
    for button in ("Dry run", "Start import"):
        expect(page.get_by_role("button", name=button)).to_have_count(1)
    _nav_is_unambiguous(page)
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("status")).to_contain_text("completed", timeout=60_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    _nav_is_unambiguous(page)  # "Import another file" also matched "Import"
    screenshot(page, tmp_path, "job-followed")
    page.goto(web.url("/leads"))
    expect(page.get_by_label("Search")).to_have_count(1)
    expect(page.get_by_role("columnheader", name="Email")).to_have_count(1)
    for link in ("Export CSV", "Export XLSX"):
        expect(page.get_by_role("link", name=link)).to_have_count(1)
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    _nav_is_unambiguous(page)  # "All leads" also matched "Leads"


def test_empty_jobs_page_has_one_import_link(web: WebServer, page: Page) -> None:
    _sign_in(web, page, "bob")
    page.goto(web.url("/jobs"))
    expect(page.get_by_role("cell", name="No jobs yet")).to_be_visible()
    _nav_is_unambiguous(page)  # "Import a file" also matched "Import"


def test_back_after_sign_out_shows_no_signed_in_page(
    web: WebServer, page: Page, tmp_path: Path
) -> None:
    _sign_in(web, page)
    page.goto(web.url("/leads"))
    expect(page.get_by_role("cell", name="ada@example.com")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(web.url("/signin"))
    page.go_back()
    expect(page).to_have_url(web.url("/signin"))  # asked again, sent to sign in
    expect(page.get_by_text("ada@example.com")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    screenshot(page, tmp_path, "back-after-sign-out")


def test_delete_all_dead_letters_asks_first(web: WebServer, page: Page, tmp_path: Path) -> None:
    """ "Delete all" deleted every dead letter at one click; it now asks, and the page
    after it is a plain GET, so a reload sends nothing again."""
    letters = web.services.dead_letters
    for n in range(2):
        letters.add([{"kind": "batch", "jobId": f"gone-{n}"}], "alice", f"reason {n}")
    _sign_in(web, page)
    page.goto(web.url("/dead-letters"))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete all").click()
    expect(page.locator("main")).to_contain_text("2 dead letters.")
    assert letters.depth("alice") == 2
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete all").click()
    expect(page.get_by_role("status")).to_have_text("2 deleted for good.")
    assert asked and "cannot be sent again" in asked[0]
    expect(page).to_have_url(web.url("/dead-letters?deleted=2"))
    assert letters.depth("alice") == 0
    screenshot(page, tmp_path, "dead-letters-deleted")
