"""The at-login door, the page's side, over real HTTP: the Action's token as Auth0's
`api.redirect.encodeToken` makes it (minted here with the shared secret), the question, the proof
sign-in at the development tenant, and the signed answer the browser takes to Auth0's /continue.
Forged, expired, replayed and misshapen tokens never lead to /continue."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OctKey

from linked_accounts import accounts_merged, merged_at_login
from tests.support import tenant as t
from tests.support.forms import forms, submit
from tests.support.visitor import Visitor

SECRET = "at-login-test-secret-0123456789abcdef"
STATE = "suspended-login-state"


def ref(user_id: str, connection: str, created_at: str, email: str = "maya@example.com") -> dict:
    return {
        "user_id": user_id,
        "provider": user_id.split("|")[0],
        "connection": connection,
        "created_at": created_at,
        "email": email,
    }


MAYA_OLD = ref(t.MAYA, "Username-Password-Authentication", "2024-03-04T09:30:00.000Z")
MAYA_NEW = ref(t.MAYA_GITHUB, "github", "2025-06-01T10:00:00.000Z")


def action_token(tenant: str, current: dict, candidates: list[dict], **over) -> str:
    """What the Action's api.redirect.encodeToken sends: iss, sub, iat, exp, the payload."""
    now = int(time.time())
    claims = {
        "iss": urlsplit(tenant).netloc,  # the tenant's hostname, as Auth0 puts it
        "sub": current["user_id"],
        "iat": now,
        "exp": now + 300,
        "current_identity": current,
        "candidate_identities": candidates,
        **over,
    }
    key = OctKey.import_key(over.pop("secret", SECRET).encode())
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key)


@pytest.fixture
def door_app(make_app, tmp_path):
    return make_app(AT_LOGIN_SECRET=SECRET, INSTANCE_PATH=str(tmp_path))


@pytest.fixture
def visitor(door_app, serve):
    return Visitor(serve(door_app))


def open_door(visitor: Visitor, token: str, state: str = STATE) -> requests.Response:
    return visitor.get("/account/at-login", params={"session_token": token, "state": state})


def answer_of(page: requests.Response, tenant: str) -> dict:
    """The answer the page sends back to Auth0's /continue, by POST (read, not sent), checked as
    the Action's api.redirect.validateToken would."""
    assert page.status_code == 200, page.text[:300]
    assert page.headers["Cache-Control"] == "no-store"
    (form,) = [f for f in forms(page.text) if f.action.startswith(f"{tenant}/continue?")]
    assert form.method == "post"
    assert parse_qs(urlsplit(form.action.replace("&amp;", "&")).query)["state"] == [STATE]
    assert "session_token" not in form.action  # never in an address
    decoded = jwt.decode(form.fields["session_token"], OctKey.import_key(SECRET.encode()))
    assert decoded.header["alg"] == "HS256"
    claims = decoded.claims
    assert claims["state"] == STATE and claims["exp"] > time.time()
    return claims


def test_the_newer_account_is_asked_and_the_proof_answers_link_with_the_older_primary(
    visitor, tenant
):
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    assert page.status_code == 200, page.text[:300]
    assert page.url == visitor.base + "/account/at-login"  # the token is out of the address
    assert "Is this also you?" in page.text
    assert "You keep the Email and password account" in page.text  # the older one, as everywhere
    assert "It was created first" in page.text
    proof = visitor.press(page, "Sign in and link")
    assert "Username-Password-Authentication" in proof.text  # the candidate's own connection
    authorize = proof.history[-1].headers["Location"] if proof.history else proof.url
    assert "linked_accounts=proof" in authorize and "prompt=login" in authorize
    done = submit(visitor.http, proof, "Continue as Maya Patel")
    claims = answer_of(done, tenant)
    assert claims["action"] == "link" and claims["sub"] == t.MAYA_GITHUB
    assert claims["primary_identity"]["user_id"] == t.MAYA
    assert claims["secondary_identity"] == {
        "user_id": t.MAYA_GITHUB,
        "provider": "github",
        "connection": "github",
    }
    assert claims["iss"] == visitor.base + "/account/at-login"
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]  # the page links nothing itself


def test_the_older_account_signing_in_keeps_itself_primary(visitor, tenant):
    page = open_door(visitor, action_token(tenant, MAYA_OLD, [MAYA_NEW]))
    assert "<strong>You keep this profile</strong>" in page.text
    proof = visitor.press(page, "Sign in and link")
    done = submit(visitor.http, proof, "Continue as maya-patel")
    claims = answer_of(done, tenant)
    assert claims["primary_identity"]["user_id"] == t.MAYA
    assert claims["secondary_identity"]["user_id"] == t.MAYA_GITHUB


TRY_AGAIN = (
    "To try again, choose “Sign in and link” and sign in with Email and password as "
    "maya@example.com."
)


def test_a_proof_with_another_account_asks_again_and_answers_nothing(visitor, tenant):
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    proof = visitor.press(page, "Sign in and link")
    again = visitor.press(proof, "Continue as Ben Carter")
    assert again.status_code == 400
    assert "You signed in to a different account, so nothing was linked." in again.text
    assert "Is this also you?" in again.text  # the question again: try again, or go on
    done = submit(visitor.http, again, "Not now")
    assert answer_of(done, tenant)["action"] == "not_now"


@pytest.mark.parametrize(
    ("choice", "why"),
    [
        ("Continue as Ben Carter", "You signed in to a different account, so nothing was linked."),
        ("Cancel", "Signing in was cancelled."),
    ],
)
def test_a_proof_that_did_not_link_ends_on_the_question_naming_the_account_asked_for(
    visitor, tenant, choice, why
):
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    again = visitor.press(visitor.press(page, "Sign in and link"), choice)
    # The door's own address (why sealed in it), not the callback's one-use one.
    parts = urlsplit(again.url)
    assert parts.path == "/account/at-login" and set(parse_qs(parts.query)) == {"done"}
    assert again.status_code == 400
    assert why in again.text and TRY_AGAIN in again.text
    reloaded = visitor.get(again.url.removeprefix(visitor.base))
    assert reloaded.status_code == 400 and why in reloaded.text
    # Its "Sign in and link" is the "Try again": the same proof, which then answers link.
    retry = visitor.press(reloaded, "Sign in and link")
    assert "Username-Password-Authentication" in retry.text
    claims = answer_of(submit(visitor.http, retry, "Continue as Maya Patel"), tenant)
    assert claims["action"] == "link" and claims["primary_identity"]["user_id"] == t.MAYA


def test_the_answer_is_sent_from_a_page_of_its_own_which_can_be_reloaded(visitor, tenant):
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    proof = visitor.press(page, "Sign in and link")
    done = submit(visitor.http, proof, "Continue as Maya Patel")
    assert done.url == visitor.base + "/account/at-login/continue"  # not /callback?code=...
    assert answer_of(done, tenant)["action"] == "link"
    again = visitor.get("/account/at-login/continue")
    assert answer_of(again, tenant)["action"] == "link"
    assert visitor.get("/account/at-login").status_code == 400  # the door itself is closed
    # Another browser has no answer to send.
    assert Visitor(visitor.base).get("/account/at-login/continue").status_code == 400


@pytest.mark.parametrize(("button", "action"), [("Not now", "not_now"), ("Not mine", "not_mine")])
def test_not_now_and_not_mine_continue_the_login_with_the_answer(visitor, tenant, button, action):
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    claims = answer_of(submit(visitor.http, page, button), tenant)
    assert claims["action"] == action
    if action == "not_mine":
        assert claims["candidates"] == [t.MAYA]
    # The door is closed: the page cannot answer twice.
    assert visitor.get("/account/at-login").status_code == 400


@pytest.mark.parametrize(
    "forge",
    [
        "another secret",
        "expired",
        "another issuer",
        "sub is not the current account",
        "no candidates",
        "candidate is the current account",
        "no state",
    ],
)
def test_a_token_that_does_not_open_the_door_gets_a_clear_page_and_no_answer(
    visitor, tenant, forge
):
    state = STATE
    if forge == "another secret":
        raw = action_token(tenant, MAYA_NEW, [MAYA_OLD], secret="x" * 40)
    elif forge == "expired":
        raw = action_token(tenant, MAYA_NEW, [MAYA_OLD], iat=1, exp=int(time.time()) - 120)
    elif forge == "another issuer":
        raw = action_token(tenant, MAYA_NEW, [MAYA_OLD], iss="https://evil.example/")
    elif forge == "sub is not the current account":
        raw = action_token(tenant, MAYA_NEW, [MAYA_OLD], sub=t.BEN)
    elif forge == "no candidates":
        raw = action_token(tenant, MAYA_NEW, [])
    elif forge == "candidate is the current account":
        raw = action_token(tenant, MAYA_NEW, [MAYA_NEW])
    else:
        raw, state = action_token(tenant, MAYA_NEW, [MAYA_OLD]), ""
    page = open_door(visitor, raw, state)
    assert page.status_code == 400
    assert "This link has expired" in page.text and "Nothing was linked" in page.text
    assert "/continue" not in page.text
    assert visitor.get("/account/at-login").status_code == 400  # no door was opened


def test_a_replayed_token_is_refused_even_in_another_browser(door_app, serve, tenant):
    url = serve(door_app)
    raw = action_token(tenant, MAYA_NEW, [MAYA_OLD])
    first, second = Visitor(url), Visitor(url)
    assert open_door(first, raw).status_code == 200
    assert open_door(second, raw).status_code == 400
    assert open_door(first, raw).status_code == 400  # the same browser too: one use
    assert first.get("/account/at-login").status_code == 200  # its door stays open


def test_the_answer_forms_need_their_csrf_token(tenant, app_config, serve, tmp_path):
    """In a product without CSRF protection of its own (the quickstart example, host sign-in
    mode), the door's own form tokens are the only guard."""
    from examples.quickstart_host.app import create_app as create_quickstart

    product = create_quickstart({**app_config, "AUTH0_DOMAIN": tenant,
                                 "LINKED_ACCOUNTS_AT_LOGIN_SECRET": SECRET})  # fmt: skip
    assert "csrf" not in product.extensions  # no global CSRFProtect
    url = serve(product)
    http = requests.Session()
    raw = action_token(tenant, MAYA_NEW, [MAYA_OLD])
    page = http.get(
        url + "/settings/accounts/at-login",
        params={"session_token": raw, "state": STATE},
        timeout=10,
    )
    assert "Is this also you?" in page.text
    for path, data in (("answer", {"answer": "not_mine"}), ("link", {"candidate": t.MAYA})):
        for token in ({}, {"csrf_token": "forged"}):
            forged = http.post(
                f"{url}/settings/accounts/at-login/{path}",
                data={**data, **token},
                timeout=10,
                allow_redirects=False,
            )
            assert forged.status_code == 400, (path, token)
    assert "Is this also you?" in http.get(url + "/settings/accounts/at-login", timeout=10).text


def test_a_candidate_the_action_did_not_name_cannot_be_proved(visitor, tenant):
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    forged = submit(visitor.http, page, "Sign in and link", candidate=t.BEN, follow=False)
    assert forged.status_code == 400


def test_the_door_is_closed_without_the_secret(make_app, serve, tenant):
    visitor = Visitor(serve(make_app()))
    assert open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD])).status_code == 404


def test_a_short_secret_stops_start_up(make_app):
    with pytest.raises(SystemExit, match="AT_LOGIN_SECRET must be at least 32"):
        make_app(AT_LOGIN_SECRET="short")


def test_the_merge_claim_of_a_login_tells_the_product_once(door_app, merges):
    with door_app.test_request_context("/"):
        claim = {"primary_id": t.MAYA, "merged_id": t.MAYA_GITHUB}
        assert merged_at_login({"sub": t.MAYA, "https://linked-accounts/merged": claim})
        # A claim naming another primary than the login's own is not this login's news.
        assert not merged_at_login({"sub": t.BEN, "https://linked-accounts/merged": claim})
        assert not merged_at_login({"sub": t.MAYA})
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


def test_in_host_sign_in_mode_the_products_own_login_ends_merged_and_told_once(
    tenant, app_config, serve, tmp_path
):
    """A product that signs people in itself (the quickstart example): the Action sends its
    login to the extension's door under the product's prefix, the proof goes through the
    extension's own callback, and the product's callback, finishing the login as the older
    account, learns of the merge with merged_at_login."""
    from app import create_app
    from examples.quickstart_host.app import create_app as create_quickstart
    from tests.test_host_signin import Customer

    door = {
        "LINKED_ACCOUNTS_AT_LOGIN_SECRET": SECRET,
        "AUTH0_M2M_CLIENT_ID": "dev-m2m",
        "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
    }
    product = create_quickstart(
        {**app_config, "AUTH0_DOMAIN": tenant, "INSTANCE_PATH": str(tmp_path), **door}
    )
    seen: list[tuple[str, str]] = []
    accounts_merged.connect(lambda sender, **ids: seen.append(tuple(ids.values())), product,
                            weak=False)  # fmt: skip
    url = serve(product)
    installer = create_app({**app_config, "AUTH0_DOMAIN": tenant, "AT_LOGIN_SECRET": SECRET,
                            "AUTH0_M2M_CLIENT_ID": "dev-m2m",
                            "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret"})  # fmt: skip
    result = installer.test_cli_runner().invoke(
        args=["linked-accounts", "install-action", "--linking-url",
              f"{url}/settings/accounts/at-login"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    customer = Customer(url, tenant)
    login_page = customer.get("/login")
    asked = submit(customer.http, login_page, "Continue as maya-patel")
    assert asked.url == url + "/settings/accounts/at-login", asked.url
    assert "Is this also you?" in asked.text
    proof = submit(customer.http, asked, "Sign in and link")
    answer = submit(customer.http, proof, "Continue as Maya Patel")
    home = submit(customer.http, answer, "Continue signing in")  # the page's script presses it
    assert home.url == url + "/", home.url
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert seen == [(t.MAYA, t.MAYA_GITHUB)]
    settings = customer.get("/settings/accounts/")
    assert "Unlink GitHub (maya@example.com)" in settings.text


def test_the_question_says_what_to_do_when_the_account_is_not_yours(make_app, serve, tenant):
    app = make_app(AT_LOGIN_SECRET=SECRET, SUPPORT_URL="mailto:help@example.com")
    page = open_door(Visitor(serve(app)), action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    assert "someone else may have signed up with your email address" in page.text
    assert '<a href="mailto:help@example.com">tell this site\'s support</a>' in page.text
