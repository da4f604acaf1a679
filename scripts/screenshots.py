"""`make screenshots`: regenerate the README's pictures of the settings and confirmation pages.

Serves a development tenant and the app on free loopback ports, logs in as Ada Lovelace in
Chromium (Debian's when on PATH, else Playwright's own) and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from devtenant import create_app as create_tenant  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 900, "height": 640}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GITHUB = "github|1234567"


@contextmanager
def serving(wsgi_app) -> Iterator[str]:
    """Serve `wsgi_app` on a free loopback port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("werkzeug", "linked_accounts.access"):
        logging.getLogger(name).disabled = True  # one line per request: noise here
    with (
        serving(create_tenant()) as tenant,
        serving(
            create_app(
                {
                    "AUTH0_DOMAIN": tenant,
                    "AUTH0_CLIENT_ID": "dev-client",
                    "AUTH0_CLIENT_SECRET": "dev-client-secret",
                    "APP_SECRET_KEY": secrets.token_hex(32),
                    "REDIS_URL": "",
                    "SESSION_COOKIE_SECURE": False,
                }
            )
        ) as app,
        sync_playwright() as pw,
    ):
        # Debian's Chromium when installed; None means Playwright's own.
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1, color_scheme="light")
        page.goto(app + "/")
        page.get_by_role("link", name="Log in").click()
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page).to_have_url(app + "/account/")
        page.screenshot(path=OUT / "settings.png", full_page=True)

        page.goto(app + "/account/unlink?" + urlencode({"identity": GITHUB}))
        expect(page.get_by_role("button", name="Unlink GitHub")).to_be_visible()
        page.screenshot(path=OUT / "confirm.png", full_page=True)
        browser.close()
    for name in ("settings.png", "confirm.png"):
        print(f"wrote {(OUT / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
