"""Unit tests for leadflow.domain.headers: header auto-mapping and explicit mappings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.headers import (
    LEAD_FIELDS,
    MAPPABLE_FIELDS,
    header_key,
    map_headers,
    parse_mapping,
    resolve_field,
)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("EMAIL", "email"),
        (" e_mail ", "email"),
        ("Work Email", "email"),
        ("First Name", "firstName"),
        ("first_name", "firstName"),
        ("fname", "firstName"),
        ("Given Name", "firstName"),
        ("Last Name", "lastName"),
        ("Surname", "lastName"),
        ("Full Name", "name"),
        ("Name", "name"),
        ("Company Name", "company"),
        ("Organisation", "company"),
        ("Account Name", "company"),
        ("Phone Number", "phone"),
        ("Mobile Phone", "phone"),
        ("Tel.", "phone"),
        ("Job Title", "title"),
        ("Notes", "remarks"),
        ("Opt-In", "optIn"),
        ("Marketing Opt In", "optIn"),
        ("Tags", "interests"),
    ],
)
def test_common_spellings_map_to_fields(header: str, field: str) -> None:
    assert map_headers([header]) == {header: field}
    assert resolve_field(header) == field


@pytest.mark.parametrize("header", ["Favourite Colour", "Lead Score", "", "   ", "#", "emails2"])
def test_unknown_headers_map_to_none(header: str) -> None:
    assert map_headers([header]) == {header: None}
    assert resolve_field(header) is None


def test_header_key_ignores_case_spaces_and_punctuation() -> None:
    assert header_key("E-mail Address ") == "emailaddress"
    assert header_key("First_Name") == "firstname"
    assert header_key("  Opt-In? ") == "optin"


@pytest.mark.parametrize("field", LEAD_FIELDS)
def test_field_names_resolve_to_themselves(field: str) -> None:
    assert resolve_field(field) == field
    assert map_headers([field]) == {field: field}


def test_a_second_column_for_the_same_field_stays_an_attribute() -> None:
    headers = ["Email", "E-mail", "Email Address", "First Name", "fname"]
    assert map_headers(headers) == {
        "Email": "email",
        "E-mail": None,
        "Email Address": None,
        "First Name": "firstName",
        "fname": None,
    }


def test_first_header_in_order_takes_the_field() -> None:
    assert map_headers(["Work Email", "Email"]) == {"Work Email": "email", "Email": None}


def test_explicit_mapping_wins_over_the_guess() -> None:
    # 'Email' would be guessed as email, but the explicit mapping gives it to 'Backup Mail'
    result = map_headers(
        ["Email", "Backup Mail", "Org"], explicit={"Backup Mail": "email", "Org": "company"}
    )
    assert result == {"Email": None, "Backup Mail": "email", "Org": "company"}


def test_explicit_mapping_matches_headers_loosely() -> None:
    result = map_headers(["CONTACT-E-MAIL", "Colour"], explicit={"contact e mail": "email"})
    assert result == {"CONTACT-E-MAIL": "email", "Colour": None}


def test_explicit_mapping_can_rename_a_known_header() -> None:
    result = map_headers(["Company", "Employer"], explicit={"Company": "remarks"})
    assert result == {"Company": "remarks", "Employer": "company"}


def test_taken_fields_are_not_guessed() -> None:
    result = map_headers(["Email", "Phone"], taken=["email"])
    assert result == {"Email": None, "Phone": "phone"}


def test_map_headers_keeps_every_header() -> None:
    headers = ["Email", "Colour", "Phone", "Score"]
    result = map_headers(headers)
    assert list(result) == headers


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        (["E-mail=email"], {"E-mail": "email"}),
        (["E-mail=email", "Org=company"], {"E-mail": "email", "Org": "company"}),
        (["E-mail=email, Org=company"], {"E-mail": "email", "Org": "company"}),
        ([" Org = Company Name "], {"Org": "company"}),  # an alias resolves to its field
        (["Given=first name"], {"Given": "firstName"}),
        (["Opt=optIn"], {"Opt": "optIn"}),
        (["A=email,,", ""], {"A": "email"}),  # empty parts are ignored
        ([], {}),
    ],
)
def test_parse_mapping(specs: list[str], expected: dict[str, str]) -> None:
    assert parse_mapping(specs) == expected


@pytest.mark.parametrize("spec", ["bad", "=email", "Email=", "  =  ", "Email"])
def test_parse_mapping_rejects_malformed_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="Column=field"):
        parse_mapping([spec])


@pytest.mark.parametrize("spec", ["Colour=colour", "E-mail=emails", "X=leadScore"])
def test_parse_mapping_rejects_unknown_fields(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown field") as info:
        parse_mapping([spec])
    # the message lists the fields one may use
    assert "firstName" in str(info.value)


@given(st.lists(st.sampled_from(["Email", "E-mail", "Phone", "Mobile", "Name", "Notes", "X"])))
def test_each_field_is_mapped_at_most_once(headers: list[str]) -> None:
    headers = list(dict.fromkeys(headers))
    result = map_headers(headers)
    fields = [f for f in result.values() if f is not None]
    assert len(fields) == len(set(fields))
    assert set(result) == set(headers)


@given(st.text(max_size=20))
def test_resolve_field_is_none_or_a_lead_field(name: str) -> None:
    assert resolve_field(name) in (*MAPPABLE_FIELDS, None)


def test_each_json_record_is_mapped_on_its_own() -> None:
    """Another record's spelling of a field never steals it (JSON keys vary per record)."""
    from leadflow.pipelines.shaping import RecordShaper

    shaper = RecordShaper()
    assert shaper.shape({"Email": "a@x.com"}) == ({"email": "a@x.com"}, {})
    assert shaper.shape({"email": "b@x.com", "First Name": "B"}) == (
        {"email": "b@x.com", "firstName": "B"},
        {},
    )
    # within one record the first spelling wins and the second is kept as an attribute
    assert shaper.shape({"Email": "a@x.com", "e-mail": "b@x.com"}) == (
        {"email": "a@x.com"},
        {"e-mail": "b@x.com"},
    )


# --- the headers of well-known exports and languages --------------------------------------

GOOGLE_CONTACTS = {
    "Given Name": "firstName",
    "Family Name": "lastName",
    "Name Prefix": "salutation",
    "Name Suffix": "nameSuffix",
    "E-mail 1 - Value": "email",
    "E-mail 1 - Type": None,
    "E-mail 2 - Value": None,
    "Phone 1 - Value": "phone",
    "Organization 1 - Name": "company",
    "Organization 1 - Title": "title",
    "Birthday": None,
}
OUTLOOK = {
    "Title": "salutation",  # beside Job Title it is the courtesy title
    "First Name": "firstName",
    "Last Name": "lastName",
    "Suffix": "nameSuffix",
    "Company": "company",
    "Job Title": "title",
    "Business Phone": "phone",
    "Mobile Phone": None,
    "E-mail Address": "email",
    "Notes": "remarks",
}
LINKEDIN = {
    "First Name": "firstName",
    "Last Name": "lastName",
    "URL": None,
    "Email Address": "email",
    "Company": "company",
    "Position": "title",
    "Connected On": None,
}
SALESFORCE = {
    "Salutation": "salutation",
    "First Name": "firstName",
    "Last Name": "lastName",
    "Title": "title",  # no job-title column beside it: Salesforce's Title is the job
    "Account Name": "company",
    "Phone": "phone",
    "Email": "email",
    "Description": "remarks",
}
PIPEDRIVE = {
    "Person - Name": "name",
    "Person - Email - Work": "email",
    "Person - Phone - Work": "phone",
    "Person - Organization": "company",
    "Person - Job title": "title",
}
HUBSPOT = {
    "First Name": "firstName",
    "Last Name": "lastName",
    "Email": "email",
    "Phone Number": "phone",
    "Company Name": "company",
    "Job Title": "title",
    "Lifecycle Stage": None,
}
MAILCHIMP = {
    "Email Address": "email",
    "First Name": "firstName",
    "Last Name": "lastName",
    "Phone Number": "phone",
    "TAGS": "interests",
    "MEMBER_RATING": None,
}
ZOHO = {
    "Salutation": "salutation",
    "First Name": "firstName",
    "Last Name": "lastName",
    "Email": "email",
    "Phone": "phone",
    "Designation": "title",
    "Company": "company",
    "Email Opt Out": None,  # the opposite of an opt-in: never mapped to optIn
}


@pytest.mark.parametrize(
    "export",
    [GOOGLE_CONTACTS, OUTLOOK, LINKEDIN, SALESFORCE, PIPEDRIVE, HUBSPOT, MAILCHIMP, ZOHO],
    ids=[
        "google",
        "outlook",
        "linkedin",
        "salesforce",
        "pipedrive",
        "hubspot",
        "mailchimp",
        "zoho",
    ],
)
def test_well_known_exports_map_automatically(export: dict[str, str | None]) -> None:
    assert map_headers(export) == export


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Prénom", "Nom", "Téléphone", "Courriel", "Société", "Civilité"],
            ["firstName", "lastName", "phone", "email", "company", "salutation"],
        ),
        (
            ["Vorname", "Nachname", "E-Mail-Adresse", "Telefonnummer", "Firma", "Anrede"],
            ["firstName", "lastName", "email", "phone", "company", "salutation"],
        ),
        (
            ["Nombre", "Apellidos", "Correo electrónico", "Teléfono", "Empresa", "Cargo"],
            ["firstName", "lastName", "email", "phone", "company", "title"],
        ),
        (
            ["Nome", "Sobrenome", "E-mail", "Telemóvel", "Organização", "Função"],
            ["firstName", "lastName", "email", "phone", "company", "title"],
        ),
        (
            ["Nome", "Cognome", "Indirizzo email", "Cellulare", "Azienda", "Ruolo"],
            ["firstName", "lastName", "email", "phone", "company", "title"],
        ),
        (
            ["Voornaam", "Achternaam", "E-mailadres", "Telefoonnummer", "Bedrijf", "Functie"],
            ["firstName", "lastName", "email", "phone", "company", "title"],
        ),
    ],
    ids=["fr", "de", "es", "pt", "it", "nl"],
)
def test_localized_headers_map_accent_blind(headers: list[str], expected: list[str]) -> None:
    assert list(map_headers(headers).values()) == expected
    # the same headers without their accents, or in capitals, map the same way
    stripped = [header_key(h) for h in headers]
    assert list(map_headers(stripped).values()) == expected
    assert list(map_headers([h.upper() for h in headers]).values()) == expected


@pytest.mark.parametrize(
    "header", ["Notiz", "Bemerkung", "Kommentar", "Remarque", "Comentario", "Opmerking"]
)
def test_singular_note_headers_are_remarks(header: str) -> None:
    """A German export's `Notiz` (one note) is as much the remarks as `Notizen`."""
    assert resolve_field(header) == "remarks"


def test_header_key_folds_accents() -> None:
    assert header_key("Prénom") == "prenom"
    assert header_key("Téléphone") == "telephone"
    assert header_key("Straße") == "strasse"


def test_a_bare_title_column_alone_is_the_job_title() -> None:
    assert map_headers(["Name", "Title"]) == {"Name": "name", "Title": "title"}
    assert map_headers(["Title", "Job Title"]) == {"Title": "salutation", "Job Title": "title"}
