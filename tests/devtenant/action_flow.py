"""Drive logins that run post-login Actions on the development tenant, over real HTTP, step by
step: the login, the Action's redirect, the linking page's answer at /continue, the code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.tenant_login import LoginError, parse_login_page, pkce_pair

FIXTURE = Path(__file__).parent / "fixtures" / "post_login.js"
LINKING_SECRET = "fixture-linking-secret-0123456789abcdef"
LINKING_URL = "http://127.0.0.1:5999/account/at-login"
CALLBACK = "http://127.0.0.1:5999/callback"
SCOPE = "openid profile email read:current_user update:current_user_identities"


def jwt(claims: dict[str, Any], secret: str = LINKING_SECRET, alg: str = "HS256") -> str:
    """A JWT as the linking page would sign it (HS256, or another HMAC alg, or "none")."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}"
    if alg == "none":
        return f"{signing_input}."
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def verified_claims(token: str, secret: str = LINKING_SECRET) -> dict[str, Any]:
    """The claims of an HS256 JWT, after checking its header and signature."""
    head, body, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(head))) == {"alg": "HS256", "typ": "JWT"}
    expected = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(base64.urlsafe_b64decode(pad(signature)), expected)
    return json.loads(base64.urlsafe_b64decode(pad(body)))


def answer(redirect: dict[str, str], sub: str, **claims: Any) -> str:
    """The linking page's signed answer to a redirect: sub, iat, exp, the state, and claims."""
    now = int(time.time())
    base = {"iss": LINKING_URL, "sub": sub, "iat": now, "exp": now + 300}
    return jwt({**base, "state": redirect["state"], **claims})


def query_of(response: requests.Response) -> dict[str, str]:
    """The query of a redirect's Location."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


class Browser:
    """One browser (one cookie jar) logging in to the tenant through dev-client."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.http = requests.Session()
        self.verifier = ""

    def begin(self, account: str | None, **extra: str) -> requests.Response:
        """/authorize (extra parameters added; None removes one), and on the login page
        "Continue as `account`": the tenant's answer, a redirect not followed."""
        self.verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": "dev-client",
            "redirect_uri": CALLBACK,
            "scope": SCOPE,
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "audience": f"{self.tenant}/api/v2/",
            **extra,
        }
        self.state = params["state"]
        params = {k: v for k, v in params.items() if v is not None}
        response = self.http.get(
            f"{self.tenant}/authorize", params=params, allow_redirects=False, timeout=30
        )
        if response.status_code == 200:
            assert account is not None, "the login page was shown"
            page = parse_login_page(response.text)
            name, value = page.button(f"Continue as {account}")
            response = self.http.post(
                f"{self.tenant}{page.action}",
                data={**page.hidden, name: value},
                allow_redirects=False,
                timeout=30,
            )
        return response

    def redirected(self, account: str | None, **extra: str) -> dict[str, str]:
        """Begin a login the Action redirects: the query it sends the browser to LINKING_URL
        with (session_token, state)."""
        response = self.begin(account, **extra)
        assert response.headers["Location"].startswith(LINKING_URL + "?"), response.headers
        return query_of(response)

    def resume(self, method: str = "GET", **params: str) -> requests.Response:
        """/continue with these parameters (query for GET, form for POST)."""
        if method == "GET":
            return self.http.get(
                f"{self.tenant}/continue", params=params, allow_redirects=False, timeout=30
            )
        return self.http.post(
            f"{self.tenant}/continue", data=params, allow_redirects=False, timeout=30
        )

    def tokens(self, response: requests.Response) -> dict[str, Any]:
        """Finish at the callback: the token response, or LoginError for error=."""
        assert response.headers["Location"].startswith(CALLBACK), response.headers["Location"]
        returned = query_of(response)
        if "error" in returned:
            raise LoginError(returned["error"], returned.get("error_description", ""), returned)
        assert returned["state"] == self.state
        body = self.http.post(
            f"{self.tenant}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": returned["code"],
                "redirect_uri": CALLBACK,
                "client_id": "dev-client",
                "client_secret": "dev-client-secret",
                "code_verifier": self.verifier,
            },
            timeout=10,
        ).json()
        if "error" in body:
            raise LoginError(body["error"], body.get("error_description", ""), body)
        return body
