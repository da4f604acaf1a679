"""The identities that come with a sign-in: the shipped post-login Action puts them in the ID
token (IDENTITIES_CLAIM), and the first view after that sign-in reads no Management API. Counted
at the development tenant, which runs the real Action; plus the claims the page must ignore."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest
import requests

from linked_accounts import identity_cache
from tests.support import tenant as t
from tests.support.visitor import Visitor, unlink_buttons

CLAIM = "https://linked-accounts/identities"
ACTION = Path(__file__).resolve().parents[1] / "linked_accounts/atlogin/action/link-accounts.js"
ADA_CLAIM = [
    {"provider": "auth0", "user_id": "6500a1b2c3d4e5f600000001",
     "connection": "Username-Password-Authentication", "isSocial": False},
    {"provider": "github", "user_id": 1234567, "connection": "github", "isSocial": True,
     "profileData": {"email": "ada@users.noreply.github.com", "name": "Ada Lovelace"}},
]  # fmt: skip


@pytest.fixture
def claim_action(tenant):
    """The shipped Action, installed on the tenant with IDENTITIES_CLAIM (and nothing due)."""
    if shutil.which("node") is None:
        pytest.fail("node is needed: the development tenant runs the Action with it")
    from linked_accounts.atlogin.install import install_action
    from tests.test_install_action import secrets_for, tenant_of

    install_action(
        tenant_of(tenant),
        action_file=ACTION,
        secrets={**secrets_for(tenant), "IDENTITIES_CLAIM": CLAIM},
        echo=lambda line: None,
    )
    return tenant


def reads(tenant: str, user_id: str) -> int:
    return t.stats(tenant)["management_calls"].get(user_id, 0)


def test_the_first_view_after_a_sign_in_with_the_claim_reads_no_management_api(
    make_app, serve, claim_action
):
    tenant = claim_action
    visitor = Visitor(serve(make_app(IDENTITIES_CLAIM=CLAIM)))
    before = reads(tenant, t.ADA)
    page = visitor.login("Ada Lovelace")  # the login lands on the first view
    assert reads(tenant, t.ADA) == before  # counted at the tenant: no read
    assert len(unlink_buttons(page.text)) == 3  # and the list is whole
    assert "Unlink GitHub (ada@users.noreply.github.com)" in unlink_buttons(page.text)


def test_without_the_switch_the_first_view_reads_as_before(make_app, serve, claim_action):
    tenant = claim_action
    visitor = Visitor(serve(make_app()))  # IDENTITIES_CLAIM unset: the claim is not read
    before = reads(tenant, t.ADA)
    visitor.login("Ada Lovelace")
    assert reads(tenant, t.ADA) == before + 1


def test_an_unlink_right_after_a_seeded_view_shows_the_unlinks_answer(
    make_app, serve, claim_action
):
    tenant = claim_action
    visitor = Visitor(serve(make_app(IDENTITIES_CLAIM=CLAIM)))
    visitor.login("Ada Lovelace")
    page = visitor.unlink(t.ADA_GITHUB)
    assert "was unlinked" in page.text
    assert "Unlink GitHub" not in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_a_sign_in_older_than_the_cache_period_seeds_nothing(make_app, serve, claim_action):
    tenant = claim_action
    visitor = Visitor(serve(make_app(IDENTITIES_CLAIM=CLAIM, IDENTITIES_CACHE_SECONDS="30")))
    # The tenant's clock a minute behind: its ID token says it was issued 60 s ago.
    requests.post(f"{tenant}/__dev/clock", json={"offset": -60}, timeout=5).raise_for_status()
    try:
        before = reads(tenant, t.ADA)
        visitor.login("Ada Lovelace")
    finally:
        requests.post(f"{tenant}/__dev/clock", json={"offset": 0}, timeout=5)
    assert reads(tenant, t.ADA) == before + 1


def test_in_host_sign_in_mode_the_extensions_own_sign_in_brings_the_claim(
    claim_action, app_config, serve, tmp_path
):
    from examples.quickstart_host.app import create_app as create_quickstart
    from tests.test_host_signin import Customer

    tenant = claim_action
    product = create_quickstart(
        {**app_config, "AUTH0_DOMAIN": tenant, "INSTANCE_PATH": str(tmp_path),
         "LINKED_ACCOUNTS_IDENTITIES_CLAIM": CLAIM}
    )  # fmt: skip
    customer = Customer(serve(product), tenant)
    customer.sign_in("Ada Lovelace")
    before = reads(tenant, t.ADA)
    page = customer.get("/settings/accounts/")  # the extension's silent sign-in, then the view
    assert "Unlink GitHub (ada@users.noreply.github.com)" in page.text
    assert reads(tenant, t.ADA) == before


@pytest.mark.parametrize(
    ("value", "sub", "why"),
    [
        ("not a list", t.ADA, "not Auth0's identities array"),
        ([{"provider": "auth0"}], t.ADA, "not Auth0's identities array"),
        (ADA_CLAIM, t.BEN, "its primary is not the signed-in user"),
        (ADA_CLAIM[::-1], t.ADA, "its primary is not the signed-in user"),
        (
            [*ADA_CLAIM, *[{**ADA_CLAIM[1], "user_id": n} for n in range(40)]],
            t.ADA,
            "bigger than 2048 bytes",
        ),
    ],
)
def test_a_claim_that_is_malformed_oversize_or_another_users_is_ignored(
    make_app, caplog, tmp_path, value, sub, why
):
    app = make_app(IDENTITIES_CLAIM=CLAIM, INSTANCE_PATH=str(tmp_path))  # a side store of its own
    caplog.set_level(logging.WARNING, logger="linked_accounts.identity_cache")
    with app.test_request_context("/"):
        assert identity_cache.seed(sub, value, time.time(), 60) is False
        assert identity_cache.cached(sub, 60) is None
    assert f"identities claim ignored: {why}" in caplog.text


def test_a_whole_claim_is_cached_as_read_at_the_tokens_iat(make_app, tmp_path):
    app = make_app(IDENTITIES_CLAIM=CLAIM, INSTANCE_PATH=str(tmp_path))
    issued = time.time() - 20
    with app.test_request_context("/"):
        assert identity_cache.seed(t.ADA, ADA_CLAIM, issued, 60) is True
        assert identity_cache.read_at(t.ADA) == issued  # expires by the period from then
        assert identity_cache.cached(t.ADA, 30) is not None
        assert identity_cache.cached(t.ADA, 10) is None
