"""The adoption domain's fixed vocabularies and the one rule of what counts as use of the CRM.
A module of its own so that the pure metrics and charts, and the training domain, can use them
without importing the tables."""

from __future__ import annotations

# In-app use: an audit entry (every service write leaves exactly one) on one of the CRM's working
# records — a deal created, updated or moved to another stage, an activity logged or done, an
# account or contact edited, a deal's products, a defect filed, moved along its workflow or
# commented on. Everything else in the audit log (a sign-in, a user's settings, an import run,
# the administrator's configuration) is not use.
USE_ENTITIES = ("deal", "activity", "account", "contact", "deal_products", "defect", "defect_comment")
APP_SOURCE = "app"  # the source name of in-app use in the event frame
# Actions of an imported usage log (the mapping's value map turns the other system's words into
# these). create and update are use; view, login and logout are not (a sign-in alone is not use,
# and neither is reading), so such rows are counted and skipped.
IMPORT_ACTIONS = ("create", "update", "view", "login", "logout")
USE_ACTIONS = ("create", "update")
WINDOW_DAYS = 30  # the rolling window of MAU and of the headline figures
WEEK_DAYS = 7  # the rolling window of WAU
