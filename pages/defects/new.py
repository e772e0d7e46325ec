"""File a defect: every field of issue 9, with the likely duplicates (fuzzy title and steps,
Polish diacritics folded) shown while typing, before the save."""

from typing import Any

import streamlit as st

from crm_impl.core.i18n import t
from crm_impl.core.ui import common
from crm_impl.defects import ui

actor = common.page("pages/defects/new.py")
pid = ui.project_id()
look = ui.lookups(pid)


def _filed(defect: Any) -> None:
    st.session_state["defects_last_filed"] = (int(defect.id), str(defect.title))
    common.forms_saved()


last = st.session_state.get("defects_last_filed")
if last:
    st.success(t("defects.new.filed_as", id=last[0]), icon=":material/check_circle:")
    st.page_link(
        "pages/defects/defect.py",
        label=t("defects.new.open_filed", id=last[0]),
        query_params={"id": str(last[0])},
        icon=":material/open_in_new:",
    )

st.caption(t("defects.new.hint"))
ui.new_defect_form(pid, look, on_saved=_filed)
