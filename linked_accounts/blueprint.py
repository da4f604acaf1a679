"""The extension's blueprint; `views` and `auth` add their routes to it."""

from flask import Blueprint

bp = Blueprint(
    "linked_accounts",
    __name__,
    template_folder="templates",
    static_folder="static",
    # Not "/static": under an empty url_prefix the host app's own /static would shadow it.
    static_url_path="/la-static",
)
