"""Pipeline board: one column per stage with totals from SQL, the biggest deals as cards, moves
from the card without reloading the page, live refresh when somebody else changes something."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from crm_impl.core.config import get_settings
from crm_impl.core.i18n import fmt_money, fmt_number, t, tn
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline import rules
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.ui import stock as stock_ui

PAGE_SIZE = 10
actor = common.page("pages/pipeline/board.py")
look = ui.current_lookups()
stages = look["stages"]
names = ui.stage_name_map(stages)
path = stages[(stages["kind"] != "lost") & stages["active"]].sort_values("position")

st.caption(t("pipeline.board.caption"))
c = st.columns([2, 2, 1, 1, 1, 1])
# a rep starts on their own deals; whoever owns none (a manager, management, a tester reading
# the pipeline) starts on everyone's, so the board is not empty for no visible reason
owns = ui.owns_deals(ui.data_version(), get_settings().database_url, actor.id)
mine_default = actor.id if owns and not actor.can("deal.write_any") else None
owner_options = [None, *look["owners"]]
owner_id = c[0].selectbox(
    t("pipeline.field.owner"),
    owner_options,
    index=owner_options.index(mine_default) if mine_default in owner_options else 0,
    format_func=lambda v: t("common.all") if v is None else look["owners"][v],
    key="board_owner",
    placeholder=t("common.choose"),
)
product_id = c[1].selectbox(
    t("pipeline.field.product"),
    [None, *look["products"]],
    format_func=lambda v: t("common.all") if v is None else look["products"][v],
    key="board_product",
    placeholder=t("common.choose"),
)
min_value = c[2].number_input(
    t("pipeline.board.min_value"), min_value=0, value=None, step=1000, key="board_min"
)
max_value = c[3].number_input(
    t("pipeline.board.max_value"), min_value=0, value=None, step=1000, key="board_max"
)
stale_only = c[4].toggle(t("pipeline.board.stale_only"), key="board_stale")
show_won = c[5].toggle(t("pipeline.board.show_won"), key="board_won")
shown = path if show_won else path[path["kind"] == "open"]
# four icon buttons fit a card of up to six columns at the default width; beyond (the won
# stages shown) the moves go into one menu per card, so a card's actions stay one row
compact = len(shown) > 6
limits: dict[int, int] = st.session_state.setdefault("board_limits", {})
by_key = {s.key: s for s in stages.itertuples()}
decisive = {s.key for s in stages.itertuples() if rules.decides_outcome(s, stages.itertuples())}
won_key = min((s for s in stages.itertuples() if s.kind == "won"), key=lambda s: s.position).key
lost_key = next((s.key for s in stages.itertuples() if s.kind == "lost"), None)
won_help = t("pipeline.board.mark_won", stage=common.plain(names[by_key[won_key].id]))
kind_by_id = {int(s.id): s.kind for s in stages.itertuples()}
CONFIRM = "board_confirm"  # the move waiting for the user's confirmation


def _move(card, to_key: str) -> None:  # type: ignore[no-untyped-def]
    common.save(
        pipeline.move_deal,
        "pipeline.moved",
        deal_id=int(card.id),
        expected_version=int(card.version),
        to_stage_key=to_key,
        rerun_scope="fragment",  # the board redraws without reloading the page
        before_rerun=stock_ui.offer_check(actor),  # into Offer with products short: warn
    )


def _request(card, to_key: str) -> None:  # type: ignore[no-untyped-def]
    """Move at once, or, when the move decides the deal (won or lost), ask first."""
    if to_key not in decisive:
        _move(card, to_key)
        return
    st.session_state[CONFIRM] = {
        "deal": int(card.id),
        "version": int(card.version),
        "title": str(card.title),
        "to": to_key,
    }
    common.rerun_scope("fragment")


def _confirmation(pending: dict) -> None:  # type: ignore[type-arg]
    """In the card itself, where the user clicked: the decisive move with Confirm and Cancel
    (a lost deal also needs its reason)."""
    to = by_key[pending["to"]]
    with st.container(border=True, key="board_confirm_box"):
        st.markdown(
            "**"
            + t(
                "pipeline.board_confirm.question",
                deal=common.plain(pending["title"]),
                stage=common.plain(names[to.id]),
            )
            + "**"
        )
        st.caption(t(f"pipeline.board_confirm.{'lost' if to.kind == 'lost' else 'won'}"))
        reason = None
        if to.kind == "lost":
            reason = st.selectbox(
                t("pipeline.field.lost_reason"),
                list(look["reasons"]),
                index=None,
                format_func=look["reasons"].get,
                key="board_confirm_reason",
                placeholder=t("common.choose"),
            )
        with st.container(horizontal=True):
            if st.button(
                t("pipeline.board_confirm.confirm", stage=common.plain(names[to.id])),
                type="primary",
                icon=":material/check:",
                key="board_confirm_yes",
            ):
                common.save(
                    pipeline.move_deal,
                    "pipeline.moved",
                    deal_id=pending["deal"],
                    expected_version=pending["version"],
                    to_stage_key=to.key,
                    lost_reason=reason,
                    rerun_scope="fragment",
                    before_rerun=lambda _deal: st.session_state.pop(CONFIRM, None),
                )
            if st.button(t("pipeline.board_confirm.cancel"), icon=":material/close:", key="board_confirm_no"):
                st.session_state.pop(CONFIRM, None)
                common.rerun_scope("fragment")


def _card(card, rot_days: int, flags: dict, prev_key: str | None, next_key: str | None) -> None:  # type: ignore[no-untyped-def]
    # Few elements per card (no separate value line, no nested columns for the buttons): a board
    # shows up to 50 cards.
    with st.container(border=True):
        st.page_link(
            "pages/pipeline/deal.py",
            label=common.plain(card.title),
            query_params={"deal": str(card.id)},
            icon=":material/handshake:",
        )
        account = (
            common.plain(card.account) if isinstance(card.account, str) else t("pipeline.board.no_account")
        )
        owner = common.plain(card.owner) if card.owner else "–"
        st.caption(f"{account} · {owner}  \n**{fmt_money(card.value, card.currency)}**")
        idle = (datetime.now(UTC) - card.last_touch_at.replace(tzinfo=UTC)).days if card.last_touch_at else 0
        if idle > rot_days:
            st.markdown(f":orange-badge[:material/hourglass_bottom: {tn('pipeline.board.stale', idle)}]")
        if card.account_id in flags:
            st.markdown(f":red-badge[:material/account_balance: {ui.erp_badge(flags[card.account_id])}]")
        pending = st.session_state.get(CONFIRM)
        if pending and pending["deal"] == int(card.id):
            _confirmation(pending)
            return
        is_open = kind_by_id.get(int(card.stage_id)) == "open"
        stage_of = {k: common.plain(names[by_key[k].id]) for k in (prev_key, next_key) if k}
        actions = [
            (key, to, icon, tip)
            for key, to, icon, tip in (
                ("prev", prev_key, "chevron_left", t("pipeline.board.back_to", stage=stage_of.get(prev_key))),
                ("won", won_key if is_open else None, "thumb_up", won_help),
                ("lost", lost_key if is_open else None, "thumb_down", t("pipeline.board.mark_lost")),
                ("next", next_key, "chevron_right", t("pipeline.board.on_to", stage=stage_of.get(next_key))),
            )
            if to
        ]
        if compact:  # narrow columns: one menu button, its moves spelled out inside
            with st.popover("", icon=":material/swap_horiz:", help=t("pipeline.board.move_menu")):
                for key, to, icon, tip in actions:
                    if st.button(tip, icon=f":material/{icon}:", key=f"{key}_{card.id}", width="stretch"):
                        _request(card, to)
            return
        with st.container(horizontal=True, horizontal_alignment="distribute", gap="small"):
            for key, to, icon, tip in actions:
                if st.button(
                    "", icon=f":material/{icon}:", key=f"{key}_{card.id}", help=tip, type="tertiary"
                ):
                    _request(card, to)


@ui_session.live_fragment(ui.live_every())  # every refresh checks the session first
def board_view() -> None:
    common.flash()  # a move reruns only this fragment: its success message is shown here
    stock_ui.moved_warning(names)
    version = ui.data_version()
    filters = (
        ("stage_ids", tuple(int(i) for i in shown["id"])),
        ("limit", max([PAGE_SIZE, *limits.values()])),
        ("owner_id", owner_id),
        ("product_id", product_id),
        ("min_value", min_value),
        ("max_value", max_value),
        ("stale_only", stale_only),
    )
    totals, cards = ui.board(version, get_settings().database_url, actor, filters)
    ui.currency_note(ui.other_currencies(version, get_settings().database_url), ui.values.base_currency())
    totals = totals.set_index("stage_id")
    if int(totals["deals"].sum()) == 0:
        filtered = owner_id is not None or product_id is not None or min_value or max_value or stale_only
        empty = "pipeline.board.empty_filtered" if filtered else "pipeline.board.empty"
        st.info(t(empty), icon=":material/info:")
    flags = ui.erp_flags([int(a) for a in cards["account_id"].dropna().unique()])
    keys = list(path["key"])
    columns = st.columns(len(shown))
    for col, stage in zip(columns, shown.itertuples(), strict=True):
        n = int(totals["deals"].get(stage.id, 0))
        with col:
            st.markdown(f"**{common.plain(names[stage.id])}**")
            st.caption(
                tn(
                    "pipeline.board.column_totals",
                    n,
                    value=fmt_money(totals["value"].get(stage.id, 0.0)),
                    weighted=fmt_money(totals["weighted_value"].get(stage.id, 0.0)),
                )
            )
            limit = limits.get(stage.id, PAGE_SIZE)
            mine = cards[(cards["stage_id"] == stage.id) & (cards["rn"] <= limit)]
            i = keys.index(stage.key)
            for card in mine.itertuples():
                _card(
                    card,
                    stage.rot_days,
                    flags,
                    keys[i - 1] if i > 0 else None,
                    keys[i + 1] if i + 1 < len(keys) else None,
                )
            if n > len(mine) and st.button(
                t("pipeline.board.show_more", n=fmt_number(n - len(mine))),
                key=f"more_{stage.id}",
                icon=":material/expand_more:",
            ):
                limits[stage.id] = limit + PAGE_SIZE
                common.rerun_scope("fragment")


board_view()
