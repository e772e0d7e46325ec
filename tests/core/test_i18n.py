"""Both languages: identical keys, no key defined twice, every key used in code exists."""

import re
import tomllib
from pathlib import Path

import pytest

from crm_impl.core.i18n import LANGUAGES, catalogue, fmt_money, fmt_number, set_locale, t
from crm_impl.core.permissions import ACTIONS, APP_ROLES
from crm_impl.rollout.models import PROJECT_ROLES

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "crm_impl" / "core" / "i18n"
SOURCES = [ROOT / "app.py", *ROOT.glob("pages/**/*.py"), *ROOT.glob("crm_impl/**/*.py")]
# t("key") and t('key'), plus keys passed to errors and helpers as "area.name" string literals
LITERAL_T = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
ERROR_KEY = re.compile(r"""(?:Error|Denied|NotFound)\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
FIELD_KEY = re.compile(r"""["'](field\.[a-z0-9_]+)["']""")


def test_languages_have_identical_keys():
    en, pl = set(catalogue("en")), set(catalogue("pl"))
    assert en - pl == set(), f"missing in Polish: {sorted(en - pl)}"
    assert pl - en == set(), f"missing in English: {sorted(pl - en)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_key_is_defined_in_two_files(lang):
    seen: dict[str, str] = {}
    for path in sorted((I18N / lang).glob("*.toml")):
        from crm_impl.core.i18n import _flatten

        with path.open("rb") as fh:
            for key in _flatten(tomllib.load(fh)):
                assert key not in seen, f"{key} in both {seen[key]} and {path.name}"
                seen[key] = path.name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_empty_strings_and_placeholders_match(lang):
    en = catalogue("en")
    for key, text in catalogue(lang).items():
        assert text.strip(), key
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", en[key])), key


def test_every_key_used_in_code_exists():
    keys = set(catalogue("en"))
    missing = set()
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        for pattern in (LITERAL_T, ERROR_KEY, FIELD_KEY):
            missing |= {(path.name, k) for k in pattern.findall(source) if k not in keys}
    assert not missing, sorted(missing)


def test_keys_built_at_run_time_exist():
    keys = set(catalogue("en"))
    wanted = {f"role.{r}" for r in (*APP_ROLES, *PROJECT_ROLES)} | {f"action.{a}" for a in ACTIONS}
    assert wanted - keys == set()


def test_formatting_follows_the_language():
    set_locale("pl")
    assert fmt_number(1234.5, 1) == "1\xa0234,5"
    assert fmt_money(1500, "PLN").endswith("zł")
    set_locale("en")
    assert fmt_number(1234.5, 1) == "1,234.5"
    assert t("login.title") == "Sign in"


def test_empty_values_format_as_a_dash():
    import pandas as pd

    from crm_impl.core.i18n import fmt_date, fmt_datetime, fmt_money_short, fmt_pct

    for fmt in (fmt_number, fmt_money, fmt_money_short, fmt_pct, fmt_date, fmt_datetime):
        assert fmt(None) == fmt(pd.NaT) == fmt(float("nan")) == "–"
