"""The board as its users meet it (AppTest on the demo company): a move that decides a deal
(Contract, Completed, Lost) asks first and writes nothing until confirmed; cards have Won and
Lost actions; the owner filter starts on the user's own deals only for whoever owns some."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from crm_impl.core.db import get_engine
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.pipeline import rules
from crm_impl.pipeline.models import Deal, LostReason, StageChange, StageDefinition

BOARD = "pages/pipeline/board.py"


def _stages(url: str) -> dict[str, StageDefinition]:
    with Session(get_engine(url)) as s:
        return {st.key: st for st in s.exec(select(StageDefinition)).all()}


def _deal(url: str, deal_id: int) -> Deal:
    with Session(get_engine(url)) as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        return deal


def _changes(url: str, deal_id: int) -> int:
    with Session(get_engine(url)) as s:
        return int(s.exec(select(func.count()).where(col(StageChange.deal_id) == deal_id)).one())


def _card_button(at, prefix: str, stage_id: int, url: str):  # type: ignore[no-untyped-def]
    """The first card button `prefix_<deal>` of a deal in `stage_id`, and that deal's id."""
    for button in at.button:
        key = str(button.key or "")
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            deal_id = int(key[len(prefix) :])
            if _deal(url, deal_id).stage_id == stage_id:
                return button, deal_id
    raise AssertionError(f"no {prefix} button on a card in stage {stage_id}")


def test_the_rule_names_contract_completed_and_lost():
    class S:
        def __init__(self, key: str, kind: str, position: int) -> None:
            self.key, self.kind, self.position = key, kind, position

    stages = [
        S("offer", "open", 4),
        S("negotiation", "open", 5),
        S("contract", "won", 6),
        S("fulfilment", "won", 7),
        S("completed", "won", 8),
        S("lost", "lost", 9),
    ]
    decisive = [s.key for s in stages if rules.decides_outcome(s, stages)]
    assert decisive == ["contract", "completed", "lost"]


def test_moving_into_contract_asks_first_and_moves_only_when_confirmed(app_as, demo_url):
    stage = _stages(demo_url)
    at = app_as("sales_manager", BOARD)
    button, deal_id = _card_button(at, "next_", stage["negotiation"].id, demo_url)
    before = _changes(demo_url, deal_id)
    button.click().run()
    assert not at.exception
    assert _deal(demo_url, deal_id).stage_id == stage["negotiation"].id  # nothing written yet
    assert any("counts as won" in c.value for c in at.caption)
    at.button(key="board_confirm_no").click().run()  # cancel: still nothing written
    assert _deal(demo_url, deal_id).stage_id == stage["negotiation"].id
    assert not [b for b in at.button if b.key == "board_confirm_yes"]

    button, deal_id = _card_button(at, "next_", stage["negotiation"].id, demo_url)
    before = _changes(demo_url, deal_id)
    button.click().run()
    at.button(key="board_confirm_yes").click().run()
    assert not at.exception and not at.error
    moved = _deal(demo_url, deal_id)
    assert moved.stage_id == stage["contract"].id and moved.closed_at is not None
    assert _changes(demo_url, deal_id) == before + 1
    with Session(get_engine(demo_url)) as s:
        entry = s.exec(
            select(AuditEntry).where(AuditEntry.entity == "deal", AuditEntry.entity_id == str(deal_id))
        ).all()[-1]
    assert (entry.after or {}).get("stage_id") == stage["contract"].id


def test_lost_from_the_card_needs_a_reason(app_as, demo_url):
    stage = _stages(demo_url)
    at = app_as("sales_manager", BOARD)
    button, deal_id = _card_button(at, "lost_", stage["offer"].id, demo_url)
    button.click().run()
    at.button(key="board_confirm_yes").click().run()  # no reason chosen
    assert [e.value for e in at.error] and "Lost reason" in at.error[0].value
    assert _deal(demo_url, deal_id).stage_id == stage["offer"].id  # nothing written
    with Session(get_engine(demo_url)) as s:
        key = s.exec(select(LostReason.key).where(col(LostReason.active))).first()
    at.selectbox(key="board_confirm_reason").set_value(key).run()
    at.button(key="board_confirm_yes").click().run()
    lost = _deal(demo_url, deal_id)
    assert lost.stage_id == stage["lost"].id and lost.lost_reason == key


def test_won_from_the_card_moves_to_contract_after_confirmation(app_as, demo_url):
    stage = _stages(demo_url)
    at = app_as("sales_manager", BOARD)
    button, deal_id = _card_button(at, "won_", stage["offer"].id, demo_url)
    button.click().run()
    assert _deal(demo_url, deal_id).stage_id == stage["offer"].id
    at.button(key="board_confirm_yes").click().run()
    assert _deal(demo_url, deal_id).stage_id == stage["contract"].id


def test_an_ordinary_move_needs_no_confirmation(app_as, demo_url):
    stage = _stages(demo_url)
    at = app_as("sales_manager", BOARD)
    button, deal_id = _card_button(at, "next_", stage["prospect"].id, demo_url)
    button.click().run()
    assert not at.exception
    assert _deal(demo_url, deal_id).stage_id == stage["contact_made"].id
    assert not [b for b in at.button if b.key == "board_confirm_yes"]


def test_the_owner_filter_starts_on_own_deals_only_for_whoever_owns_some(app_as, demo_url):
    with Session(get_engine(demo_url)) as s:
        rep = s.exec(select(UserAccount).where(UserAccount.username == "sales_rep")).one()
        assert s.exec(select(Deal.id).where(Deal.owner_id == rep.id)).first() is not None
    at = app_as("sales_rep", BOARD)
    assert at.selectbox(key="board_owner").value == rep.id
    for login in ("management", "tester", "analyst"):
        at = app_as(login, BOARD)
        if at.title[0].value != "Pipeline board":  # a role that may not read the pipeline
            continue
        assert at.selectbox(key="board_owner").value is None, login
        assert sum(1 for b in at.button if str(b.key or "").startswith("next_")) > 0, login
