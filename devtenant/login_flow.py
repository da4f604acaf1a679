"""From authentication to the code: every login (the login page's, single sign-on's, a confirmed
one's) is counted, then runs the post-login Actions as Auth0 runs them, in binding order, before
the code is issued. A redirect suspends the login until /continue (devtenant/continue_login.py);
a denial or an error ends it at the application's redirect_uri; setPrimaryUser changes whom it
ends as. Auth0 creates the SSO session before Actions run and keeps it if they fail: so here."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Response, request

from devtenant import actions_event, actions_runtime, custom_claims, sso
from devtenant.actions_runtime import ActionSpec, Outcome
from devtenant.responses import redirect_with
from devtenant.state import TenantState
from devtenant.store import identity_id
from devtenant.transactions import issue_code, prune

logger = logging.getLogger("devtenant.actions")

CONTINUE_COOKIE = "devtenant_continue"
# Auth0 caps a login transaction at an hour (its October 2023 change to login transactions).
SUSPENDED_LIFETIME = 3600


@dataclass
class Login:
    """One authenticated login on its way to a code."""

    txn: dict[str, Any]  # the /authorize request, as authorize() validated it
    user_id: str  # who authenticated
    identity: str  # the identity they authenticated with, `{provider}|{user_id}`
    connection: str
    auth_time: int
    sid: str  # the public `sid` of the SSO session
    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    primary: str | None = None  # api.authentication.setPrimaryUser
    id_claims: dict[str, Any] = field(default_factory=dict)
    access_claims: dict[str, Any] = field(default_factory=dict)
    last_user: dict[str, Any] | None = None  # the profile the last Action saw


@dataclass
class Resume:
    """A suspended login coming back at /continue."""

    state: str  # the state Auth0 added to the redirect (what validateToken checks)
    params: dict[str, str]  # the /continue query and form: where validateToken finds its token


def complete(st: TenantState, login: Login) -> Response:
    """Count the login, run the post-login Actions, then answer the application."""
    st.store.record_login(login.user_id, st.now())
    return proceed(st, login, st.actions.pipeline(), 0, None)


def proceed(
    st: TenantState, login: Login, pipeline: list[ActionSpec], start: int, resume: Resume | None
) -> Response:
    """Run the pipeline from `start` (resuming that Action at /continue), then issue the code."""
    if resume is None:
        request_event = login.txn["request"]
    else:
        request_event = actions_event.request_details(
            request.args.to_dict(), request.form.to_dict()
        )
    for index in range(start, len(pipeline)):
        spec = pipeline[index]
        resuming = resume is not None and index == start
        outcome = run_action(st, login, spec, request_event, resume if resuming else None)
        if outcome.error is not None:
            # Auth0 answers an Action's uncaught error as access_denied, with its message.
            return refuse(login, "access_denied", outcome.error)
        stop = apply(st, login, spec, outcome)
        if stop is not None:
            return stop
        redirect = outcome.of("redirect")
        if redirect:
            return suspend(st, login, pipeline, index, redirect[-1])
    return finish(st, login, resumed=resume is not None)


def run_action(
    st: TenantState, login: Login, spec: ActionSpec, request_event: dict, resume: Resume | None
) -> Outcome:
    """One run of one Action, with the event as it stands now."""
    user = st.store.get(login.user_id) or (st.store.get(login.primary) if login.primary else None)
    user = user or login.last_user
    if user is None:
        return Outcome(error="The user logging in no longer exists.")
    login.last_user = user
    client = st.clients[login.txn["client_id"]]
    context = {"id": login.id, "connection": login.connection, "auth_time": login.auth_time}
    event = actions_event.build(
        user, client, login.txn, {**context, "sid": login.sid}, request_event
    )
    now = st.now()
    assert st.actions.node is not None  # a pipeline is empty without Node
    return actions_runtime.run(
        st.actions.node,
        spec,
        "continue" if resume else "execute",
        event,
        cache=st.actions.cache_entries(int(now * 1000)),
        now=now,
        # encodeToken's `iss` is the tenant's hostname (Auth0's "Redirect with Actions"), not
        # the issuer URL its ID tokens carry.
        issuer=urlsplit(st.issuer()).netloc,
        continue_state=resume.state if resume else None,
        continue_params=resume.params if resume else {},
        timeout=st.actions.timeout,
    )


def apply(st: TenantState, login: Login, spec: ActionSpec, outcome: Outcome) -> Response | None:
    """Apply what an Action asked for; answer the application if that ends the login."""
    st.actions.apply_cache(outcome.commands)
    for kind, key in (("app_metadata", "app_metadata"), ("user_metadata", "user_metadata")):
        changes = {c["key"]: c["value"] for c in outcome.of(kind)}
        if changes and st.store.update_metadata(login.user_id, {key: changes}, st.now()) is None:
            logger.warning("Action %s: %s for a user that no longer exists", spec.name, key)
    for kind, token, claims in (
        ("id_token_claim", "id", login.id_claims),
        ("access_token_claim", "access", login.access_claims),
    ):
        for command in outcome.of(kind):
            why = custom_claims.refusal(command["name"], token)
            if why is None:
                claims[command["name"]] = command["value"]
            else:
                logger.warning("Action %s: claim %r left out: %s", spec.name, command["name"], why)
    for command in outcome.of("set_primary_user"):
        login.primary = command["user_id"]
    denials = outcome.of("deny")
    if denials:
        # Auth0: metadata changes stay; the login ends at once and no later Action runs.
        return refuse(login, "access_denied", denials[0]["reason"])
    redirect = outcome.of("redirect")
    if redirect and "none" in login.txn.get("prompts", []):
        # Auth0: a redirect cannot happen without interaction, so prompt=none fails.
        return refuse(login, "interaction_required", "Interaction required")
    if redirect and urlsplit(redirect[-1]["url"]).scheme not in ("http", "https"):
        return refuse(login, "access_denied", "api.redirect.sendUserTo needs an absolute URL")
    return None


def suspend(
    st: TenantState, login: Login, pipeline: list[ActionSpec], index: int, redirect: dict
) -> Response:
    """Keep the login server-side under a fresh state, bound to this browser, and send the
    browser to the Action's URL with its query plus that state."""
    state = secrets.token_urlsafe(32)
    browser = request.cookies.get(CONTINUE_COOKIE) or secrets.token_urlsafe(24)
    with st.lock:
        prune(st.suspended, st.now())
        st.suspended[state] = {
            "login": login,
            "pipeline": pipeline,
            "index": index,
            "browser": browser,
            "expires": st.now() + SUSPENDED_LIFETIME,
        }
    response = redirect_with(redirect["url"], {**redirect["query"], "state": state})
    # Over https, SameSite=None as Auth0's own cookies: a linking page on another site may POST
    # to /continue. Browsers take SameSite=None only with Secure, so plain http gets Lax (the
    # loopback app and tenant are the same site: their GET and POST both carry it).
    response.set_cookie(
        CONTINUE_COOKIE,
        browser,
        httponly=True,
        samesite="None" if request.is_secure else "Lax",
        path="/continue",
        secure=request.is_secure,
    )
    return response


def finish(st: TenantState, login: Login, resumed: bool) -> Response:
    """Issue the code for whom the login ends as (after setPrimaryUser, the primary)."""
    subject = login.user_id
    if login.primary is not None and login.primary != login.user_id:
        if not holds(st, login.primary, login.identity):
            # Auth0: the identity used to log in must be a secondary of the primary, or the
            # login fails and no tokens are issued (its wording for that is not documented).
            return refuse(
                login,
                "access_denied",
                f"setPrimaryUser: {login.primary} does not hold the identity {login.identity} "
                "among its secondary identities",
            )
        subject = login.primary
    sid, cookie = login.sid, None
    if resumed:
        # The browser may have signed in elsewhere meanwhile (the linking page's proof): the
        # login that completes is the one its SSO session now names.
        cookie = sso.start_session(st, login.identity, login.connection, login.auth_time)
        sid = sso.session_id_claim(cookie)
    response = issue_code(
        st, login.txn, subject, login.auth_time, sid, login.id_claims, login.access_claims
    )
    return sso.set_cookie(response, cookie) if cookie else response


def holds(st: TenantState, primary: str, identity: str) -> bool:
    """Whether `primary` has `identity` among its secondary identities."""
    user = st.store.get(primary)
    return user is not None and any(identity_id(i) == identity for i in user["identities"][1:])


def refuse(login: Login, error: str, description: str) -> Response:
    """End the login at the application's redirect_uri with an OAuth error."""
    txn = login.txn
    return redirect_with(
        txn["redirect_uri"],
        {"error": error, "error_description": description, "state": txn["state"]},
    )
