"""What end users read never names the vendor, and is complete in every locale: every message of
the catalog, and every page and error the app draws, in English and every shipped language.

The catalog holds only end-user text (administrators' details go to the log), so a message that
says "Auth0" is a bug unless the host chose that name (LINKED_ACCOUNTS_PROVIDER_NAME).
"""

from __future__ import annotations

import re

import pytest
from authlib.integrations.base_client import OAuthError

from linked_accounts import refusals
from linked_accounts.auth0 import management as m
from linked_accounts.purposes import Resumable
from linked_accounts.refusals import (
    AlreadyUnlinked,
    InvalidRequest,
    LoginRequired,
    NotAuthenticated,
    SessionRefreshRequired,
)
from linked_accounts.signin import trips
from linked_accounts.web import unrouted
from linked_accounts.web.templating import render
from tests.support import tenant as t
from tests.support.visitor import Visitor
from tests.test_i18n import ACCEPT, CATALOGS, PHRASES, _page_text, assert_english, assert_language

VENDOR = re.compile(r"\bAuth0\b")
LANGUAGES = {"en": "en", **ACCEPT}


def _check(html: str, lang: str) -> None:
    """No vendor name where the user reads, and the page entirely in its language."""
    text = _page_text(html)
    assert not VENDOR.search(text), f"'Auth0' on an end-user page ({lang}): {text}"
    if lang == "en":
        assert_english(html)
    else:
        assert_language(lang, html)


@pytest.mark.parametrize("lang", CATALOGS)
def test_every_message_is_translated_and_none_names_the_vendor(lang):
    seen = 0
    for message in CATALOGS[lang]:
        if not message.id:
            continue
        seen += 1
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"untranslated or fuzzy: {message.id!r}"
        for text in (*ids, *strings):
            assert not VENDOR.search(text), f"end-user text names the vendor: {text!r}"
    assert seen > 100  # the whole catalog was walked, not an empty one


def _failures() -> list:
    """Every refusal the pages can show, built as the app builds them."""
    errors = [
        m.Forbidden("x", status=403),
        m.NotFound("x", status=404),
        m.Conflict("x", status=409),
        m.Timeout("x"),
        m.ConnectionFailed("x"),
        m.BadResponse("x", status=200),
        m.Unavailable("x", status=503),
        m.BadRequest("Some developer text", status=400),
        m.RateLimited("x", status=429),
        m.Forbidden("Insufficient scope, expected any of: a,b", status=403,
                    code="insufficient_scope"),
    ]  # fmt: skip
    return [
        *(refusals.from_auth0(error) for error in errors),
        refusals.scope_not_granted("update:current_user_identities"),
        refusals.self_deletion_not_granted("GitHub"),
        AlreadyUnlinked("GitHub"),
        AlreadyUnlinked(),
        InvalidRequest("x"),
        NotAuthenticated(),
        LoginRequired(),
        SessionRefreshRequired(Resumable.UNLINK, {}),
        unrouted.not_found(),
        unrouted.method_not_allowed(),
    ]


OAUTH_ERRORS = [
    ("access_denied", "Service not found: https://x/api/v2/"),
    ("access_denied", "User cancelled the login"),
    ("access_denied", "Client is not authorized to access https://x/api/v2/"),
    ("access_denied", "Weekends only (an Action's own reason)"),
    ("login_required", None),
    ("temporarily_unavailable", None),
    ("invalid_request", None),
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_page_is_in_the_readers_language_without_the_vendor_name(make_app, lang):
    app = make_app()
    headers = {"Accept-Language": LANGUAGES[lang]}
    drawn = 0
    with app.test_request_context("/account/", headers=headers):
        for failure in _failures():
            html = render("linked_accounts/error.html", failure=failure)
            assert failure.message in _page_text(html) or failure.message in html
            _check(html, lang)
            drawn += 1
        for error, description in OAUTH_ERRORS:
            reason = trips._oauth_reason(OAuthError(error=error, description=description))
            html = render("linked_accounts/login_failed.html", reason=reason)  # trips.refuse's
            _check(html, lang)
            drawn += 1
        for for_change in (False, True):
            html = render(
                "linked_accounts/other_account.html",
                who="grace@example.com",
                asked_for="ada@example.com",
                for_change=for_change,
            )
            _check(html, lang)
    assert drawn == len(_failures()) + len(OAUTH_ERRORS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_of_a_visit_is_in_the_readers_language_without_the_vendor_name(
    make_app, serve, tenant, lang
):
    visitor = Visitor(serve(make_app(OFFER_DELETE_SEPARATED="1", LINK_CONNECTIONS="github")))
    visitor.login()
    visitor.http.headers["Accept-Language"] = LANGUAGES[lang]
    pages = [visitor.get("/account/"), visitor.confirm_page(t.ADA_GITHUB)]
    button = {"en": "Unlink GitHub", "de": "Verknüpfung mit GitHub aufheben"}.get(lang)
    button = button or PHRASES[lang]["unlink"]
    unlinked = visitor.press(pages[-1], button)
    pages.append(unlinked)
    offer = re.search(r'href="([^"]*separated/delete[^"]*)"', unlinked.text)
    assert offer, "the deletion of the separated account is offered"
    pages.append(visitor.get(offer.group(1).replace("&amp;", "&")))
    pages.append(visitor.get("/account/no-such-page"))
    pages.append(visitor.http.put(visitor.base + "/account/refresh", timeout=10))
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 404, 405]
    for page in pages:
        _check(page.text, lang)


def test_a_host_that_wants_the_vendor_named_gets_it(make_app):
    app = make_app(LINKED_ACCOUNTS_PROVIDER_NAME="Auth0")
    with app.test_request_context("/account/"):
        failure = refusals.from_auth0(m.ConnectionFailed("x"))
    assert failure.message == (
        "There is no connection to Auth0 just now. Please try again in a moment."
    )


def test_a_profile_with_one_sign_in_method_does_not_speak_of_the_others(make_app, serve, tenant):
    visitor = Visitor(serve(make_app()))
    alone = visitor.login("Ben Carter")  # one sign-in method, nothing linked
    assert "Your profile's main account: it cannot be unlinked." in alone.text
    assert "the others are linked to it" not in alone.text
    several = Visitor(serve(make_app())).login("Ada Lovelace")
    assert "the others are linked to it, so it cannot be unlinked." in several.text


def test_the_list_says_when_it_was_updated(make_app, serve, tenant):
    page = Visitor(serve(make_app())).login("Ada Lovelace")
    assert re.search(r'<p class="la-read-at">Updated [^<]* ago, at <time', page.text), page.text
    assert "Last read" not in page.text


def _link_confirmation(make_app, serve, **config):
    visitor = Visitor(serve(make_app(LINK_CONNECTIONS="github", **config)))
    visitor.login("Ben Carter")
    return visitor.press(visitor.get("/account/"), "Link GitHub").text


def test_a_merge_says_what_the_person_keeps_and_loses_in_their_words(make_app, serve, tenant):
    page = _link_confirmation(make_app, serve)
    text = _page_text(page)
    for plumbing in ("user id", "metadata", "does not move by itself", "so that it can move it"):
        assert plumbing not in text, plumbing
    assert "You keep this profile (Email and password, ben@example.com)" in text
    assert "and everything you have here" in text
    assert "Your settings and preferences from the account that stops being separate are lost" in (
        text
    )
    assert "If something is missing afterwards, contact this site's support." in text


def test_the_sites_support_is_linked_where_the_pages_send_people_to_it(make_app, serve, tenant):
    page = _link_confirmation(make_app, serve, SUPPORT_URL="https://help.example.com/?a=1&b=2")
    assert (
        '<a href="https://help.example.com/?a=1&amp;b=2">contact this site\'s support</a>' in page
    )
    visitor = Visitor(serve(make_app(SUPPORT_URL="mailto:help@example.com")))
    visitor.login("Ada Lovelace")
    unlink = visitor.confirm_page(t.ADA_GITHUB).text
    assert 'ask <a href="mailto:help@example.com">this site\'s support</a> to delete' in unlink
