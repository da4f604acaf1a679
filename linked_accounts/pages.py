"""The HTML pages: thin views over `operations`, and the one place a result or a refusal becomes a
page. Changes are form posts answered with a redirect (303) to the settings page and its outcome.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from . import account, auth, identity_cache, operations, reauth, separated, suggestion_pages
from . import management as m
from .account import Account
from .auth import signed_in
from .forms import ActionForm, IdentityForm, LinkForm, SeparatedForm
from .i18n import _
from .navigation import return_path, to_settings
from .operations import Deleted, SignInAtAuth0
from .refusals import Refusal, from_auth0

log = logging.getLogger(__name__)


def settings_page():
    """Show every identity linked to the signed-in user's profile."""
    acct = signed_in()
    return render_template(
        "linked_accounts/settings.html",
        account=acct,
        identities=operations.identities(acct),
        read_at=identity_cache.read_at(acct.user_id),
        link_options=operations.link_options(),
        separated_offers=separated.offers(),
    )


def refresh():
    """Re-read the identities from Auth0 (at most once per REFRESH_MIN_INTERVAL)."""
    acct = signed_in()
    _require_valid(ActionForm())
    operations.refresh(acct)
    return to_settings(_("Your linked accounts are up to date."), "success")


def confirm_unlink():
    """Ask the user to confirm, and say what unlinking will do, before anything changes."""
    identity = operations.secondary(signed_in(), request.args.get("identity", ""))
    form = IdentityForm(identity=identity.key)
    return render_template("linked_accounts/confirm_unlink.html", identity=identity, form=form)


def unlink():
    """Unlink an identity the user really has; the form only names it."""
    acct = signed_in()
    form = _require_valid(IdentityForm())
    return unlink_identity(acct, form.identity.data)


def unlink_identity(acct: Account, identity: str, *, reauthenticated: bool = False):
    """Unlink `identity` and say so (resumed here after a fresh login)."""
    found = operations.unlink(acct, identity, reauthenticated=reauthenticated).identity
    message = _(
        "%(name)s (%(detail)s) was unlinked. "
        "It is now a separate account with no data from this profile.",
        name=operations.name_of(found),
        detail=found.detail or found.user_id,
    )
    return to_settings(message, "success")


def link():
    """Start linking, at Auth0's own chooser or at one of LINK_CONNECTIONS."""
    acct = signed_in()
    form = _require_valid(LinkForm())
    if not form.confirmed.data:
        return suggestion_pages.confirm_link(acct, form.connection.data or "")
    return start_link(acct, form.connection.data or "")


def start_link(acct: Account, connection: str, *, reauthenticated: bool = False):
    """Send the user to sign in to the other account (resumed here after a fresh login)."""
    trip = operations.start_link(acct, connection, reauthenticated=reauthenticated)
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
        # GET /api/session (the session's flash: the SPA has no settings URL to carry it).
        flash(message, "success")
        return redirect(trip["next"], 303)
    return to_settings(message, "success")


def confirm_delete():
    """Say plainly what deleting the separated account removes, and what it keeps."""
    target = operations.separated_target(signed_in(), request.args.get("user", ""))
    form = SeparatedForm(user=target["key"])
    return render_template("linked_accounts/confirm_delete.html", target=target, form=form)


def delete():
    """Delete the separated account, after a fresh login of the primary."""
    acct = signed_in()
    form = _require_valid(SeparatedForm())
    return delete_separated(acct, form.user.data)


def delete_separated(acct: Account, user: str, *, reauthenticated: bool = False):
    """Delete it, or send the user to sign in to it first (resumed here after a fresh login)."""
    result = operations.delete_separated(acct, user, reauthenticated=reauthenticated)
    if isinstance(result, SignInAtAuth0):
        return redirect(result.url)
    return _deleted(result)


def finish_delete(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """Delete the separated account with the token of the sign-in that just finished."""
    return _deleted(operations.finish_delete_separated(signed_in(), token, claims, trip))


def change_trip_failed(trip: dict[str, Any], status: int, reason: str, error: str | None = None):
    """A re-authentication, link or deletion trip did not complete: the user stays signed in."""
    return to_settings(_("%(reason)s Nothing was changed.", reason=reason), "error")


def refused(refusal: Refusal):
    """Answer a refusal: go where it asks the browser to go, else show why on a page."""
    if refusal.code == "not_authenticated":
        return redirect(url_for("linked_accounts.login", next=return_path()))
    if refusal.code == "login_required":
        account.forget_identities()
        return auth.renew()
    if refusal.code == "session_refresh_required" and refusal.resume:
        action, args = refusal.resume
        return redirect(reauth.start(signed_in(), action, args))
    if refusal.code == "identity_not_found":
        return to_settings(refusal.message, "info")
    page = render_template("linked_accounts/error.html", failure=refusal)
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    return page, refusal.status, headers


def auth0_failed(error: m.ManagementError):
    """Show a clear page for any Auth0 failure; a rejected token means signing in again."""
    if not isinstance(error, m.TokenRejected):
        log.warning(
            "management API failed: %s status=%s code=%s",
            type(error).__name__,
            error.status,
            error.code,
        )
    return refused(from_auth0(error))


def bad_request(error):
    """Answer a forged, stale or incomplete form (CSRF included) with a page, not a bare 400."""
    return refused(
        Refusal(
            "invalid_request",
            _("This request could not be used"),
            _(
                "The form was incomplete or has expired, for example because the page was open "
                "for a long time. Nothing was changed. Go back to your linked accounts and try "
                "again."
            ),
        )
    )


def _require_valid(form):
    if not form.validate_on_submit():
        abort(400)
    return form


def _deleted(result: Deleted):
    return to_settings(_("The separate %(name)s account was deleted.", name=result.name), "success")


def register(bp) -> None:
    """Add the pages, and the answers to refusals and Auth0 failures, to the blueprint."""
    bp.add_url_rule("/", "settings", settings_page, methods=["GET"])
    bp.add_url_rule("/refresh", view_func=refresh, methods=["POST"])
    bp.add_url_rule("/unlink", view_func=confirm_unlink, methods=["GET"])
    bp.add_url_rule("/unlink", view_func=unlink, methods=["POST"])
    bp.add_url_rule("/link", view_func=link, methods=["POST"])
    bp.add_url_rule("/separated/delete", view_func=confirm_delete, methods=["GET"])
    bp.add_url_rule("/separated/delete", view_func=delete, methods=["POST"])
    bp.register_error_handler(Refusal, refused)
    bp.register_error_handler(m.ManagementError, auth0_failed)
    bp.register_error_handler(400, bad_request)
