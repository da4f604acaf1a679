"""The settings page, confirm and unlink: thin HTML views over `operations`."""

from __future__ import annotations

import logging
import time

from flask import abort, render_template, request

from . import account, operations, reauth, templating  # noqa: F401  (registers template helpers)
from . import management as m
from .account import Account
from .auth import login_required, relogin, to_settings
from .blueprint import bp
from .failures import Failure, describe
from .forms import ActionForm, IdentityForm
from .i18n import _
from .identities import display_name
from .operations import Refusal, load_identities
from .state import state

log = logging.getLogger(__name__)


@bp.get("/")
@login_required
def settings(acct: Account):
    """Show every identity linked to the signed-in user's profile."""
    identities = load_identities(acct)
    names = state().settings.connection_names
    return render_template(
        "linked_accounts/settings.html",
        account=acct,
        identities=identities,
        read_at=account.last_read_at(),
        form=ActionForm(),
        link_options=[(c, display_name(c, c, names)) for c in state().settings.link_connections],
    )


@bp.post("/refresh")
@login_required
def refresh(acct: Account):
    """Re-read the identities from Auth0, at most once per REFRESH_MIN_INTERVAL."""
    if not ActionForm().validate_on_submit():
        abort(400)
    last = account.last_read_at()
    if last is None or time.time() - last >= state().settings.refresh_interval:
        load_identities(acct, fresh=True)
    return to_settings(_("Your linked accounts are up to date."), "success")


@bp.get("/unlink")
@login_required
def confirm_unlink(acct: Account):
    """Ask the user to confirm, and say what unlinking will do, before anything changes."""
    try:
        identity = operations.secondary(acct, request.args.get("identity", ""))
    except Refusal as refusal:
        if refusal.code != "identity_not_found":
            raise
        return to_settings(_("That account is not linked to your profile (any more)."), "info")
    form = IdentityForm(identity=identity.key)
    return render_template("linked_accounts/confirm_unlink.html", identity=identity, form=form)


@bp.post("/unlink")
@login_required
def unlink(acct: Account):
    """Unlink an identity the user really has; the form only names it."""
    form = IdentityForm()
    if not form.validate_on_submit():
        abort(400)
    return unlink_identity(acct, identity=form.identity.data)


@reauth.resumable("unlink")
def unlink_identity(acct: Account, identity: str):
    """Look `identity` up in the user's own identities, check the login is fresh, then DELETE."""
    try:
        found = operations.secondary(acct, identity)
        fresh_login = reauth.require_fresh_login(acct, "unlink", identity=found.key)
        if fresh_login:
            return fresh_login
        operations.unlink(acct, found)
    except Refusal as refusal:
        if refusal.code != "identity_not_found":
            raise
        return to_settings(refusal.message, "info")
    message = _(
        "%(name)s (%(detail)s) was unlinked. "
        "It is now a separate account with no data from this profile.",
        name=operations.name_of(found),
        detail=found.detail or found.user_id,
    )
    return to_settings(message, "success")


def refuse(title: str, message: str, status: int = 400):
    """Answer a request that will not be carried out; nothing was changed."""
    failure = Failure(status, title, message)
    return render_template("linked_accounts/error.html", failure=failure), status


@bp.errorhandler(Refusal)
def refused(refusal: Refusal):
    """Show why a request was refused."""
    return refuse(refusal.title, refusal.message, refusal.status)


@bp.errorhandler(m.ManagementError)
def management_failed(error: m.ManagementError):
    """Show a clear page for any Auth0 failure; a rejected token means logging in again."""
    if isinstance(error, m.TokenRejected):
        account.forget_identities()
        return relogin()
    log.warning(
        "management API failed: %s status=%s code=%s",
        type(error).__name__,
        error.status,
        error.code,
    )
    failure = describe(error)
    response = render_template("linked_accounts/error.html", failure=failure), failure.status
    if failure.retry_after:
        return (*response, {"Retry-After": str(failure.retry_after)})
    return response


@bp.errorhandler(400)
def bad_request(error):
    """Answer a forged, stale or incomplete form (CSRF included) with a page, not a bare 400."""
    return refuse(
        _("This request could not be used"),
        _(
            "The form was incomplete or has expired, for example because the page was open for "
            "a long time. Nothing was changed. Go back to your linked accounts and try again."
        ),
    )
