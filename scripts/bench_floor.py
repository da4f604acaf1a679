"""The benchmark's floor: the least any page that reads the user from Auth0 can cost.

One route making the same single pooled GET /api/v2/users/{id} the settings page makes, with a
valid user token, and nothing else: no session, no template, no CSRF. Served by gunicorn with
the app's worker settings (see bench.py), so app/floor isolates what the app itself adds.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import requests
from flask import Flask

TENANT = os.environ["FLOOR_TENANT_URL"].rstrip("/")
TOKEN = os.environ["FLOOR_TOKEN"]
USER_ID = os.environ["FLOOR_USER_ID"]

app = Flask(__name__)
http = requests.Session()  # one per worker, as the app's ManagementClient


@app.get("/")
def user():
    """GET the user from the Management API and answer with its number of identities."""
    response = http.get(
        f"{TENANT}/api/v2/users/{quote(USER_ID, safe='')}",
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        timeout=(3.05, 10.0),
    )
    response.raise_for_status()
    return {"identities": len(response.json()["identities"])}
