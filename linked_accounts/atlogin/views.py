"""The at-login door: the linking application Auth0's post-login Action sends a person to when
the account they are signing in with shares its verified email with another.

The Action's token says who is signing in and which accounts are candidates; the page asks
"Is this also you?" in the words of the settings page's suggestions, proves the chosen account
by a sign-in to it (`prompt=login`, `max_age=0`, its connection and email; `sub`, `auth_time` and
`email_verified` checked), and sends the person back to Auth0's `/continue` with a signed answer:
link (which account stays: the older, as everywhere), "not now", "not mine", or nothing. The
Action then links and merges metadata; the login ends as the account that stays.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length

from .. import outcomes
from ..auth0 import scopes
from ..i18n import _
from ..names import display_name
from ..purposes import Trip
from ..signin import reauth, trips
from ..signin.reauth import Unproven
from ..state import state
from ..storage import keys, side_store
from ..suggestions import merging
from ..suggestions.lookup import Candidate
from ..web.templating import render
from . import token
from .token import AccountRef, Door, DoorRefused

log = logging.getLogger(__name__)

SECRET = "LINKED_ACCOUNTS_AT_LOGIN_SECRET"  # noqa: S105 (the setting's name)
USED = "at-login-used:"  # side-store entries of the Action's tokens already taken
ANSWERS = ("not_now", "not_mine", "skip")


class CandidateForm(FlaskForm):
    candidate = HiddenField(validators=[DataRequired(), Length(max=600)])


class AnswerForm(FlaskForm):
    answer = HiddenField(validators=[AnyOf(ANSWERS)])


def door():
    """Take the Action's token (once), then show the question on a clean, reloadable address;
    after a proof sign-in that did not link, with why (sealed in the address by `_back`)."""
    if "session_token" in request.args:
        try:
            found = _take(request.args["session_token"], request.args.get("state", ""))
        except DoorRefused as exc:
            log.warning("at-login token refused: %s", exc)
            return _refused()
        session[keys.AT_LOGIN] = _as_dict(found)
        session.pop(keys.AT_LOGIN_ANSWER, None)  # an earlier login's answer is nothing to send
        return redirect(url_for("linked_accounts.at_login"), 303)
    found = _current_door()
    if found is None:
        return _refused()
    outcome = outcomes.current()
    return _ask(found, outcome.text if outcome and outcome.category == "error" else None)


def prove():
    """Start the proof sign-in of the candidate the person says is theirs."""
    found = _current_door() or abort(400)
    form = CandidateForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = next((c for c in found.candidates if c.user_id == form.candidate.data), None)
    if chosen is None:
        abort(400)  # not one the Action named: the form is never trusted
    params: dict[str, Any] = {
        "prompt": "login",
        "max_age": 0,
        "connection": chosen.connection,
        "scope": scopes.OPENID,
        # The Action skips the sign-in this page starts: it is not a new login to ask about.
        "linked_accounts": "proof",
    }
    if chosen.email:
        params["login_hint"] = chosen.email
    return redirect(trips.start(Trip.AT_LOGIN, params, candidate=chosen.user_id))


def answer():
    """Continue the login at Auth0 without linking: "not now", "not mine", or as it was."""
    found = _current_door() or abort(400)
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400)
    reply = form.answer.data
    fields: dict[str, Any] = {}
    if reply == "not_mine":
        fields["candidates"] = [c.user_id for c in found.candidates]
        flash(_("Those accounts will not be suggested again. Nothing was linked."), "info")
    elif reply == "not_now":
        flash(_("Nothing was linked. You will be asked again later."), "info")
    else:
        flash(_("Nothing was linked."), "info")
    return _continue(found, reply, **fields)


def finish_proof(token_: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """The proof sign-in came back: answer "link" when it is the chosen account, just now."""
    found = _current_door()
    if found is None:
        return _back()  # the door says it is closed
    chosen = next((c for c in found.candidates if c.user_id == trip.get("candidate")), None)
    if chosen is None:
        return _back()
    problem = reauth.unproven(claims, trip, chosen.user_id)
    if problem is Unproven.OTHER_ACCOUNT:
        return _back(_("You signed in to a different account, so nothing was linked."))
    if problem is Unproven.NOT_AGAIN:
        return _back(_("Your sign-in was not confirmed again, so nothing was linked."))
    if claims.get("email_verified") is not True:
        return _back(_("That account's email address is not verified, so it was not linked."))
    keep = _plan(found, chosen).keep_signed_in
    primary, secondary = (found.current, chosen) if keep else (chosen, found.current)
    return _continue(
        found,
        "link",
        primary_identity=primary.as_claim(),
        secondary_identity=secondary.as_claim(),
    )


def proof_failed(trip: dict[str, Any], status: int, reason: str, error: str | None = None):
    """The proof sign-in was cancelled or failed: ask again, saying why."""
    return _back(reason)


def continue_page():
    """Send the browser back to Auth0's /continue with the signed answer `_continue` kept, by
    POST (the page's script submits it; without script, one press)."""
    kept = session.get(keys.AT_LOGIN_ANSWER)
    if not isinstance(kept, dict) or kept.get("expires_at", 0) < time.time():
        return _refused()
    query = urlencode({"state": kept["state"]})
    return render(
        "linked_accounts/at_login_continue.html",
        continue_url=f"{state().settings.issuer_url}/continue?{query}",
        answer=kept["answer"],
    )


def register(html: Blueprint) -> None:
    """Add the door's pages (only when the app has the Action's secret)."""
    html.add_url_rule("/at-login", "at_login", door, methods=["GET"])
    html.add_url_rule("/at-login/link", "at_login_link", prove, methods=["POST"])
    html.add_url_rule("/at-login/answer", "at_login_answer", answer, methods=["POST"])
    html.add_url_rule("/at-login/continue", "at_login_continue", continue_page, methods=["GET"])


def _take(raw: str, state_: str) -> Door:
    """Read the Action's token, and refuse it if it was taken before (a replay)."""
    settings = state().settings
    hosts = {urlsplit(settings.issuer_url).netloc, urlsplit(settings.canonical_url).netloc}
    found = token.read(raw, state_, secret=current_app.config[SECRET], issuers=hosts)
    store = side_store(current_app)
    used = USED + hashlib.sha256(raw.encode()).hexdigest()
    if store is not None and not store.add(used, 1, ttl=found.expires_at - time.time() + 60):
        raise DoorRefused("replayed")
    return found


def _current_door() -> Door | None:
    """The door this browser opened, while Auth0 still waits for it."""
    raw = session.get(keys.AT_LOGIN)
    if not isinstance(raw, dict) or raw.get("expires_at", 0) < time.time():
        return None
    refs = [AccountRef(**c) for c in raw["candidates"]]
    return Door(
        raw["state"], raw["sub"], AccountRef(**raw["current"]), tuple(refs), raw["expires_at"]
    )


def _as_dict(found: Door) -> dict[str, Any]:
    return {
        "state": found.state,
        "sub": found.sub,
        "current": vars(found.current),
        "candidates": [vars(c) for c in found.candidates],
        "expires_at": found.expires_at,
    }


def _candidate(ref: AccountRef) -> Candidate:
    """A candidate as the suggestions' pages draw it."""
    return Candidate(
        ref.user_id, ref.provider, ref.connection, ref.email or "", None, ref.created_at, {}
    )


def _plan(found: Door, chosen: AccountRef) -> merging.Plan:
    """The older account stays, as for every merge."""
    newer = merging.created(found.current.created_at) > merging.created(chosen.created_at)
    reason = merging.Reason.NEWER if newer else merging.Reason.OLDER
    return merging.Plan(_candidate(chosen), not newer, reason)


def _back(problem: str | None = None):
    """End the proof's trip on the door's own address, which can be reloaded (the callback's
    works once, and holds the code and state): with why nothing was linked, sealed for this
    browser; the question's "Sign in and link" is how to try again."""
    args = {outcomes.PARAM: outcomes.seal("error", problem, 400)} if problem else {}
    return redirect(url_for("linked_accounts.at_login", **args), 303)


def _ask(found: Door, problem: str | None = None):
    """The question, for the first candidate (more than one is rare: one at a time)."""
    chosen = found.candidates[0]
    plan = _plan(found, chosen)
    status = 200 if problem is None else 400
    return render(
        "linked_accounts/at_login.html",
        plan=plan,
        candidate=plan.candidate,
        own_method=display_name(found.current.provider, found.current.connection),
        own_email=chosen.email or "",
        problem=problem,
        # The Action merges both as Auth0's linking guide does, the primary's values winning.
        merge_metadata=True,
        merge_app_metadata=True,
        link_form=CandidateForm(candidate=chosen.user_id),
        answer_form=AnswerForm(),
    ), status


def _continue(found: Door, action: str, **fields: Any):
    """Sign the answer and close the door; the page that sends the answer to Auth0 is one of its
    own (`continue_page`), at an address that can be reloaded, not the callback's or a form's."""
    session.pop(keys.AT_LOGIN, None)
    signed = token.answer(
        found,
        secret=current_app.config[SECRET],
        issuer=url_for("linked_accounts.at_login", _external=True),
        action=action,
        **fields,
    )
    # Server-side, for as long as Auth0 takes the answer: the page puts it in its form only.
    expires_at = time.time() + token.ANSWER_LIFETIME
    session[keys.AT_LOGIN_ANSWER] = {
        "state": found.state,
        "answer": signed,
        "expires_at": expires_at,
    }
    return redirect(url_for("linked_accounts.at_login_continue"), 303)


def _refused():
    """A token that is forged, expired, replayed, or a door already closed: a clear page, and
    no answer ever goes to Auth0."""
    return render("linked_accounts/at_login_refused.html"), 400
