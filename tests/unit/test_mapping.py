"""pipelines.mapping: explicit column mappings are checked, never silently ignored."""

from __future__ import annotations

import pytest

from leadflow.pipelines.mapping import InvalidMapping, check_mapped_columns, parse_column_mapping


def test_pairs_are_parsed_from_repeated_and_comma_separated_specs() -> None:
    assert parse_column_mapping(["E-mail=email, Org=company", "Nom=name"]) == {
        "E-mail": "email",
        "Org": "company",
        "Nom": "name",
    }


@pytest.mark.parametrize("spec", ["Nom=fullname", "Mail=Email", "x=fname", "x=bogus"])
def test_a_target_must_be_a_canonical_lead_field(spec: str) -> None:
    with pytest.raises(InvalidMapping, match="is not a lead field; the fields are name, first"):
        parse_column_mapping([spec])


def test_mapped_columns_must_be_in_the_file_compared_like_headers() -> None:
    check_mapped_columns({"e mail": "email"}, ["E-Mail", "Name"])  # same header key
    with pytest.raises(InvalidMapping, match="'Nom', which the file does not have; its columns"):
        check_mapped_columns({"Nom": "name", "E-Mail": "email"}, ["E-Mail", "Name"])
