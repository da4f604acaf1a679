"""What people read and see, in a real browser: times in their own zone, why a sign-in comes
before a change, addresses that wrap only where they may, and icons that stay visible in dark."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, settings_url, unlink_control
from tests.support import tenant as t
from tests.support.images import wait_for_images

pytestmark = pytest.mark.browser


def test_the_read_time_is_shown_in_the_readers_own_time_zone(new_context, app_url: str):
    page = new_context(timezone_id="America/Los_Angeles").new_page()
    log_in(page, app_url)
    when = page.locator("time.la-when")
    moment = datetime.fromisoformat(when.get_attribute("datetime").replace("Z", "+00:00"))
    local = moment.astimezone(ZoneInfo("America/Los_Angeles"))
    expected = f"{local.hour % 12 or 12}:{local.minute:02d}"
    expect(when).to_contain_text(expected)
    assert "UTC" not in when.inner_text()
    assert str(local.year) in when.get_attribute("title")  # the full date, on hover
    expect(page.locator(".la-read-at")).to_contain_text(re.compile(r"Updated .*ago, at "))


def test_without_javascript_the_time_still_reads_in_utc(new_context, app_url: str):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, app_url)
    expect(page.locator("time.la-when")).to_have_text(re.compile(r"^\d\d:\d\d UTC$"))


def test_a_reload_does_not_repeat_the_message(page: Page, app_url: str):
    log_in(page, app_url)
    unlink_control(page, "GitHub").click()
    page.get_by_role("button", name="Unlink GitHub").click()
    expect(page.get_by_role("status")).to_contain_text("was unlinked")
    expect(page).to_have_url(app_url + "/account/")  # the script dropped ?done=
    page.reload()
    expect(page.get_by_role("status")).not_to_contain_text("was unlinked")


def test_before_a_change_the_page_says_why_a_sign_in_comes_first(page: Page, serve_app, tenant):
    with serve_app(REAUTH_MAX_AGE="0") as app_url:
        log_in(page, app_url)
        why = "To protect your account, you will first sign in again as ada@example.com."
        expect(page.locator("#la-link-why")).to_have_text(why)
        unlink_control(page, "GitHub").click()
        note = "To protect your account, sign in again as ada@example.com to confirm."
        expect(page.locator("#la-why-login")).to_have_text(note)
        button = page.get_by_role("button", name="Unlink GitHub")
        expect(button).to_have_accessible_description(note)  # read with the button
        results = Axe().run(page)
        assert not results.violations_count, results.generate_report()
        # By keyboard alone: Tab to the button, Enter; the login is hinted as Ada.
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == "Unlink GitHub":
                break
        else:
            pytest.fail("Tab never reached the Unlink button")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"prompt=login.*|.*login_hint=ada%40example.com"))
        assert "login_hint=ada%40example.com" in page.url
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page).to_have_url(settings_url(app_url))
        expect(page.get_by_role("status")).to_contain_text("was unlinked")
    assert t.ADA_GITHUB not in t.identity_keys(tenant, t.ADA)


# Where each line of an element's text ends, measured by the browser's own layout.
_LINE_ENDS = """el => {
  const ends = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let last = null, lastChar = '';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (last !== null && rect.top > last + 2) ends.push(lastChar);
      last = rect.top; lastChar = node.data[i];
    }
  }
  return ends;
}"""


@pytest.mark.parametrize("width", [375, 320])
def test_on_a_phone_addresses_wrap_only_after_at_or_a_dot(new_context, app_url: str, width: int):
    page = new_context(viewport={"width": width, "height": 740}).new_page()
    log_in(page, app_url)
    details = page.locator(".la-item-detail")
    wrapped = 0
    for i in range(details.count()):
        ends = details.nth(i).evaluate(_LINE_ENDS)
        assert all(end in "@." for end in ends), (details.nth(i).inner_text(), ends)
        wrapped += bool(ends)
    # ada@users.noreply.github.com does not fit its column: it must wrap, and only as allowed.
    assert wrapped, "no address wrapped: the test measured nothing"


def test_at_375_px_the_primary_badge_stays_on_its_names_line(new_context, app_url: str):
    page = new_context(viewport={"width": 320, "height": 740}).new_page()
    log_in(page, app_url)
    name = page.locator(".la-item--primary .la-item-name")
    badge = name.locator(".la-badge")
    text_lines = name.evaluate(_LINE_ENDS)
    last_line_top = name.evaluate(
        """el => { const r = document.createRange(); const t = el.firstChild;
                   r.setStart(t, t.length - 1); r.setEnd(t, t.length);
                   return r.getClientRects()[0].top; }"""
    )
    box = badge.bounding_box()
    assert box is not None
    assert box["y"] <= last_line_top + 8 <= box["y"] + box["height"] + 8, (text_lines, box)


def _pixels(page: Page, png: bytes, points: list[tuple[int, int]]) -> list[list[int]]:
    """RGB of `points` in a screenshot, read by the browser itself (a blank page: no CSP)."""
    blank = page.context.new_page()
    try:
        return blank.evaluate(
            """async ([src, points]) => {
                 const img = new Image(); img.src = src; await img.decode();
                 const c = document.createElement('canvas');
                 c.width = img.width; c.height = img.height;
                 const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                 const at = ([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
                 return points.map(at);
               }""",
            ["data:image/png;base64," + base64.b64encode(png).decode(), points],
        )
    finally:
        blank.close()


def _luminance(rgb: list[int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: list[int], b: list[int]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_github_icon_stands_out_from_its_card(page: Page, app_url: str, scheme: str):
    page.emulate_media(color_scheme=scheme)
    log_in(page, app_url)
    wait_for_images(page)
    row = page.locator(".la-item").filter(has_text="ada@users.noreply.github.com")
    icon = row.locator("img.la-icon").bounding_box()
    card = row.bounding_box()
    assert icon and card
    shot = page.screenshot()
    tile = (int(icon["x"] + 4), int(icon["y"] + icon["height"] / 2))  # the tile, left of the mark
    beside = (int(card["x"] + 8), int(icon["y"] + icon["height"] / 2))  # the card, left of the icon
    scale = page.evaluate("devicePixelRatio")
    points = [(round(x * scale), round(y * scale)) for x, y in (tile, beside)]
    tile_rgb, card_rgb = _pixels(page, shot, points)
    assert _contrast(tile_rgb, card_rgb) >= 3, (scheme, tile_rgb, card_rgb)


# The top of each character of the element's text, by the browser's own layout.
_CHAR_TOPS = """el => {
  const tops = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect && node.data[i].trim()) tops.push(Math.round(rect.top));
    }
  }
  return tops;
}"""

# Whether the brackets around the element sit on its line: their boxes overlap its first box.
_BRACKETS_BESIDE = """el => {
  const box = el.getClientRects()[0];
  const beside = (node, at) => {
    const range = document.createRange();
    range.setStart(node, at); range.setEnd(node, at + 1);
    const r = range.getClientRects()[0];
    return r.top < box.bottom && r.bottom > box.top;
  };
  const before = el.previousSibling, after = el.nextSibling;
  return [beside(before, before.data.lastIndexOf("(")), beside(after, after.data.indexOf(")"))];
}"""


@pytest.mark.parametrize("width", [375, 320])
def test_on_a_phone_a_heading_keeps_its_email_address_on_one_line(
    new_context, app_url: str, width: int
):
    page = new_context(viewport={"width": width, "height": 740}).new_page()
    log_in(page, app_url)
    unlink_control(page, "GitHub").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Unlink GitHub (ada@users.noreply.github.com)?")
    email = heading.locator(".la-unbroken")
    expect(email).to_have_text("ada@users.noreply.github.com")
    assert len(set(email.evaluate(_CHAR_TOPS))) == 1, "the address broke across lines"
    assert email.evaluate(_BRACKETS_BESIDE) == [True, True], "a bracket was left on another line"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
