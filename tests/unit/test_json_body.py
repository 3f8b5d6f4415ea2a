"""parse_json_body: numbers out of range refused with their reason, and the byte-scan
shortcut never lets through what the full walk would refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.api.errors import ApiError
from leadflow.api.json_body import parse_json_body
from leadflow.domain.json_values import MAX_DEPTH, unstorable_reason

texts = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('\ud800\udfff\\[]{}"'))
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=60,
)


def nested(value: Any, depth: int) -> Any:
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@given(values, st.integers(min_value=0, max_value=40))
def test_refuses_exactly_what_the_full_walk_refuses(value: Any, depth: int) -> None:
    document = nested(value, depth)
    raw = json.dumps(document, ensure_ascii=bool(depth % 2)).encode("utf-8", "surrogatepass")
    expected = unstorable_reason(document, MAX_DEPTH + 2)
    if expected is None:
        assert parse_json_body(raw) == document
    else:
        with pytest.raises(ApiError) as caught:
            parse_json_body(raw)
        assert caught.value.status == 400 and caught.value.code == "invalid_json"


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E309", "2e308"])
def test_a_float_that_overflows_is_refused_not_made_infinite(number: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_body(f'{{"qty": {number}}}'.encode())
    assert caught.value.code == "number_out_of_range"
    assert number in caught.value.message


def test_integers_are_exact_up_to_the_digit_limit() -> None:
    assert parse_json_body(b"[99999999999999999999]") == [99999999999999999999]
    assert parse_json_body(("[" + "9" * 4000 + "]").encode()) == [int("9" * 4000)]
    with pytest.raises(ApiError) as caught:
        parse_json_body(("[" + "9" * 4301 + "]").encode())
    assert caught.value.code == "number_out_of_range" and "4,301 digits" in caught.value.message


@pytest.mark.parametrize("raw", [b"[NaN]", b"[Infinity]", b"[-Infinity]", b"{", b"\xff"])
def test_what_is_not_json_is_400(raw: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_body(raw)
    assert caught.value.status == 400
