"""Read HTML forms the way a browser without JavaScript would, to drive pages with requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[dict[str, str]] = field(default_factory=list)

    def button(self, text: str) -> dict[str, str] | None:
        """Return the submit button whose visible text or aria-label contains `text`."""
        return next(
            (b for b in self.buttons if text in b["text"] or text in b.get("aria-label", "")), None
        )


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif self.forms and tag == "input" and a.get("name"):
            if a.get("type") == "submit":
                self.forms[-1].buttons.append({**a, "text": a.get("value", "")})
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif self.forms and tag == "button":
            self._button = {**a, "text": ""}

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self._button["text"] = " ".join(self._button["text"].split())
            self.forms[-1].buttons.append(self._button)
            self._button = None


def forms(html: str) -> list[Form]:
    """Return every form on a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def submit(
    http: requests.Session,
    page: requests.Response,
    button_text: str,
    *,
    follow: bool = True,
    **overrides: str,
) -> requests.Response:
    """Press the button labelled `button_text` on `page` as a browser would; follow redirects
    (unless not `follow`: then the first answer, to read where it sends the browser)."""
    for form in forms(page.text):
        button = form.button(button_text)
        if button is None:
            continue
        data = dict(form.fields)
        if button.get("name"):
            data[button["name"]] = button.get("value", "")
        data.update(overrides)
        url = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return http.post(url, data=data, timeout=15, allow_redirects=follow)
        return http.get(url, params=data, timeout=15, allow_redirects=follow)
    raise AssertionError(f"no button {button_text!r} on {page.url}:\n{page.text[:2000]}")
