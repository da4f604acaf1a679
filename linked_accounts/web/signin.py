"""Signing in and out, and renewing the Management API token when it expires.

Standalone, the extension signs people in. In host sign-in mode the host does, and the extension
only gets its own Management API token for the host's user: silently (`prompt=none`) from
Auth0's single sign-on session that the host's login left, through Auth0's login page when that
session has ended, and never for anyone but the host's user.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.urls import add_params_to_uri
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for

from .. import identity_cache, metrics, outcomes
from ..auth0 import management as m
from ..i18n import _
from ..navigation import return_path, safe_next
from ..purposes import Resumable, Trip
from ..refusals import (
    AlreadyUnlinked,
    GoElsewhere,
    LoginRequired,
    NotAuthenticated,
    Refusal,
    from_auth0,
)
from ..signals import login_finished
from ..signin import account, reauth, trips, wrong_account
from ..signin.account import Account
from ..state import state
from .forms import ActionForm

# A silent sign-in asks for `max_age` so that Auth0 puts the real login's auth_time in the ID
# token (changes need a recent one); this long, so that any live single sign-on session serves.
SILENT_MAX_AGE = 30 * 24 * 3600
# Auth0's answers to `prompt=none` that mean "the person must see Auth0's login page".
INTERACTION_NEEDED = ("login_required", "interaction_required", "consent_required")


def signed_in(return_to: str | None = None) -> Account:
    """Return the signed-in account with a usable token, or refuse: log in, or renew the token.

    Either way the user comes back to `return_to` (a view decorated with `coming_back_to` fills
    it in): a form is never re-submitted for them, so a confirmed action is neither lost nor
    carried out without them.
    """
    acct = account.current()
    if acct is None:
        raise NotAuthenticated(return_to)
    if acct.token_expired:
        account.forget_identities()  # the renewed token re-reads the list
        raise LoginRequired(return_to)
    return acct


def token_refused() -> None:
    """Auth0 refused the user's token: renew it before the next call (whatever its clock says)
    and re-read the list with the new one."""
    account.forget_identities()
    account.expire_token()


def coming_back_to(where: Callable[[], str | None]):
    """Decorate a view: a refusal that sends the browser somewhere (log in, renew, sign in again)
    brings it back to `where()`, worked out here, in the view, so that the refusal handlers
    never read the request; a token Auth0 refused is dealt with where it is found."""

    def decorate(view):
        @wraps(view)
        def run(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except m.TokenRejected as error:
                token_refused()
                raise LoginRequired(where()) from error
            except GoElsewhere as refusal:
                if refusal.return_to is None:
                    refusal.return_to = where()
                raise

        return run

    return decorate


def form_post(page: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """Decorate the view of a form's POST as `page` does, ending a refusal on a page of its own
    (`ending_on_a_page`): shown at the POST's address, a reload would send the form again."""
    return lambda view: page(ending_on_a_page(view))


def ending_on_a_page(view):
    """Decorate a view whose own address cannot be shown again (the callback, which works once
    and holds the code and state; a form post): a refusal it would show there is sealed, with
    its title, status and Retry-After, into the redirect to a page of its own, which a reload
    shows again. Those that send the browser somewhere already go there."""

    @wraps(view)
    def run(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except (GoElsewhere, AlreadyUnlinked, m.TokenRejected):
            raise  # a login, a renewal, another page: none is shown at this address
        except m.ManagementError as error:
            refusal = from_auth0(error)
        except Refusal as error:
            refusal = error
        metrics.refused(refusal)
        sealed = outcomes.seal(
            "error",
            refusal.message,
            refusal.status,
            title=str(refusal.title),
            retry_after=refusal.retry_after,
        )
        return redirect(url_for("linked_accounts.refused", **{outcomes.PARAM: sealed}), 303)

    return run


def login():
    """Start a login for the Management API audience, unless the user is signed in already.

    In host sign-in mode: a visitor the host has not signed in goes to the host's login; the
    host's user gets a token silently, or at Auth0's login page with `?prompt=login`.
    """
    target = safe_next(request.args.get("next"))
    st = state()
    if st.host_signs_in and st.host_user() is None:
        return redirect(host_login_url(target))
    acct = account.current()
    if acct is not None and not acct.token_expired:
        # A GET any site can trigger: it must never sign the user out. The session is replaced
        # (cleared, id rotated) only when a login completes, in account.sign_in.
        return redirect(target or url_for("linked_accounts.accounts"))
    if st.host_signs_in:
        return begin_login(
            target, prompt="login" if request.args.get("prompt") == "login" else "none"
        )
    return begin_login(target)


def begin_login(target: str | None, *, prompt: str | None = None, login_hint: str = ""):
    """Start a login; `prompt="login"` makes Auth0 ask who is signing in, `"none"` asks it to
    answer from its single sign-on session without showing a page."""
    settings = state().settings
    # max_age makes Auth0 put auth_time in the ID token, and sets how fresh a login must be
    # for changes right after it (REAUTH_MAX_AGE) without asking again.
    max_age = SILENT_MAX_AGE if prompt == "none" else settings.reauth_max_age
    params: dict[str, Any] = {"audience": settings.audience, "max_age": max_age}
    if prompt:
        params["prompt"] = prompt
    if login_hint:
        params["login_hint"] = login_hint
    if not state().host_signs_in:
        # A message flashed before this login and still unread was for a page before it ("You
        # are logged out." on a front page that shows none): the sign-in, which replaces the
        # session, does not carry it. Those flashed on the way (the at-login door's) are kept by
        # `account.sign_in`. As the host's guest the session and its messages are the host's.
        session.pop("_flashes", None)
    return redirect(trips.start(Trip.LOGIN, params, next=target))


def finish_login(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    st = state()
    if st.host_signs_in and str(claims.get("sub")) != st.host_user():
        # Auth0's session is someone else's: keep nothing, and say so.
        return other_account(claims, trip)
    account.sign_in(token, claims)
    if st.settings.identities_claim:  # the Action's copy of the identities: no read at first
        sub = str(claims["sub"])
        value = claims.get(st.settings.identities_claim)
        identity_cache.seed(sub, value, claims.get("iat"), st.settings.cache_seconds)
    login_finished.send(current_app._get_current_object(), claims=claims)
    return redirect(trip.get("next") or url_for("linked_accounts.accounts"))


def login_failed(trip: dict[str, Any], status: int, reason: str, error: str | None = None):
    """Show why login did not complete; nobody is signed in afterwards. A host's user whose
    Auth0 session has ended goes through Auth0's login page instead, and comes back."""
    if state().host_signs_in and error in INTERACTION_NEEDED:
        return begin_login(trip.get("next"))
    account.sign_out()
    return trips.refuse(status, reason)


def signin_failed():
    """Show why a sign-in did not complete (sent here by `trips.refuse`, with the reason sealed):
    an address that can be reloaded, and shows nothing to anyone else."""
    outcome = outcomes.current()
    if outcome is None or outcome.category != "error":
        # Expired, or another browser's: the reason is not ours to show any more.
        outcome = outcomes.Outcome("error", _("Signing in was not completed."), 400)
    page = render_template("linked_accounts/login_failed.html", reason=outcome.text)
    return page, outcome.status


def refused_page():
    """Show why a change was not made, after a form's POST or a sign-in it came back for (sent
    here by `ending_on_a_page`, the refusal sealed): an address that can be reloaded, and shows
    nothing to anyone else."""
    outcome = outcomes.current()
    if outcome is None or outcome.category != "error":
        # Expired, or another browser's: the list says what there is to say now.
        return redirect(url_for("linked_accounts.accounts"))
    failure = Refusal("refused", outcome.title or _("Nothing was changed"), outcome.text)
    page = render_template("linked_accounts/error.html", failure=failure)
    retry = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else {}
    return page, outcome.status, retry


def other_account(claims: dict[str, Any], trip: dict[str, Any]):
    """Auth0 is signed in as another person than the host's user: nothing is kept; say so on a
    page of its own, which can try the same sign-in again."""
    wrong_account.remember(
        Trip.LOGIN, claims, wrong_account.known_as(), next=safe_next(trip.get("next"))
    )
    return redirect(url_for("linked_accounts.other_account"), 303)


def other_account_page():
    """Say who signed in at Auth0, and as whom to sign in instead; offer to try again."""
    kept = wrong_account.kept()
    if kept is None:  # tried again already, expired, or someone else's: nothing to say
        return redirect(url_for("linked_accounts.accounts"))
    page = render_template(
        "linked_accounts/other_account.html",
        purpose=kept["purpose"],
        who=kept["signed_in_as"],
        asked_for=kept["asked_for"],
        method=kept.get("method") or "",  # kept by the release before: none
    )
    return page, 409


def try_again():
    """Start again the sign-in that came back as the wrong account: the same trip, from what the
    session kept (the form only says "again"), by its purpose's `again` in `init_app`'s table."""
    if not ActionForm().validate_on_submit():
        abort(400)
    kept = wrong_account.take()
    try:
        handler = state().trip_handlers.get(Trip(kept["purpose"])) if kept else None
    except ValueError:  # kept by an older release: nothing to start again
        handler = None
    if handler is None or handler.again is None:
        return redirect(url_for("linked_accounts.accounts"), 303)
    return handler.again(kept["trip"])


def login_again(trip: dict[str, Any]):
    """Sign in again, asking who is signing in this time."""
    return begin_login(trip.get("next"), prompt="login")


def reauth_again(trip: dict[str, Any]):
    """Sign in again before the same change, which the sign-in then carries out."""
    acct = signed_in(url_for("linked_accounts.accounts"))
    try:
        resume = Resumable(trip.get("action"))
    except ValueError:  # kept by an older release: nothing to resume
        return redirect(url_for("linked_accounts.accounts"), 303)
    return redirect(reauth.start(acct, resume, trip.get("args") or {}), 303)


def host_login_url(target: str | None) -> str:
    """Return the host's login page (a URL or an endpoint name), with `next` when given."""
    login_url = state().login_url or "/"
    url = login_url if "/" in login_url else url_for(login_url)
    if not target:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': target})}"


def renew(target: str | None = None):
    """Get the signed-in user a new token: silently (`prompt=none`) while Auth0 knows them."""
    target = target or return_path()
    if account.current() is None:
        return redirect(url_for("linked_accounts.login", next=target))
    params = {"audience": state().settings.audience, "prompt": "none"}
    return redirect(trips.start(Trip.RENEW, params, next=target))


def renew_page():
    """Renew the token, then return to `next`: where the JSON API sends a browser."""
    target = safe_next(request.args.get("next")) or url_for("linked_accounts.accounts")
    acct = account.current()
    if acct is not None and not acct.token_expired:
        # A GET any site can trigger: a renewal nobody needs could only end badly (Auth0's
        # session gone, or someone else's) and sign the user out.
        return redirect(target)
    return renew(target)


def finish_renewal(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    acct = account.current()
    if acct is None or str(claims.get("sub")) != acct.user_id:
        # Auth0's session now belongs to someone else (say, an account signed in to for
        # linking): never switch users silently; ask who is signing in.
        account.sign_out()  # never carry on as the wrong user
        return begin_login(trip.get("next"), prompt="login")
    account.renew_token(token, claims)
    return redirect(trip.get("next") or url_for("linked_accounts.accounts"))


def renewal_failed(trip: dict[str, Any], status: int, reason: str, error: str | None = None):
    """Auth0 no longer has a session for the user (login_required): log in on its page."""
    account.sign_out()  # the expired sign-in is over
    return begin_login(trip.get("next"), prompt="login")


def logout():
    """End our session and Auth0's. A POST with CSRF, so no other site can log the user out."""
    if not ActionForm().validate_on_submit():
        abort(400)
    acct = account.current()
    sid = acct.sid if acct else None
    account.sign_out()
    # Said once, on the front page the browser lands on (the host's, shown by its layout): the
    # session carries it, so the page's address stays plain and a reload does not repeat it.
    flash(_("You are logged out."), "info")
    # ...under a new id: the signed-in session's id names nothing from now on, and a request
    # still in flight with it cannot write the sign-in back.
    current_app.session_interface.regenerate(session)
    st = state()
    # Back to the host's front page: the accounts page itself would bounce to Auth0's login.
    home = request.url_root
    try:
        end_session = st.auth0.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        end_session = None
    if end_session:
        # logout_hint (the ID token's sid) with client_id spares the user Auth0's "log out?"
        # prompt; id_token_hint would too, but an ID token in a URL ends up in browser history
        # and access logs. Built here, without `state`: Auth0 would hand it back on the front
        # page's address, where nothing reads it (a logout has no answer to check).
        params = {"post_logout_redirect_uri": home, "client_id": st.settings.client_id}
        if sid:
            params["logout_hint"] = sid
        url = add_params_to_uri(end_session, params)
    else:
        # Tenants without RP-initiated logout discovery: Auth0's own endpoint, which does not ask.
        query = urlencode({"client_id": st.settings.client_id, "returnTo": home})
        url = f"{st.settings.issuer_url}/v2/logout?{query}"
    return redirect(url)


def register(bp, *, host_signs_in: bool) -> None:
    """Add the sign-in routes to the extension's blueprint (no logout of its own as a guest:
    the host signs people out)."""
    bp.add_url_rule("/login", view_func=login, methods=["GET"])
    # A trip's handler calls Auth0 too (a link, a deletion): a token it refuses is renewed.
    callback = coming_back_to(return_path)(ending_on_a_page(trips.callback))
    bp.add_url_rule("/callback", view_func=callback, methods=["GET"])
    bp.add_url_rule("/relogin", "relogin_page", view_func=renew_page, methods=["GET"])
    bp.add_url_rule("/signin/failed", view_func=signin_failed, methods=["GET"])
    bp.add_url_rule("/refused", "refused", refused_page, methods=["GET"])
    bp.add_url_rule("/signin/other-account", "other_account", other_account_page, methods=["GET"])
    # Trying again may call Auth0 (a merge looks its suggestion up again), as a form post does.
    again = coming_back_to(return_path)(ending_on_a_page(try_again))
    bp.add_url_rule("/signin/again", view_func=again, methods=["POST"])
    if not host_signs_in:
        bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
