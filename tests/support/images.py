"""Wait for a page's images, for the screenshot script and the browser tests alike.

Playwright's screenshot waits for fonts but not for images: a shot taken as soon as the page's
URL changes can catch icons still on their way and draw empty squares where they belong.
"""

from __future__ import annotations

from playwright.sync_api import Page

# True once each <img> has either loaded or failed; false while any is still on its way.
_ALL_SETTLED = "() => [...document.images].every(img => img.complete)"
# A settled image with no natural width was not drawn: a 404, a CSP block, a non-image answer.
_NOT_DRAWN = """() => [...document.images]
    .filter(img => img.naturalWidth === 0)
    .map(img => img.currentSrc || img.getAttribute('src') || '(no src)')"""
# Decoded images paint in the very next frame, so the screenshot shows them.
_DECODE = "() => Promise.all([...document.images].map(img => img.decode().catch(() => null)))"


def image_sources(page: Page) -> list[str]:
    """Return the absolute URL of each <img> on the page, in document order."""
    return page.evaluate("() => [...document.images].map(img => img.currentSrc || img.src)")


def settle_images(page: Page, timeout: float = 10_000) -> list[str]:
    """Wait until every <img> on the page has loaded or failed; return the URLs not drawn."""
    page.wait_for_load_state("load", timeout=timeout)
    page.wait_for_function(_ALL_SETTLED, timeout=timeout)
    return page.evaluate(_NOT_DRAWN)


def wait_for_images(page: Page, timeout: float = 10_000) -> None:
    """Wait until every <img> on the page is loaded and decoded; raise naming any that failed."""
    not_drawn = settle_images(page, timeout)
    if not_drawn:
        raise RuntimeError(f"images that did not load on {page.url}: {', '.join(not_drawn)}")
    page.evaluate(_DECODE)
