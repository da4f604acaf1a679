"""The benchmark's floor for a cached view: the least a page behind a server-side session can cost.

A bare Flask app with no extension: it loads the same session (the app's own cookie) from the same
Redis through the same session interface (`init_sessions`), and renders a page of the same size
with the same number of forms, each with a CSRF token (Flask-WTF). The same WSGI middleware as the
app's times it (`Server-Timing`) and writes its access line. Served by gunicorn with the app's
settings (see bench.py), so cached view / floor isolates what the extension does per view.

FLOOR_PAGE_BYTES and FLOOR_FORMS come from the app's page, measured in the same run.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, abort, render_template, session
from flask_wtf import CSRFProtect
from jinja2 import DictLoader

from linked_accounts import init_sessions
from standalone.logs import install_request_logging

PAGE_BYTES = int(os.environ["FLOOR_PAGE_BYTES"])
FORMS = int(os.environ["FLOOR_FORMS"])

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Linked accounts</title></head>
<body>
<main>
<h1>Linked accounts</h1>
{%- for i in range(forms) %}
<form method="post" action="/action/{{ i }}">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <button type="submit">Action {{ i }}</button>
</form>
{%- endfor %}
<p>{{ filler }}</p>
</main>
</body>
</html>
"""

# The app's instance folder: with the file store, its sessions are there.
app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
app.jinja_loader = DictLoader({"floor.html": PAGE})  # compiled once, as the app's templates
app.config["SECRET_KEY"] = os.environ["APP_SECRET_KEY"]
app.config["LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "info")
init_sessions(app, os.environ.get("REDIS_URL") or None)
CSRFProtect(app)
install_request_logging(app)
_filler: list[str] = []  # worked out on the first view: the padding to the app's page size


@app.get("/")
def page():
    """Render the page for a signed-in session (the app's), or 403 without one."""
    if not session.get("linked_accounts"):
        abort(403)
    if not _filler:
        bare = render_template("floor.html", forms=FORMS, filler="")
        _filler.append("x" * max(0, PAGE_BYTES - len(bare.encode())))
    return render_template("floor.html", forms=FORMS, filler=_filler[0])
