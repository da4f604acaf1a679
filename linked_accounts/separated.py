"""Delete an account the user has just separated by unlinking it (Auth0's guide's last step).

Opt-in (OFFER_DELETE_SEPARATED). Two ways, both guarded the same:
- client (preferred): the user signs in to the separated account through this client with
  `delete:current_user`, and that account's own token deletes it; the token is never stored;
- server (fallback, DELETE_SEPARATED_MODE=server): a machine-to-machine token with delete:users.
Never the primary, never an account with identities of its own, and only an account this session
separated within DELETE_SEPARATED_WINDOW seconds.
"""

from __future__ import annotations

import time
from typing import Any

from flask import abort, render_template, request, session

from . import account, events, reauth
from . import management as m
from .account import Account
from .auth import finisher, login_required, relogin, signed_in_during, start_flow, to_settings
from .blueprint import bp
from .forms import SeparatedForm
from .i18n import _
from .identities import Identity, display_name, find
from .operations import load_identities
from .state import state
from .views import refuse

SEPARATED = "linked_accounts.separated"
SCOPES = "openid profile email read:current_user delete:current_user"


@events.identity_unlinked.connect
def remember(sender: Any, identity: Identity, **_: Any) -> None:
    """Note that this session just split `identity` off into a user of its own."""
    if not state().settings.offer_delete_separated:
        return
    separated = {k: v for k, v in (session.get(SEPARATED) or {}).items() if _recent(v)}
    separated[identity.key] = {
        "provider": identity.provider,
        "user_id": identity.user_id,
        "connection": identity.connection,
        "detail": identity.detail,
        "at": time.time(),
    }
    session[SEPARATED] = separated


@bp.app_template_global("separated_offers")
def offers() -> list[dict[str, Any]]:
    """Return the separated accounts the user may still delete, newest first."""
    if not state().settings.offer_delete_separated:
        return []
    recent = [
        {"key": key, "name": display_name(v["provider"], v["connection"]), **v}
        for key, v in (session.get(SEPARATED) or {}).items()
        if _recent(v)
    ]
    return sorted(recent, key=lambda v: -v["at"])


@bp.get("/separated/delete")
@login_required
def confirm_delete(acct: Account):
    """Say plainly what deleting the separated account removes, and what it keeps."""
    target = _target(request.args.get("user", ""))
    if target is None:
        return _not_offered()
    form = SeparatedForm(user=target["key"])
    return render_template("linked_accounts/confirm_delete.html", target=target, form=form)


@bp.post("/separated/delete")
@login_required
def delete(acct: Account):
    """Delete the separated account, after a fresh login of the primary."""
    form = SeparatedForm()
    if not form.validate_on_submit():
        abort(400)
    return delete_separated(acct, user=form.user.data)


@reauth.resumable("delete_separated")
def delete_separated(acct: Account, user: str):
    """Check every guard, then delete: by its own login (client) or with the M2M token."""
    target = _target(user)
    if target is None:
        return _not_offered()
    refusal = _primary_guard(acct, target)
    if refusal:
        return refusal
    fresh_login = reauth.require_fresh_login(acct, "delete_separated", user=target["key"])
    if fresh_login:
        return fresh_login
    st = state()
    if st.settings.delete_separated_mode == "server":
        token = st.m2m.token()
        return _delete(acct, target, token)
    params = {
        "audience": st.settings.audience,
        "scope": SCOPES,
        "connection": target["connection"],
        "prompt": "login",
        "max_age": 0,
    }
    if target["detail"] and "@" in target["detail"]:
        params["login_hint"] = target["detail"]
    return start_flow("delete_separated", params, user=target["key"])


@finisher("delete_separated")
def finish_delete(token: dict[str, Any], claims: dict[str, Any], flow: dict[str, Any]):
    """Delete with the separated account's own token, if it is exactly the one split off."""
    acct = account.current()
    if acct is None or acct.token_expired:
        # relogin, not login: Auth0's session is now the other account's, and a silent login
        # must never switch this browser to it.
        return relogin()
    target = _target(flow["user"])
    if target is None:
        return _not_offered()
    if str(claims.get("sub")) != target["key"]:
        return refuse(
            _("Not deleted"),
            _(
                "You signed in to a different account, not the separate %(name)s account, "
                "so nothing was deleted.",
                name=target["name"],
            ),
        )
    if not signed_in_during(claims, flow):
        return refuse(
            _("Not deleted"), _("Auth0 did not confirm a fresh sign-in; nothing was deleted.")
        )
    # Used for these two calls only, then dropped with this request: never put in the session.
    return _delete(acct, target, token["access_token"])


def _delete(acct: Account, target: dict[str, Any], token: str):
    st = state()
    try:
        user = st.client.get_user(token, target["key"])
        if len(user.get("identities") or []) != 1:
            return refuse(
                _("Not deleted"),
                _(
                    "The separate %(name)s account has other sign-in methods linked to it, "
                    "so it was not deleted.",
                    name=target["name"],
                ),
            )
        st.client.delete_user(token, target["key"])
    except m.TokenRejected:
        return refuse(
            _("Not deleted"), _("Auth0 did not accept that sign-in; nothing was deleted."), 403
        )
    except m.NotFound:
        pass  # already gone: the user's wish holds
    separated = dict(session.get(SEPARATED) or {})
    separated.pop(target["key"], None)
    session[SEPARATED] = separated
    deleted = Identity(target["provider"], target["user_id"], target["connection"], False, False)
    events.emit(events.separated_deleted, user_id=acct.user_id, identity=deleted)
    return to_settings(
        _("The separate %(name)s account was deleted.", name=target["name"]), "success"
    )


def _target(key: str) -> dict[str, Any] | None:
    """Return the separated account named `key` if this session split it off recently."""
    return next((o for o in offers() if o["key"] == key), None)


def _primary_guard(acct: Account, target: dict[str, Any]):
    if target["key"] == acct.user_id or find(load_identities(acct), target["key"]):
        return refuse(
            _("Not deleted"),
            _("That account is part of your profile again, so it cannot be deleted from here."),
        )
    return None


def _not_offered():
    return refuse(
        _("Not available"),
        _(
            "Only an account you unlinked a few minutes ago, in this session, can be deleted "
            "here. Nothing was deleted."
        ),
    )


def _recent(entry: dict[str, Any]) -> bool:
    return time.time() - entry["at"] <= state().settings.delete_separated_window
