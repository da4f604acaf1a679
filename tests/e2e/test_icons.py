"""Every icon on the settings page loads and is drawn: standalone, and in the example host under
its own prefix with its own icon for its enterprise login."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, Response

from examples.product_host.app import create_app as create_example
from tests.e2e.pages import log_in
from tests.support.images import image_sources, settle_images

pytestmark = pytest.mark.browser

PREFIX = "/settings/sign-in/"


class ImageWatch:
    """What the browser got for each image it asked for on one page (tab)."""

    def __init__(self, page: Page) -> None:
        self.answers: dict[str, list[str]] = {}
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _response(self, response: Response) -> None:
        if response.request.resource_type == "image":
            kind = response.headers.get("content-type", "")
            self.answers.setdefault(response.url, []).append(f"{response.status} {kind}")

    def _failed(self, request: Request) -> None:
        if request.resource_type == "image":
            self.answers.setdefault(request.url, []).append(f"failed: {request.failure}")

    def problems(self, page: Page) -> list[str]:
        """Wait for the page's images; name each one not drawn or not answered 200 with an image."""
        problems = [f"{url}: not drawn (naturalWidth 0)" for url in settle_images(page)]
        for url in image_sources(page):
            answers = self.answers.get(url)
            if not answers:
                problems.append(f"{url}: the browser never fetched it")
            for answer in answers or ():
                if not answer.startswith("200 image/"):
                    problems.append(f"{url}: {answer}")
        return problems


@pytest.fixture
def serve_example(tenant: str, app_config, serve) -> Callable[..., str]:
    """Serve the example product for one test: `serve_example(KEY=value)` gives its URL."""

    def serve_it(**overrides) -> str:
        return serve(create_example({**app_config, "AUTH0_DOMAIN": tenant, **overrides}))

    return serve_it


def test_every_image_on_the_standalone_settings_page_loads(page: Page, app_url: str):
    watch = ImageWatch(page)
    log_in(page, app_url)
    assert watch.problems(page) == []
    icons = "/account/la-static/icons/"
    assert image_sources(page) == [
        app_url + "/static/favicon.svg",  # the site's logo in the header
        app_url + icons + "password.svg",
        app_url + icons + "google.svg",
        app_url + icons + "github.svg",
        app_url + icons + "enterprise.svg",
    ]


def test_every_image_in_the_example_host_loads(page: Page, serve_example):
    watch = ImageWatch(page)
    example = serve_example()
    log_in(page, example, prefix=PREFIX)
    assert watch.problems(page) == []
    icons = example + PREFIX + "la-static/icons/"
    assert image_sources(page) == [
        icons + "password.svg",
        icons + "google.svg",
        icons + "github.svg",
        example + "/static/acme-sso.svg",  # the product's own icon for Acme SSO
    ]


def test_a_broken_icon_is_named(page: Page, serve_example):
    """The check above fails when an icon's URL leads nowhere."""
    watch = ImageWatch(page)
    missing = {"acme-saml": {"name": "Acme SSO", "icon": "/static/no-such-icon.svg"}}
    example = serve_example(LINKED_ACCOUNTS_CONNECTIONS=missing)
    log_in(page, example, prefix=PREFIX)
    url = example + "/static/no-such-icon.svg"
    problems = watch.problems(page)
    assert f"{url}: not drawn (naturalWidth 0)" in problems
    assert any(problem.startswith(f"{url}: 404 ") for problem in problems)
    assert all(problem.startswith(url) for problem in problems)  # the other icons are fine
