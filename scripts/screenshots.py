"""`make screenshots`: regenerate the README's pictures of the settings and confirmation pages
(light and dark, desktop and a 375 px phone), of a link suggestion (Maya Patel's two accounts),
of the themed example host, and of the settings page in French, Spanish and Arabic (right to left,
desktop and phone).

Serves a development tenant and the app on free loopback ports, logs in as Ada Lovelace in
Chromium (Debian's when on PATH, else Playwright's own) and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from devtenant import create_app as create_tenant  # noqa: E402
from examples.product_host.app import create_app as create_example  # noqa: E402
from tests.support.browser import CHROMIUM_FLAGS, system_chromium  # noqa: E402
from tests.support.images import wait_for_images  # noqa: E402
from tests.support.servers import serving  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 900, "height": 640}
PHONE = {"width": 375, "height": 740}
GITHUB = "github|1234567"
NAMES = (
    "settings.png",
    "confirm.png",
    "settings-dark.png",
    "settings-phone.png",
    "confirm-phone-dark.png",
    "suggestion.png",
    "confirm-suggestion.png",
    "themed.png",
    "settings-fr.png",
    "settings-es.png",
    "settings-ar.png",
    "settings-ar-phone.png",
)
# A browser set to each language, and what its front page's Log in link says.
LANGUAGES = {
    "fr": ("fr-FR", "Se connecter"),
    "es": ("es-ES", "Iniciar sesión"),
    "ar": ("ar-EG", "تسجيل الدخول"),
}
SUGGEST = {
    "SUGGEST_LINKS": "1",
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",  # the development tenant's published M2M client
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("werkzeug", "linked_accounts.access"):
        logging.getLogger(name).disabled = True  # one line per request: noise here
    with serving(create_tenant()) as tenant:
        config = {
            "AUTH0_DOMAIN": tenant,
            "AUTH0_CLIENT_ID": "dev-client",
            "AUTH0_CLIENT_SECRET": "dev-client-secret",
            "APP_SECRET_KEY": secrets.token_hex(32),
            "REDIS_URL": "",
            "SESSION_COOKIE_SECURE": False,
        }
        with (
            serving(create_app({**config, **SUGGEST})) as app,
            serving(create_example(config)) as example,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path=system_chromium(), args=CHROMIUM_FLAGS)
            shoot(browser, app, example)
            browser.close()
    for name in NAMES:
        print(f"wrote {(OUT / name).relative_to(ROOT)}")


def logged_in_page(
    browser,
    base: str,
    settings_path: str,
    who: str = "Ada Lovelace",
    viewport=VIEWPORT,
    color_scheme: str = "light",
    language: str = "en",
):
    """Open a page in a browser set to `language`, log in from the front page, and land on the
    settings."""
    locale, log_in = LANGUAGES.get(language, ("en-US", "Log in"))
    page = browser.new_page(
        viewport=viewport, device_scale_factor=1, color_scheme=color_scheme, locale=locale
    )
    page.goto(base + "/")
    page.get_by_role("link", name=log_in).click()
    page.get_by_role("button", name=f"Continue as {who}").click()
    expect(page).to_have_url(base + settings_path)
    return page


def snap(page, name: str) -> None:
    """Write the page to docs/screenshots/`name` once every image on it has loaded.

    The URL changes before the icons arrive, and a screenshot does not wait for images: taken at
    once it can show empty squares where icons belong.
    """
    wait_for_images(page)
    page.screenshot(path=OUT / name, full_page=True)


def shoot(browser, app: str, example: str) -> None:
    """Take each picture: the standalone app's two main pages, and the themed example host."""
    page = logged_in_page(browser, app, "/account/")
    snap(page, "settings.png")

    page.goto(app + "/account/unlink?" + urlencode({"identity": GITHUB}))
    expect(page.get_by_role("button", name="Unlink GitHub")).to_be_visible()
    snap(page, "confirm.png")

    page = logged_in_page(browser, app, "/account/", color_scheme="dark")
    snap(page, "settings-dark.png")

    page = logged_in_page(browser, app, "/account/", viewport=PHONE)
    snap(page, "settings-phone.png")

    page = logged_in_page(browser, app, "/account/", viewport=PHONE, color_scheme="dark")
    page.goto(app + "/account/unlink?" + urlencode({"identity": GITHUB}))
    expect(page.get_by_role("button", name="Unlink GitHub")).to_be_visible()
    snap(page, "confirm-phone-dark.png")

    # Maya signed up with a password, then came back through GitHub: a second, empty account.
    page = logged_in_page(browser, app, "/account/", who="maya-patel")
    expect(page.get_by_role("heading", name="Is this also you?")).to_be_visible()
    snap(page, "suggestion.png")

    page.get_by_role("link", name="Link the Email and password account (maya@example.com)").click()
    expect(page.get_by_role("button", name="Sign in and link")).to_be_visible()
    snap(page, "confirm-suggestion.png")

    page = logged_in_page(browser, example, "/settings/sign-in/")
    snap(page, "themed.png")

    for language in LANGUAGES:
        page = logged_in_page(browser, app, "/account/", language=language)
        snap(page, f"settings-{language}.png")
    page = logged_in_page(browser, app, "/account/", viewport=PHONE, language="ar")
    snap(page, "settings-ar-phone.png")


if __name__ == "__main__":
    main()
