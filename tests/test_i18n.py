"""Translations: every page in the reader's language (German, French, Spanish, Arabic; English
otherwise), laid out right to left for Arabic, the host's choice first, and every shipped catalog
complete, compiled, with its placeholders kept."""

from __future__ import annotations

import html as html_lib
import re
import time
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel

from linked_accounts import LinkedAccounts, init_sessions
from linked_accounts.i18n import FSI, PDI
from tests.support import tenant as t
from tests.support.visitor import Visitor

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "linked_accounts" / "translations"
POT = TRANSLATIONS / "linked_accounts.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "la_": None, "la_n": (1, 2)}
LOCALES = ("de", "fr", "es", "ar")  # every catalog that ships (English is the source)
RIGHT_TO_LEFT = {"ar"}
ACCEPT = {
    "de": "de-DE,de;q=0.9,en;q=0.5",
    "fr": "fr-FR,fr;q=0.9,en;q=0.5",
    "es": "es-ES,es;q=0.9,en;q=0.5",
    "ar": "ar-EG,ar;q=0.9,en;q=0.5",
}


def _po(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "linked_accounts.po"


def _read_po(path: Path):
    with path.open("rb") as f:
        return read_po(f)


CATALOGS = {lang: _read_po(_po(lang)) for lang in LOCALES}
GERMAN = CATALOGS["de"]


def _fragments(text: str) -> list[str]:
    """Return the literal pieces of a message, between its placeholders and tags."""
    return [p.strip() for p in re.split(r"%\(\w+\)[sd]|<[^>]+>", text) if p.strip()]


def _english_fragments(catalog) -> list[str]:
    """Return every English piece of the catalog that its translation does not keep (brand
    names such as "GitHub" or a shared "Browser:" are the same in both)."""
    found = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated = " ".join(strings)
        for msgid in ids:
            found.update(
                f
                for f in _fragments(msgid)
                if re.search("[A-Za-z]{2}", f) and f.strip(".:;?,()") not in translated
            )
    return sorted(found, key=len, reverse=True)


ENGLISH = {lang: _english_fragments(catalog) for lang, catalog in CATALOGS.items()}


def _page_text(html: str) -> str:
    """Return what a person (or a screen reader) gets from the page: text, titles, labels."""
    labels = " ".join(re.findall(r'aria-label="([^"]*)"', html))
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html_lib.unescape(f"{text} {labels}").split())


def _html_tag(lang: str) -> str:
    return f'<html lang="{lang}" dir="{"rtl" if lang in RIGHT_TO_LEFT else "ltr"}">'


def assert_language(lang: str, html: str, *phrases: str) -> None:
    """The page is in `lang`: `lang` and `dir`, the phrases given (read without the isolates
    around variables), and no English message of ours left."""
    assert _html_tag(lang) in html, html[:300]
    text = _page_text(html)
    plain = text.replace(FSI, "").replace(PDI, "")
    for phrase in phrases:
        assert phrase in plain, f"{phrase!r} not in {plain!r}"
    words = set(re.findall(r"[\w'-]+", text))
    left = [
        fragment
        for fragment in ENGLISH[lang]
        if (fragment in text if " " in fragment else fragment.strip(".:;?,") in words)
    ]
    assert not left, f"English left on the {lang} page: {left}\n{text}"


def assert_german(html: str, *phrases: str) -> None:
    assert_language("de", html, *phrases)


def assert_english(html: str, *phrases: str) -> None:
    assert _html_tag("en") in html, html[:300]
    text = _page_text(html)
    assert FSI not in text and PDI not in text  # isolates only in a right-to-left language
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


def reader(visitor: Visitor, lang: str) -> Visitor:
    """From now on the visitor's browser prefers `lang`."""
    visitor.http.headers["Accept-Language"] = ACCEPT[lang]
    return visitor


def german(visitor: Visitor) -> Visitor:
    """From now on the visitor's browser prefers German."""
    return reader(visitor, "de")


# --- Every page in German ---------------------------------------------------------------------


def test_the_logged_out_home_page_is_german(visitor):
    page = german(visitor).get("/")
    assert_german(
        page.text,
        "Ihre Anmeldemethoden an einem Ort",
        "Willkommen · Kontoeinstellungen",
        "Zum Inhalt springen",
        "Anmelden",
    )


def test_the_login_failed_page_is_german(visitor):
    german(visitor).get("/account/login", allow_redirects=False)  # a trip: this browser's session
    page = visitor.get("/account/callback?state=not-a-trip")
    assert page.status_code == 400
    assert_german(
        page.text,
        "Anmeldung nicht abgeschlossen",
        "Diese Anmeldung wurde bereits verwendet oder ist abgelaufen.",
        "Es wurde nichts geändert, und Sie sind nicht angemeldet.",
        "Erneut versuchen",
    )


def test_the_settings_page_and_its_link_section_are_german(visitor):
    visitor.login()
    page = german(visitor).get("/account/")
    assert_german(
        page.text,
        "Verknüpfte Konten · Kontoeinstellungen",
        "Auf diese Arten können Sie sich bei Ihrem Profil",
        "Hauptkonto",
        "Das Hauptkonto Ihres Profils: Die anderen sind mit ihm verknüpft",
        "E-Mail und Passwort",
        "Verknüpfung mit GitHub (",
        "Weiteres Konto verknüpfen",
        "Fügen Sie eine Anmeldemethode hinzu.",
        "Liste aktualisieren",
        "Aktualisiert vor ",
        ", um ",
        "Abmelden",
    )
    assert 'aria-label="Verknüpfung mit GitHub (' in page.text


def test_the_refresh_message_is_german(visitor):
    visitor.login()
    page = german(visitor).press(visitor.get("/account/"), "Liste aktualisieren")
    assert_german(page.text, "Ihre verknüpften Konten sind auf dem neuesten Stand.")


def test_the_confirmation_and_the_unlink_result_are_german(visitor, tenant):
    visitor.login()
    confirm = german(visitor).confirm_page(t.ADA_GITHUB)
    assert_german(
        confirm.text,
        "Verknüpfung mit GitHub aufheben? · Kontoeinstellungen",
        "Nachdem Sie die Verknüpfung aufgehoben haben:",
        "Es wird zu einem separaten Konto mit keinen Daten aus diesem Profil",
        "Ihr Profil und seine anderen Anmeldemethoden bleiben unverändert.",
        "Abbrechen",
    )
    assert "<strong>separaten Konto</strong>" in confirm.text
    result = visitor.press(confirm, "Verknüpfung mit GitHub aufheben")
    assert_german(
        result.text,
        "Die Verknüpfung mit GitHub (",
        ") wurde aufgehoben. Es ist jetzt ein separates Konto ohne Daten aus diesem Profil.",
    )
    assert t.ADA_GITHUB not in t.identity_keys(tenant, t.ADA)


def test_the_primary_refusal_is_german(visitor):
    visitor.login()
    page = german(visitor).confirm_page(t.ADA)
    assert page.status_code == 400
    assert_german(
        page.text,
        "Das ist Ihr Hauptkonto",
        "Mit diesem Konto melden Sie sich an",
        "Zurück zu den verknüpften Konten",
    )


def test_an_auth0_failure_page_is_german(make_app, serve, tenant):
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="0")))
    visitor.login()
    t.fault(tenant, "get_user", status=503, times=1)
    page = german(visitor).get("/account/")
    assert page.status_code == 502
    assert_german(
        page.text,
        "Etwas ist schiefgegangen",
        "Von Ihrem Anmeldedienst kam ein Fehler zurück. Es wurde nichts geändert.",
    )


def test_deleting_the_separated_account_is_offered_and_confirmed_in_german(make_app, serve):
    visitor = Visitor(serve(make_app(OFFER_DELETE_SEPARATED="1")))
    visitor.login()
    german(visitor)
    settings = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Verknüpfung mit GitHub")
    offer = "Auch das separate Konto für GitHub löschen"
    assert_german(settings.text, offer)
    href = settings.text.split(offer)[0].rsplit('href="', 1)[1].split('"')[0]
    page = visitor.get(html_lib.unescape(href))
    assert_german(
        page.text,
        "Separates Konto für GitHub",
        "Damit wird endgültig gelöscht:",
        "Ihr Profil, seine Daten und Ihre anderen Anmeldemethoden werden nicht gelöscht.",
        "Behalten",
    )


def test_a_stale_form_is_refused_in_german(visitor):
    visitor.login()
    page = german(visitor).post("/account/refresh", {"csrf_token": "forged"})
    assert page.status_code == 400
    assert_german(page.text, "Diese Anfrage konnte nicht verarbeitet werden")


def test_api_errors_are_german_and_keep_their_codes(visitor):
    response = german(visitor).get("/account/api/identities")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert error["message"] == "Bitte melden Sie sich zuerst an."


def test_the_plural_of_the_rate_limit_message(make_app):
    from linked_accounts.auth0 import management as m
    from linked_accounts.refusals import from_auth0

    app = make_app()
    for language, wait, expected in [
        ("de", 1, "in 1 Sekunde erneut"),
        ("de", 30, "in 30 Sekunden erneut"),
        ("en", 1, "try again in 1 second."),
        ("en", 30, "try again in 30 seconds."),
        ("fr", 1, "réessayer dans 1 seconde."),
        ("fr", 30, "réessayer dans 30 secondes."),
        ("es", 1, "dentro de 1 segundo."),
        ("es", 30, "dentro de 30 segundos."),
        # Arabic has six forms: one and two say no number, 3-10 and 11-99 their own words.
        ("ar", 1, "بعد ثانية واحدة."),
        ("ar", 2, "بعد ثانيتين."),
        ("ar", 3, "بعد 3 ثوانٍ."),
        ("ar", 11, "بعد 11 ثانية."),
        ("ar", 100, "بعد 100 ثانية."),
    ]:
        with app.test_request_context(headers={"Accept-Language": language}):
            failure = from_auth0(m.RateLimited(reset_at=100 + wait), now=100)
        assert expected in failure.message


def test_how_long_ago_a_list_was_read_in_each_language_to_the_second(make_app):
    from linked_accounts.web.templating import la_ago

    app = make_app()
    now = time.time()
    cases = [
        ("en", now - 0.2, "1 second ago"),  # a moment is a second, never "in 0 seconds"
        ("de", now - 0.2, "vor 1 Sekunde"),
        ("en", now - 5.3, "5 seconds ago"),
        ("de", now - 5.3, "vor 5 Sekunden"),  # the same seconds, its own language's words
        ("en", now - 125.3, "2 minutes ago"),
        ("en", now - 3 * 3600, "3 hours ago"),
        ("en", now + 30, "in 30 seconds"),  # a clock ahead of ours
        ("fr", now - 5.3, "il y a 5 secondes"),
        ("es", now - 125.3, "hace 2 minutos"),
        ("ar", now - 125.3, "قبل دقيقتين"),  # the dual
        ("ar", now - 5.3, "قبل 5 ثوانِ"),
    ]
    for language, at, expected in cases:
        with app.test_request_context(headers={"Accept-Language": language}):
            assert la_ago(at) == expected


# --- French, Spanish and Arabic -----------------------------------------------------------------

# What each page must say, word for word, in each language: the words a person reads first.
PHRASES = {
    "fr": {
        "home": ["Vos moyens de connexion, au même endroit", "Bienvenue · Paramètres du compte",
                 "Aller au contenu", "Se connecter"],
        "settings": ["Comptes associés · Paramètres du compte", "Principal",
                     "Dissocier GitHub (ada@users.noreply.github.com)", "Associer un autre compte",
                     "Actualiser la liste", "Mise à jour il y a", "Se déconnecter"],
        "confirm": ["Dissocier GitHub ? · Paramètres du compte", "Une fois dissocié :",
                    "Votre profil et ses autres moyens de connexion restent inchangés.", "Annuler"],
        "unlink": "Dissocier GitHub",
        "unlinked": ["GitHub (ada@users.noreply.github.com) a été dissocié."],
        "primary": ["C’est votre compte principal", "Retour aux comptes associés"],
        "failed": ["La connexion n’a pas abouti", "Réessayer"],
        "api": "Veuillez d’abord vous connecter.",
    },
    "es": {
        "home": ["Sus métodos de inicio de sesión, en un solo lugar",
                 "Le damos la bienvenida · Configuración de la cuenta",
                 "Saltar al contenido", "Iniciar sesión"],
        "settings": ["Cuentas vinculadas · Configuración de la cuenta", "Principal",
                     "Desvincular GitHub (ada@users.noreply.github.com)", "Vincular otra cuenta",
                     "Actualizar la lista", "Actualizada hace", "Cerrar sesión"],
        "confirm": ["¿Desvincular GitHub? · Configuración de la cuenta",
                    "Después de desvincularla:",
                    "Su perfil y sus otros métodos de inicio de sesión se quedan como están.",
                    "Cancelar"],
        "unlink": "Desvincular GitHub",
        "unlinked": ["Se desvinculó GitHub (ada@users.noreply.github.com)."],
        "primary": ["Esta es su cuenta principal", "Volver a las cuentas vinculadas"],
        "failed": ["No se completó el inicio de sesión", "Volver a intentarlo"],
        "api": "Inicie sesión primero.",
    },
    "ar": {
        "home": ["طرق تسجيل دخولك في مكان واحد", "مرحبًا · إعدادات الحساب",
                 "انتقل إلى المحتوى", "تسجيل الدخول"],
        "settings": ["الحسابات المرتبطة · إعدادات الحساب", "رئيسي",
                     "إلغاء ربط GitHub (ada@users.noreply.github.com)", "ربط حساب آخر",
                     "تحديث القائمة", "حُدّثت قبل", "تسجيل الخروج"],
        "confirm": ["هل تريد إلغاء ربط GitHub؟ · إعدادات الحساب", "بعد إلغاء الربط:",
                    "يبقى ملفك الشخصي وطرق تسجيل الدخول الأخرى كما هي.", "إلغاء"],
        "unlink": f"إلغاء ربط {FSI}GitHub{PDI}",
        "unlinked": ["أُلغي ربط GitHub (ada@users.noreply.github.com)."],
        "primary": ["هذا هو حسابك الرئيسي", "العودة إلى الحسابات المرتبطة"],
        "failed": ["لم يكتمل تسجيل الدخول", "حاول مرة أخرى"],
        "api": "يُرجى تسجيل الدخول أولًا.",
    },
}  # fmt: skip


@pytest.mark.parametrize("lang", PHRASES)
def test_every_page_of_a_visit_is_in_the_readers_language(visitor, tenant, lang):
    said = PHRASES[lang]
    stranger = reader(Visitor(visitor.base), lang)
    assert_language(lang, stranger.get("/").text, *said["home"])
    failed = stranger.get("/account/callback?state=not-a-trip")
    assert failed.status_code == 400
    assert_language(lang, failed.text, *said["failed"])
    assert stranger.get("/account/api/identities").json()["error"]["message"] == said["api"]
    reader(visitor.login() and visitor, lang)
    assert_language(lang, visitor.get("/account/").text, *said["settings"])
    primary = visitor.confirm_page(t.ADA)
    assert primary.status_code == 400
    assert_language(lang, primary.text, *said["primary"])
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    assert_language(lang, confirm.text, *said["confirm"])
    unlinked = visitor.press(confirm, said["unlink"])
    assert_language(lang, unlinked.text, *said["unlinked"])
    assert t.ADA_GITHUB not in t.identity_keys(tenant, t.ADA)


def test_in_arabic_every_name_and_address_keeps_its_own_direction(visitor):
    """Isolated (FSI ... PDI, <bdi> in plain text) in the text, in the labels and in the
    messages from Python: "GitHub (ada@...)" cannot take the Arabic sentence's punctuation."""
    visitor.login()
    page = reader(visitor, "ar").get("/account/")
    email = "ada@users.noreply.github.com"
    assert f'aria-label="إلغاء ربط {FSI}GitHub{PDI} ({FSI}{email}{PDI})"' in page.text
    assert f"({FSI}ada@example.com{PDI})" in page.text  # the lead's address, in the text
    unlinked = visitor.press(visitor.confirm_page(t.ADA_GITHUB), PHRASES["ar"]["unlink"])
    assert f"أُلغي ربط {FSI}GitHub{PDI} ({FSI}{email}{PDI})." in _page_text(unlinked.text)
    english = Visitor(visitor.base)
    english.login()
    assert FSI not in english.get("/account/").text  # left to right: nothing added


def test_in_arabic_a_value_inside_a_tag_is_not_isolated(make_app):
    """A support link's address stays an address: only what is read as text is isolated."""
    from linked_accounts.i18n import gettext, template_gettext

    message = '<a href="%(url)s">%(name)s</a>'  # not in the catalog: it stays as it is
    expected = f'<a href="https://help.example/">{FSI}Acme{PDI}</a>'
    with make_app().test_request_context(headers={"Accept-Language": "ar"}):
        assert template_gettext(message, url="https://help.example/", name="Acme") == expected
        assert gettext(message, url="https://help.example/", name="Acme") == expected


def test_the_default_languages_are_every_shipped_catalog(make_app):
    assert make_app().config["LINKED_ACCOUNTS_LOCALES"] == ("en", "ar", "de", "es", "fr")
    assert {p.name for p in TRANSLATIONS.iterdir() if p.is_dir()} == set(LOCALES)


# --- English by default -------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["en", "ja-JP,ja;q=0.9", "he", "", "*"])
def test_english_unless_a_shipped_language_is_asked_for(visitor, accept):
    visitor.http.headers["Accept-Language"] = accept
    page = visitor.get("/")
    assert_english(page.text, "Your sign-in methods, in one place", "Welcome · Account settings")
    visitor.login()
    assert_english(visitor.get("/account/").text, "These are the ways you can sign in")


# --- The host decides ---------------------------------------------------------------------------


def test_a_host_with_its_own_babel_chooses_the_locale(tenant, app_config, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        {**app_config, "AUTH0_DOMAIN": tenant, "SECRET_KEY": app_config["APP_SECRET_KEY"]}
    )
    Babel(app, locale_selector=lambda: "de")
    init_sessions(app)
    LinkedAccounts(app, url_prefix="/x")
    client = app.test_client()
    headers = {"Accept-Language": "en"}
    page = client.get("/x/callback?state=not-a-trip", headers=headers, follow_redirects=True)
    assert_german(page.text, "Anmeldung nicht abgeschlossen · Ihr Konto")
    api = client.get("/x/api/identities", headers=headers)
    assert api.json["error"]["message"] == "Bitte melden Sie sich zuerst an."


def test_a_host_without_babel_can_choose_with_a_selector(make_app):
    app = make_app(LINKED_ACCOUNTS_LOCALE_SELECTOR=lambda: "de")
    page = app.test_client().get("/", headers={"Accept-Language": "en"})
    assert_german(page.text, "Ihre Anmeldemethoden an einem Ort")


def test_a_host_can_limit_the_locales(make_app):
    app = make_app(LINKED_ACCOUNTS_LOCALES=["en"])
    page = app.test_client().get("/", headers={"Accept-Language": "de"})
    assert_english(page.text, "Your sign-in methods, in one place")


# --- The catalog --------------------------------------------------------------------------------


def test_the_template_holds_every_string_the_code_marks():
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    marked = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in _read_po(POT) if m.id}
    assert marked - in_template == set(), "run `make translations-update`"
    assert in_template - marked == set(), "run `make translations-update`"


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]|</?\w+[^>]*>", text))


@pytest.mark.parametrize("lang", LOCALES)
def test_every_message_has_a_translation_that_keeps_its_placeholders(lang):
    catalog = CATALOGS[lang]
    template = [m for m in _read_po(POT) if m.id]
    assert len(template) > 100
    for message in template:
        translated = catalog.get(message.id)
        assert translated is not None, message.id
        strings = (
            translated.string if isinstance(translated.string, tuple) else (translated.string,)
        )
        assert strings and all(s.strip() for s in strings), message.id
        assert not translated.fuzzy, message.id
        if isinstance(message.id, str):
            assert _placeholders(strings[0]) == _placeholders(message.id), (lang, message.id)
        else:
            # Every form keeps every variable and tag; a form for one number alone (Arabic's
            # "one" and "two") may say it in words instead of %(num)d; the last form shows it.
            kept = [p for p in _placeholders(message.id[1]) if p != "%(num)d"]
            for form in strings:
                assert [p for p in _placeholders(form) if p != "%(num)d"] == kept, (lang, form)
            assert "%(num)d" in strings[-1], (lang, message.id)
    assert not catalog.fuzzy
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert problems == []  # placeholder types and the language's number of plural forms


def _hashable(value):
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("lang", LOCALES)
def test_the_committed_mo_is_the_compiled_po(tmp_path, lang):
    fresh = tmp_path / "linked_accounts.mo"
    with fresh.open("wb") as f:
        write_mo(f, CATALOGS[lang])

    def messages(path: Path) -> dict:
        with path.open("rb") as f:
            catalog = read_mo(f)
        return {_hashable(m.id): _hashable(m.string) for m in catalog if m.id}

    assert messages(_po(lang).with_suffix(".mo")) == messages(fresh)
