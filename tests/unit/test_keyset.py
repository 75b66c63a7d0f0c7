"""The cursor codec of every list (``beffroi.core.keyset``): what it encodes comes back
whole, and nothing a client can send makes it fail otherwise than with a named 422."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.core.errors import InvalidInput
from beffroi.core.keyset import INT_RANGE, decode, encode

ints = st.integers(min_value=INT_RANGE.start, max_value=INT_RANGE.stop - 1)
# Text a database stores: no NUL, no lone surrogate.
texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
offsets = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=9.5))])
# A day inside the range, so an instant in any of the offsets is one in UTC too (Hypothesis
# takes naive bounds and adds the zones).
instants = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=offsets,
)
KINDS: dict[type, st.SearchStrategy[Any]] = {int: ints, str: texts, datetime: instants}


@st.composite
def keys(draw: st.DrawFn) -> tuple[list[type], list[Any]]:
    """A list's key types, and values of them."""
    types = draw(st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=4))
    return types, [draw(KINDS[kind]) for kind in types]


@given(keys())
def test_a_cursor_gives_back_the_keys_it_was_made_of(case: tuple[list[type], list[Any]]) -> None:
    types, values = case
    cursor = encode(values)
    assert decode(cursor, types) == tuple(values)
    assert all(c.isalnum() or c in "-_" for c in cursor), "url-safe, without padding"


def _either_keys_or_refused(cursor: str, types: list[type]) -> None:
    try:
        values = decode(cursor, types)
    except InvalidInput as error:
        refused = error
    else:
        assert [type(v) for v in values] == types
        return
    assert [e.field for e in refused.errors] == ["cursor"]


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=8,
)
type_lists = st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=3)


@given(st.text(), type_lists)
def test_any_text_is_keys_or_a_named_refusal(cursor: str, types: list[type]) -> None:
    _either_keys_or_refused(cursor, types)


@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="), type_lists)
def test_any_base64_text_is_keys_or_a_named_refusal(cursor: str, types: list[type]) -> None:
    _either_keys_or_refused(cursor, types)


@given(json_values, type_lists)
def test_any_json_is_keys_or_a_named_refusal(value: Any, types: list[type]) -> None:
    text = json.dumps(value, allow_nan=True)
    _either_keys_or_refused(base64.urlsafe_b64encode(text.encode()).decode(), types)


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("[true]", [int]),  # a boolean is no id
        ("[9223372036854775808]", [int]),  # beyond BIGINT: the database would refuse it
        ('["a\\u0000"]', [str]),  # NUL: PostgreSQL refuses it in text
        ('["\\ud800"]', [str]),  # a lone surrogate is no text
        ("[1e400]", [int]),
        ("[NaN]", [datetime]),
        ("[-62135596800000001]", [datetime]),  # the microsecond before year 1
        ("[1]", [int, str]),  # another list's cursor
        ('{"0": 1}', [int]),
        ("[" * 300 + "]" * 300, [int]),
    ],
)
def test_forged_cursors_are_refused(text: str, types: list[type]) -> None:
    cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    with pytest.raises(InvalidInput) as refused:
        decode(cursor, types)
    assert refused.value.errors[0].field == "cursor"


def test_the_old_cursor_formats_are_refused() -> None:
    for old in ("1234", "1700000000.000000~abc", "%%%", "Y2hlbm92ZS1hcm1vaXJlLTE"):
        with pytest.raises(InvalidInput):
            decode(old, [int])


@pytest.mark.parametrize("value", [True, 2**63, 1.5, "a\x00", datetime(2024, 1, 1), None])  # noqa: DTZ001
def test_values_no_list_sorts_on_cannot_be_encoded(value: Any) -> None:
    with pytest.raises(ValueError, match="a cursor"):
        encode([value])
