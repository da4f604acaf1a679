"""Unlinking with the keyboard alone, with a visible focus indicator on every stop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, settings_url
from tests.support import tenant as t

pytestmark = pytest.mark.browser

MAX_TABS = 25

# The focused element, its accessible-ish name, and whether a focus indicator is drawn for it.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const rect = el.getBoundingClientRect();
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  return {
    tag: el.tagName.toLowerCase(),
    name: (el.getAttribute("aria-label") || el.textContent).replace(/\\s+/g, " ").trim(),
    indicator: outline || shadow,
    onScreen: rect.width > 0 && rect.height > 0 && rect.right > 0 && rect.left < innerWidth,
  };
}"""


def press(page: Page, key: str, trail: list[str]) -> dict:
    """Press `key`; check the element that gets focus shows it; note the stop in `trail`."""
    page.keyboard.press(key)
    focused = page.evaluate(FOCUSED)
    assert focused is not None, f"{key} left focus on the page body"
    trail.append(f"{key} -> {focused['tag']} {focused['name']!r}")
    assert focused["indicator"], f"no visible focus indicator on {focused}"
    assert focused["onScreen"], f"focused element is off screen: {focused}"
    return focused


def tab_to(page: Page, name: str, trail: list[str]) -> None:
    """Press Tab until the control named `name` has focus (checking every stop on the way)."""
    for _ in range(MAX_TABS):
        if press(page, "Tab", trail)["name"] == name:
            return
    raise AssertionError(f"Tab never reached {name!r}:\n" + "\n".join(trail))


def test_unlinking_with_only_the_keyboard(page: Page, app_url: str, tenant: str):
    log_in(page, app_url)
    trail: list[str] = []

    # Settings page: Tab from the top to GitHub's Unlink, one stop too far, then back.
    tab_to(page, "Unlink GitHub (ada@users.noreply.github.com)", trail)
    assert press(page, "Tab", trail)["name"] == "Unlink Single sign-on (acme-saml) (ada@acme.test)"
    assert press(page, "Shift+Tab", trail)["name"] == "Unlink GitHub (ada@users.noreply.github.com)"
    page.keyboard.press("Enter")
    trail.append("Enter (follow the link)")
    expect(page).to_have_url(re.compile(r"/account/unlink\?identity=github"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unlink GitHub")

    # Confirmation page: Tab to the Unlink button, on to Cancel, back, and press it with Space.
    tab_to(page, "Unlink GitHub", trail)
    assert press(page, "Tab", trail)["name"] == "Cancel"
    assert press(page, "Shift+Tab", trail)["name"] == "Unlink GitHub"
    page.keyboard.press("Space")
    trail.append("Space (press the button)")

    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("status")).to_contain_text("was unlinked")
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    print("\n".join(trail))  # shown with -s: the whole keyboard-only run


def test_the_skip_link_is_the_first_stop_and_jumps_to_the_content(page: Page, app_url: str):
    log_in(page, app_url)
    trail: list[str] = []
    first = press(page, "Tab", trail)
    assert first["name"] == "Skip to content"
    page.keyboard.press("Enter")
    expect(page).to_have_url(app_url + "/account/#main")
    # The next Tab lands on the first control of the content, past the site header.
    assert press(page, "Tab", trail)["name"] == "Unlink Google (ada.lovelace@gmail.com)"
