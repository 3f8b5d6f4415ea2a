"""Sign-in, leads, a lead, export, jobs, dead letters, orders and chat in a real browser,
an XSS corpus, and an axe-core scan of every page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect
from web_server import WebServer, axe_violations, describe, run_web_server, screenshot

from leadflow.bootstrap import upload_ports
from leadflow.domain.orders import Order
from leadflow.jobs.uploads import start_upload
from leadflow.pipelines.importing import ImportOptions, import_records

XSS = (
    "<script>alert('name')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(2)>",
    "javascript:alert(3)",
    "{{ 7*7 }}",
    "</td></tr><script>alert(4)</script>",
)
XSS_FILE = '"><img src=x onerror=alert(5)>.csv'


def _seed(web: WebServer) -> None:
    services = web.services
    records = [
        {"name": "Ada Lovelace", "email": "ada@example.com", "company": "Analytical",
         "phone": "4155550101", "optIn": True, "Favourite": "engines"},
        {"name": "Grace Hopper", "email": "grace@example.com", "company": "Navy",
         "phone": "not a phone", "optIn": False},
        {"name": "Alan Turing", "email": "alan@example.com", "company": "Bletchley",
         "phone": "4155550103"},
    ]  # fmt: skip
    records += [
        {"name": text, "email": f"xss{n}@example.com", "company": text, "title": text,
         "Note": text}
        for n, text in enumerate(XSS)
    ]  # fmt: skip
    records.append({"name": "Mary Navy", "email": "mary@navy.example", "company": "Navy"})
    records += [{"name": f"Person {n:02}", "email": f"p{n:02}@example.org"} for n in range(12)]
    import_records(
        services.write_ports(ledgered=False),
        records,
        ImportOptions(owner="alice", source="api"),
        "seed",
    )
    # an update, so the lead has an audit history
    import_records(
        services.write_ports(ledgered=False),
        [
            {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "company": "Analytical Engines",
                "phone": "4155550101",
            }
        ],  # fmt: skip
        ImportOptions(owner="alice", source="api"),
        "second.json",
    )
    import_records(
        services.write_ports(ledgered=False),
        [{"name": "Bob Only", "email": "secret@bob.example", "company": "Bob Corp"}],
        ImportOptions(owner="bob", source="api"),
        None,
    )
    body = b"name,email\n" + XSS[0].encode() + b",x@example.com\n"
    start_upload(upload_ports(services), "alice", XSS_FILE, [body], {"pipeline": "leads"})
    order = Order("SO-1", "ITEM-9", "Widget <b>", 3, "Ada Lovelace", "ada@example.com")
    services.orders.save("alice", "api", [order], "2026-11-29T10:00:00Z")
    services.dead_letters.add(
        [{"kind": "batch", "jobId": "gone-1", "batchNo": 0, "records": []}],
        "alice",
        "ValueError: provider said <b>no</b>",
    )
    services.dead_letters.add(
        [{"kind": "batch", "jobId": "gone-2", "batchNo": 0, "records": []}],
        "alice",
        "order ORD-2: missing qty",
    )
    services.dead_letters.add([{"kind": "batch", "jobId": "gone-3"}], "bob", "bob's own letter")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with run_web_server(tmp_path_factory.mktemp("web-pages")) as server:
        _seed(server)
        yield server


@pytest.fixture
def alice(web: WebServer, context: BrowserContext, page: Page) -> Page:
    web.sign_in(context, "alice")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page  # type: ignore[misc]
    assert not dialogs, f"a script ran: {dialogs}"


def test_sign_in_and_out(web: WebServer, page: Page, tmp_path: Path) -> None:
    page.goto(web.url("/leads"))
    expect(page).to_have_url(web.url("/signin"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong password")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-Pa55word!")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(web.url("/leads"))  # back to the page that asked for it
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Import", "Leads", "Jobs", "Dead letters", "Orders", "Chat"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["leadflow_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    screenshot(page, tmp_path, "signed-in")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(web.url("/signin"))
    page.goto(web.url("/leads"))
    expect(page).to_have_url(web.url("/signin"))


def test_leads_search_filters_lead_page_and_export(
    web: WebServer, alice: Page, tmp_path: Path
) -> None:
    page = alice
    page.goto(web.url("/leads"))
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="Email")).to_be_visible()
    expect(table).to_contain_text("grace@example.com")
    expect(table).not_to_contain_text("secret@bob.example")  # bob's lead
    page.get_by_label("Search").fill("lovelace")
    page.get_by_role("button", name="Apply").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("ada@example.com")
    screenshot(page, tmp_path, "leads-search")

    page.get_by_label("Search").fill("")
    page.get_by_label("Phone valid").select_option("no")
    page.get_by_role("button", name="Apply").click()
    expect(table).to_contain_text("grace@example.com")
    expect(table).not_to_contain_text("ada@example.com")
    page.get_by_label("Phone valid").select_option("")
    page.get_by_role("combobox", name="Opt-in").select_option("yes")
    page.get_by_role("button", name="Apply").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("ada@example.com")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(csv_download.value.path()).read_bytes()
    assert exported.startswith(b"\xef\xbb\xbfleadId,")  # the API's export: with a BOM
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert [r["email"] for r in rows] == ["ada@example.com"]
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Export XLSX").click()
    saved = tmp_path / "export.xlsx"
    xlsx_download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    assert sheet is not None
    emails = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert emails == ["ada@example.com"]

    # sort and the column chooser
    page.goto(web.url("/leads?sort=email&col=email&col=company"))
    headers = page.get_by_role("columnheader")
    expect(headers).to_have_count(2)
    first = page.locator("tbody tr").first
    expect(first).to_contain_text("ada@example.com")

    page.goto(web.url("/leads?q=ada"))
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    expect(page.locator("body")).to_contain_text("Analytical Engines")
    expect(page.locator("body")).to_contain_text("engines")  # an attribute
    history = page.get_by_role("table", name="Audit trail, oldest first")
    expect(history).to_contain_text("company")
    screenshot(page, tmp_path, "lead-page")


def test_cursor_paging(web: WebServer, alice: Page) -> None:
    page = alice
    page.goto(web.url("/leads?sort=email&col=email&per=10"))
    seen: list[str] = []
    while True:
        rows = page.locator("tbody tr").all_inner_texts()
        assert 0 < len(rows) <= 10
        seen += [row.strip() for row in rows]
        following = page.get_by_role("link", name="Next page")
        if following.count() == 0:
            break
        following.click()
        expect(page.get_by_role("link", name="First page")).to_be_visible()
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert len(seen) == web.services.lead_reads.count_leads("alice")


def test_xss_corpus_is_shown_as_text(web: WebServer, alice: Page, tmp_path: Path) -> None:
    page = alice
    page.goto(web.url("/leads?q=xss"))
    body = page.locator("main")
    for text in XSS:
        expect(body).to_contain_text(text)
    assert page.locator("main script, main img, main svg").count() == 0
    screenshot(page, tmp_path, "xss-leads")
    page.get_by_role("link", name=XSS[1]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(XSS[1])
    assert page.locator("main script, main img, main svg").count() == 0
    page.goto(web.url("/jobs"))
    expect(page.locator("main")).to_contain_text(XSS_FILE)
    assert page.locator("main script, main img, main svg").count() == 0
    page.get_by_role("link", name=XSS_FILE).click()
    expect(page.get_by_role("heading", level=2)).to_have_text(XSS_FILE)
    expect(page.get_by_role("status")).to_contain_text("completed", timeout=30_000)
    page.goto(web.url("/orders"))
    expect(page.locator("main")).to_contain_text("Widget <b>")
    screenshot(page, tmp_path, "xss-orders")


def test_dead_letters_redrive_and_purge(web: WebServer, alice: Page, tmp_path: Path) -> None:
    page = alice
    page.goto(web.url("/dead-letters"))
    table = page.get_by_role("table")
    expect(table).to_contain_text("provider said <b>no</b>")
    expect(table).to_contain_text("missing qty")
    expect(table).not_to_contain_text("bob's own letter")
    screenshot(page, tmp_path, "dead-letters")
    letters = web.services.dead_letters.list("alice")
    by_reason = {letter.last_error: letter.id for letter in letters}
    page.get_by_label(f"Select dead letter {by_reason['order ORD-2: missing qty']}").check()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_role("status")).to_contain_text("1 deleted")
    page.get_by_role("button", name="Redrive all").click()
    expect(page.get_by_role("status")).to_contain_text("1 sent back to the queue")
    expect(page.locator("main")).to_contain_text("0 dead letters")
    assert web.services.dead_letters.depth("bob") == 1  # bob's letter is bob's
    screenshot(page, tmp_path, "dead-letters-redriven")


def test_chat_answers_with_rows(web: WebServer, alice: Page, tmp_path: Path) -> None:
    page = alice
    page.goto(web.url("/chat"))
    page.get_by_label("Question").fill("how many leads do I have?")
    page.get_by_role("button", name="Ask").click()
    answer = page.locator("#answers article").first
    expect(answer).to_contain_text("leadflow:")
    expect(answer).to_contain_text(f"You have {web.services.lead_reads.count_leads('alice')} leads")
    page.get_by_label("Question").fill("which companies have the most leads?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#answers article")).to_have_count(2)
    expect(page.locator("#answers article").first.get_by_role("table")).to_contain_text("Navy")
    screenshot(page, tmp_path, "chat")


def test_csrf_is_required(web: WebServer, alice: Page) -> None:
    page = alice
    page.goto(web.url("/dead-letters"))
    response = page.request.post(web.url("/dead-letters/purge"), form={"scope": "all"})
    assert response.status == 403


PAGES = ("/import", "/leads", "/jobs", "/dead-letters", "/orders", "/chat")


def test_axe_finds_no_serious_violation_on_any_page(
    web: WebServer, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(web.url("/signin"))
        found = {"/signin": axe_violations(page)}
        web.sign_in(context, "alice")
        for path in PAGES:
            page.goto(web.url(path))
            found[path] = axe_violations(page)
            screenshot(page, tmp_path, "axe" + path.replace("/", "-"))
        lead_id = web.services.lead_reads.list_leads("alice", _first_query())[0][0]["leadId"]
        page.goto(web.url(f"/leads/{lead_id}"))
        found["/leads/{id}"] = axe_violations(page)
        job_id = [j.job_id for j in web.services.jobs.list("alice", 1)][0]
        page.goto(web.url(f"/import?job={job_id}"))
        found["/import?job"] = axe_violations(page)
        page.goto(web.url("/chat"))
        page.get_by_label("Question").fill("which companies have the most leads?")
        page.get_by_role("button", name="Ask").click()
        expect(page.locator("#answers article")).to_have_count(1)
        found["/chat answered"] = axe_violations(page)
        # the import page with a file chosen: mapping, preview and dry run
        source = tmp_path / "axe.csv"
        source.write_text("Name,E-mail,Phone\nAda,ada@example.com,1\nBo,bad,2\n")
        page.goto(web.url("/import"))
        page.get_by_label("File", exact=True).set_input_files(str(source))
        page.get_by_role("button", name="Dry run").click()
        expect(page.locator(".dry-run")).to_be_visible()
        found["/import with a file"] = axe_violations(page)
        screenshot(page, tmp_path, "axe-import-file")
    finally:
        context.close()
    bad = {path: v for path, v in found.items() if v}
    assert not bad, describe([{"page": p, "violations": v} for p, v in bad.items()])


def _first_query():  # type: ignore[no-untyped-def]
    from leadflow.ports import LeadQuery

    return LeadQuery(q="ada")
