"""A person using the app without JavaScript: requests, cookies, and the pages' own forms."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import requests

from tests.support.forms import forms, submit


class Visitor:
    """Drives the app at `base` (and whatever it redirects to) like a browser with no JS."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, timeout=15, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        return self.http.post(self.base + path, data=data or {}, timeout=15, **kwargs)

    def login(self, name: str = "Ada Lovelace") -> requests.Response:
        """Log in from the front page through the tenant's login page; return the landing page."""
        front = self.get("/")
        login_page = self.http.get(
            requests.compat.urljoin(front.url, _link(front.text, "Log in")), timeout=15
        )
        landing = submit(self.http, login_page, f"Continue as {name}")
        assert landing.status_code == 200, landing.text[:500]
        assert landing.url.split("?")[0] == self.base + "/account/", landing.url
        return landing

    def confirm_page(self, key: str) -> requests.Response:
        return self.get("/account/unlink?" + urlencode({"identity": key}))

    def unlink(self, key: str) -> requests.Response:
        """Open the confirmation page for `key` and press its Unlink button."""
        page = self.confirm_page(key)
        assert page.status_code == 200, page.text[:500]
        return submit(self.http, page, "Unlink")

    def press(self, page: requests.Response, button: str, **overrides: str) -> requests.Response:
        """Press a button on `page` and follow wherever it leads."""
        return submit(self.http, page, button, **overrides)

    def press_link(self, button: str) -> requests.Response:
        """Press a Link button on the settings page, then "Sign in and link" on the page that
        says what linking does; return where that leads (Auth0's login page, or a refusal)."""
        confirm = self.press(self.get("/account/"), button)
        if confirm.status_code != 200 or "Sign in and link" not in confirm.text:
            return confirm  # refused before the confirmation
        return self.press(confirm, "Sign in and link")

    def link(self, button: str, account_name: str) -> requests.Response:
        """Press a Link button on the settings page, confirm, then sign in to the other account."""
        login_page = self.press_link(button)
        assert "Continue as" in login_page.text, login_page.text[:500]
        return self.press(login_page, f"Continue as {account_name}")

    def csrf_token(self) -> str:
        """Return a valid CSRF token, as a page's forms carry it."""
        page = self.get("/account/")
        return next(f.fields["csrf_token"] for f in forms(page.text) if "csrf_token" in f.fields)


def _link(html: str, text: str) -> str:
    match = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*' + re.escape(text) + r"\s*</a>", html)
    assert match, f"no link {text!r}"
    return match.group(1).replace("&amp;", "&")


def unlink_buttons(html: str) -> list[str]:
    """Return the accessible names of the page's Unlink controls."""
    return re.findall(r'aria-label="(Unlink [^"]*)"', html)
