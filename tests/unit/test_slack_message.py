"""What a lead's Slack message may contain: lead text escaped everywhere, no mention or
link from lead data, shown as written, and every value within Slack's limits."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from leadflow.notify.channels import (
    FIELD_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    lead_blocks,
    lead_label,
    lead_text,
    one_line,
    slack_escape,
)


def texts(message: dict[str, Any]) -> list[str]:
    """Every text Slack will show: the fallback, the header and each field."""
    header, section = message["blocks"]
    return [message["text"], header["text"]["text"]] + [f["text"] for f in section["fields"]]


def shown(text: str) -> str:
    """What Slack displays for an escaped text."""
    return (
        text.replace("\u2060", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def test_a_mention_in_a_name_pings_nobody() -> None:
    message = lead_blocks({"name": "<!here> Acme", "company": "<!channel>", "title": "@channel"})
    raw = json.dumps(message, ensure_ascii=False)
    assert "<!" not in raw and "<" not in raw and ">" not in raw
    assert "@channel" not in raw  # a word joiner after the @: not a mention
    assert message["text"] == "New lead: &lt;!here&gt; Acme"
    assert shown(message["blocks"][0]["text"]["text"]) == "New lead: <!here> Acme"


def test_links_and_addresses_from_lead_data_are_not_links() -> None:
    lead = {
        "name": "<http://evil.example|click me>",
        "company": "https://evil.example/x www.evil.example",
        "email": "ann@acme.io",
        "title": "#general",
    }
    message = lead_blocks(lead)
    for text in texts(message):  # what Slack would link automatically is broken up
        assert "://" not in text and "www." not in text and "@acme" not in text
        assert "acme.io" not in text and "#general" not in text and "<" not in text
    assert shown(message["text"]) == "New lead: <http://evil.example|click me>"
    assert "https://evil.example/x" in shown(message["blocks"][1]["fields"][0]["text"])
    assert "ann@acme.io" in shown(message["blocks"][1]["fields"][2]["text"])


def test_at_and_t_is_shown_as_written() -> None:
    message = lead_blocks({"name": "Ann", "company": "AT&T <Wireless>"})
    company = message["blocks"][1]["fields"][0]["text"]
    assert company == "Company\nAT&amp;T &lt;Wireless&gt;"
    assert shown(company) == "Company\nAT&T <Wireless>"
    assert message["blocks"][1]["fields"][0]["type"] == "plain_text"


def test_values_are_cut_to_slacks_limits() -> None:
    long = "A&" * 1200  # 2,400 characters, 3,600 once escaped
    message = lead_blocks({"name": "<" * 400, "company": long, "title": "x" * 2345})
    header, section = message["blocks"]
    assert len(header["text"]["text"]) <= HEADER_LIMIT
    assert len(message["text"]) <= SECTION_LIMIT
    assert all(len(field["text"]) <= FIELD_LIMIT for field in section["fields"])
    assert section["fields"][0]["text"].endswith("…")
    assert shown(section["fields"][0]["text"]).startswith("Company\nA&A&")


@given(st.dictionaries(st.sampled_from(["name", "company", "title", "email"]), st.text()))
def test_any_lead_gives_a_valid_message_that_shows_its_values(lead: dict[str, str]) -> None:
    message = lead_blocks(lead)
    for text in texts(message):
        assert 1 <= len(text) <= SECTION_LIMIT
        assert "<" not in text and ">" not in text
        assert "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    header, section = message["blocks"]
    assert len(header["text"]["text"]) <= HEADER_LIMIT
    assert all(len(field["text"]) <= FIELD_LIMIT for field in section["fields"])
    company = one_line(lead.get("company") or "")
    if company and len(company) < 1000:
        assert shown(section["fields"][0]["text"]) == f"Company\n{company}"


def test_escape_keeps_plain_words() -> None:
    assert slack_escape("Ann Lee") == "Ann Lee"


def test_the_email_subject_and_body_name_the_lead_on_one_line() -> None:
    assert lead_label({"name": None, "company": "Acme"}) == "Acme"
    assert lead_label({"email": "ann@acme.io"}) == "ann@acme.io"
    assert lead_label({}) == "unnamed lead"
    assert lead_label({"name": "Eve\r\nBcc: x@evil.io"}) == "Eve Bcc: x@evil.io"
    assert "name: Eve Bcc: x@evil.io\n" in lead_text({"name": "Eve\r\nBcc: x@evil.io"})
