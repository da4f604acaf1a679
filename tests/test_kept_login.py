"""The login's own ID token, kept server-side so that a merge right after signing in needs no
second sign-in of the signed-in account: it is used only for the account and the login it came
from, only while it stays valid for the whole trip, and a change of user forgets it. Over real
HTTP against the development tenant."""

from __future__ import annotations

import time

import pytest
import requests

from examples.quickstart_host.app import create_app as create_quickstart
from linked_accounts.storage import keys
from tests.support import tenant as t
from tests.support.stored_session import COOKIE, edit_stored, stored
from tests.support.tenant_api import claims
from tests.support.visitor import Visitor
from tests.test_host_signin import SETTINGS, Customer
from tests.test_suggestions import SUGGEST, confirm, signing_in

TWICE = "Next you sign in twice: once more with GitHub, to confirm it is you"


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(**SUGGEST, INSTANCE_PATH=str(tmp_path))


def sid(visitor: Visitor) -> str:
    return visitor.http.cookies.get(COOKIE)


def plant(app, visitor: Visitor, login: dict) -> None:
    """Put `login` in the visitor's stored session as its kept login."""

    def change(session) -> None:
        session[keys.LOGIN] = login

    edit_stored(app, sid(visitor), change)


def test_the_login_keeps_its_own_id_token_on_the_server(app, serve):
    visitor = Visitor(serve(app))
    visitor.login("maya-patel")
    data = stored(app, sid(visitor))
    kept = data[keys.LOGIN]
    assert kept["user_id"] == t.MAYA_GITHUB == claims(kept["id_token"])["sub"]
    assert kept["auth_time"] == data["linked_accounts"]["auth_time"]
    assert kept["expires_at"] == claims(kept["id_token"])["exp"]


def test_a_kept_token_of_another_account_is_never_the_link_with(app, serve, tenant):
    url = serve(app)
    grace, maya = Visitor(url), Visitor(url)
    grace.login("Grace Hopper")
    page = maya.login("maya-patel")
    # Grace's login, as if it were Maya's own: only the account differs (same auth_time).
    own_time = stored(app, sid(maya))["linked_accounts"]["auth_time"]
    plant(app, maya, {**stored(app, sid(grace))[keys.LOGIN], "auth_time": own_time})
    page = confirm(maya, page, "Email and password")
    assert TWICE in page.text
    done = signing_in(maya, tenant, page, "maya-patel", "Maya Patel")
    assert "Your accounts are merged" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert t.identity_keys(tenant, t.GRACE) == [t.GRACE]


def test_a_token_kept_by_another_login_of_the_same_account_is_not_used(app, serve, tenant):
    url = serve(app)
    laptop, phone = Visitor(url), Visitor(url)
    page = laptop.login("maya-patel")
    time.sleep(1.1)  # the phone's login is another one: a later auth_time
    phone.login("maya-patel")
    plant(app, laptop, stored(app, sid(phone))[keys.LOGIN])
    page = confirm(laptop, page, "Email and password")
    assert TWICE in page.text
    signing_in(laptop, tenant, page, "maya-patel", "Maya Patel")
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]


def test_an_id_token_that_could_expire_before_the_proof_is_back_is_not_used(app, serve, tenant):
    # Five minutes of validity: less than a trip to Auth0 may take (ten).
    config = requests.post(f"{tenant}/__dev/config", json={"id_token_lifetime": 300}, timeout=5)
    config.raise_for_status()
    visitor = Visitor(serve(app))
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    assert TWICE in page.text
    done = signing_in(visitor, tenant, page, "maya-patel", "Maya Patel")
    assert "Your accounts are merged" in done.text


def test_the_host_switching_user_forgets_the_kept_login(tenant, app_config, serve, tmp_path):
    app = create_quickstart({**app_config, "AUTH0_DOMAIN": tenant, "INSTANCE_PATH": str(tmp_path)})
    customer = Customer(serve(app), tenant)
    customer.sign_in("maya-patel")
    customer.get(SETTINGS)  # the page's own sign-in, from the product's
    assert customer.stored(app)[keys.LOGIN]["user_id"] == t.MAYA_GITHUB
    customer.http.cookies.pop("devtenant_sso")  # so the product's next login shows the page
    customer.sign_in("Maya Patel")  # the product replaces its user in the same session
    answer = customer.http.get(customer.base + SETTINGS + "api/session", timeout=15).json()
    assert answer["authenticated"] is False  # the page has not signed Maya Patel in yet
    assert keys.LOGIN not in customer.stored(app)
