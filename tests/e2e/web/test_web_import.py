"""The import page in a real browser: upload, mapping, preview, dry run, job, undo."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError
from web_server import WebServer, run_web_server, screenshot

from leadflow.bootstrap import upload_ports
from leadflow.jobs.uploads import start_upload

MESSY_CSV = (
    "\ufeffFirst Name,Surname,E-mail Address,Mobile Phone,Company Name,Internal ID,Notes\r\n"
    'Ada,Lovelace,ADA@Example.com ,(415) 555-0101,Analytical Engines,A-1,"likes, commas"\r\n'
    "Grace,Hopper,grace@example.com,4155550102,Navy,A-2,\r\n"
    "Bob,Broken,bob-at-example.com,555,Nowhere,A-3,bad email\r\n"
    "Alan,Turing,alan@example.com,not a phone,Bletchley,A-4,\r\n"
    "Ada,Lovelace,ada@example.com,+1 415 555 0101,Analytical Engines Ltd,A-5,second time\r\n"
    ",,,,,,\r\n"
)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with run_web_server(tmp_path_factory.mktemp("web-import")) as server:
        yield server


@pytest.fixture
def signed_in(web: WebServer, context: BrowserContext, page: Page) -> Page:
    web.sign_in(context, "alice")
    return page


def _choose(page: Page, path: Path) -> None:
    page.get_by_label("File", exact=True).set_input_files(str(path))
    expect(page.get_by_role("button", name="Start import")).to_be_enabled()


def _wait_for_end(page: Page, word: str = "completed") -> None:
    expect(page.get_by_role("status")).to_contain_text(word, timeout=60_000)


def _count(page: Page, scope: str, name: str) -> int:
    return int(page.locator(f"{scope} [data-count='{name}']").inner_text().replace(",", ""))


def test_messy_csv_mapping_dry_run_job_error_file_and_undo(
    web: WebServer, signed_in: Page, context: BrowserContext, tmp_path: Path
) -> None:
    page = signed_in
    source = tmp_path / "messy leads.csv"
    source.write_text(MESSY_CSV, encoding="utf-8", newline="")
    page.goto(web.url("/import"))
    _choose(page, source)
    progress = page.locator("#upload-progress")
    expect(progress).to_have_attribute("value", "100")

    # suggestions from the alias table
    expect(page.get_by_label("Import column E-mail Address as")).to_have_value("email")
    expect(page.get_by_label("Import column Surname as")).to_have_value("lastName")
    expect(page.get_by_label("Import column Company Name as")).to_have_value("company")
    expect(page.get_by_label("Import column Internal ID as")).to_have_value("")
    # "don't import" for one column, "remarks" for another: the preview follows
    page.get_by_label("Import column Internal ID as").select_option("-")
    expect(page.get_by_label("Import column Internal ID as")).to_have_value("-")
    page.get_by_label("Import column Notes as").select_option("remarks")
    expect(page.get_by_label("Import column Notes as")).to_have_value("remarks")
    # each cell's problem in the preview
    preview = page.locator("table.preview")
    expect(preview).to_contain_text("bob-at-example.com")
    expect(preview.locator("td.has-problem").first).to_contain_text("not a valid email")
    expect(preview).to_contain_text("not a recognizable phone number")
    # save the mapping by name, then pick it again
    page.get_by_label("Save this mapping as").fill("CRM export")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    assert web.services.mappings.get_mapping("alice", "CRM export") is not None

    # the dry run counts before anything is written
    page.get_by_role("button", name="Dry run").click()
    result = page.locator(".dry-run")
    expect(result).to_contain_text("nothing was written")
    assert _count(page, ".dry-run", "created") == 3
    assert _count(page, ".dry-run", "duplicates") == 1
    assert _count(page, ".dry-run", "invalid") == 1  # the bad email (blank rows are no rows)
    assert _count(page, ".dry-run", "updated") == 0
    assert web.services.lead_reads.count_leads("alice") == 0
    screenshot(page, tmp_path, "import-dry-run")

    page.get_by_role("button", name="Start import").click()
    page.wait_for_url(re.compile(r"/import\?job="))
    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    _wait_for_end(page)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    # the summary matches the dry run
    assert _count(page, "#job", "created") == 3
    assert _count(page, "#job", "duplicates") == 1
    assert _count(page, "#job", "invalid") == 1
    ada = web.services.lead_reads.list_leads("alice", _query("ada@example.com"))[0][0]
    assert ada["remarks"] == "second time" and "Internal ID" not in ada["attributes"]

    # still followed after a reload
    page.reload()
    _wait_for_end(page)
    screenshot(page, tmp_path, "import-completed")

    with page.expect_download() as result_info:
        page.get_by_role("link", name="Result file (CSV)").click()
    results = list(csv.DictReader(io.StringIO(Path(result_info.value.path()).read_text())))
    assert len(results) == 5  # one line per data row of the file, with its outcome

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Error file (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert [r["E-mail Address"] for r in rows] == ["bob-at-example.com"]
    assert "not a valid email" in rows[0]["reason"]

    # the same file again: the dry run finds every lead stored, none of them changed
    other = context.new_page()
    other.goto(web.url("/import"))
    _choose(other, source)
    expect(other.get_by_label("Import column Internal ID as")).to_have_value("")
    other.get_by_label("Saved mapping").select_option("CRM export")  # picked again
    other.get_by_role("button", name="Use mapping").click()
    expect(other.get_by_label("Import column Internal ID as")).to_have_value("-")
    expect(other.get_by_label("Import column Notes as")).to_have_value("remarks")
    other.get_by_role("button", name="Dry run").click()
    expect(other.locator(".dry-run")).to_contain_text("nothing was written")
    assert _count(other, ".dry-run", "created") == 0
    assert _count(other, ".dry-run", "updated") == 0
    assert _count(other, ".dry-run", "unchanged") == 3
    screenshot(other, tmp_path, "import-dry-run-again")
    other.close()

    # undo the first import, with its (absent) conflicts
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo import").click()
    expect(page.locator(".undo-result")).to_contain_text("3 created leads deleted")
    expect(page.locator(".undo-result")).to_contain_text("conflicts")
    assert web.services.lead_reads.count_leads("alice") == 0
    screenshot(page, tmp_path, "import-undone")


def _query(text: str):  # type: ignore[no-untyped-def]
    from leadflow.ports import LeadQuery

    return LeadQuery(q=text)


def test_xlsx_upload_with_sheet_choice(web: WebServer, signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Contacts"
    sheet.append(["Full Name", "Email", "Phone", "Company", "Opt In"])
    sheet.append(["Katherine Johnson", "kj@example.com", 4155550150, "NASA", "yes"])
    sheet.append(["Dorothy Vaughan", "dv@example.com", "4155550151", "NASA", "no"])
    book.create_sheet("Notes").append(["nothing", "here"])
    path = tmp_path / "contacts.xlsx"
    book.save(path)

    jobs_before = [j.job_id for j in web.services.jobs.list("alice", 5)]
    page.goto(web.url("/import"))
    _choose(page, path)
    expect(page.get_by_label("Sheet")).to_have_value("Contacts")
    expect(page.get_by_label("Import column Full Name as")).to_have_value("name")
    expect(page.locator("table.preview")).to_contain_text("Katherine Johnson")
    # Enter in the header-row field applies it (the setup is drawn again with it) and
    # does not start the import
    page.get_by_label("Header row").fill("1")
    with page.expect_response(re.compile(r"/preview$")):
        page.get_by_label("Header row").press("Enter")
    expect(page.get_by_label("Header row")).to_have_value("1")
    assert (
        "job=" not in page.url
        and [j.job_id for j in web.services.jobs.list("alice", 5)] == jobs_before
    )
    page.get_by_role("button", name="Start import").click()
    _wait_for_end(page)
    assert _count(page, "#job", "created") == 2
    screenshot(page, tmp_path, "xlsx-completed")
    items, _ = web.services.lead_reads.list_leads("alice", _query("kj@example.com"))
    assert items[0]["phone"] == "+14155550150" and items[0]["optIn"] is True


def test_cancel_of_a_200k_row_job(web: WebServer, signed_in: Page, tmp_path: Path) -> None:
    page = signed_in
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("name,email,company\n")
        out.writelines(f"Person {n},p{n}@big.example,Co {n % 97}\n" for n in range(200_000))
    page.goto(web.url("/import"))
    _choose(page, path)
    page.get_by_role("button", name="Start import").click()
    page.wait_for_url(re.compile(r"/import\?job="))
    expect(page.locator("#job .meta")).to_contain_text("of 200,000 rows", timeout=60_000)
    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^[1-9]\d?$"), timeout=60_000)
    page.get_by_role("button", name="Cancel").click()
    _wait_for_end(page, "cancelled")
    screenshot(page, tmp_path, "import-cancelled")
    job_id = page.url.split("job=")[1]
    document = web.services.job_document(job_id, "alice")
    assert document is not None and document["status"] == "cancelled"
    stored = web.services.lead_reads.count_leads("alice")
    assert 0 < stored < 200_000, stored


def test_another_user_cannot_follow_the_job(
    web: WebServer, context: BrowserContext, page: Page, tmp_path: Path
) -> None:
    body = [b"name,email\nAda,ada@alice.example\n"]
    job_id = start_upload(
        upload_ports(web.services), "alice", "alice.csv", body, {"pipeline": "leads"}
    )
    web.sign_in(context, "bob")
    page.goto(web.url(f"/import?job={job_id}"))
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("alert")).to_contain_text(f"There is no job {job_id}")
    response = page.goto(web.url(f"/jobs/{job_id}/panel"))
    assert response is not None and response.status == 404
    screenshot(page, tmp_path, "other-users-job")


def test_a_slow_preview_never_overwrites_a_later_save(
    web: WebServer, signed_in: Page, tmp_path: Path
) -> None:
    """A preview asked for by a column choice and still under way when "Save mapping"
    was clicked arrived after the save and replaced its answer: the "saved" notice
    vanished (seen under load). The form's requests now replace one another."""
    page = signed_in
    source = tmp_path / "slow.csv"
    source.write_text("Name,Email,Notes\nAda,ada@example.com,hi\n", encoding="utf-8")
    page.goto(web.url("/import"))
    _choose(page, source)
    held: list[Route] = []

    def hold_previews(route: Route) -> None:
        if "apply=save" in (route.request.post_data or ""):
            route.continue_()
        else:
            held.append(route)  # answered only after the save's answer is shown

    page.route("**/preview", hold_previews)
    page.get_by_label("Import column Notes as").select_option("remarks")
    for _ in range(100):  # the browser sends the preview: it is held
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the column choice asked for no preview"
    page.get_by_label("Save this mapping as").fill("Slow one")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    try:
        held[0].continue_()  # the old preview's answer comes now, if it is still wanted
    except PlaywrightError:
        pass  # the browser dropped it: the save replaced it
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(page.get_by_label("Import column Notes as")).to_have_value("remarks")
