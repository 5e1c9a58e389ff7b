"""Named bearer tokens: parsing and matching."""

from __future__ import annotations

import pytest

from streams.ingest.tokens import TokenError, Tokens, parse_tokens


def test_tokens_from_the_variable_and_a_file_each_keep_their_name() -> None:
    tokens = parse_tokens("crm:s3cret, pbx:other", "# a comment\nwfm:third\n\n")
    assert tokens.names == ("crm", "pbx", "wfm")
    assert tokens.match("Bearer s3cret") == "crm"
    assert tokens.match("bearer third") == "wfm"


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic s3cret", "Bearer s3cre", "Bearer s3cret1"]
)
def test_anything_but_an_exact_token_matches_no_name(header: str | None) -> None:
    assert parse_tokens("crm:s3cret").match(header) is None


def test_a_token_may_hold_colons_and_hashes() -> None:
    assert parse_tokens("crm:a:b#c").match("Bearer a:b#c") == "crm"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("crm", "entry 1 must be name:token"),
        ("crm:", "entry 1 must be name:token"),
        ("crm:zz9,:zz9", "entry 2 must be name:token"),
        ("c rm:zz9", "token name 'c rm'"),
        ("crm:zz9,crm:zz9", "given twice"),
    ],
)
def test_bad_entries_are_named_without_the_token(text: str, message: str) -> None:
    with pytest.raises(TokenError, match=message) as caught:
        parse_tokens(text)
    assert "zz9" not in str(caught.value)


def test_no_tokens_is_empty() -> None:
    assert parse_tokens("") == Tokens()
    assert Tokens().match("Bearer x") is None
