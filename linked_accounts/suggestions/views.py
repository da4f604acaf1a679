"""The pages of link suggestions: the settings page's "Is this also you?" section, the
confirmation before linking a suggestion, "Not now" and "Not mine", and the JSON listing. Thin:
`suggestions`, `merging` and `dismissals` do the work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Flask, jsonify, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length

from .. import metrics, operations, verified_email
from ..i18n import _, ngettext
from ..identities import Identity, primary
from ..names import icon_url, identity_name
from ..navigation import return_path, to_accounts
from ..purposes import Resumable
from ..signin import account
from ..signin.account import Account
from ..signin.reauth import FreshLogin
from ..web import api, pages
from ..web.signin import coming_back_to, form_post, signed_in
from ..web.templating import render
from . import dismissals, merging
from . import lookup as suggestions
from .lookup import Candidate, Suggestions


class SuggestionForm(FlaskForm):
    """Names a suggested account by its user id; the server looks it up among the user's own."""

    candidate = HiddenField(validators=[DataRequired(), Length(max=600)])


class DismissForm(SuggestionForm):
    reason = HiddenField(validators=[AnyOf(dismissals.REASONS)])


def for_page() -> Suggestions | None:
    """What the settings page's suggestions section shows (None: nothing to show)."""
    if not suggestions.enabled():
        return None
    acct = account.current()
    if acct is None or acct.token_expired:
        return None
    found = suggestions.for_user(acct, operations.identities(acct))
    metrics.suggestions_shown(len(found.candidates))
    return found if (found.candidates or found.dismissed or found.unavailable) else None


def candidate_icon(candidate: Candidate) -> str:
    return icon_url(candidate.provider, candidate.connection)


def plan_for_page(candidate: Candidate) -> merging.Plan:
    """Which account linking `candidate` would keep, and why (its card says which is older)."""
    acct = signed_in()
    return merging.plan(acct, candidate, operations.identities(acct))


def confirm():
    """Say what linking the suggested account will do, before anything happens."""
    acct = signed_in()
    identities = operations.identities(acct)
    candidate = suggestions.find(acct, request.args.get("candidate", ""), identities)
    verified_email.require_own_verified(acct)
    plan = merging.plan(acct, candidate, identities)
    own = primary(identities)
    return render(
        "linked_accounts/confirm_suggestion.html",
        plan=plan,
        sign_ins=merging.sign_ins(acct, plan),  # what the button will ask, as `start` decides
        candidate=candidate,
        own_method=identity_name(own) if own else "",
        own_email=acct.email or "",
        merge_metadata=suggestions.suggester().settings.merge_metadata,
        merge_app_metadata=suggestions.suggester().app_metadata is not None,
        form=SuggestionForm(candidate=candidate.user_id),
    )


def link():
    """Start linking the suggested account: the trips to Auth0 the plan needs."""
    acct = signed_in()
    form = pages.require_valid(SuggestionForm())
    return pages.fresh_or_reauthenticate(acct, Resumable.MERGE, candidate=form.candidate.data)


def start_merge(acct: Account, candidate: str, proof: FreshLogin | None = None):
    """Decide the merge's plan as the person confirms it, and send them to its first sign-in
    (resumed here after a fresh login). `candidate`: its user id."""
    verified_email.require_own_verified(acct)
    identities = operations.identities(acct)
    plan = merging.plan(acct, suggestions.find(acct, candidate, identities), identities)
    return redirect(merging.start(acct, plan, identities, proof))


def finish_merge(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """A sign-in of the merge came back: check the plan it carries still holds, then go on to the
    next sign-in, or merge and say so."""
    acct = signed_in()
    plan, identities = _carried_plan(acct, trip)
    if trip.get("step") == merging.Step.SELF:
        return redirect(merging.after_self(acct, token, claims, trip, plan, identities))
    merged = merging.after_proof(acct, token, claims, trip, plan)
    if merged.switched:
        message = _(
            "Your accounts are merged. You are now signed in to your older account, which keeps "
            "your data; %(method)s (%(email)s) is linked to it and signs in to it from now on.",
            method=merged.method,
            email=merged.email,
        )
    else:
        message = _(
            "%(method)s (%(email)s) is now linked to this profile. You can sign in with it.",
            method=merged.method,
            email=merged.email,
        )
    return to_accounts(message, "success")


def merge_again(trip: dict[str, Any]):
    """Start again the merge's sign-in that came back as another account ("Try again"): the same
    leg, with the plan it carried, once that plan is checked to still hold."""
    acct = signed_in(url_for("linked_accounts.accounts"))
    plan, identities = _carried_plan(acct, trip)
    return redirect(merging.again(acct, plan, trip, identities), 303)


def _carried_plan(acct: Account, trip: dict[str, Any]) -> tuple[merging.Plan, Sequence[Identity]]:
    """The plan a merge's trip carries, for its suggestion found again, refused unless it still
    holds; and the person's identities it was checked against."""
    identities = operations.identities(acct)
    candidate = suggestions.find(acct, str(trip.get("candidate")), identities)
    plan = merging.carried_plan(trip, candidate)
    merging.still_holds(plan, identities)
    return plan, identities


def dismiss():
    """Hide a suggestion: "Not now" for a while, "Not mine" for good, on every device."""
    acct = signed_in()
    form = pages.require_valid(DismissForm())
    candidate = suggestions.find(acct, form.candidate.data, operations.identities(acct))
    settings = suggestions.suggester().settings
    dismissals.dismiss(acct.user_id, candidate.user_id, form.reason.data, settings)
    if form.reason.data == "not_mine":
        message = _(
            "The %(method)s account (%(email)s) will not be suggested again.",
            method=candidate.method,
            email=candidate.email,
        )
    else:
        message = ngettext(
            "The %(method)s account (%(email)s) will not be suggested for %(num)d day.",
            "The %(method)s account (%(email)s) will not be suggested for %(num)d days.",
            settings.snooze_days,
            method=candidate.method,
            email=candidate.email,
        )
    return to_accounts(message, "info")


def restore():
    """Show every dismissed suggestion again."""
    acct = signed_in()
    pages.require_valid(FlaskForm())
    count = dismissals.restore(acct.user_id)
    return to_accounts(
        ngettext(
            "%(num)d dismissed suggestion is shown again.",
            "%(num)d dismissed suggestions are shown again.",
            count,
        ),
        "info",
    )


def api_list():
    """List the signed-in user's link suggestions (JSON)."""
    acct = signed_in()
    found = suggestions.for_user(acct, operations.identities(acct))
    metrics.suggestions_shown(len(found.candidates))
    return jsonify(
        {
            "enabled": suggestions.enabled(),
            "suggestions": [_as_json(c) for c in found.candidates],
            "dismissed": found.dismissed,
            "not_mine": found.not_mine,  # of the dismissed: someone else's, the person said
            "unavailable": found.unavailable,
        }
    )


def _as_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "user_id": candidate.user_id,
        "provider": candidate.provider,
        "connection": candidate.connection,
        "display_name": candidate.method,
        "email": candidate.email,
        "created_at": candidate.created_at,
        # The page that says what linking does, then starts it: a link is never made unseen.
        "confirm_url": url_for("linked_accounts.confirm_suggestion", candidate=candidate.user_id),
    }


def register(app: Flask, html: Blueprint, json_api: Blueprint) -> None:
    """Add the suggestion pages, the JSON listing, and the settings section's template globals."""
    page = coming_back_to(return_path)  # after a login or a renewal: back to this page
    change = form_post(page)  # a refusal of a form's POST is shown at an address of its own
    html.add_url_rule("/suggestions/link", "confirm_suggestion", page(confirm), methods=["GET"])
    html.add_url_rule("/suggestions/link", "link_suggestion", change(link), methods=["POST"])
    html.add_url_rule("/suggestions/dismiss", view_func=change(dismiss), methods=["POST"])
    html.add_url_rule("/suggestions/restore", view_func=change(restore), methods=["POST"])
    call = coming_back_to(api.requested_return_to)  # back to the single-page app
    json_api.add_url_rule("/suggestions", "suggestions", call(api_list), methods=["GET"])
    app.add_template_global(for_page, "la_link_suggestions")
    app.add_template_global(candidate_icon, "la_candidate_icon")
    app.add_template_global(plan_for_page, "la_suggestion_plan")
