"""Log in to the development tenant over real HTTP: authorize, login page, code, token (PKCE)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

DEFAULT_SCOPE = "openid profile email read:current_user update:current_user_identities"
# Sentinel: the tenant's own audience, named by its canonical host (127.0.0.1) even when the
# login goes through its custom domain (localhost).
MANAGEMENT_API = "management-api"


class LoginError(Exception):
    """The tenant sent the browser back with error= (or the token request failed)."""

    def __init__(self, error: str, description: str, params: dict[str, str]) -> None:
        """Keep the OAuth error, its description and every parameter returned."""
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.params = params


def pkce_pair() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class LoginPage:
    """What a test needs from the tenant's login page."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)

    def account_names(self) -> list[str]:
        """The visible 'Continue as ...' labels, in page order."""
        return [text for name, _, text in self.buttons if name == "account"]

    def button(self, text: str) -> tuple[str, str]:
        """(name, value) of the button whose label is exactly text."""
        for name, value, label in self.buttons:
            if label == text:
                return name, value
        raise AssertionError(f"no button {text!r} among {[b[2] for b in self.buttons]}")


class _LoginPageParser(HTMLParser):
    """Collects the form action, hidden inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.page = LoginPage()
        self._button: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.page.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.page.hidden[values.get("name", "")] = values.get("value", "")
        elif tag == "button":
            self._button, self._text = values, []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            text = " ".join("".join(self._text).split())
            self.page.buttons.append(
                (self._button.get("name", ""), self._button.get("value", ""), text)
            )
            self._button = None


def parse_login_page(html: str) -> LoginPage:
    """Parse the tenant's login page."""
    parser = _LoginPageParser()
    parser.feed(html)
    return parser.page


def callback_params(response: requests.Response, redirect_uri: str) -> dict[str, str]:
    """The query of a 302 back to redirect_uri."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(redirect_uri), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(
    tenant_url: str,
    account_name: str | None,
    *,
    session: requests.Session,
    params: dict[str, str],
    redirect_uri: str,
) -> dict[str, str]:
    """GET /authorize and, if a login page comes back, click "Continue as <account_name>"."""
    response = session.get(
        f"{tenant_url}/authorize", params=params, allow_redirects=False, timeout=10
    )
    if response.status_code == 200:
        if account_name is None:
            raise AssertionError("login page shown but no account to choose")
        page = parse_login_page(response.text)
        name, value = page.button(f"Continue as {account_name}")
        response = session.post(
            f"{tenant_url}{page.action}",
            data={**page.hidden, name: value},
            allow_redirects=False,
            timeout=10,
        )
    returned = callback_params(response, redirect_uri)
    if "error" in returned:
        raise LoginError(returned["error"], returned.get("error_description", ""), returned)
    assert returned.get("state") == params.get("state"), "state was not echoed"
    return returned


def login(
    tenant_url: str,
    account_name: str | None,
    *,
    scope: str = DEFAULT_SCOPE,
    audience: str | None = MANAGEMENT_API,
    client_id: str = "dev-client",
    client_secret: str = "dev-client-secret",  # noqa: S107 - the published dev secret
    redirect_uri: str = "http://127.0.0.1:5999/callback",
    extra_params: dict[str, Any] | None = None,
    session: requests.Session | None = None,
    pkce: bool = True,
) -> dict:
    """Run the whole authorization-code + PKCE flow and return the token response JSON.

    account_name None means "expect SSO to skip the login page". audience defaults to the
    tenant's Management API; pass None for a login without audience. extra_params are added to
    /authorize (a None value removes a parameter). pkce False logs in as a confidential client
    that sends none (Auth0's Flask quickstart); a client without a secret is public (no
    client_secret is sent). Raises LoginError on error= or a token error.
    """
    session = session or requests.Session()
    verifier, challenge = pkce_pair()
    params: dict[str, Any] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if not pkce:
        del params["code_challenge"], params["code_challenge_method"]
    if audience == MANAGEMENT_API:
        params["audience"] = f"{tenant_url.replace('//localhost:', '//127.0.0.1:')}/api/v2/"
    elif audience is not None:
        params["audience"] = audience
    for key, value in (extra_params or {}).items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    returned = authorize(
        tenant_url, account_name, session=session, params=params, redirect_uri=redirect_uri
    )
    response = session.post(
        f"{tenant_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            **({"code_verifier": verifier} if pkce else {}),
            **({"client_secret": client_secret} if client_secret else {}),
        },
        timeout=10,
    )
    body = response.json()
    if response.status_code != 200:
        raise LoginError(body.get("error", ""), body.get("error_description", ""), body)
    return body


CALLBACK = "http://127.0.0.1:5999/callback"


def authorize_params(tenant: str, **extra: str) -> dict[str, str]:
    """A valid /authorize query (PKCE included) plus extra."""
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "dev-client",
        "redirect_uri": CALLBACK,
        "scope": "openid profile email",
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}
