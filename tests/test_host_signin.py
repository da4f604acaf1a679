"""Host sign-in mode, over real HTTP: a product that signs people in the way Auth0's Flask
quickstart does (examples/quickstart_host) mounts the page, and people sign in exactly once."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from flask import flash, redirect

from examples.quickstart_host.app import create_app as create_quickstart
from tests.support import tenant as t
from tests.support.app_session import app_session, stored_session
from tests.support.forms import submit
from tests.support.visitor import unlink_buttons

SETTINGS = "/settings/accounts/"


class Customer:
    """A person using the product in a browser without JavaScript."""

    def __init__(self, base: str, tenant: str):
        self.base, self.tenant = base, tenant
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=15)

    def sign_in(self, name: str) -> requests.Response:
        """Sign in to the product: its own /login, the tenant's login page, its /callback."""
        login_page = self.get("/login")
        assert "Continue as" in login_page.text
        home = submit(self.http, login_page, f"Continue as {name}")
        assert home.url == self.base + "/" and "Account settings" in home.text
        return home

    def sign_out(self) -> None:
        assert self.get("/logout").url == self.base + "/"

    def stored(self, app) -> dict:
        sid = self.http.cookies.get(app.config.get("SESSION_COOKIE_NAME", "session"))
        return stored_session(app, sid) or {}


@pytest.fixture
def product(tenant, app_config, serve):
    config = {**app_config, "AUTH0_DOMAIN": tenant}
    app = create_quickstart(config)
    return app, serve(app)


@pytest.fixture
def customer(product, tenant):
    return Customer(product[1], tenant)


def test_a_signed_in_customer_sees_their_accounts_with_no_page_in_between(customer, tenant):
    customer.sign_in("Ada Lovelace")
    page = customer.get(SETTINGS)
    assert page.status_code == 200 and page.url == customer.base + SETTINGS
    hops = [urlsplit(r.url).path for r in page.history]
    assert hops == [SETTINGS, SETTINGS + "login", "/authorize", SETTINGS + "callback"]
    assert not any(r.status_code == 200 for r in page.history)  # redirects only, no page
    assert unlink_buttons(page.text) == [
        "Unlink Google (ada.lovelace@gmail.com)",
        "Unlink GitHub (ada@users.noreply.github.com)",
        "Unlink Single sign-on (acme-saml) (ada@acme.test)",
    ]
    assert ">Log out</button>" not in page.text  # the product signs people out, not the page
    assert customer.get("/").text.count("Account settings") == 1  # still signed in to it


def test_the_customer_unlinks_without_signing_in_again(customer, tenant):
    customer.sign_in("Ada Lovelace")
    confirm = customer.get(SETTINGS + "unlink?identity=" + requests.utils.quote(t.ADA_GITHUB))
    page = submit(customer.http, confirm, "Unlink")
    assert "was unlinked" in page.text and page.url.startswith(customer.base + SETTINGS)
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_a_visitor_the_product_has_not_signed_in_goes_to_its_login_and_comes_back(customer):
    login_page = customer.get(SETTINGS)
    assert login_page.url.startswith(customer.tenant)  # the product's /login sent them on
    first = customer.http.get(customer.base + SETTINGS, allow_redirects=False, timeout=15)
    assert first.headers["Location"] == SETTINGS + "login?next=" + SETTINGS
    back = submit(customer.http, login_page, "Continue as Ada Lovelace")
    assert back.url == customer.base + SETTINGS and "Unlink GitHub" in back.text


def shows_ada(html: str) -> bool:
    """Whether a page shows anything of Ada's (her name or any of her addresses). Not "ada"
    anywhere: the page's random CSRF token and sealed outcomes may hold those letters."""
    return any(word in html.lower() for word in ("lovelace", "ada@"))


def test_after_the_product_switches_user_nothing_of_the_previous_one_is_shown(
    product, customer, tenant
):
    app, _ = product
    customer.sign_in("Ada Lovelace")
    assert "Unlink GitHub" in customer.get(SETTINGS).text
    customer.sign_out()
    customer.sign_in("Ben Carter")
    page = customer.get(SETTINGS)
    assert "ben@example.com" in page.text
    assert not shows_ada(page.text) and unlink_buttons(page.text) == []
    assert customer.stored(app)["linked_accounts"]["user_id"] == t.BEN


def test_switching_user_without_the_product_logging_out_drops_the_previous_data(
    product, customer, tenant
):
    """The product replaces its user in the same session: the extension's data must go."""
    app, _ = product
    customer.sign_in("Ada Lovelace")
    customer.get(SETTINGS)
    assert customer.stored(app)["linked_accounts"]["user_id"] == t.ADA
    customer.http.cookies.pop("devtenant_sso")  # so the next product login shows the page
    customer.sign_in("Ben Carter")
    page = customer.get(SETTINGS)
    assert not shows_ada(page.text)
    stored = customer.stored(app)
    assert stored["linked_accounts"]["user_id"] == t.BEN
    assert stored["user"]["userinfo"]["sub"] == t.BEN  # the product's own data is untouched


def test_the_products_flashed_messages_survive_the_pages_silent_sign_in(product, customer):
    """The session is the product's: the page's first view (a silent sign-in at Auth0) leaves
    what the product flashed for its own layout to show."""
    app, _ = product

    @app.get("/saved")
    def saved():
        flash("Saved", "success")
        return redirect(SETTINGS)

    customer.sign_in("Ada Lovelace")
    page = customer.get("/saved")  # the page's first view: a sign-in at Auth0, without a prompt
    assert any("prompt=none" in r.url for r in page.history)
    assert page.url == customer.base + SETTINGS
    assert customer.stored(app).get("_flashes") == [("success", "Saved")]


def test_when_auth0s_session_has_ended_the_customer_signs_in_there_and_comes_back(customer):
    customer.sign_in("Ada Lovelace")
    customer.http.cookies.pop("devtenant_sso")  # Auth0's single sign-on session is over
    login_page = customer.get(SETTINGS)
    assert login_page.url.startswith(customer.tenant) and "Continue as" in login_page.text
    back = submit(customer.http, login_page, "Continue as Ada Lovelace")
    assert back.url == customer.base + SETTINGS and "Unlink GitHub" in back.text


def test_when_auth0_is_signed_in_as_someone_else_nothing_is_kept(product, customer, tenant):
    app, _ = product
    customer.sign_in("Ada Lovelace")
    # Auth0's session in this browser now belongs to Ben (say, a colleague used the tenant).
    customer.http.cookies.pop("devtenant_sso")
    login_page = customer.get(SETTINGS)
    page = submit(customer.http, login_page, "Continue as Ben Carter")
    assert page.status_code == 409
    assert "Signed in as someone else at your sign-in service" in page.text
    assert "ben@example.com" in page.text and "Unlink" not in page.text
    assert "linked_accounts" not in customer.stored(app)
    assert customer.stored(app)["user"]["userinfo"]["sub"] == t.ADA  # still the product's Ada
    way_out = customer.get(SETTINGS + "login?prompt=login&next=%2Fsettings%2Faccounts%2F")
    back = submit(customer.http, way_out, "Continue as Ada Lovelace")
    assert back.url == customer.base + SETTINGS and "Unlink GitHub" in back.text


def test_the_someone_else_page_names_the_products_user_and_tries_the_sign_in_again(
    product, customer
):
    app, _ = product
    customer.sign_in("Ada Lovelace")
    customer.http.cookies.pop("devtenant_sso")
    page = submit(customer.http, customer.get(SETTINGS), "Continue as Ben Carter")
    # A page of its own, not the callback's one-use address; it names who signed in at Auth0 and
    # the account to sign in as (the product's user, as the product names them).
    assert page.url == customer.base + SETTINGS + "signin/other-account"
    assert page.status_code == 409
    assert "ben@example.com" in page.text
    assert "Try again, and sign in as ada@example.com." in page.text
    again = customer.get(SETTINGS + "signin/other-account")
    assert again.status_code == 409 and "sign in as ada@example.com" in again.text
    assert "linked_accounts" not in customer.stored(app)
    login_page = submit(customer.http, again, "Try again")  # the same sign-in, asking who
    assert "prompt=login" in login_page.url
    back = submit(customer.http, login_page, "Continue as Ada Lovelace")
    assert back.url == customer.base + SETTINGS and "Unlink GitHub" in back.text


def test_the_json_api_follows_the_products_user(customer, tenant):
    session = customer.http.get(customer.base + SETTINGS + "api/session", timeout=15).json()
    assert session["authenticated"] is False
    assert session["login_url"].startswith(SETTINGS + "login")
    customer.sign_in("Ada Lovelace")
    customer.get(SETTINGS)
    listing = customer.http.get(customer.base + SETTINGS + "api/identities", timeout=15).json()
    assert [i["key"] for i in listing["identities"]][0] == t.ADA


def test_host_sign_in_mode_has_no_logout_of_its_own(product):
    app, _ = product
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert SETTINGS + "login" in rules and SETTINGS + "logout" not in rules


def test_current_user_needs_a_login_url(app_config, tenant):
    from flask import Flask

    from linked_accounts import LinkedAccounts, init_sessions

    app = Flask(__name__)
    app.config.update(app_config, AUTH0_DOMAIN=tenant, SECRET_KEY="k" * 32)
    init_sessions(app)
    with pytest.raises(ValueError, match="login_url"):
        LinkedAccounts(app, current_user=lambda: None)


def test_a_change_needs_a_fresh_login_then_finishes_as_confirmed(tenant, app_config, serve):
    app = create_quickstart(
        {**app_config, "AUTH0_DOMAIN": tenant, "LINKED_ACCOUNTS_REAUTH_MAX_AGE": 0}
    )
    customer = Customer(serve(app), tenant)
    customer.sign_in("Ada Lovelace")
    confirm = customer.get(SETTINGS + "unlink?identity=" + requests.utils.quote(t.ADA_GITHUB))
    login_page = submit(customer.http, confirm, "Unlink")
    assert login_page.url.startswith(tenant) and "prompt=login" in login_page.url
    assert t.identity_keys(tenant, t.ADA)[2] == t.ADA_GITHUB  # nothing changed yet
    page = submit(customer.http, login_page, "Continue as Ada Lovelace")
    assert "was unlinked" in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_the_products_own_sign_in_is_kept_as_long_as_a_sign_in(product, customer):
    """Before the page is ever opened the session holds only the product's data: it is kept
    with the sign-ins, for the whole session lifetime, not as a short trip to Auth0 is."""
    app, _ = product
    customer.sign_in("Ada Lovelace")
    assert customer.stored(app)["user"]["userinfo"]["sub"] == t.ADA  # the durable store


# --- the extension never restarts the host's session lifetime ------------------------------


def cookie_ends(response: requests.Response) -> list[float]:
    """When each session cookie a response (and its redirects) set expires: the session's end."""
    ends = []
    for hop in (*response.history, response):
        for header in hop.raw.headers.getlist("Set-Cookie"):
            if header.startswith("session="):
                expires = next(
                    a.split("=", 1)[1] for a in header.split(";") if "expires=" in a.lower()
                )
                ends.append(parsedate_to_datetime(expires).timestamp())
    return ends


def cancel_an_extension_sign_in(customer: Customer) -> requests.Response:
    """Start the page's own sign-in, then come back as Auth0 does when it is cancelled."""
    start = customer.http.get(customer.base + SETTINGS + "login", allow_redirects=False, timeout=15)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    query = urlencode({"state": state, "error": "access_denied"})
    back = customer.get(f"{SETTINGS}callback?{query}")
    assert "cancelled" in back.text
    back.history.insert(0, start)
    return back


def test_the_pages_sign_ins_and_sign_outs_leave_the_hosts_session_end_alone(product, customer):
    """A cancelled or completed sign-in of the page, the product's user leaving and a user
    switch: the session still ends when the product's sign-in said (the cookie's expiry says
    when; it would move if the page restarted the session's lifetime)."""
    app, _ = product
    ends = cookie_ends(customer.sign_in("Ada Lovelace"))
    time.sleep(1.5)  # a restarted lifetime would now end at least a second later
    ends += cookie_ends(cancel_an_extension_sign_in(customer))
    ends += cookie_ends(customer.get(SETTINGS))  # the page's own sign-in, completed
    with app_session(app, customer) as session:  # a product that signs out by its own key
        kept = session.pop("user")
    gone = customer.http.get(customer.base + SETTINGS, allow_redirects=False, timeout=15)
    ends += cookie_ends(gone)  # the page drops what it kept for Ada
    with app_session(app, customer) as session:
        session["user"] = kept
    ends += cookie_ends(customer.get(SETTINGS))
    customer.http.cookies.pop("devtenant_sso")
    ends += cookie_ends(customer.sign_in("Ben Carter"))  # a user switch, no logout between
    ends += cookie_ends(customer.get(SETTINGS))
    assert len(ends) >= 6
    assert max(ends) - min(ends) <= 1, ends  # the cookie's expiry has one-second precision
    assert customer.stored(app)["linked_accounts"]["user_id"] == t.BEN


def test_a_session_kept_busy_through_the_pages_sign_ins_still_ends_at_its_max_age(
    tenant, app_config, serve, session_store
):
    app = create_quickstart(
        {
            **app_config,
            "AUTH0_DOMAIN": tenant,
            "LINKED_ACCOUNTS_SESSION_MAX_AGE": 6,
            "REDIS_URL": session_store,
        }
    )
    customer = Customer(serve(app), tenant)
    customer.sign_in("Ada Lovelace")
    ends = time.time() + 6

    def keep_busy(until: float) -> None:
        while time.time() < until:
            assert "Unlink GitHub" in customer.get(SETTINGS).text
            time.sleep(0.3)

    keep_busy(ends - 3.5)
    # Late in the session: the page signs out (the product's user leaves and comes back), a
    # sign-in of the page is cancelled, and another completes.
    with app_session(app, customer) as session:
        kept = session.pop("user")
    gone = customer.http.get(customer.base + SETTINGS, allow_redirects=False, timeout=15)
    assert gone.headers["Location"].startswith(SETTINGS + "login")  # it dropped its keys
    with app_session(app, customer) as session:
        session["user"] = kept
    cancel_an_extension_sign_in(customer)
    keep_busy(ends - 2)  # (past its end, a view would sign in again through Auth0's SSO)
    time.sleep(max(0.0, ends - time.time()) + 0.5)
    assert "You are signed in" not in customer.get("/").text  # the product's sign-in is over
    page = customer.http.get(customer.base + SETTINGS, allow_redirects=False, timeout=15)
    assert page.headers["Location"] == SETTINGS + "login?next=" + SETTINGS
    login = customer.http.get(customer.base + page.headers["Location"], allow_redirects=False)
    assert login.headers["Location"].startswith("/login?")  # to the product's own sign-in


# --- session fixation at the product's own sign-in ------------------------------------------


def test_a_session_id_planted_before_the_products_sign_in_is_not_the_one_signed_in(customer):
    attacker = requests.Session()
    attacker.get(customer.base + "/login", allow_redirects=False, timeout=15)
    planted = attacker.cookies["session"]  # a genuine id of the store's, issued to the attacker
    customer.http.cookies.set("session", planted, domain="127.0.0.1", path="/")
    customer.sign_in("Ada Lovelace")
    assert customer.http.cookies["session"] != planted
    assert "You are signed in" not in attacker.get(customer.base + "/", timeout=15).text
    page = attacker.get(customer.base + SETTINGS, allow_redirects=False, timeout=15)
    assert page.headers["Location"].startswith(SETTINGS + "login")
    assert "You are signed in as ada@example.com" in customer.get("/").text


def test_the_example_sends_a_secure_host_cookie_for_a_real_tenant(app_config):
    config = {k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"}
    app = create_quickstart({**config, "AUTH0_DOMAIN": "tenant.eu.auth0.com"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    local = create_quickstart({**config, "AUTH0_DOMAIN": "http://127.0.0.1:5001"})
    assert local.config["SESSION_COOKIE_SECURE"] is False  # the local development tenant


def test_in_host_sign_in_mode_an_unlink_without_the_forms_token_is_refused(
    product, customer, tenant
):
    # The product (like the quickstart) protects none of its POSTs: the extension's own form
    # token is the only guard of its pages, and the login is fresh, so nothing else would stop it.
    app, _ = product
    assert "csrf" not in app.extensions
    customer.sign_in("Ada Lovelace")
    assert customer.get(SETTINGS).status_code == 200  # the page has its token for Ada
    for fields in ({}, {"csrf_token": "forged"}):
        forged = customer.http.post(
            customer.base + SETTINGS + "unlink",
            data={"identity": t.ADA_GITHUB, **fields},
            headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"},
            allow_redirects=False,
            timeout=15,
        )
        assert forged.status_code == 400
    assert t.ADA_GITHUB in t.identity_keys(tenant, t.ADA)


def test_a_merge_into_the_older_account_says_so_once_in_a_layout_that_shows_flashes(
    tenant, app_config, serve, tmp_path
):
    """The product signs the person in again as the primary; the page's message survives that
    sign-in and is drawn once, by the page: the product's layout shows its own flashes only."""
    from jinja2 import ChoiceLoader, DictLoader

    config = {
        **app_config,
        "AUTH0_DOMAIN": tenant,
        "INSTANCE_PATH": str(tmp_path),
        "LINKED_ACCOUNTS_SUGGEST_LINKS": "1",
        "AUTH0_M2M_CLIENT_ID": "dev-m2m",
        "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
    }
    app = create_quickstart(config)
    flashes = "{% for m in get_flashed_messages() %}<p class=flash>{{ m }}</p>{% endfor %}"
    layout = app.jinja_env.loader.get_source(app.jinja_env, "layout.html")[0]
    shows_flashes = layout.replace("<main", flashes + "<main", 1)
    app.jinja_loader = ChoiceLoader([DictLoader({"layout.html": shows_flashes}), app.jinja_loader])
    customer = Customer(serve(app), tenant)
    customer.sign_in("maya-patel")
    page = customer.get(f"{SETTINGS}suggestions/link?candidate={quote(t.MAYA)}")
    sign_in = submit(customer.http, page, "Sign in and link")
    if "Continue as maya-patel" in sign_in.text:  # a sign-in of its own first, when it asks
        sign_in = submit(customer.http, sign_in, "Continue as maya-patel")
    done = submit(customer.http, sign_in, "Continue as Maya Patel")  # the older account
    assert done.status_code == 200, done.text[:300]
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert done.text.count("Your accounts are merged") == 1
    assert "<p class=flash>" not in done.text
