"""Quality dashboard (placeholder until the chart builders land)."""

from crm_impl.core.ui import common

actor = common.page("pages/defects/dashboard.py")
