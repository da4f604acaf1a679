"""The tenant's login page helps people choose right: the account `login_hint` names comes first,
marked in words and focused, and no two accounts on the page share a button name."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from devtenant.account_chooser import choices
from tests.support.tenant import ADA_GOOGLE, MAYA, MAYA_GITHUB, MAYA_LOOKALIKE
from tests.support.tenant_api import ADA, auth, claims, http, identity_url
from tests.support.tenant_login import authorize_params, login

PASSWORD = "Username-Password-Authentication"


@dataclass
class Choice:
    """One account button as a screen reader meets it."""

    name: str  # the accessible name: the button's text
    identity: str  # what pressing it signs in with
    description: str  # the text of the elements its aria-describedby names
    autofocus: bool


class _Chooser(HTMLParser):
    """The account buttons, and the text of every element with an id (for aria-describedby)."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[dict[str, str | None]] = []
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the elements open now
        self._button: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._open.append((tag, values.get("id")))
        if values.get("id"):
            self.texts[str(values["id"])] = ""
        if tag == "button" and values.get("name") == "account":
            self._button = {**values, "text": ""}

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.texts[element_id] += data
        if self._button is not None:
            self._button["text"] = f"{self._button['text']}{data}"

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break
        if tag == "button" and self._button is not None:
            self.buttons.append(self._button)
            self._button = None


def chooser(html: str) -> list[Choice]:
    """The login page's account buttons, in page order."""
    parser = _Chooser()
    parser.feed(html)

    def text(value: str | None) -> str:
        return " ".join((value or "").split())

    return [
        Choice(
            name=text(b["text"]),
            identity=str(b["value"]),
            description=text(
                " ".join(parser.texts.get(i, "") for i in str(b.get("aria-describedby")).split())
            ),
            autofocus="autofocus" in b,
        )
        for b in parser.buttons
    ]


def login_page(tenant: str, **extra: str) -> list[Choice]:
    """GET /authorize (no SSO session) and read its account buttons."""
    response = http.get(
        f"{tenant}/authorize", params=authorize_params(tenant, **extra), allow_redirects=False
    )
    assert response.status_code == 200, response.text[:300]
    return chooser(response.text)


def test_the_account_login_hint_names_comes_first_marked_in_words_and_focused(tenant):
    # A proof sign-in as the extension starts one: the account's connection and its email
    # (any case: Auth0 keeps database emails in lower case).
    page = login_page(tenant, connection=PASSWORD, login_hint="Maya@Example.com")
    assert [c.name for c in page] == [
        "Continue as Maya Patel",
        "Continue as Ada Lovelace",
        "Continue as Ben Carter",
    ]
    asked, *others = page
    assert asked.identity == MAYA
    assert asked.description.startswith("Asked for")
    assert asked.autofocus
    assert not any(c.autofocus or "Asked for" in c.description for c in others)


@pytest.mark.parametrize("hint", [None, "nobody@example.com"])
def test_without_an_account_of_the_hinted_email_nothing_is_marked_or_focused(tenant, hint):
    page = login_page(tenant, connection=PASSWORD, login_hint=hint)
    assert [c.name for c in page] == [
        "Continue as Ada Lovelace",
        "Continue as Ben Carter",
        "Continue as Maya Patel",
    ]
    assert not any(c.autofocus or "Asked for" in c.description for c in page)


def test_every_account_of_the_hinted_email_is_marked_and_the_first_is_focused(tenant):
    # Without a connection one email can name several accounts (Maya's two and the look-alike):
    # each is marked, none is chosen for the person.
    page = login_page(tenant, login_hint="maya@example.com")
    assert [c.identity for c in page[:3]] == [MAYA, MAYA_GITHUB, MAYA_LOOKALIKE]
    assert all(c.description.startswith("Asked for") for c in page[:3])
    assert [c.autofocus for c in page[:3]] == [True, False, False]
    assert not any(c.autofocus or "Asked for" in c.description for c in page[3:])


def test_after_an_unlink_the_two_accounts_named_alike_say_their_method_and_email(tenant):
    token = login(tenant, "Ada Lovelace")["access_token"]
    unlink = http.delete(
        identity_url(tenant, ADA, "google-oauth2", "109876543210987654321"), headers=auth(token)
    )
    assert unlink.status_code == 200, unlink.text
    page = login_page(tenant, login_hint="ada@example.com")
    names = [c.name for c in page]
    assert len(set(names)) == len(names)
    assert names[0] == "Continue as Ada Lovelace with password (ada@example.com)"
    assert "Continue as Ada Lovelace with Google (ada.lovelace@gmail.com)" in names
    assert "Continue as Ada Lovelace" not in names
    # A name no other account has keeps the plain label.
    assert "Continue as Ben Carter" in names and "Continue as Maya Patel" in names
    assert page[0].identity == ADA and page[0].autofocus
    separated = login(tenant, "Ada Lovelace with Google (ada.lovelace@gmail.com)")
    assert claims(separated["id_token"])["sub"] == ADA_GOOGLE


def account(name: str, email: str, connection: str, identity: str) -> dict[str, str]:
    """One login choice as the store gives it."""
    return {"name": name, "email": email, "connection": connection, "identity": identity}


def test_names_that_differ_only_in_case_or_spacing_are_told_apart():
    listed = choices(
        [
            account("Maya Patel", "maya@example.com", PASSWORD, MAYA),
            account("maya  patel", "m.patel@example.com", "github", MAYA_GITHUB),
        ],
        "",
    )
    assert [c["label"] for c in listed] == [
        "Continue as Maya Patel with password (maya@example.com)",
        "Continue as maya patel with GitHub (m.patel@example.com)",
    ]


def test_accounts_alike_in_name_method_and_email_are_told_apart_by_their_id():
    listed = choices(
        [
            account("Sam", "sam@example.com", "github", "github|1"),
            account("Sam", "sam@example.com", "github", "github|2"),
            account("Sam", "", "google-oauth2", "google-oauth2|3"),
        ],
        "sam@example.com",
    )
    assert [c["label"] for c in listed] == [
        "Continue as Sam with GitHub (sam@example.com, github|1)",
        "Continue as Sam with GitHub (sam@example.com, github|2)",
        "Continue as Sam with Google (google-oauth2|3)",
    ]
    assert [c["hinted"] for c in listed] == [True, True, False]
