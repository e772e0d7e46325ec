"""Fuzzy duplicates: normalisation, tricky pairs that match, pairs that must not, blocking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_impl.data_quality import duplicates
from crm_impl.data_quality.duplicates import drop_dismissed, find_duplicates, normalise_name


def accounts(*rows: tuple) -> pd.DataFrame:
    """rows: (name, nip, city); ids 1, 2, ..."""
    frame = pd.DataFrame(rows, columns=["name", "nip", "city"])
    frame.insert(0, "id", range(1, len(rows) + 1))
    return frame


def pairs_of(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["left_id"], frame["right_id"], strict=True))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Żwirex Sp. z o.o.", "zwirex"),
        ("ZWIREX", "zwirex"),
        ("Łódź-Trans S.A.", "lodz trans"),
        ("ŁĄKA Ślęża", "laka sleza"),
        ("ABC Sp.z.o.o.", "abc"),
        ("ABC sp.z o.o.", "abc"),
        ("ABC spzoo", "abc"),
        ("ABC spółka z ograniczoną odpowiedzialnością", "abc"),
        ("ABC Spółka Akcyjna", "abc"),
        ("Kowalski Jan sp.k.", "kowalski jan"),
        ("Nowak i Syn sp.j.", "nowak i syn"),
        ("Bar Mleczny s.c.", "bar mleczny"),
        ("Delta Sp. z o.o. Sp.k.", "delta"),
        ("Acme, Inc.", "acme"),
        ("Acme Ltd", "acme"),
        ("Acme LLC", "acme"),
        ("Müller GmbH", "muller"),
        ("  Dużo   spacji!!! ", "duzo spacji"),
        ("S.A.", "s a"),  # a name that is only a legal form stays (it is not emptied)
        ("Sajgon", "sajgon"),  # "sa" is removed only as a trailing word
        (None, ""),
    ],
)
def test_normalise_name(raw: str | None, expected: str) -> None:
    assert normalise_name(pd.Series([raw], dtype=object)).tolist() == [expected]


def test_normalise_keeps_index_and_name() -> None:
    names = pd.Series(["A Sp. z o.o.", "B"], index=[10, 20], name="name")
    out = normalise_name(names)
    assert out.index.tolist() == [10, 20] and out.name == "name"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("Transbud", None, "Łódź"), ("TRANSBUD", None, "Lodz")),
        (("Delta Sp. z o.o.", None, "Kraków"), ("Delta Sp.z.o.o.", None, "Krakow")),
        (("Kowalski Jan", None, "Gdańsk"), ("Jan Kowalski", None, "Gdansk")),
        (("ZWIREX", None, "Poznań"), ("Żwirex Sp. z o.o.", None, "Poznań")),
        (
            ("Przedsiębiorstwo Budowlane Mostostal", None, "Łódź"),
            ("Przedsiebiorstwo Budowlane Mostostai", None, "Łódź"),
        ),
        (("Any name", "526-025-02-74", "Kraków"), ("Totally different", "PL5260250274", "Szczecin")),
        (("ZWIREX", None, ""), ("Żwirex Sp. z o.o.", None, "Poznań")),  # no city: same name anywhere
    ],
)
def test_tricky_pairs_match(left: tuple, right: tuple) -> None:
    found = find_duplicates(accounts(left, right), kind="account")
    assert pairs_of(found) == {(1, 2)}
    assert found["score"].iloc[0] >= 90


@pytest.mark.parametrize(
    ("left", "right"),
    [
        # similar names, different known NIPs: never duplicates, even in one city
        (("Budmax", "5260250274", "Kraków"), ("Budmat", "1234563218", "Kraków")),
        (("Budmax", "5260250274", "Kraków"), ("Budmax", "1234563218", "Kraków")),
        # similar names in different cities (no NIP): different blocks
        (("Budmax", None, "Kraków"), ("Budmat", None, "Gdańsk")),
        # the same name in two known cities: branches, not duplicates
        (("Transbud", None, "Kraków"), ("Transbud", None, "Gdańsk")),
        # one letter of a short name is a different company
        (("Budmax", None, "Kraków"), ("Budmat", None, "Kraków")),
        # decided: "Alfa" and "Alfa-Beta" are different companies
        (("Alfa", None, "Kraków"), ("Alfa-Beta", None, "Kraków")),
        # short and generic names are never matched by name
        (("AB", None, "Kraków"), ("AB", None, "Kraków")),
        (("Sklep", None, "Kraków"), ("SKLEP", None, "Kraków")),
        (("Firma Handel Usługi", None, "Kraków"), ("Firma Usługi Handel", None, "Kraków")),
        # placeholder NIPs are not a shared identity
        (("One", "0000000000", "Kraków"), ("Two", "000-000-00-00", "Gdańsk")),
        (("One", "123", "Kraków"), ("Two", "123", "Gdańsk")),
    ],
)
def test_pairs_that_must_not_match(left: tuple, right: tuple) -> None:
    assert find_duplicates(accounts(left, right), kind="account").empty


def test_reasons_scores_and_shape() -> None:
    frame = accounts(
        ("Żwirex Sp. z o.o.", None, "Poznań"),  # 1
        ("Budmax", "5260250274", "Kraków"),  # 2
        ("Mostostal Polska Wschód", None, "Łódź"),  # 3
        ("ZWIREX", None, "Poznan"),  # 4
        ("Other", "526 025 02 74", "Gdynia"),  # 5
        ("Mostostal Polska Wschod Sp. z o.o.", None, "Lodz"),  # 6
        ("Mostostal Polska Wschodnia", None, "Łódź"),  # 7
    )
    found = find_duplicates(frame, kind="account")
    assert list(found.columns) == list(duplicates.RESULT_COLUMNS)
    rows = {(r.left_id, r.right_id): (r.score, r.reason) for r in found.itertuples()}
    assert rows[(2, 5)] == (100.0, "same_nip")
    assert rows[(1, 4)] == (100.0, "same_name_same_city")
    assert rows[(3, 6)] == (100.0, "same_name_same_city")
    # token_sort_ratio of "mostostal polska wschod" / "mostostal polska wschodnia", by hand:
    a, b = "mostostal polska wschod", "mostostal polska wschodnia"
    expected = round(200 * len(a) / (len(a) + len(b)), 1)  # b starts with a: |a| matches
    assert rows[(3, 7)] == (expected, "similar_name_same_city")
    assert (found["left_id"] < found["right_id"]).all()
    assert found["score"].is_monotonic_decreasing
    assert not found.duplicated(["left_id", "right_id"]).any()


def test_threshold_is_honoured() -> None:
    frame = accounts(("Mostostal Polska Wschód", None, "Łódź"), ("Mostostal Polska Wschodnia", None, "Łódź"))
    assert not find_duplicates(frame, kind="account", threshold=90).empty
    assert find_duplicates(frame, kind="account", threshold=99).empty


def test_ids_come_back_ordered_whatever_the_input_order() -> None:
    frame = pd.DataFrame({"id": [50, 7], "name": ["Transbud", "TRANSBUD"], "city": ["Łódź", "Lodz"]})
    found = find_duplicates(frame, kind="account")
    assert pairs_of(found) == {(7, 50)}


def test_optional_columns_and_tiny_inputs() -> None:
    only_names = pd.DataFrame({"id": [1, 2], "name": ["Transbud", "Transbud Sp. z o.o."]})
    assert pairs_of(find_duplicates(only_names, kind="account")) == {(1, 2)}
    assert find_duplicates(only_names.head(1), kind="account").empty
    assert find_duplicates(only_names.head(0), kind="account").empty
    with pytest.raises(ValueError):
        find_duplicates(only_names, kind="deal")


def test_same_nip_is_always_compared_however_far_apart_the_names() -> None:
    frame = accounts(("Aaaa", "5260250274", "Kraków"), ("Zzzz", "5260250274", "Gdańsk"))
    assert find_duplicates(frame, kind="account")["reason"].tolist() == ["same_nip"]


def test_a_pair_in_different_blocks_is_not_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    real = duplicates._score_names

    def spy(words: np.ndarray, left: np.ndarray, right: np.ndarray, cutoff: float) -> np.ndarray:
        compared.extend(zip(words[left], words[right], strict=True))
        return real(words, left, right, cutoff)

    monkeypatch.setattr(duplicates, "_score_names", spy)
    frame = accounts(
        ("Transbud", None, "Łódź"),
        ("Transbud", None, "Kraków"),  # other city
        ("Xransbud", None, "Łódź"),  # other first letters
        ("Trańsbut", None, "Lodz"),  # same block as 1
    )
    find_duplicates(frame, kind="account")
    assert ("transbud", "transbut") in compared
    assert all("xransbud" not in pair for pair in compared)
    assert len(compared) == 1


def test_a_giant_block_is_split_and_stays_correct() -> None:
    n = duplicates.BLOCK_CAP * 3
    rng = np.random.default_rng(5)
    stems = ["".join(rng.choice(list("bcdfghklmnprstwz"), 7)) for _ in range(n)]
    names = ["Ka" + s for s in stems]  # one city, one two-letter prefix: one block of n
    frame = pd.DataFrame({"id": range(1, n + 1), "name": names, "city": "Warszawa"})
    twin = pd.DataFrame({"id": [n + 1], "name": [names[17].upper() + " Sp. z o.o."], "city": ["WARSZAWA"]})
    found = find_duplicates(pd.concat([frame, twin]), kind="account")
    assert (18, n + 1) in pairs_of(found)
    codes = duplicates._block_codes(pd.Series(["warszawa"] * n), pd.Series(names).str.lower())
    assert np.bincount(codes[codes >= 0]).max() <= duplicates.BLOCK_CAP


def test_a_huge_group_of_one_nip_is_paired_with_its_first_record() -> None:
    n = duplicates.BLOCK_CAP + 5
    frame = pd.DataFrame({"id": range(1, n + 1), "name": [f"N{i}" for i in range(n)], "nip": "5260250274"})
    found = find_duplicates(frame, kind="account")
    assert len(found) == n - 1 and set(found["left_id"]) == {1}


def contacts(*rows: tuple) -> pd.DataFrame:
    """rows: (name, email, phone, account_id)"""
    frame = pd.DataFrame(rows, columns=["name", "email", "phone", "account_id"])
    frame.insert(0, "id", range(1, len(rows) + 1))
    return frame


def test_contacts_match_on_email_phone_and_name_within_an_account() -> None:
    frame = contacts(
        ("Jan Kowalski", "jan@firma.pl", None, 1),  # 1
        ("J. Kowalski", " JAN@Firma.pl ", None, 2),  # 2: same e-mail
        ("Anna Nowak", None, "+48 600 100 200", 1),  # 3
        ("Anna Nowakówna", None, "600-100-200", 3),  # 4: same phone, name close
        ("Kowalski Jan", None, None, 1),  # 5: swapped order, same account as 1
        ("Piotr Zieliński", None, "600100200", 1),  # 6: same phone, another person
        ("Kowalski Jan", None, None, 9),  # 7: same name at another account
    )
    found = find_duplicates(frame, kind="contact")
    rows = {(r.left_id, r.right_id): r.reason for r in found.itertuples()}
    assert rows[(1, 2)] == "same_email"
    assert rows[(3, 4)] == "same_phone_similar_name"
    assert rows[(1, 5)] == "same_name_same_account"
    assert (3, 6) not in rows and (4, 6) not in rows  # a switchboard number alone decides nothing
    assert (1, 7) not in rows and (5, 7) not in rows


def test_contacts_that_must_not_match() -> None:
    frame = contacts(
        ("Jan Kowalski", "test@example", None, 1),  # not an e-mail
        ("Ewa Nowak", "test@example", "111111111", 2),
        ("Adam Mały", None, "111 111 111", 3),  # repeated digits
    )
    assert find_duplicates(frame, kind="contact").empty


def test_drop_dismissed_either_order() -> None:
    frame = accounts(
        ("Transbud", None, "Łódź"), ("TRANSBUD", None, "Lodz"), ("ZWIREX", None, "X"), ("Zwirex", None, "X")
    )
    found = find_duplicates(frame, kind="account")
    assert pairs_of(found) == {(1, 2), (3, 4)}
    dismissed = pd.DataFrame({"left_id": [2], "right_id": [1]})
    assert pairs_of(drop_dismissed(found, dismissed)) == {(3, 4)}
    assert pairs_of(drop_dismissed(found, dismissed.head(0))) == {(1, 2), (3, 4)}
