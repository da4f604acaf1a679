"""Conformance with Auth0's own Python SDK (auth0-python v5, generated from Auth0's OpenAPI
description): its Management client drives the development tenant with a user token, every answer
must parse into the SDK's models, every error must be the SDK's typed error for the status Auth0
documents, and our own client must send what the SDK sends.

The SDK's `ManagementClient` wrapper always builds `https://{domain}`; its generated core client
(`auth0.management.client.Auth0`) takes the base URL, so it is the one pointed at the tenant here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pydantic
import pytest
import requests
from auth0.management import errors as sdk_errors
from auth0.management.client import Auth0
from auth0.management.types import GetUserResponseContent, UserIdentity, UserProfileData

from devtenant import create_app as create_tenant
from linked_accounts.auth0.management import ManagementClient
from tests.support.recorder import Recorder
from tests.support.tenant import ADA, ADA_GITHUB, ADA_SAML, BEN, GRACE
from tests.support.tenant_api import m2m_token
from tests.support.tenant_login import login

SCOPES = "openid profile email read:current_user update:current_user_identities"


@pytest.fixture
def recorded(serve) -> Iterator[tuple[str, Recorder]]:
    """A tenant of its own, behind a recorder of every request it gets."""
    # Every scope granted: the SDK's deletion with delete:current_user is checked too.
    recorder = Recorder(create_tenant({"DEVTENANT_WITHHELD_SCOPES": []}))
    yield serve(recorder), recorder


def sdk(tenant: str, token: str) -> Auth0:
    # No retries: the SDK retries 429s by default, which burns a user's budget in seconds.
    return Auth0(base_url=f"{tenant}/api/v2", token=token, max_retries=0, timeout=10)


def user_token(tenant: str, name: str, scope: str = SCOPES) -> str:
    return login(tenant, name, scope=scope)["access_token"]


def unknown_fields(value, where: str = "") -> list[str]:
    """Every field of an answer that the SDK's models do not know (pydantic keeps them extra).

    `profileData` is open-ended at Auth0 ("email, name, ..., picture, ..."): the SDK models eight
    of its fields and keeps the others (picture, nickname) as extras, so they are not counted.
    """
    found: list[str] = []
    if isinstance(value, UserProfileData):
        return found
    if isinstance(value, pydantic.BaseModel):
        found += [f"{where}.{name}" for name in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += unknown_fields(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += unknown_fields(item, f"{where}[{i}]")
    return found


def test_get_user_parses_into_the_sdk_models(recorded):
    tenant, _ = recorded
    user = sdk(tenant, user_token(tenant, "Ada Lovelace")).users.get(ADA)
    assert isinstance(user, GetUserResponseContent)
    assert user.user_id == ADA
    keys = [f"{i.provider}|{i.user_id}" for i in user.identities]
    assert keys == [ADA, "google-oauth2|109876543210987654321", ADA_GITHUB, ADA_SAML]
    assert user.identities[2].user_id == 1234567  # GitHub's id stays a JSON number
    assert user.identities[1].profile_data.email == "ada.lovelace@gmail.com"
    assert unknown_fields(user) == []


def test_unlink_answers_the_remaining_identities_as_the_sdk_models_them(recorded):
    tenant, _ = recorded
    remaining = sdk(tenant, user_token(tenant, "Ada Lovelace")).users.identities.delete(
        ADA, "samlp", "acme-saml|ada@acme.test"
    )
    assert [f"{i.provider}|{i.user_id}" for i in remaining] == [
        ADA,
        "google-oauth2|109876543210987654321",
        ADA_GITHUB,
    ]
    assert unknown_fields(remaining) == []


def test_link_with_answers_the_new_identities_as_the_sdk_models_them(recorded):
    tenant, _ = recorded
    grace = login(tenant, "Grace Hopper", extra_params={"prompt": "login"})["id_token"]
    linked = sdk(tenant, user_token(tenant, "Ben Carter")).users.identities.link(
        BEN, link_with=grace
    )
    assert all(isinstance(i, UserIdentity) for i in linked)
    assert [f"{i.provider}|{i.user_id}" for i in linked] == [BEN, GRACE]
    assert linked[1].profile_data is not None and linked[1].is_social is True
    assert unknown_fields(linked) == []


def test_a_user_deletes_itself_with_delete_current_user(recorded):
    tenant, _ = recorded
    token = user_token(tenant, "Ben Carter", "openid delete:current_user")
    assert sdk(tenant, token).users.delete(BEN) is None
    assert requests.get(f"{tenant}/__dev/users/{BEN}", timeout=5).status_code == 404
    # Auth0 documents no 404 here (the SDK would raise an untyped ApiError for one): a user
    # already deleted is answered 204 again.
    assert sdk(tenant, m2m_token(tenant)).users.delete(BEN) is None


def _rate_limited(tenant: str) -> None:
    requests.post(f"{tenant}/__dev/config", json={"rate_burst": 0}, timeout=5).raise_for_status()


# (what is called, whose token, the SDK's typed error: the SDK raises one only for a status
# Auth0 documents for that operation, an untyped ApiError for any other)
ERRORS = {
    "get: bad token": (lambda c, t: c.users.get(ADA), "garbage", sdk_errors.UnauthorizedError),
    "get: another user": (lambda c, t: c.users.get(BEN), "ada", sdk_errors.ForbiddenError),
    "get: no such user": (lambda c, t: c.users.get("auth0|nobody"), "m2m",
                          sdk_errors.NotFoundError),
    "get: rate limited": (lambda c, t: (_rate_limited(t), c.users.get(ADA)), "ada",
                          sdk_errors.TooManyRequestsError),
    "unlink: the primary": (lambda c, t: c.users.identities.delete(ADA, "auth0",
                                                                   "6500a1b2c3d4e5f600000001"),
                            "ada", sdk_errors.BadRequestError),
    "unlink: not linked": (lambda c, t: c.users.identities.delete(ADA, "github", "7654321"),
                           "ada", sdk_errors.BadRequestError),
    "unlink: without scope": (lambda c, t: c.users.identities.delete(ADA, "github", "1234567"),
                              "ada-reader", sdk_errors.ForbiddenError),
    "link: not a JWT": (lambda c, t: c.users.identities.link(ADA, link_with="x"), "ada",
                        sdk_errors.BadRequestError),
    "link: already linked": (lambda c, t: c.users.identities.link(ADA, link_with=_linked(t)),
                             "ada", sdk_errors.ConflictError),
    "delete: another user": (lambda c, t: c.users.delete(ADA), "ben-deleter",
                             sdk_errors.ForbiddenError),
    "delete: bad token": (lambda c, t: c.users.delete(BEN), "garbage",
                          sdk_errors.UnauthorizedError),
}  # fmt: skip


def _linked(tenant: str) -> str:
    """An ID token of a profile that has linked identities of its own (Ben's, once Grace is in
    it): linking it into Ada's profile is a conflict."""
    grace = login(tenant, "Grace Hopper", extra_params={"prompt": "login"})["id_token"]
    sdk(tenant, user_token(tenant, "Ben Carter")).users.identities.link(BEN, link_with=grace)
    return login(tenant, "Ben Carter", extra_params={"prompt": "login"})["id_token"]


def _token(tenant: str, who: str) -> str:
    return {
        "garbage": lambda: "not-a-token",
        "ada": lambda: user_token(tenant, "Ada Lovelace"),
        "ada-reader": lambda: user_token(tenant, "Ada Lovelace", "openid read:current_user"),
        "ben-deleter": lambda: user_token(tenant, "Ben Carter", "openid delete:current_user"),
        "m2m": lambda: m2m_token(tenant),
    }[who]()


@pytest.mark.parametrize("case", list(ERRORS))
def test_every_error_is_the_sdks_typed_error_with_auth0s_body(recorded, case):
    tenant, _ = recorded
    call, who, error = ERRORS[case]
    client = sdk(tenant, _token(tenant, who))
    with pytest.raises(error) as caught:
        call(client, tenant)
    body = caught.value.body
    assert body["statusCode"] == caught.value.status_code
    assert isinstance(body["error"], str) and isinstance(body["message"], str)


def _sent_by(recorder: Recorder, action) -> list:
    start = len(recorder.sent)
    action()
    return [s for s in recorder.sent[start:] if s.raw_path.startswith("/api/v2/")]


def _same_request(ours, theirs) -> None:
    assert ours.method == theirs.method
    assert ours.segments == theirs.segments  # the same ids, however each encodes them
    assert ours.query == theirs.query
    assert ours.content_type.split(";")[0] == theirs.content_type.split(";")[0]
    assert (json.loads(ours.body) if ours.body else None) == (
        json.loads(theirs.body) if theirs.body else None
    )


def test_our_client_sends_what_the_sdk_sends(recorded):
    tenant, recorder = recorded
    ada = user_token(tenant, "Ada Lovelace")
    ours, theirs = ManagementClient(tenant), sdk(tenant, ada)
    pairs = [
        (lambda: ours.get_user(ada, ADA), lambda: theirs.users.get(ADA)),
        (
            lambda: ours.unlink(ada, ADA, "samlp", "acme-saml|ada@acme.test"),
            lambda: theirs.users.identities.delete(ADA, "samlp", "acme-saml|ada@acme.test"),
        ),
    ]
    grace = login(tenant, "Grace Hopper", extra_params={"prompt": "login"})["id_token"]
    pairs.append(
        (
            lambda: ours.link(ada, ADA, grace),
            lambda: theirs.users.identities.link(ADA, link_with=grace),
        )
    )
    for our_call, sdk_call in pairs:
        requests.post(f"{tenant}/__dev/reset", timeout=5)
        (our_request,) = _sent_by(recorder, our_call)
        requests.post(f"{tenant}/__dev/reset", timeout=5)
        (sdk_request,) = _sent_by(recorder, sdk_call)
        _same_request(our_request, sdk_request)
    ben = user_token(tenant, "Ben Carter", "openid delete:current_user")
    (our_delete,) = _sent_by(recorder, lambda: ManagementClient(tenant).delete_user(ben, BEN))
    (sdk_delete,) = _sent_by(recorder, lambda: sdk(tenant, ben).users.delete(BEN))
    _same_request(our_delete, sdk_delete)


def test_only_the_encoding_of_ids_differs_and_ours_is_the_safe_one(recorded):
    """The SDK leaves `|` and `@` raw in the path, and would split an id holding `/`; our client
    percent-encodes every segment. Auth0 decodes both to the same ids."""
    tenant, recorder = recorded
    ada = user_token(tenant, "Ada Lovelace")
    (ours,) = _sent_by(recorder, lambda: ManagementClient(tenant).get_user(ada, ADA))
    (theirs,) = _sent_by(recorder, lambda: sdk(tenant, ada).users.get(ADA))
    assert ours.raw_path == "/api/v2/users/auth0%7C6500a1b2c3d4e5f600000001"
    assert theirs.raw_path == "/api/v2/users/auth0|6500a1b2c3d4e5f600000001"
    assert ManagementClient(tenant).url("users", "oidc|a/b").endswith("/users/oidc%7Ca%2Fb")
