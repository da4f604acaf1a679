"""/continue: resume a login a post-login Action redirected (GET or POST, with the state the
redirect carried), in the browser it was suspended in, once."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from devtenant import login_flow
from devtenant.responses import error_page
from devtenant.state import tenant

bp = Blueprint("continue_login", __name__)

# Auth0's generic error page names this error for a transaction it cannot find (its support
# article on expired login transactions quotes it).
LOST_TRANSACTION = (
    "invalid_request: You may have pressed the back button, refreshed during login, opened too "
    "many login dialogs, or there is some issue with cookies, since we couldn't find your "
    "session. Try logging in again from the application and if the problem persists please "
    "contact the administrator."
)


@bp.route("/continue", methods=["GET", "POST"])
def continue_login() -> Response:
    """Run the redirecting Action's onContinuePostLogin, then the rest of the login."""
    st = tenant()
    state = request.values.get("state", "")
    browser = request.cookies.get(login_flow.CONTINUE_COOKIE, "")
    with st.lock:
        record = st.suspended.get(state) if state else None
        if (
            record is None
            or record["expires"] < st.now()
            or not hmac.compare_digest(browser.encode(), record["browser"].encode())
        ):
            return error_page(LOST_TRANSACTION, 400, title="Something went wrong")
        del st.suspended[state]  # a state resumes its login once
    params = {**request.form.to_dict(), **request.args.to_dict()}
    resume = login_flow.Resume(state=state, params=params)
    return login_flow.proceed(st, record["login"], record["pipeline"], record["index"], resume)
