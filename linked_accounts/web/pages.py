"""The HTML pages: thin views over `operations`, and the one place a result or a refusal becomes a
page. Changes are form posts answered with a redirect (303) to the accounts page and its outcome.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from .. import identity_cache, metrics, operations, separated, verified_email
from ..auth0 import management as m
from ..auth0 import scopes
from ..i18n import _
from ..identities import primary
from ..names import identity_name
from ..navigation import return_path, safe_next, to_accounts
from ..operations import Deleted, SignInAtAuth0
from ..purposes import Resumable
from ..refusals import (
    AlreadyUnlinked,
    InvalidRequest,
    LoginRequired,
    NotAuthenticated,
    Refusal,
    SessionRefreshRequired,
    SignedInAsOther,
    from_auth0,
)
from ..signin import reauth
from ..signin.account import Account
from ..signin.reauth import FreshLogin
from ..state import state
from .forms import ActionForm, IdentityForm, LinkForm, SeparatedForm
from .signin import coming_back_to, form_post, signed_in
from .templating import la_ago, render


def accounts_page():
    """Show every identity linked to the signed-in user's profile."""
    acct = signed_in()
    metrics.page_view()
    identities = operations.identities(acct)
    read_at = identity_cache.read_at(acct.user_id)
    return render(
        "linked_accounts/settings.html",
        read_ago=la_ago(read_at) if read_at else "",  # "2 minutes ago"
        account=acct,  # not drawn by the extension: for a host's own templates
        email=acct.email,
        identities=identities,
        read_at=read_at,
        link_options=operations.link_options(),
        separated_offers=separated.offers(),
        **_why_sign_in(acct),
    )


def refresh():
    """Re-read the identities from Auth0 (at most once per REFRESH_MIN_INTERVAL)."""
    acct = signed_in()
    require_valid(ActionForm())
    try:
        operations.refresh(acct)
    except m.TokenRejected:
        raise  # renewed, and back to the page (coming_back_to)
    except m.ManagementError as error:
        # Back to the list (as last read) saying why: the address of a form post is no page to
        # reload or share.
        refusal = from_auth0(error)
        metrics.refused(refusal)
        return to_accounts(refusal.message, "error")
    return to_accounts(_("Your linked accounts are up to date."), "success")


def confirm_unlink():
    """Ask the user to confirm, and say what unlinking will do, before anything changes."""
    acct = signed_in()
    identity = operations.secondary(acct, request.args.get("identity", ""))
    form = IdentityForm(identity=identity.key)
    return render(
        "linked_accounts/confirm_unlink.html", identity=identity, form=form, **_why_sign_in(acct)
    )


def unlink():
    """Unlink an identity the user really has; the form only names it."""
    acct = signed_in()
    form = require_valid(IdentityForm())
    return fresh_or_reauthenticate(acct, Resumable.UNLINK, identity=form.identity.data)


def unlink_identity(acct: Account, identity: str, proof: FreshLogin | None = None):
    """Unlink `identity` and say so (resumed here after a fresh login)."""
    found = operations.unlink(acct, identity, proof).identity
    message = _(
        "%(name)s (%(detail)s) was unlinked. "
        "It is now a separate account with no data from this profile.",
        name=identity_name(found),
        detail=found.detail or found.user_id,
    )
    return to_accounts(message, "success")


def link():
    """Start linking, at Auth0's own chooser or at one of LINK_CONNECTIONS."""
    acct = signed_in()
    form = require_valid(LinkForm())
    if not form.confirmed.data:
        # The confirmation is a page of its own, at an address that can be reloaded and shared.
        connection = form.connection.data or None
        return redirect(url_for("linked_accounts.confirm_link", connection=connection), 303)
    return fresh_or_reauthenticate(acct, Resumable.LINK, connection=form.connection.data or "")


def confirm_linking():
    """Ask the user to confirm linking an account of `connection` (one of LINK_CONNECTIONS, or
    any at Auth0's chooser): everything else the page says is read from their own account."""
    return confirm_link(signed_in(), request.args.get("connection", ""))


def confirm_link(acct: Account, connection: str):
    """Say what linking an account of `connection` (or any, at Auth0's chooser) will do, before
    the trip to Auth0: the signed-in account stays primary, the other one's id ends."""
    if connection and connection not in dict(operations.link_options()):
        raise Refusal(
            "connection_not_offered",
            _("Not available"),
            _("Linking that kind of account is not offered here."),
        )
    operations.require_scope(scopes.UPDATE_IDENTITIES, acct.scope)  # say so before confirming
    verified_email.require_own_verified(acct)
    identities = operations.identities(acct)
    own = primary(identities)
    return render(
        "linked_accounts/confirm_link.html",
        connection=connection,
        name=dict(operations.link_options()).get(connection, ""),
        own_method=identity_name(own) if own else "",
        own_email=acct.email or "",
        **_why_sign_in(acct),
    )


def start_link(acct: Account, connection: str, proof: FreshLogin | None = None):
    """Send the user to sign in to the other account (resumed here after a fresh login)."""
    trip = operations.start_link(acct, connection, proof)
    return redirect(trip.url)


def finish_link(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """Link the account the user just signed in to, and say so."""
    linked = operations.finish_link(signed_in(), token, claims, trip)
    message = _(
        "%(name)s (%(detail)s) is now linked. You can sign in with it.",
        name=linked.name,
        detail=linked.detail,
    )
    if trip.get("next"):
        # Started from the JSON API: back to the single-page app, which reads the message from
        # GET /api/session (the session's flash: the SPA has no accounts page URL to carry it).
        flash(message, "success")
        return redirect(trip["next"], 303)
    return to_accounts(message, "success")


def confirm_delete():
    """Say plainly what deleting the separated account removes, and what it keeps."""
    acct = signed_in()
    target = operations.separated_target(acct, request.args.get("user", ""))
    form = SeparatedForm(user=target.key)
    return render(
        "linked_accounts/confirm_delete.html", target=target, form=form, **_why_sign_in(acct)
    )


def delete():
    """Delete the separated account, after a fresh login of the primary."""
    acct = signed_in()
    form = require_valid(SeparatedForm())
    return fresh_or_reauthenticate(acct, Resumable.DELETE_SEPARATED, user=form.user.data)


def delete_separated(acct: Account, user: str, proof: FreshLogin | None = None):
    """Delete it, or send the user to sign in to it first (resumed here after a fresh login)."""
    result = operations.delete_separated(acct, user, proof)
    if isinstance(result, SignInAtAuth0):
        return redirect(result.url)
    return _deleted(result)


def finish_delete(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """Delete the separated account with the token of the sign-in that just finished."""
    return _deleted(operations.finish_delete_separated(signed_in(), token, claims, trip))


def delete_again(trip: dict[str, Any]):
    """Start the deletion again after its sign-in came back as another account: as the first
    time, a fresh login of the primary first when it is no longer recent."""
    acct = signed_in(url_for("linked_accounts.accounts"))
    return fresh_or_reauthenticate(acct, Resumable.DELETE_SEPARATED, user=str(trip.get("user")))


def reauthenticate():
    """Sign in again, then return to `next`: where the JSON API sends a browser to confirm."""
    acct = signed_in()
    target = safe_next(request.args.get("next")) or url_for("linked_accounts.accounts")
    return fresh_or_reauthenticate(acct, Resumable.RETURN_TO, next=target)


def fresh_or_reauthenticate(acct: Account, action: Resumable, **args):
    """Carry out a confirmed action; without a fresh login, first send the user to sign in again
    (a trip that resumes the action afterwards). Started here, in the view, because an error
    handler changes nothing."""
    try:
        return state().resumable[action](acct, **args)
    except SessionRefreshRequired as refusal:
        return redirect(reauth.start(acct, refusal.resume, refusal.resume_with))


def change_trip_failed(trip: dict[str, Any], status: int, reason: str, error: str | None = None):
    """A re-authentication, link or deletion trip did not complete: the user stays signed in."""
    return to_accounts(_("%(reason)s Nothing was changed.", reason=reason), "error")


def refused(refusal: Refusal):
    """Answer a refusal: go where it asks the browser to go, else show why on a page. It only
    translates: it reads nothing from the request, changes nothing, and cannot fail."""
    metrics.refused(refusal)
    if isinstance(refusal, NotAuthenticated):
        return redirect(url_for("linked_accounts.login", next=refusal.return_to))
    if isinstance(refusal, LoginRequired):
        return redirect(url_for("linked_accounts.relogin_page", next=refusal.return_to))
    if isinstance(refusal, AlreadyUnlinked):
        return to_accounts(refusal.message, "info")
    if isinstance(refusal, SignedInAsOther):  # what its page says was kept before raising
        return redirect(url_for("linked_accounts.other_account"), 303)
    page = render("linked_accounts/error.html", failure=refusal)
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    return page, refusal.status, headers


def auth0_failed(error: m.ManagementError):
    """Show a clear page for any Auth0 failure; a rejected token means signing in again."""
    return refused(from_auth0(error))


def bad_request(error):
    """Answer a forged, stale or incomplete form (CSRF included) with a page, not a bare 400."""
    return refused(
        InvalidRequest(
            _(
                "The form was incomplete or has expired, for example because the page was open "
                "for a long time. Nothing was changed. Go back to your linked accounts and try "
                "again."
            )
        )
    )


def _why_sign_in(acct: Account) -> dict[str, Any]:
    """What a page needs to say, before the button is pressed, that a change starts with signing
    in again (and as whom: the trip hints the same account)."""
    return {
        "needs_login": not reauth.is_fresh(acct),
        "signed_in_as": acct.email or acct.name or "",
    }


def require_valid(form):
    if not form.validate_on_submit():
        abort(400)
    return form


def _deleted(result: Deleted):
    return to_accounts(_("The separate %(name)s account was deleted.", name=result.name), "success")


def register(bp) -> None:
    """Add the pages, and the answers to refusals and Auth0 failures, to the blueprint."""
    page = coming_back_to(return_path)  # after a login or a renewal: back to this page
    change = form_post(page)  # a refusal of a form's POST is shown at an address of its own
    bp.add_url_rule("/", "accounts", page(accounts_page), methods=["GET"])
    bp.add_url_rule("/refresh", view_func=change(refresh), methods=["POST"])
    bp.add_url_rule("/unlink", view_func=page(confirm_unlink), methods=["GET"])
    bp.add_url_rule("/unlink", view_func=change(unlink), methods=["POST"])
    bp.add_url_rule("/link", "confirm_link", page(confirm_linking), methods=["GET"])
    bp.add_url_rule("/link", view_func=change(link), methods=["POST"])
    bp.add_url_rule("/separated/delete", view_func=page(confirm_delete), methods=["GET"])
    bp.add_url_rule("/separated/delete", view_func=change(delete), methods=["POST"])
    bp.add_url_rule("/reauthenticate", view_func=page(reauthenticate), methods=["GET"])
    bp.register_error_handler(Refusal, refused)
    bp.register_error_handler(m.ManagementError, auth0_failed)
    bp.register_error_handler(400, bad_request)
