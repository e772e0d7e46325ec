"""Words on screen: plural forms, no raw keys/enum values/None, one word per concept."""

import re
from pathlib import Path

import pytest

from crm_impl.core.i18n import LANGUAGES, catalogue, plural_categories, plurals, set_locale, tn

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py", *ROOT.glob("pages/**/*.py"), *ROOT.glob("crm_impl/**/*.py")]
TN_KEY = re.compile(r"""\btn\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
# a count followed by a counted noun: "{n} deals", "{n} szans", "{days} dni"
NOUNS = "deals?|days?|entries|errors|accounts|phases|changes|szans|szanse|dni|wpis|błęd|klient|faz|zmian"
COUNT_NOUN = re.compile(r"\{(?:n|days|count)\} (?:" + NOUNS + r")")


def test_polish_and_english_plurals():
    set_locale("pl")
    assert [tn("overview.won_count", n) for n in (1, 2, 5, 22, 112)] == [
        "1 szansa",
        "2 szanse",
        "5 szans",
        "22 szanse",
        "112 szans",
    ]
    set_locale("en")
    assert [tn("overview.won_count", n) for n in (1, 2)] == ["1 deal", "2 deals"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_plural_entry_has_the_forms_its_language_needs(lang):
    needed = plural_categories(lang)
    assert plurals(lang), "no plural entries found"
    for key, forms in plurals(lang).items():
        assert needed <= set(forms), (lang, key, sorted(needed - set(forms)))


def test_every_key_passed_to_tn_is_a_plural_entry_in_both_languages():
    used: set[str] = set()
    for path in SOURCES:
        used |= set(TN_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "no tn() call found"
    for lang in LANGUAGES:
        assert used - set(plurals(lang)) == set(), lang


def test_no_count_string_is_written_without_plural_forms():
    """ "{n} deals" / "{n} szans" as a plain string reads wrong for 1 (and 2–4 in Polish)."""
    plain = {
        key: text
        for lang in LANGUAGES
        for key, text in catalogue(lang).items()
        if key not in plurals(lang) and COUNT_NOUN.search(text)
    }
    assert plain == {}


def test_page_titles_follow_one_key_pattern():
    """`pages/<domain>/<screen>.py` is titled by `page.<domain>_<screen>`, like its URL."""
    from crm_impl.core.ui.nav import PAGES, url_path

    assert [p.title_key for p in PAGES] == [f"page.{url_path(p.path)}" for p in PAGES]
    set_locale("pl")
    assert tn("page.home_profile", 1) == "Mój profil"
    set_locale("en")
    assert tn("page.home_profile", 1) == "My profile"
