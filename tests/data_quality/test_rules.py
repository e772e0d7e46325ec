"""Every rule with a passing and a failing case on hand-made frames; NIP, REGON and IBAN on
known valid and invalid numbers; "empty" placeholders; scores computed here by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from crm_impl.data_quality import metrics, rules
from crm_impl.data_quality.rules import BY_ID, REGISTRY, Context, ScanSettings, empty
from crm_impl.data_quality.vocabulary import DIMENSIONS, WEIGHTS

TODAY = date(2025, 6, 30)
T0 = pd.Timestamp("2025-06-01 10:00", tz="UTC")


def ctx(**kw) -> Context:  # type: ignore[no-untyped-def]
    return Context(today=TODAY, catalogue=("GTX Pro", "GTX Basic"), **kw)


def account(**kw) -> dict:  # type: ignore[type-arg]
    row = {
        "id": 1,
        "name": "Budex sp. z o.o.",
        "nip": "5260250274",
        "sector": "construction",
        "city": "Kraków",
    }
    return {**row, "owner_id": 1, "created_at": T0, **kw}


def contact(**kw) -> dict:  # type: ignore[type-arg]
    row = {"id": 1, "account_id": 1, "full_name": "Anna Nowak", "email": "anna.nowak@budex.pl"}
    return {**row, "phone": "+48 601 234 567", "position": "Owner", "owner_id": 1, "created_at": T0, **kw}


def deal(**kw) -> dict:  # type: ignore[type-arg]
    row = {
        "id": 1,
        "title": "Cement for the warehouse",
        "account_id": 1,
        "contact_id": 1,
        "owner_id": 1,
        "value": 12_500.0,
        "currency": "PLN",
        "lost_reason": None,
        "stage_key": "offer",
        "stage_kind": "open",
        "product": "GTX Pro",
        "created_at": T0,
        "last_touch_at": pd.Timestamp("2025-06-25", tz="UTC"),
        "stage_entered_at": pd.Timestamp("2025-06-20", tz="UTC"),
        "closed_at": pd.NaT,
        "expected_close": pd.Timestamp("2025-08-01"),
        "promised_delivery": pd.NaT,
        "actual_delivery": pd.NaT,
    }
    return {**row, **kw}


MAKERS = {"account": account, "contact": contact, "deal": deal}
FRAMES = {"account": [account()], "contact": [contact()], "deal": [deal()]}

# rule id -> (entity, a failing record's changes); the unchanged record passes every rule
FAILING: dict[str, dict] = {  # type: ignore[type-arg]
    "account.required": {"sector": "N/A"},
    "contact.required": {"phone": "brak"},
    "deal.required": {"expected_close": pd.NaT},
    "account.nip_invalid": {"nip": "5260250275"},
    "account.regon_invalid": {"regon": "123456786"},
    "account.iban_invalid": {"iban": "PL61 1090 1014 0000 0712 1981 2875"},
    "account.postal_code_invalid": {"postal_code": "31234"},
    "contact.email_invalid": {"email": "anna.nowak@budex"},
    "contact.phone_invalid": {"phone": "call me"},
    "deal.value_negative": {"value": -5.0},
    "deal.dates_out_of_order": {"actual_delivery": pd.Timestamp("2025-05-01")},
    "deal.untouched": {
        "last_touch_at": pd.Timestamp("2025-04-01", tz="UTC"),
        "stage_entered_at": pd.Timestamp("2025-04-01", tz="UTC"),
    },
    "deal.close_overdue": {"expected_close": pd.Timestamp("2025-06-01")},
    "deal.contract_incomplete": {"stage_key": "contract", "stage_kind": "won", "expected_close": pd.NaT},
    "deal.completed_undelivered": {"stage_key": "completed", "stage_kind": "won"},
    "deal.lost_without_reason": {"stage_key": "lost", "stage_kind": "lost", "lost_reason": "  "},
    "deal.no_account": {"account_id": None},
    "contact.no_account": {"account_id": 99},
    "deal.product_unknown": {"product": "GTXPro"},
    "account.sector_unknown": {"sector": "technolgy"},
    "account.placeholder_name": {"name": "Test sp. z o.o."},
    "contact.placeholder_name": {"full_name": "asdf"},
    "deal.placeholder_title": {"title": "xxx"},
    "contact.placeholder_email": {"email": "jan@example.com"},
    "contact.phone_fake": {"phone": "111 111 111"},
    "deal.value_implausible": {"value": 5_000_000.0},
}
# rules that need more than one record to fail: tested below
MULTI = {
    "account.duplicate",
    "contact.duplicate",
    "account.burst",
    "contact.burst",
    "deal.burst",
    "deal.date_far",
}
OPTIONAL = {"regon": "123456785", "iban": "PL61109010140000071219812874", "postal_code": "31-234"}


def test_every_rule_has_a_case_here():
    assert set(FAILING) | MULTI == set(BY_ID)
    assert {r.dimension for r in REGISTRY} == set(DIMENSIONS)


def _scan_one(entity: str, changes: dict) -> rules.Scan:  # type: ignore[type-arg]
    base = {e: pd.DataFrame(rows) for e, rows in FRAMES.items()}
    good = {**MAKERS[entity](), **({**OPTIONAL} if entity == "account" else {})}
    base[entity] = pd.DataFrame([good, {**good, "id": 2, **changes}])
    if entity == "account":
        base["account"].loc[1, "name"] = changes.get("name", "Zupełnie Inna Firma")  # no duplicate
        base["account"].loc[1, "nip"] = changes.get("nip", "7740001454")
        base["account"].loc[1, "city"] = changes.get("city", "Gdańsk")
    if entity == "contact":
        base["contact"].loc[1, ["full_name", "email"]] = [
            changes.get("full_name", "Piotr Zieliński"),
            changes.get("email", "piotr.z@budex.pl"),
        ]
        base["contact"].loc[1, "phone"] = changes.get("phone", "+48 602 765 432")
    return rules.scan(base, ctx())


@pytest.mark.parametrize("rule_id", sorted(FAILING))
def test_rule_passes_the_good_record_and_fails_the_bad_one(rule_id):
    rule = BY_ID[rule_id]
    found = _scan_one(rule.entity, FAILING[rule_id])
    mine = found.issues[(found.issues["rule"] == rule_id)]
    assert mine["record_id"].tolist() == [2], found.issues
    counts = found.rules.set_index("rule").loc[rule_id]
    assert counts["failing"] == 1 and counts["checked"] >= 1


def test_the_good_records_fail_nothing():
    base = {e: pd.DataFrame(rows) for e, rows in FRAMES.items()}
    base["account"] = pd.DataFrame([{**account(), **OPTIONAL}])
    found = rules.scan(base, ctx())
    assert found.issues.empty, found.issues
    scores = metrics.dimension_scores(found)
    assert (scores["score"].dropna() == 100).all()


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("5260250274", True),
        ("526-025-02-74", True),
        ("7740001454", True),
        ("5260250275", False),
        ("123", False),
    ],
)
def test_nip_checksum(number, valid):
    frame = pd.DataFrame([account(nip=number)])
    found = rules.scan({"account": frame}, ctx())
    assert ("account.nip_invalid" in set(found.issues["rule"])) == (not valid)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("123456785", True), ("12345678512347", True), ("123456786", False), ("12345678512348", False)],
)
def test_regon_checksum(number, valid):
    found = rules.scan({"account": pd.DataFrame([account(regon=number)])}, ctx())
    assert ("account.regon_invalid" in set(found.issues["rule"])) == (not valid)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("PL61109010140000071219812874", True),
        ("61 1090 1014 0000 0712 1981 2874", True),  # Polish NRB without the country code
        ("DE89370400440532013000", True),
        ("PL61109010140000071219812875", False),
        ("GB82WEST1234569876543", False),
    ],
)
def test_iban_checksum(number, valid):
    found = rules.scan({"account": pd.DataFrame([account(iban=number)])}, ctx())
    assert ("account.iban_invalid" in set(found.issues["rule"])) == (not valid)


def test_empty_placeholders():
    values = pd.Series(
        ["", "  ", "N/A", "tbd", "NULL", "-", "brak", "None", None, "Kraków", "0"], dtype=object
    )
    assert empty(values).tolist() == [True] * 9 + [False, False]
    assert empty(pd.Series([1.0, np.nan])).tolist() == [False, True]


def test_sector_suggestion_and_product_suggestion():
    found = _scan_one("account", {"sector": "technolgy"})
    row = found.issues[found.issues["rule"] == "account.sector_unknown"].iloc[0]
    assert (row["value"], row["hint"]) == ("technolgy", "technology")
    found = _scan_one("deal", {"product": "GTXPro"})
    row = found.issues[found.issues["rule"] == "deal.product_unknown"].iloc[0]
    assert (row["value"], row["hint"]) == ("GTXPro", "GTX Pro")


def test_duplicates_fail_both_records_and_name_the_other():
    frame = pd.DataFrame(
        [
            account(id=1, name="Budex sp. z o.o.", nip=None, city="Łódź"),
            account(id=2, name="BUDEX Sp.z.o.o.", nip=None, city="Lodz"),
            account(id=3, name="Kowalski i Syn", nip="7740001454", city="Łódź"),
        ]
    )
    found = rules.scan({"account": frame}, ctx())
    dup = found.issues[found.issues["rule"] == "account.duplicate"].set_index("record_id")
    assert sorted(dup.index) == [1, 2]
    assert dup.loc[1, "value"] == "BUDEX Sp.z.o.o. (#2)" and dup.loc[2, "value"] == "Budex sp. z o.o. (#1)"
    contacts = pd.DataFrame(
        [
            contact(id=1),
            contact(id=2, full_name="Nowak Anna"),
            contact(id=3, full_name="Piotr Zieliński", email="p@x.pl"),
        ]
    )
    found = rules.scan({"contact": contacts}, ctx())
    assert sorted(found.issues.query("rule == 'contact.duplicate'")["record_id"]) == [1, 2]
    dismissed = ctx(dismissed={"contact": pd.DataFrame({"left_id": [1], "right_id": [2]})})
    assert "contact.duplicate" not in set(rules.scan({"contact": contacts}, dismissed).issues["rule"])


def test_burst_of_records_by_one_owner():
    settings = ScanSettings(burst_count=5, burst_minutes=10)
    times = [T0 + pd.Timedelta(minutes=m) for m in (0, 1, 2, 3, 4)]  # five in four minutes
    spread = [T0 + pd.Timedelta(hours=h) for h in (3, 5, 7, 9, 11)]  # five over a day
    rows = [deal(id=i + 1, created_at=t, owner_id=1) for i, t in enumerate(times)]
    rows += [deal(id=i + 10, created_at=t, owner_id=2) for i, t in enumerate(spread)]
    rows += [deal(id=i + 20, created_at=t, owner_id=3 + i) for i, t in enumerate(times)]  # five people
    found = rules.scan({"deal": pd.DataFrame(rows)}, ctx(settings=settings))
    assert sorted(found.issues.query("rule == 'deal.burst'")["record_id"]) == [1, 2, 3, 4, 5]


def test_date_far_and_huge_value_relative_to_the_data():
    rows = [deal(id=i, value=1000.0 + i) for i in range(1, 101)]
    rows.append(deal(id=200, value=987_654.0))  # > p99 × 10 of the rest
    rows.append(deal(id=201, expected_close=pd.Timestamp("2205-01-01").as_unit("s")))
    rows.append(deal(id=202, promised_delivery=pd.Timestamp("1925-01-01")))
    found = rules.scan({"deal": pd.DataFrame(rows)}, ctx())
    assert found.issues.query("rule == 'deal.value_implausible'")["record_id"].tolist() == [200]
    assert sorted(found.issues.query("rule == 'deal.date_far'")["record_id"]) == [201, 202]


def test_scores_by_hand():
    """Two accounts: #1 fails validity only, #2 passes all; one deal fails timeliness."""
    accounts = pd.DataFrame(
        [
            account(id=1, nip="5260250275"),
            account(id=2, name="Kamex", nip="7740001454", city="Gdańsk", owner_id=2),
        ]
    )
    deals = pd.DataFrame(
        [deal(id=1, last_touch_at=T0 - pd.Timedelta(days=90), stage_entered_at=T0 - pd.Timedelta(days=90))]
    )
    found = rules.scan({"account": accounts, "deal": deals}, ctx())
    s = metrics.dimension_scores(found).set_index(["entity", "dimension"])["score"]
    assert s["account", "validity"] == 50.0
    assert s["deal", "timeliness"] == 0.0
    assert s["all", "validity"] == pytest.approx(100 * 2 / 3)  # 2 of 3 records pass
    account_dims = [d for d in DIMENSIONS if d != "timeliness"]  # no timeliness rule on accounts
    expected = sum(WEIGHTS[d] * (50.0 if d == "validity" else 100.0) for d in account_dims) / sum(
        WEIGHTS[d] for d in account_dims
    )
    assert s["account", "overall"] == pytest.approx(expected)
    rec = metrics.record_scores(found).set_index(["entity", "id"])["score"]
    assert rec["account", 1] == pytest.approx(
        100 * (1 - WEIGHTS["validity"] / sum(WEIGHTS[d] for d in account_dims))
    )
    assert rec["account", 2] == 100.0
    by_owner = metrics.group_scores(found).set_index(["group", "dimension"])
    assert by_owner.loc[(2, "overall"), "score"] == 100.0
    assert by_owner.loc[(1, "validity"), "score"] == 50.0  # account #1 fails, deal #1 passes
    dept = metrics.group_scores(found, pd.Series({1: "Sales", 2: "Sales"})).set_index(["group", "dimension"])
    assert dept.loc[("Sales", "validity"), "score"] == pytest.approx(100 * 2 / 3)
    top = metrics.top_issues(found)
    assert set(top["rule"]) == {"account.nip_invalid", "deal.untouched"}


def test_one_meaning_of_empty_nip_and_suggestion_with_the_importer_and_services():
    from crm_impl.core.validation import nip_valid as service_nip
    from crm_impl.data_quality.rules.base import EMPTY_TOKENS
    from crm_impl.data_quality.rules.consistency import suggest
    from crm_impl.data_quality.rules.validity import nip_valid
    from crm_impl.importers import cleaning
    from crm_impl.importers.mapping import DEFAULT_OPTIONS

    assert {v.lower() for v in DEFAULT_OPTIONS["null_values"]} <= EMPTY_TOKENS
    for number in ("5260250274", "526-025-02-74", "5260250275", "PL5260250274", "12", ""):
        assert nip_valid(number) == service_nip(number), number
    for value in ("technolgy", "GTXPro", "zzz"):
        choices = ["technology", "retail", "GTX Pro"]
        assert suggest(value, choices) == cleaning.suggest(value, choices)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            [
                "The value 5,000,000 is implausible (a round million or far above the rest).",
                "The value -12.50 is negative.",
                "Expected to close on 1 Jun 2025, still open.",
                "Dated before the deal was created: Delivered on.",
            ],
        ),
        (
            "pl",
            [
                "Wartość 5 000 000 jest niewiarygodna (okrągły milion lub znacznie powyżej reszty).",
                "Wartość -12,50 jest ujemna.",
                "Miała się zamknąć 1 cze 2025, wciąż otwarta.",
                "Data wcześniejsza niż utworzenie szansy: Data dostawy.",
            ],
        ),
    ],
)
def test_messages_show_amounts_dates_and_fields_in_the_language(locale, expected):
    """The scan keeps raw values ("5000000.0", "2025-06-01", "actual_delivery"); the "what is
    wrong" line shows them as the language writes them."""
    from crm_impl.core.i18n import set_locale
    from crm_impl.data_quality.queries import messages

    found = rules.scan(
        {
            "deal": pd.DataFrame(
                [
                    deal(id=1, value=5_000_000.0),
                    deal(id=2, value=-12.5),
                    deal(id=3, expected_close=pd.Timestamp("2025-06-01")),
                    deal(id=4, actual_delivery=pd.Timestamp("2025-05-01")),
                ]
            )
        },
        ctx(),
    )
    wanted = [
        "deal.value_implausible",
        "deal.value_negative",
        "deal.close_overdue",
        "deal.dates_out_of_order",
    ]
    issues = found.issues.set_index("rule").loc[wanted].reset_index()
    set_locale(locale)
    try:
        shown = [m.replace("\u00a0", " ").replace("\u2212", "-") for m in messages(issues)]
    finally:
        set_locale("en")
    assert shown == expected
