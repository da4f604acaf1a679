"""The README's single-page-app snippet, run as written in Chromium on the app's origin."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.pages import log_in
from tests.support import tenant as t
from tests.support.readme import snippet

pytestmark = pytest.mark.browser


def test_the_spa_snippet_lists_and_unlinks(page: Page, app_url, tenant):
    log_in(page, app_url)
    listed = page.evaluate(f"async () => {{ {snippet('spa')}; return accountApi('/identities'); }}")
    assert [i["key"] for i in listed["identities"]][2] == t.ADA_GITHUB
    done = page.evaluate(
        f"async () => {{ {snippet('spa')};"
        f" return accountApi('/identities/unlink', {{ identity: '{t.ADA_GITHUB}' }}); }}"
    )
    assert done["unlinked"]["key"] == t.ADA_GITHUB
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
