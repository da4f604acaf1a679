"""Pages drawn from templates compiled once per locale and URL root (`templating.render`): exactly
what the plain templates draw, in every language and under any root, with variables still escaped
and nothing that depends on the request's host worked out in advance."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g, render_template
from jinja2 import DictLoader
from markupsafe import Markup

from linked_accounts import i18n
from linked_accounts.settings import DEFAULTS
from linked_accounts.web import kept, pages, templating
from tests.support import tenant as t
from tests.support.app_session import client_for
from tests.support.visitor import Visitor

# A signed CSRF token (Flask-WTF's or a form's), in whatever attribute order
CSRF = re.compile(rb'(name="csrf_token"[^>]* value=)"[^"]+"')


def without_tokens(page: bytes) -> bytes:
    """The page with its CSRF tokens blanked: each request signs its own."""
    return CSRF.sub(rb'\1"T"', page)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_pages_are_exactly_what_the_plain_templates_draw(make_app, serve, monkeypatch, language):
    app = make_app()
    ada = Visitor(serve(app))
    ada.login("Ada Lovelace")
    client = client_for(app, ada)
    headers = {"Accept-Language": language}
    paths = ["/account/", "/account/unlink?identity=" + t.ADA_GITHUB, "/account/unlink?identity=x"]
    # the third: redirected to the settings page with an outcome message
    paths.append(paths[0])  # again: its content served from the part kept by the first view
    compiled = [client.get(path, headers=headers, follow_redirects=True) for path in paths]
    monkeypatch.setattr(pages, "render", render_template)  # the templates as written
    monkeypatch.setattr(pages, "render_kept", plain_page)
    monkeypatch.setitem(app.jinja_env.globals, "la_part", plain_part)
    plain = [client.get(path, headers=headers, follow_redirects=True) for path in paths]
    assert [p.status_code for p in compiled] == [200, 200, 200, 200]
    assert b"la-message--" in compiled[2].data
    for folded, written in zip(compiled, plain, strict=True):
        assert without_tokens(folded.data) == without_tokens(written.data)
    assert b"GitHub" in compiled[0].data and b'name="csrf_token"' in compiled[0].data


def plain_page(name: str, fill: dict, context: dict | None = None, **values) -> str:
    """A kept page drawn from the templates as written, kept nowhere."""
    return kept.render_plain(name, {**(context or {}), **values}, fill)


def plain_part(name: str, fill: dict | None = None, **values) -> Markup:
    """A part drawn from the template as written (the app's own environment), kept nowhere."""
    return kept.draw_part(name, values, fill or {})


def folded_app(source: str, **config) -> Flask:
    """A bare app with the extension's Jinja setup (its i18n helpers and `render`), whose one
    template `page.html` is `source`."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 32, **config)
    for key, value in DEFAULTS.items():  # as LinkedAccounts.init_app sets them
        app.config.setdefault(key, value)
    i18n.init_app(app)
    app.extensions[templating.EXTENSION] = templating.LocalizedTemplates(app)
    kept.init_app(app)
    app.jinja_env.loader = DictLoader({"page.html": source})
    app.add_url_rule("/link", "link", lambda: "")
    return app


def draw(app: Flask, path: str = "/", request: dict | None = None, **context) -> str:
    with app.test_request_context(path, **(request or {})):
        return templating.render("page.html", **context)


def test_constant_messages_are_translated_when_compiled_and_variables_escaped_when_drawn():
    def not_at_render_time(*args, **kwargs):
        raise AssertionError("la_ called while drawing the page")

    app = folded_app('{{ la_("Log out") }}|{{ la_("Link %(name)s", name=who) }}|{{ la_locale() }}')
    drawn = draw(app, request={"headers": {"Accept-Language": "de"}}, who="<b>Ben</b>",
                 la_=not_at_render_time)  # fmt: skip
    assert drawn == "Abmelden|&lt;b&gt;Ben&lt;/b&gt; verknüpfen|de"


def test_each_locale_and_root_gets_its_own_compiled_page():
    app = folded_app('{{ la_("Log out") }} {{ url_for("link") }}')
    en = draw(app, request={"headers": {"Accept-Language": "en"}})
    de = draw(app, request={"headers": {"Accept-Language": "de"}})
    under = draw(app, request={"base_url": "http://h/portal"})
    assert (en, de, under) == ("Log out /link", "Abmelden /link", "Log out /portal/link")


def test_urls_that_depend_on_the_host_are_built_on_every_view():
    app = folded_app("{{ url_for('link', _external=True) }}")
    one = draw(app, request={"base_url": "http://one.test"})
    two = draw(app, request={"base_url": "http://two.test"})
    assert (one, two) == ("http://one.test/link", "http://two.test/link")


def test_urls_a_url_default_fills_in_are_built_on_every_view():
    """A host that fills a URL value per request (here a tenant slug) gets its own URLs."""
    app = folded_app("{{ url_for('home') }}")
    app.add_url_rule("/<org>/home", "home", lambda org: "")
    app.url_defaults(lambda endpoint, values: values.setdefault("org", g.org))
    drawn = []
    for org in ("acme", "globex"):
        with app.test_request_context("/"):
            g.org = org
            drawn.append(templating.render("page.html"))
    assert drawn == ["/acme/home", "/globex/home"]


def test_warming_compiles_every_locales_pages_before_the_first_request(make_app):
    """What a pre-forking master calls (gunicorn.conf.py `when_ready`): afterwards a page in any
    configured locale is drawn from templates already compiled, shared by the workers."""
    app = make_app()
    localized = app.extensions[templating.EXTENSION]
    localized.warm()
    compiled = localized._environment.cache_info()
    assert compiled.currsize == len(app.config["LINKED_ACCOUNTS_LOCALES"])
    for locale in app.config["LINKED_ACCOUNTS_LOCALES"]:
        with app.test_request_context("/account/", headers={"Accept-Language": locale}):
            localized.get("linked_accounts/settings.html")
    assert localized._environment.cache_info().misses == compiled.misses  # nothing new compiled
