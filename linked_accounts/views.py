"""The settings page and unlink: thin views over the domain and the Management API client."""

from __future__ import annotations

import logging
import time

from flask import abort, flash, redirect, render_template, request, url_for

from . import account, events, reauth, templating  # noqa: F401  (registers template helpers)
from . import management as m
from .account import Account
from .auth import login_required, relogin
from .blueprint import bp
from .failures import Failure, describe
from .forms import ActionForm, IdentityForm
from .identities import (
    Identity,
    IdentityFormatError,
    display_name,
    find,
    parse_identities,
    with_primary_profile,
)
from .state import state

log = logging.getLogger(__name__)


def load_identities(acct: Account, *, fresh: bool = False) -> list[Identity]:
    """Return the user's identities, from the session cache unless stale or `fresh` is asked."""
    st = state()
    raw = None if fresh else account.cached_identities(st.settings.cache_seconds)
    if raw is None:
        user = st.client.get_user(acct.access_token, acct.user_id)
        raw = user.get("identities")
        check_identities(raw)  # refuse a malformed answer before caching it
        account.remember_identities(raw)
    return with_primary_profile(parse_identities(raw), acct.email, acct.name)


@bp.get("/")
@login_required
def settings(acct: Account):
    """Show every identity linked to the signed-in user's profile."""
    identities = load_identities(acct)
    return render_template(
        "linked_accounts/settings.html",
        account=acct,
        identities=identities,
        read_at=account.last_read_at(),
        form=ActionForm(),
        link_options=[(c, display_name(c, c)) for c in state().settings.link_connections],
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
    flash("Your linked accounts are up to date.", "success")
    return redirect(url_for("linked_accounts.settings"), 303)


@bp.get("/unlink")
@login_required
def confirm_unlink(acct: Account):
    """Ask the user to confirm, and say what unlinking will do, before anything changes."""
    identity = find(load_identities(acct), request.args.get("identity", ""))
    if identity is None:
        flash("That account is not linked to your profile (any more).", "info")
        return redirect(url_for("linked_accounts.settings"), 303)
    if identity.is_primary:
        return _primary_refused()
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
    found = find(load_identities(acct), identity)
    if found is None:
        flash("That account was already unlinked.", "info")
        return redirect(url_for("linked_accounts.settings"), 303)
    if found.is_primary:
        return _primary_refused()
    fresh_login = reauth.require_fresh_login(acct, "unlink", identity=found.key)
    if fresh_login:
        return fresh_login
    name = display_name(found.provider, found.connection)
    try:
        remaining = state().client.unlink(
            acct.access_token, acct.user_id, found.provider, found.user_id
        )
        check_identities(remaining)
    except (m.BadRequest, m.NotFound):
        # Auth0 does not document its answer for an identity that is no longer linked (another
        # tab may have unlinked it): re-read and tell the truth either way.
        if find(load_identities(acct, fresh=True), found.key) is None:
            flash(f"{name} was already unlinked.", "info")
            return redirect(url_for("linked_accounts.settings"), 303)
        raise
    except (m.Timeout, m.ConnectionFailed, m.BadResponse):
        # Auth0 may have done it without our hearing back: re-read before showing anything.
        account.forget_identities()
        raise
    account.remember_identities(remaining)
    events.emit(events.identity_unlinked, user_id=acct.user_id, identity=found)
    flash(
        f"{name} ({found.detail or found.user_id}) was unlinked. "
        "It is now a separate account with no data from this profile.",
        "success",
    )
    return redirect(url_for("linked_accounts.settings"), 303)


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
        "This request could not be used",
        "The form was incomplete or has expired, for example because the page was open for a "
        "long time. Nothing was changed. Go back to your linked accounts and try again.",
    )


def check_identities(raw: object) -> None:
    """Raise BadResponse unless `raw` is an identities array as Auth0 documents it."""
    try:
        parse_identities(raw)
    except IdentityFormatError as exc:
        raise m.BadResponse(str(exc)) from exc


def refuse(title: str, message: str, status: int = 400):
    """Answer a request that will not be carried out; nothing was changed."""
    failure = Failure(status, title, message)
    return render_template("linked_accounts/error.html", failure=failure), status


def _primary_refused():
    return refuse(
        "This is your primary account",
        "This is the account you sign in with; it cannot be unlinked from itself. "
        "You can unlink the other accounts.",
    )
