"""French, Spanish and Arabic in a real browser: each page in the reader's language, with its
dates; Arabic laid out right to left, addresses still read left to right; no axe violations."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel.dates import get_month_names
from playwright.sync_api import Page, expect

from linked_accounts.i18n import FSI, PDI
from tests.e2e.pages import settings_url
from tests.support import tenant as t

pytestmark = pytest.mark.browser

# What a browser set to each language sends, and the words the test follows (in Arabic, a name
# in a sentence is isolated: FSI ... PDI).
READERS = {
    "fr": {"locale": "fr-FR", "log_in": "Se connecter", "heading": "Comptes associés",
           "unlink": "Dissocier GitHub", "dir": "ltr"},
    "es": {"locale": "es-ES", "log_in": "Iniciar sesión", "heading": "Cuentas vinculadas",
           "unlink": "Desvincular GitHub", "dir": "ltr"},
    "ar": {"locale": "ar-EG", "log_in": "تسجيل الدخول", "heading": "الحسابات المرتبطة",
           "unlink": f"إلغاء ربط {FSI}GitHub{PDI}", "dir": "rtl"},
}  # fmt: skip


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def open_as(new_context, app_url: str, lang: str, **options) -> Page:
    """Log in as Ada in a browser set to `lang`, from the front page: end on her settings."""
    reader = READERS[lang]
    page = new_context(locale=reader["locale"], **options).new_page()
    page.goto(app_url + "/")
    page.get_by_role("link", name=reader["log_in"]).click()
    page.get_by_role("button", name="Continue as Ada Lovelace").click()  # the tenant's own page
    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("heading", level=1)).to_have_text(reader["heading"])
    return page


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found, f"{selector} is not drawn"
    return found


@pytest.mark.parametrize("lang", READERS)
def test_each_page_reads_in_the_language_with_its_dates_and_no_axe_violations(
    new_context, app_url: str, lang: str, axe: Axe
):
    reader = READERS[lang]
    page = open_as(new_context, app_url, lang, timezone_id="UTC")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", reader["dir"])
    # The exact time in the reader's language, its full date (on hover) with the month's name.
    when = page.locator("time.la-when")
    moment = datetime.fromisoformat(when.get_attribute("datetime").replace("Z", "+00:00"))
    expect(when).not_to_contain_text("UTC")
    expect(when).to_have_attribute("title", re.compile(get_month_names(locale=lang)[moment.month]))
    reports = {}
    for name, path in [
        ("settings", "/account/"),
        ("confirmation", "/account/unlink?" + urlencode({"identity": t.ADA_GITHUB})),
        ("front page", "/"),
    ]:
        page.goto(app_url + path)
        page.wait_for_load_state()
        results = axe.run(page)
        if results.violations_count:
            reports[name] = results.generate_report()
    assert not reports, "\n\n".join(f"== {lang} {name}\n{r}" for name, r in reports.items())


def test_arabic_mirrors_the_layout_and_keeps_addresses_left_to_right(new_context, app_url: str):
    french = open_as(new_context, app_url, "fr")
    arabic = open_as(new_context, app_url, "ar")
    for page, rtl in [(french, False), (arabic, True)]:
        icon, text = box(page, ".la-item--primary .la-icon"), box(page, ".la-item--primary p")
        assert (icon["x"] > text["x"]) is rtl, "the icon starts the row: left, or right in Arabic"
        name, main = box(page, ".site-name"), box(page, "main")
        assert (name["x"] > main["x"] + main["width"] / 2) is rtl, "the site's name starts the bar"
        control = box(page, ".la-item:not(.la-item--primary) .la-button")
        assert (control["x"] < icon["x"]) is rtl, "Unlink ends the row"
        shadow = page.locator(".la-item--primary").evaluate("e => getComputedStyle(e).boxShadow")
        assert ("-4px" in shadow) is rtl, shadow  # the primary's edge is on the starting side
    # In the Arabic sentence, the address still reads left to right: its first letter is drawn
    # to the left of its last.
    first_and_last = arabic.locator(".la-header .la-lead").evaluate(
        """(el, address) => {
             const node = [...el.childNodes].find(n => n.data && n.data.includes(address));
             const at = node.data.indexOf(address);
             const x = i => { const r = document.createRange(); r.setStart(node, i);
                              r.setEnd(node, i + 1); return r.getBoundingClientRect().x; };
             return [x(at), x(at + address.length - 1)];
           }""",
        "ada@example.com",
    )
    assert first_and_last[0] < first_and_last[1], first_and_last
    # The outcome's coloured edge moves to the right too.
    arabic.get_by_role("link", name=re.compile(f"^إلغاء ربط {FSI}GitHub{PDI} ")).click()
    arabic.get_by_role("button", name=READERS["ar"]["unlink"]).click()
    status = arabic.locator(".la-message--success")
    expect(status).to_contain_text("أُلغي ربط")
    edges = status.evaluate(
        "e => [getComputedStyle(e).borderRightWidth, getComputedStyle(e).borderLeftWidth]"
    )
    assert edges == ["4px", "0px"], edges
