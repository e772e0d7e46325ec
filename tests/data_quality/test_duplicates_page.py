"""The duplicates page for every role: refused without dq.read; the pairs shown (and exported)
as the service finds them; merge and dismiss only with dq.merge, and they write; user text
stays text."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from crm_impl.core.db import get_engine
from crm_impl.core.models import AuditEntry
from crm_impl.core.ui.nav import PAGES
from crm_impl.data_quality.models import DqDismissedPair, DqMerge
from crm_impl.data_quality.services import merge
from crm_impl.pipeline.models import Account, Deal
from tests.apptest import ROLE_LOGINS
from tests.core.test_permissions import EXPECTED

PAGE = "pages/data_quality/duplicates.py"
NAME = "**Żwirex** [x](http://e.vil) Sp. z o.o."


def test_registered_in_the_data_quality_section() -> None:
    spec = next(p for p in PAGES if p.path == PAGE)
    assert (spec.section_key, spec.action) == ("section.data_quality", "dq.read")


def _plant(url: str) -> tuple[int, int]:
    """Two accounts that are one company (with a deal on the second), in the demo copy."""
    with Session(get_engine(url)) as s:
        a = Account(name=NAME, city="Łódź")
        b = Account(name="ŻWIREX [X](HTTP://E.VIL)", city="Lodz", sector="construction")
        s.add_all([a, b])
        s.flush()
        deal = s.exec(select(Deal).limit(1)).one()
        deal.account_id = b.id
        s.commit()
        return int(a.id), int(b.id)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
def test_page_for_role(app_as, demo_url, role) -> None:
    left, right = _plant(demo_url)
    at = app_as(ROLE_LOGINS[role], PAGE)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, "dq.read"])
    if refused:
        assert not at.dataframe
        return
    with Session(get_engine(demo_url)) as s:
        expected = merge.candidates(s, "account")
    shown = at.dataframe[0].value
    assert len(shown) == len(expected)
    assert ((shown["left_id"] == left) & (shown["right_id"] == right)).any()
    assert NAME in set(shown["left_name"])  # as plain text, never rendered as markdown
    assert all("e.vil" not in m.value for m in at.markdown)
    can_merge = EXPECTED[role, "dq.merge"]
    assert bool([b for b in at.button if b.label == "Merge"]) == can_merge
    assert len(at.get("download_button")) >= 1


def _pick(at, left: int, right: int) -> None:
    box = at.selectbox(key="dq_dup_pick_account")
    index = next(i for i, label in enumerate(box.options) if NAME in label)
    box.select_index(index).run()
    assert not at.exception, at.exception


def test_sales_manager_merges_a_pair(app_as, demo_url) -> None:
    left, right = _plant(demo_url)
    at = app_as("sales_manager", PAGE)
    _pick(at, left, right)
    at.radio(key=f"dq_dup_keep_account_{left}_{right}").set_value(left).run()
    merge_button = at.button(key="dq_dup_merge_account")
    assert merge_button.disabled  # not before the confirmation
    at.checkbox(key=f"dq_dup_confirm_account_{left}_{right}").check().run()
    at.button(key="dq_dup_merge_account").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_url)) as s:
        assert s.get(Account, right) is None
        kept = s.get(Account, left)
        assert kept is not None and kept.sector == "construction"
        assert s.exec(select(func.count()).select_from(Deal).where(Deal.account_id == right)).one() == 0
        assert s.exec(select(DqMerge.kept_id).where(DqMerge.merged_id == right)).one() == left
        assert (
            s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "merged")).one()
            == 1
        )
    assert not ((at.dataframe[0].value["right_id"] == right).any()) if at.dataframe else True


def test_pm_client_dismisses_a_pair_in_polish(app_as, demo_url) -> None:
    left, right = _plant(demo_url)
    at = app_as("pm_client", PAGE, locale="pl")
    assert not at.exception, at.exception
    _pick(at, left, right)
    at.button(key="dq_dup_dismiss_account").click().run()
    assert not at.exception, at.exception
    with Session(get_engine(demo_url)) as s:
        row = s.exec(select(DqDismissedPair)).one()
        assert (row.left_id, row.right_id) == (left, right)
    shown = at.dataframe[0].value if at.dataframe else None
    assert shown is None or not ((shown["left_id"] == left) & (shown["right_id"] == right)).any()
