"""The identity rules: primary first, ids as strings, `|` inside ids."""

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from linked_accounts.identities import (
    IdentityFormatError,
    find,
    parse_identities,
    profile_identities,
    read_fields,
    split_user_id,
    with_primary_profile,
)

ADA = [
    {"provider": "auth0", "user_id": "6500a1", "connection": "Username-Password-Authentication"},
    {
        "provider": "github",
        "user_id": 1234567,
        "connection": "github",
        "isSocial": True,
        "profileData": {"nickname": "ada-codes", "name": "Ada"},
    },
    {
        "provider": "samlp",
        "user_id": "acme-saml|ada@acme.test",
        "connection": "acme-saml",
        "profileData": {"email": "ada@acme.test"},
    },
]


def test_first_identity_is_the_primary_and_only_it():
    identities = parse_identities(ADA)
    assert [i.is_primary for i in identities] == [True, False, False]


def test_numeric_github_id_is_read_as_a_string_and_found_by_its_key():
    github = parse_identities(ADA)[1]
    assert github.user_id == "1234567"
    assert github.key == "github|1234567"
    assert find(parse_identities(ADA), "github|1234567") == github


def test_an_id_containing_a_pipe_keeps_everything_after_the_first_pipe():
    saml = find(parse_identities(ADA), "samlp|acme-saml|ada@acme.test")
    assert saml is not None
    assert saml.user_id == "acme-saml|ada@acme.test"
    assert split_user_id("samlp|acme-saml|ada@acme.test") == ("samlp", "acme-saml|ada@acme.test")


@pytest.mark.parametrize("bad", ["github", "|x", "github|", ""])
def test_split_user_id_refuses_what_is_not_an_auth0_id(bad):
    with pytest.raises(ValueError):
        split_user_id(bad)


def test_find_does_not_match_on_a_prefix_or_another_provider():
    identities = parse_identities(ADA)
    assert find(identities, "github|123456") is None
    assert find(identities, "google-oauth2|1234567") is None
    assert find(identities, "samlp|acme-saml") is None


def test_detail_prefers_email_then_username():
    identities = parse_identities(ADA)
    assert identities[1].detail == "ada-codes"
    assert identities[2].detail == "ada@acme.test"


def test_primary_takes_the_profile_email_because_auth0_sends_no_profile_data_for_it():
    primary = with_primary_profile(parse_identities(ADA), "ada@example.com", "Ada")[0]
    assert primary.detail == "ada@example.com"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"provider": "x"},
        [{"user_id": "1"}],
        [{"provider": "github"}],
        [{"provider": "github", "user_id": True}],
        [{"provider": "github", "user_id": ""}],
        ["github|1"],
    ],
)
def test_malformed_identity_lists_are_refused(bad):
    with pytest.raises(IdentityFormatError):
        parse_identities(bad)


def test_the_profile_list_is_the_parsed_list_with_the_primarys_profile_each_time_it_is_read():
    expected = with_primary_profile(parse_identities(ADA), "ada@example.com", "Ada")
    first = profile_identities(ADA, "ada@example.com", "Ada")
    again = profile_identities(json.loads(json.dumps(ADA)), "ada@example.com", "Ada")
    assert list(first) == list(again) == expected
    assert profile_identities(ADA, "other@example.com", None)[0].email == "other@example.com"
    with pytest.raises(AttributeError):
        first.append(expected[0])  # remembered, so no view can change what the next one reads


def test_a_remembered_list_pickles_as_what_it_was_made_from_and_as_exactly():
    ada = profile_identities(ADA, "ada@example.com", "Ada")
    assert b"Identity" not in pickle.dumps(ada)  # one bytes value, not an object per identity
    assert pickle.loads(pickle.dumps(ada)) == ada  # noqa: S301 - our own pickle
    same = profile_identities(json.loads(json.dumps(ADA)), "ada@example.com", "Ada")
    assert pickle.dumps(same) == pickle.dumps(ada)
    for other in (
        profile_identities(ADA[:2], "ada@example.com", "Ada"),
        profile_identities(ADA, "ada@example.org", "Ada"),
        profile_identities(ADA, Markup("ada@example.com"), "Ada"),  # drawn unescaped: not equal
    ):
        assert pickle.dumps(other) != pickle.dumps(ada)
    assert type(profile_identities(ADA, Markup("<b>a</b>"), None)[0].email) is Markup
    assert type(profile_identities(ADA, "<b>a</b>", None)[0].email) is str


def test_a_list_read_again_after_a_change_is_the_changed_list():
    profile_identities(ADA, None, None)
    unlinked = ADA[:2]
    assert [i.key for i in profile_identities(unlinked, None, None)] == [
        "auth0|6500a1",
        "github|1234567",
    ]
    renamed = json.loads(json.dumps(ADA))
    renamed[1]["profileData"]["nickname"] = "ada-renamed"
    assert profile_identities(renamed, None, None)[1].detail == "ada-renamed"


@pytest.mark.parametrize(
    "bad",
    [
        tuple(ADA),  # JSON would read it as a list: refused as parse_identities refuses it
        [{"provider": "github", "user_id": True}],
        [{"provider": "github", "user_id": 1.5}],
        [{"provider": "github", "user_id": float("nan")}],
    ],
)
def test_the_profile_list_refuses_what_parse_identities_refuses(bad):
    for _ in range(2):  # a refusal is not remembered as a list
        with pytest.raises(IdentityFormatError):
            profile_identities(bad, None, None)


def test_values_json_cannot_hold_are_read_as_they_are():
    unencodable = [{**ADA[0], "profileData": {"name": "\ud800"}}, ADA[1]]  # a lone surrogate
    listed = profile_identities(unencodable, None, None)
    assert listed == with_primary_profile(parse_identities(unencodable), None, None)
    assert listed[0].name == "\ud800"


_TEXT = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
_PROFILE = st.dictionaries(
    st.sampled_from(["email", "name", "username", "nickname", "picture", "family_name"]), _TEXT
)
_IDENTITY = st.fixed_dictionaries(
    {},
    optional={
        "provider": _TEXT,
        "user_id": _TEXT,
        "connection": _TEXT,
        "isSocial": _TEXT,
        "profileData": st.one_of(_PROFILE, _TEXT),
        "access_token": _TEXT,  # Auth0 sends tokens of some providers: never kept
        "expires_in": _TEXT,
    },
)


@given(st.one_of(st.lists(st.one_of(_IDENTITY, _TEXT), max_size=4), _TEXT, _PROFILE))
def test_what_the_cache_keeps_parses_exactly_as_what_auth0_answered(raw):
    try:
        expected = parse_identities(raw)
    except IdentityFormatError:
        with pytest.raises(IdentityFormatError):
            parse_identities(read_fields(raw))
        return
    assert parse_identities(read_fields(raw)) == expected
    for item in read_fields(raw):
        assert "access_token" not in item and "picture" not in item.get("profileData", {})
