"""The web app over HTTP (no browser): headers, sessions, CSRF, isolation, escaping,
the setup code, and a dry run that predicts exactly what the import then does."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path

import httpx
import openpyxl
import pytest
from api_server import PASSWORDS, LiveApi, live_api

from leadflow.adapters.sqlite_db import connect
from leadflow.bootstrap import upload_ports, worker_ports
from leadflow.domain.merge import ImportMode, MergePolicy
from leadflow.jobs.uploads import start_upload
from leadflow.jobs.worker import Worker
from leadflow.pipelines.importing import ImportOptions, import_file, import_records
from leadflow.security import hash_password, issue_token
from leadflow.web.import_plan import DONT_IMPORT, build_preview, dry_run
from leadflow.web.setup_code import code_path, consume_setup_code, ensure_setup_code

PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)  # not a file of records: its job ends in error
PAGES = ("/import", "/leads", "/jobs", "/dead-letters", "/orders", "/chat")


def _browser(api: LiveApi, user: str | None = "alice") -> httpx.Client:
    """A cookie-keeping client, signed in through the form when `user` is given."""
    client = httpx.Client(base_url=api.base_url, timeout=30.0)
    if user is not None:
        page = client.get("/signin")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/signin",
            data={"csrf": token.group(1), "username": user, "password": PASSWORDS[user]},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/import"
    return client


def _csrf(client: httpx.Client) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/leads").text)
    assert match is not None
    return match.group(1)


@pytest.fixture
def api(tmp_path: Path):  # type: ignore[no-untyped-def]
    with live_api(tmp_path / "data") as server:
        yield server


def test_pages_need_a_session_and_send_a_strict_csp(api: LiveApi) -> None:
    anonymous = httpx.Client(base_url=api.base_url)
    for path in PAGES:
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin", path
    client = _browser(api)
    session = next(c for c in client.cookies.jar if c.name == "leadflow_session")
    assert session.has_nonstandard_attr("HttpOnly")
    assert session.get_nonstandard_attr("SameSite", "").lower() == "strict"
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, path
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        # no inline script block anywhere (every <script> loads a file)
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path
    static = client.get("/static/htmx-2.0.11.min.js")
    assert static.status_code == 200 and "htmx" in static.text
    assert "content-security-policy" not in client.get("/v1/leads").headers  # the API's own


def test_state_changes_need_the_csrf_token(api: LiveApi) -> None:
    client = _browser(api)
    api.services.dead_letters.add([{"kind": "batch", "jobId": "x"}], "alice", "boom")
    refused = client.post("/dead-letters/purge", data={"scope": "all"})
    assert refused.status_code == 403
    forged = client.post("/dead-letters/purge", data={"scope": "all", "csrf": "0" * 64})
    assert forged.status_code == 403
    assert api.services.dead_letters.depth("alice") == 1
    allowed = client.post("/dead-letters/purge", data={"scope": "all", "csrf": _csrf(client)})
    assert allowed.status_code == 303 and api.services.dead_letters.depth("alice") == 0
    # sign-in is protected too (login CSRF)
    fresh = httpx.Client(base_url=api.base_url)
    answer = fresh.post("/signin", data={"username": "alice", "password": PASSWORDS["alice"]})
    assert answer.status_code == 403 and "leadflow_session" not in fresh.cookies


def test_each_user_sees_only_their_own_data(api: LiveApi, tmp_path: Path) -> None:
    options = ImportOptions(owner="alice", source="api")
    import_records(
        api.services.write_ports(ledgered=False),
        [{"name": "Ada", "email": "ada@a.example"}],
        options,
        None,
    )
    lead_id = api.services.lead_reads.list_leads("alice", _query())[0][0]["leadId"]
    alice, bob = _browser(api, "alice"), _browser(api, "bob")
    assert "ada@a.example" in alice.get("/leads").text
    assert "ada@a.example" not in bob.get("/leads").text
    assert bob.get(f"/leads/{lead_id}").status_code == 404
    assert "ada@a.example" not in bob.get("/leads/export.csv").text

    token = _csrf(alice)
    staged = alice.post(
        "/import/files",
        files={"file": ("a.csv", b"name,email\nZoe,zoe@a.example\n", "text/csv")},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert staged.status_code == 200
    staged_id = re.search(r"/import/files/([0-9a-f]{32})/", staged.text)
    assert staged_id is not None
    bob_token = _csrf(bob)
    for action in ("preview", "dry-run", "start"):
        answer = bob.post(
            f"/import/files/{staged_id.group(1)}/{action}", headers={"X-CSRF-Token": bob_token}
        )
        assert answer.status_code == 404, action
    started = alice.post(
        f"/import/files/{staged_id.group(1)}/start",
        data={"header": ["name", "email"], "field": ["name", "email"]},
        headers={"X-CSRF-Token": token},
    )
    assert started.status_code == 303
    job_id = started.headers["location"].split("job=")[1]
    assert alice.get(f"/jobs/{job_id}/panel").status_code == 200
    assert bob.get(f"/jobs/{job_id}/panel").status_code == 404
    assert bob.get(f"/jobs/{job_id}/errors.csv").status_code == 404
    assert job_id not in bob.get("/jobs").text
    undo = bob.post(f"/jobs/{job_id}/undo", headers={"X-CSRF-Token": bob_token})
    assert undo.status_code == 404


def test_lead_text_is_escaped(api: LiveApi) -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    options = ImportOptions(owner="alice", source="api")
    record = {"name": evil, "email": "evil@a.example", "company": evil, evil: evil}
    import_records(api.services.write_ports(ledgered=False), [record], options, evil)
    client = _browser(api)
    lead_id = api.services.lead_reads.list_leads("alice", _query())[0][0]["leadId"]
    for path in ("/leads", f"/leads/{lead_id}"):
        text = client.get(path).text
        assert "<script>alert(1)" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_setup_code_is_used_once(tmp_path: Path) -> None:
    code = ensure_setup_code(tmp_path)
    assert ensure_setup_code(tmp_path) == code  # stable until used
    assert oct(code_path(tmp_path).stat().st_mode & 0o777) == "0o600"
    assert not consume_setup_code(tmp_path, "AAAA-BBBB-CCCC")
    assert consume_setup_code(tmp_path, code.lower())
    assert not consume_setup_code(tmp_path, code)
    assert not code_path(tmp_path).exists()


def test_first_run_form_creates_the_first_user_only(tmp_path: Path) -> None:
    from api_server import run_server

    from leadflow.bootstrap import bootstrap
    from leadflow.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, rate_limit=0)  # type: ignore[call-arg]
    services = bootstrap(settings)
    with run_server(services) as base_url:
        client = httpx.Client(base_url=base_url)
        page = client.get("/")
        assert page.status_code == 200 and "Setup code" in page.text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert token is not None
        form = {"csrf": token.group(1), "username": "root", "password": "long-enough-pw"}
        assert client.post("/setup", data={**form, "code": "NOPE"}).status_code == 403
        code = code_path(tmp_path).read_text().strip()
        created = client.post("/setup", data={**form, "code": code})
        assert created.status_code == 303 and services.users.has_users()
        again = httpx.Client(base_url=base_url).get("/")
        assert again.status_code == 303 and again.headers["location"] == "/signin"


def _query():  # type: ignore[no-untyped-def]
    from leadflow.ports import LeadQuery

    return LeadQuery()


FILE = (
    "First Name,Email,Phone,Company,Internal ID\n"
    "Ada,ada@example.com,4155550101,Analytical,1\n"
    "Grace,grace@example.com,,Navy,2\n"
    "Bad,not-an-email,,X,3\n"
    "Ada,ADA@example.com,4155550101,Analytical Engines,4\n"
    "NoKey,,,Keyless Co,5\n"
    "Phone Only,,+44 20 7946 0958,,6\n"
)


@pytest.mark.parametrize(
    ("mode", "policy"),
    [
        (ImportMode.CREATE_AND_UPDATE, MergePolicy.REPLACE),
        (ImportMode.CREATE_AND_UPDATE, MergePolicy.FILL),
        (ImportMode.CREATE_ONLY, MergePolicy.REPLACE),
        (ImportMode.UPDATE_ONLY, MergePolicy.REPLACE),
    ],
)
def test_dry_run_predicts_the_import(
    api: LiveApi, tmp_path: Path, mode: ImportMode, policy: MergePolicy
) -> None:
    services = api.services
    store = services.lead_reads
    existing = [
        {"name": "Grace Hopper", "email": "grace@example.com", "company": "Navy"},  # unchanged?
        {"name": "Ada", "email": "ada@example.com", "company": "Old Co"},
    ]
    ports = services.write_ports(ledgered=False)
    import_records(ports, existing, ImportOptions(owner="alice", source="api"), None)
    path = tmp_path / "leads.csv"
    path.write_text(FILE)
    chosen = {"Internal ID": DONT_IMPORT}
    predicted = dry_run(services.lead_repo, path, path.name, "alice", chosen, mode, policy, "US")
    before = store.count_leads("alice")
    assert store.count_leads("alice") == before  # the dry run wrote nothing
    summary = import_file(
        ports,
        path,
        ImportOptions(owner="alice", mode=mode, policy=policy, mapping={"Internal ID": "-"}),
    )
    counts = {name: getattr(summary, name) for name in ("created", "invalid", "duplicates")}
    assert counts == {
        "created": predicted.created,
        "invalid": predicted.invalid,
        "duplicates": predicted.duplicates,
    }, (summary, predicted)
    unchanged = getattr(summary, "unchanged", None)
    if unchanged is None:  # the summary counts unchanged leads as updated
        assert summary.updated == predicted.updated + predicted.unchanged
    else:
        assert (summary.updated, unchanged) == (predicted.updated, predicted.unchanged)
    for lead in store.list_leads("alice", _query())[0]:
        assert "Internal ID" not in lead["attributes"]  # "don't import" left it out


def test_preview_shows_each_cells_problem(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(FILE)
    preview = build_preview(path, path.name, {"Internal ID": DONT_IMPORT}, "US")
    assert [c.chosen for c in preview.columns] == ["firstName", "email", "phone", "company", "-"]
    assert [c.suggested for c in preview.columns][:4] == ["firstName", "email", "phone", "company"]
    bad = preview.rows[2]
    assert bad.rejected and bad.cells[1].problem and "not a valid email" in bad.cells[1].problem
    assert not preview.rows[0].rejected and all(c.problem is None for c in preview.rows[0].cells)


def test_eta_is_said_in_words() -> None:
    import datetime as dt

    from leadflow.web.routes.jobs import eta_text, seconds_left

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    running = {"status": "processing", "metadata": {"estimatedCompletion": "2026-01-01T00:02:00Z"}}
    assert seconds_left(running, now) == 120
    assert seconds_left({**running, "status": "completed"}, now) is None
    assert seconds_left({"status": "processing", "metadata": {}}, now) is None
    assert [eta_text(s) for s in (None, 5, 120, 7500)] == [
        None,
        "about 5 s left",
        "about 2 min left",
        "about 2 h 5 min left",
    ]


def test_pages_are_not_kept_by_the_browser(api: LiveApi) -> None:
    """After signing out, the back button must ask the server again, not show a copy."""
    client = _browser(api)
    for path in (*PAGES, "/signin", "/leads/export.csv"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    static = client.get("/static/app.css")
    assert "no-store" not in static.headers.get("cache-control", "")
    assert "cache-control" not in client.get("/v1/leads").headers  # the API's own headers


def test_web_errors_are_pages_with_a_sentence(api: LiveApi) -> None:
    """Errors on web addresses are pages (or fragments), not the API's JSON envelope."""
    client = _browser(api)
    token = _csrf(client)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "There is no page at this address." in missing.text
    assert 'role="alert"' in missing.text and "Sign out" in missing.text  # the whole page
    broken = client.post(
        "/import/files",
        content=b"garbage",
        headers={"X-CSRF-Token": token, "content-type": "multipart/form-data; boundary=zz"},
    )
    assert broken.status_code == 400 and broken.headers["content-type"].startswith("text/html")
    assert "reload the page" in broken.text and '{"error"' not in broken.text
    fragment = client.post(
        "/import/files",
        content=b"garbage",
        headers={
            "X-CSRF-Token": token,
            "HX-Request": "true",
            "content-type": "multipart/form-data; boundary=zz",
        },
    )
    assert fragment.status_code == 400 and fragment.text.startswith('<p class="error"')
    fresh = httpx.Client(base_url=api.base_url)
    page = fresh.get("/signin")
    signin_token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert signin_token is not None
    too_long = fresh.post(
        "/signin", data={"csrf": signin_token.group(1), "username": "x" * 500, "password": "y"}
    )
    assert too_long.status_code == 422 and too_long.headers["content-type"].startswith("text/html")
    assert "username: String should have at most 64 characters" in too_long.text
    wrong_method = client.put("/leads")
    assert wrong_method.status_code == 405 and "kind of request" in wrong_method.text
    # the API keeps its JSON envelope
    api_missing = client.get("/v1/no-such-thing")
    assert api_missing.json()["error"]["code"] == "not_found"


def _stage(client: httpx.Client, token: str, name: str, body: bytes) -> str:
    staged = client.post(
        "/import/files",
        files={"file": (name, body, "text/csv")},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert staged.status_code == 200, staged.text
    match = re.search(r"/import/files/([0-9a-f]{32})/", staged.text)
    assert match is not None
    return match.group(1)


def test_a_file_with_many_columns_can_be_dry_run_and_started(api: LiveApi) -> None:
    """The import form carries two fields a column: 600 columns is 1,200 fields, over
    Starlette's default limit of 1,000 (the dry run and the start answered 400)."""
    client = _browser(api)
    token = _csrf(client)
    headers = ["email", *(f"extra {n}" for n in range(599))]
    values = ["wide@example.com", *(str(n) for n in range(599))]
    body = (",".join(headers) + "\n" + ",".join(values) + "\n").encode()
    staged_id = _stage(client, token, "wide.csv", body)
    form = {"csrf": token, "header": headers, "field": ["email", *([""] * 599)]}
    dry = client.post(f"/import/files/{staged_id}/dry-run", data=form)
    assert dry.status_code == 200, dry.text[-500:]
    assert 'data-count="created">1<' in dry.text
    started = client.post(f"/import/files/{staged_id}/start", data=form)
    assert started.status_code == 303, started.text[-500:]


def test_starting_the_same_file_twice_follows_the_first_job(api: LiveApi) -> None:
    """A double click on "Start import" (or the back button, then Start again) must not
    end on "this file is no longer here": the second start follows the first job."""
    client = _browser(api)
    token = _csrf(client)
    staged_id = _stage(client, token, "twice.csv", b"email,name\ntwice@example.com,Twice\n")
    form = {"csrf": token, "header": ["email", "name"], "field": ["email", "name"]}
    first = client.post(f"/import/files/{staged_id}/start", data=form)
    second = client.post(f"/import/files/{staged_id}/start", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    job_id = first.headers["location"].split("job=")[1]
    assert [j.job_id for j in api.services.jobs.list("alice", 10)] == [job_id]
    htmx = client.post(
        f"/import/files/{staged_id}/start",
        data=form,
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == f"/import?job={job_id}"
    # the file itself is gone: preview and dry run say so
    gone = client.post(f"/import/files/{staged_id}/dry-run", data=form)
    assert gone.status_code == 404 and "choose it again" in gone.text
    bob = _browser(api, "bob")
    stolen = bob.post(f"/import/files/{staged_id}/start", data={**form, "csrf": _csrf(bob)})
    assert stolen.status_code == 404 and job_id not in stolen.text


def test_dry_run_of_exactly_the_limit_is_not_called_partial(tmp_path: Path, api: LiveApi) -> None:
    """A file of exactly the dry run's row limit is counted whole: the page must not say
    "Counted over the first N rows" (a 200,000-row file said so)."""
    path = tmp_path / "leads.csv"
    rows = "".join(f"p{n}@example.com\n" for n in range(10_000))  # two batches of 5,000
    path.write_text("email\n" + rows)
    store = api.services.lead_repo
    args = (store, path, path.name, "alice", None, ImportMode.CREATE_AND_UPDATE)
    whole = dry_run(*args, MergePolicy.REPLACE, "US", max_rows=10_000)
    assert whole.received == 10_000 and not whole.truncated
    partial = dry_run(*args, MergePolicy.REPLACE, "US", max_rows=5_000)
    assert partial.received == 5_000 and partial.truncated


def test_an_empty_file_says_so_and_offers_no_import(api: LiveApi) -> None:
    """An empty file showed an empty mapping, "nothing was imported" and a Start button."""
    client = _browser(api)
    token = _csrf(client)
    for body in (b"", b"\xef\xbb\xbf", b"\r\n\r\n"):
        answer = client.post(
            "/import/files",
            files={"file": ("empty.csv", body, "text/csv")},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert answer.status_code == 422, body
        assert 'role="alert"' in answer.text and "empty.csv" in answer.text
        assert "Start import" not in answer.text and "Dry run" not in answer.text


def test_suggestions_are_said_with_the_field_names_people_read(api: LiveApi) -> None:
    """The "Suggested" column showed the API's keys (firstName) next to "First name"."""
    client = _browser(api)
    body = b"Vorname,E-mail Address,Internal ID\nAda,ada@example.com,1\n"
    answer = client.post(
        "/import/files",
        files={"file": ("names.csv", body, "text/csv")},
        headers={"X-CSRF-Token": _csrf(client), "HX-Request": "true"},
    )
    mapping = answer.text.split('<table class="mapping">')[1].split("</table>")[0]
    suggested = re.findall(r"</select>\s*</td>\s*<td>([^<]*)</td>", mapping)
    assert suggested == ["First name", "Email", "Keep as attribute"], suggested


def _sign_in_form(client: httpx.Client, user: str = "alice") -> httpx.Response:
    page = client.get("/signin")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    form = {"csrf": token.group(1), "username": user, "password": PASSWORDS[user]}
    return client.post("/signin", data=form)


def test_signing_in_again_returns_to_the_page_that_asked(api: LiveApi) -> None:
    """A session that ends on a job's page (or any page) comes back there after signing
    in again, not to the empty import page; only local pages are returned to."""
    client = httpx.Client(base_url=api.base_url)
    asked = client.get("/import?job=abc")
    assert asked.status_code == 303 and asked.headers["location"] == "/signin"
    signed_in = _sign_in_form(client)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/import?job=abc"
    assert "leadflow_next" not in client.cookies  # used once
    again = _sign_in_form(client)
    assert again.headers["location"] == "/import"
    # htmx polling a job when the session ends: back to the page the browser shows
    fresh = httpx.Client(base_url=api.base_url)
    poll = fresh.get(
        "/jobs/abc/panel",
        headers={"HX-Request": "true", "HX-Current-URL": f"{api.base_url}/import?job=abc"},
    )
    assert poll.status_code == 401 and poll.headers["HX-Redirect"] == "/signin"
    assert _sign_in_form(fresh).headers["location"] == "/import?job=abc"
    for evil in ("//evil.example/x", "/\\evil.example", "https://evil.example/", "/signout"):
        tricked = httpx.Client(base_url=api.base_url, cookies={"leadflow_next": evil})
        assert _sign_in_form(tricked).headers["location"] == "/import", evil


def test_dead_letter_actions_redirect_so_a_reload_sends_nothing(api: LiveApi) -> None:
    """Redrive and delete answered the POST with the page, so reloading it sent the form
    again; now they redirect to the list, which says what was done."""
    client = _browser(api)
    for n in range(3):
        api.services.dead_letters.add([{"kind": "batch", "jobId": f"j{n}"}], "alice", "boom")
    token = _csrf(client)
    nothing = client.post("/dead-letters/redrive", data={"csrf": token})
    assert (
        nothing.status_code == 303 and nothing.headers["location"] == "/dead-letters?tick=redrive"
    )
    assert "Tick the dead letters to redrive first." in client.get(nothing.headers["location"]).text
    first = api.services.dead_letters.list("alice")[0].id
    one = client.post("/dead-letters/purge", data={"csrf": token, "id": str(first)})
    assert one.headers["location"] == "/dead-letters?deleted=1"
    page = client.get(one.headers["location"])
    assert "1 deleted for good." in page.text and "2 dead letters." in page.text
    every = client.post("/dead-letters/redrive", data={"csrf": token, "scope": "all"})
    assert every.headers["location"] == "/dead-letters?redriven=2"
    assert "2 sent back to the queue." in client.get(every.headers["location"]).text
    odd = client.get("/dead-letters?redriven=<script>&tick=<b>")
    assert odd.status_code == 200 and "<script>" not in odd.text and 'role="status"' not in odd.text


def test_preview_shows_json_values_as_json(tmp_path: Path) -> None:
    """A JSON file's nested values were previewed in Python's spelling ({'a': 1}, True)."""
    path = tmp_path / "leads.json"
    path.write_text(
        '[{"email": "j@example.com", "optIn": true, "tags": ["a", "b"], "meta": {"k": "é"}}]'
    )
    preview = build_preview(path, path.name, None, "US")
    row = zip(preview.columns, preview.rows[0].cells, strict=True)
    cells = {column.header: cell.value for column, cell in row}
    assert cells == {
        "email": "j@example.com",
        "optIn": "true",
        "tags": '["a", "b"]',
        "meta": '{"k": "é"}',
    }


def test_the_sheet_select_shows_the_sheet_that_was_previewed(api: LiveApi) -> None:
    """With no sheet chosen the reader previews the first sheet with a header (here the
    second), but the select showed the first sheet, and the dry run and the start sent
    that one: the preview showed two leads and the import read none."""
    from openpyxl import Workbook

    book = Workbook()
    intro = book.active
    assert intro is not None
    intro.title = "Intro"
    intro.append(["This sheet is not data"])
    leads = book.create_sheet("Leads")
    leads.append(["Email", "Full Name"])
    leads.append(["xl1@example.com", "Excel One"])
    leads.append(["xl2@example.com", "Excel Two"])
    body = io.BytesIO()
    book.save(body)
    client = _browser(api)
    token = _csrf(client)
    staged = client.post(
        "/import/files",
        files={"file": ("book.xlsx", body.getvalue(), "application/octet-stream")},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    staged_id = re.search(r"/import/files/([0-9a-f]{32})/", staged.text)
    assert staged_id is not None
    select = staged.text.split('id="sheet"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]+)"( selected)?>', select)
    # what the browser sends: the selected option, else the first (hx-include="#import-form")
    sent = next((value for value, chosen in options if chosen), options[0][0])
    preview = staged.text.split('<table class="preview">')[1].split("</table>")[0]
    previewed = preview.count('<th scope="row">')
    dry = client.post(
        f"/import/files/{staged_id.group(1)}/dry-run", data={"csrf": token, "sheet": sent}
    )
    created = re.search(r'data-count="created">([\d,]+)<', dry.text)
    assert created is not None and int(created.group(1)) == previewed, (sent, previewed)


def test_a_header_row_or_sheet_that_does_not_work_keeps_the_form(api: LiveApi) -> None:
    """A header row past the end (or a sheet that is not there) replaced the whole form
    with an error: the file had to be chosen again to change the number back."""
    client = _browser(api)
    token = _csrf(client)
    staged_id = _stage(client, token, "short.csv", b"email,name\na@example.com,A\n")
    answer = client.post(
        f"/import/files/{staged_id}/preview",
        data={"csrf": token, "headerRow": "9999"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200 and "Start import" in answer.text
    assert 'id="header-row"' in answer.text
    assert "With header row 9999, it has no rows to import" in answer.text
    assert 'value=""' in answer.text.split('id="header-row"')[1].split(">")[0]
    assert "a@example.com" in answer.text  # the file as read without the choice


def test_two_starts_at_the_same_moment_start_one_job(api: LiveApi) -> None:
    """A double click sends both requests at once: only one job may start."""
    from concurrent.futures import ThreadPoolExecutor

    client = _browser(api)
    token = _csrf(client)
    rows = b"".join(b"p%d@example.com,P\n" % n for n in range(2000))
    staged_id = _stage(client, token, "race.csv", b"email,name\n" + rows)
    form = {"csrf": token, "header": ["email", "name"], "field": ["email", "name"]}
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda _: client.post(f"/import/files/{staged_id}/start", data=form), range(2))
        )
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert len([j.job_id for j in api.services.jobs.list("alice", 10)]) == 1


def test_a_password_reset_signs_out_every_browser_session_issued_before(api: LiveApi) -> None:
    """The session cookie carries the password's mark as the API's tokens do: setting the
    password again (as `leadflow users passwd` does, through the user store) ends it."""
    first, second = _browser(api), _browser(api)
    assert first.get("/leads").status_code == 200 and second.get("/leads").status_code == 200
    api.services.users.add_user("alice", hash_password("a-new-Pa55word!"), "2026-01-02")
    for client in (first, second):
        asked = client.get("/leads")
        assert asked.status_code == 303 and asked.headers["location"] == "/signin"
        poll = client.get("/jobs", headers={"HX-Request": "true"})
        assert poll.status_code == 401 and poll.headers["HX-Redirect"] == "/signin"
    assert _browser(api, "bob").get("/leads").status_code == 200  # bob's password stayed
    fresh = httpx.Client(base_url=api.base_url)
    page = fresh.get("/signin")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    form = {"csrf": token.group(1), "username": "alice", "password": "a-new-Pa55word!"}
    assert fresh.post("/signin", data=form).status_code == 303
    assert fresh.get("/leads").status_code == 200


def test_a_session_cookie_without_the_password_mark_is_refused(api: LiveApi) -> None:
    # A token signed with the right key but carrying no password mark (or another
    # password's mark) cannot be used as a session.
    for token in (
        issue_token(api.services.secret, "alice", 3600),
        issue_token(api.services.secret, "alice", 3600, hash_password("not-her-password")),
    ):
        client = httpx.Client(base_url=api.base_url, cookies={"leadflow_session": token})
        answer = client.get("/leads")
        assert answer.status_code == 303 and answer.headers["location"] == "/signin"


HOSTILE_LEADS = [
    {"name": "Eve Formula", "email": "eve@evil.example", "company": "=1+1",
     "phone": "+14155550107", "Notes": "-2+3", "title": "Müller"},
    {"name": "Real Number", "email": "num@evil.example", "company": "-12.5"},
    {"name": "Other Person", "email": "other@elsewhere.example", "company": "Elsewhere"},
]  # fmt: skip


def _hostile_leads(api: LiveApi) -> None:
    import_records(
        api.services.write_ports(ledgered=False),
        HOSTILE_LEADS,
        ImportOptions(owner="alice"),
        "h.csv",
    )
    # control characters as an older version or another entry point may have stored them
    # (leadflow's own connection: it registers the search column's trigger function)
    with connect(api.services.settings.db_path) as db:
        db.execute(
            "UPDATE leads SET name = 'Eve' || char(19) || ' Formula', "
            "remarks = '-2+3' || char(0) WHERE email = 'eve@evil.example'"
        )


def test_web_export_csv_is_the_apis_export_of_the_current_filter(api: LiveApi) -> None:
    _hostile_leads(api)
    client = _browser(api)
    answer = client.get("/leads/export.csv", params={"q": "evil.example", "sort": "email"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbfleadId,")  # the BOM: Excel reads UTF-8
    text = answer.content.decode("utf-8-sig")
    assert "\x00" not in text and "\x13" not in text
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"eve@evil.example", "num@evil.example"}  # the filter, not all
    eve = rows["eve@evil.example"]
    assert eve["name"] == "Eve Formula"  # control characters removed
    assert eve["company"] == "'=1+1" and eve["remarks"] == "'-2+3"  # formulas defused
    assert eve["phone"] == "+14155550107" and eve["title"] == "Müller"
    assert rows["num@evil.example"]["company"] == "-12.5"  # a real number stays


def test_web_export_xlsx_is_the_apis_export_of_the_current_filter(api: LiveApi) -> None:
    _hostile_leads(api)
    client = _browser(api)
    answer = client.get("/leads/export.xlsx", params={"q": "evil.example"})
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content)  # written whole
    assert answer.headers["x-removed-control-characters"] == "2"
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    by_email = {row[header.index("email")]: row for row in rows[1:]}
    assert set(by_email) == {"eve@evil.example", "num@evil.example"}
    eve = by_email["eve@evil.example"]
    assert eve[header.index("name")] == "Eve Formula"
    assert eve[header.index("company")] == "'=1+1"
    assert eve[header.index("remarks")] == "'-2+3"
    assert eve[header.index("phone")] == "+14155550107"
    assert by_email["num@evil.example"][header.index("company")] == "-12.5"


def test_web_export_never_hands_over_a_silently_truncated_file(api: LiveApi) -> None:
    rows = [{"name": f"P {i}", "email": f"p{i}@x.io"} for i in range(2500)]
    import_records(
        api.services.write_ports(ledgered=False), rows, ImportOptions(owner="alice"), "big.csv"
    )
    # one row of the second page is damaged on disk: reading it fails half-way
    with sqlite3.connect(api.services.settings.db_path) as db:
        db.execute("UPDATE leads SET attributes = '{broken' WHERE email = 'p1500@x.io'")
    client = _browser(api)
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("GET", "/leads/export.csv") as answer:
            assert answer.status_code == 200
            for _ in answer.iter_bytes():
                pass
    broken = client.get("/leads/export.xlsx")  # written before it is sent: an error page
    assert broken.status_code == 500 and "content-disposition" not in broken.headers
    assert not broken.content.startswith(b"PK")  # no workbook, not even half of one
    # a page with a sentence (the API's JSON envelope answered it before)
    assert broken.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in broken.text and '{"error"' not in broken.text
    assert "content-security-policy" in broken.headers
    assert client.get("/leads").status_code == 200  # and the connection goes on


def test_reader_messages_on_the_import_page_name_the_choice_not_cli_syntax(
    api: LiveApi,
) -> None:
    """The preview said "(choose another with --sheet / ?sheet=)" and "Use --header-row /
    ?headerRow=" to a person in a browser, and "sheet ... was imported" before anything was."""
    from openpyxl import Workbook

    book = Workbook()
    leads = book.active
    assert leads is not None
    leads.title = "Leads"
    leads.append(["Exported from CRM"])
    leads.append(["Email", "Full Name"])
    leads.append(["xl1@example.com", "Excel One"])
    book.create_sheet("Notes").append(["Email"])
    body = io.BytesIO()
    book.save(body)
    client = _browser(api)
    staged = client.post(
        "/import/files",
        files={"file": ("book.xlsx", body.getvalue(), "application/octet-stream")},
        headers={"X-CSRF-Token": _csrf(client), "HX-Request": "true"},
    )
    assert staged.status_code == 200
    warnings = " ".join(re.findall(r'<p class="warning">([^<]*)</p>', staged.text))
    assert "sheet &#39;Leads&#39; was read (choose another sheet" in warnings, warnings
    assert "If the header is on another line, choose the header row." in warnings
    for cli_or_api in ("--sheet", "?sheet=", "--header-row", "?headerRow=", "was imported"):
        assert cli_or_api not in warnings, cli_or_api


def test_a_file_name_is_shown_as_uploaded_and_escaped_with_a_safe_blob_key(
    api: LiveApi,
) -> None:
    """`</script>.csv` was shown as `script>.csv`: the name was cut at `/`."""
    name = "</script>.csv"
    client = _browser(api)
    token = _csrf(client)
    staged = client.post(
        "/import/files",
        files={"file": (name, b"name,email\nZoe,zoe@a.example\n", "text/csv")},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert staged.status_code == 200
    match = re.search(r"/import/files/([0-9a-f]{32})/", staged.text)
    assert match is not None
    staged_id = match.group(1)
    shown = re.search(r'<p class="filename">([^<]*?) · ', staged.text)
    assert shown is not None and shown.group(1) == "&lt;/script&gt;.csv"
    assert "</script>.csv" not in staged.text
    with api.services.blobs.open(f"staged/{staged_id}/note.json") as stream:
        note = json.loads(stream.read())
    assert note["fileName"] == name
    key = note["key"]
    assert key.startswith(f"staged/{staged_id}/") and re.fullmatch(r"[\w./-]+", key), key
    assert ".." not in key and "<" not in key
    started = client.post(
        f"/import/files/{staged_id}/start",
        data={"header": ["name", "email"], "field": ["name", "email"]},
        headers={"X-CSRF-Token": token},
    )
    assert started.status_code == 303
    job_id = started.headers["location"].split("job=")[1]
    job = api.services.jobs.get(job_id, "alice")
    assert job is not None and job.file_name == name  # as the API keeps an upload's name
    assert job.blob_key is not None and "<" not in job.blob_key
    jobs = client.get("/jobs").text
    assert "&lt;/script&gt;.csv" in jobs and "</script>.csv" not in jobs


def test_a_file_named_like_the_staging_note_keeps_its_content(api: LiveApi) -> None:
    """The staged file and its note shared a folder: a file named `note.json` was
    overwritten by the note, and the preview showed the note's fields as the file."""
    client = _browser(api)
    token = _csrf(client)
    body = b'[{"email": "nora@a.example", "name": "Nora Note"}]'
    staged = client.post(
        "/import/files",
        files={"file": ("note.json", body, "application/json")},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert staged.status_code == 200
    assert "nora@a.example" in staged.text and "fileName" not in staged.text


def _run_jobs(api: LiveApi) -> None:
    worker = Worker(worker_ports(api.services))
    while worker.run_once():
        pass


def test_undo_is_offered_only_for_a_job_that_applied_something(api: LiveApi) -> None:
    """'Undo import' was offered on a job that ended in error having written nothing."""
    services = api.services
    csv_body = b"name,email\nUna Undo,una@a.example\n"
    broken = start_upload(
        upload_ports(services), "alice", "picture.csv", [PNG], {"pipeline": "leads"}
    )
    applied = start_upload(
        upload_ports(services), "alice", "leads.csv", [csv_body], {"pipeline": "leads"}
    )
    _run_jobs(api)
    again = start_upload(
        upload_ports(services), "alice", "again.csv", [csv_body], {"pipeline": "leads"}
    )
    _run_jobs(api)
    client = _browser(api)

    def panel(job_id: str) -> str:
        answer = client.get(f"/jobs/{job_id}/panel", headers={"HX-Request": "true"})
        assert answer.status_code == 200
        return answer.text

    failed = panel(broken)
    assert "status-error" in failed, failed  # it ended in error, before writing anything
    assert "Undo import" not in failed and "Nothing to undo" in failed
    unchanged = panel(again)  # completed, every row unchanged: nothing was written
    assert "status-completed" in unchanged and 'data-count="unchanged">1<' in unchanged
    assert "Undo import" not in unchanged and "Nothing to undo" in unchanged
    created = panel(applied)
    assert 'data-count="created">1<' in created
    assert "Undo import" in created and "Nothing to undo" not in created
    undone = client.post(f"/jobs/{applied}/undo", headers={"X-CSRF-Token": _csrf(client)})
    assert undone.status_code == 200 and "1 created leads deleted" in undone.text
