"""Link another account: the user signs in to it through this same client, then we POST its ID
token as `link_with` with the primary's own token (Auth0's client-side scenario)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect

from . import account, events, reauth
from . import management as m
from .account import Account
from .auth import finisher, login_required, relogin, signed_in_during, start_flow, to_settings
from .blueprint import bp
from .forms import LinkForm
from .i18n import _
from .identities import display_name, find, parse_identities, split_user_id
from .operations import check_identities, load_identities
from .state import state
from .views import refuse


@bp.post("/link")
@login_required
def link(acct: Account):
    """Start linking, at Auth0's own chooser or at one of LINK_CONNECTIONS."""
    form = LinkForm()
    if not form.validate_on_submit():
        abort(400)
    connection = form.connection.data or ""
    if connection and connection not in state().settings.link_connections:
        return refuse(_("Not available"), _("Linking that kind of account is not offered here."))
    return start_link(acct, connection=connection)


@reauth.resumable("link")
def start_link(acct: Account, connection: str):
    """After a fresh login of the primary, send the user to sign in to the other account."""
    fresh_login = reauth.require_fresh_login(acct, "link", connection=connection)
    if fresh_login:
        return fresh_login
    # prompt=login and max_age=0: the user must prove they hold the other account now, not
    # ride on whatever session Auth0 already has.
    params: dict[str, Any] = {"prompt": "login", "max_age": 0}
    if connection:
        params["connection"] = connection
    return start_flow("link", params, connection=connection)


@finisher("link")
def finish_link(token: dict[str, Any], claims: dict[str, Any], flow: dict[str, Any]):
    """Check the other account's login, then link it. Its tokens are not kept."""
    acct = account.current()
    if acct is None or acct.token_expired:
        # relogin, not login: Auth0's session is now the other account's, and a silent login
        # must never switch this browser to it.
        return relogin()
    sub = str(claims.get("sub", ""))
    refusal = _refusal(acct, claims, sub, flow)
    if refusal:
        return refuse(_("Not linked"), refusal)
    try:
        identities = state().client.link(acct.access_token, acct.user_id, token["id_token"])
        check_identities(identities)
    except (m.Timeout, m.ConnectionFailed, m.BadResponse):
        account.forget_identities()  # it may have been linked: re-read before drawing
        raise
    account.remember_identities(identities)
    provider, user_id = split_user_id(sub)
    linked = find(parse_identities(identities), sub)
    name = display_name(provider, linked.connection if linked else provider)
    if linked:
        events.emit(events.identity_linked, user_id=acct.user_id, identity=linked)
    detail = claims.get("email") or claims.get("name") or user_id
    message = _(
        "%(name)s (%(detail)s) is now linked. You can sign in with it.", name=name, detail=detail
    )
    if flow.get("next"):
        # Started from the JSON API: back to the single-page app, which reads the message from
        # GET /api/session (the session's flash: the SPA has no settings URL to carry it).
        flash(message, "success")
        return redirect(flow["next"], 303)
    return to_settings(message, "success")


def _refusal(acct: Account, claims: dict[str, Any], sub: str, flow: dict[str, Any]) -> str | None:
    """Say why this login must not be linked, or None when it may."""
    if sub == acct.user_id:
        return _("That is the account you are signed in with, so there is nothing to link.")
    if not signed_in_during(claims, flow):
        return _("Auth0 did not ask you to sign in to that account, so it was not linked.")
    if find(load_identities(acct), sub):
        return _("That account is already linked to your profile.")
    if state().settings.require_verified_email and claims.get("email_verified") is not True:
        if not claims.get("email"):
            return _(
                "That account's email address is not verified, so it cannot be linked. "
                "Verify it with the provider first, then try again."
            )
        return _(
            "That account's email address (%(email)s) is not verified, so it cannot be linked. "
            "Verify it with the provider first, then try again.",
            email=claims["email"],
        )
    return None
