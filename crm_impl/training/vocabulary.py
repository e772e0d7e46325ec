"""The training domain's fixed vocabularies (keys; the catalogues translate them). A module of its
own so that the pure metrics and charts can use them without importing the tables."""

from __future__ import annotations

SESSION_STATUSES = ("planned", "held", "cancelled")
MEETING_KINDS = ("steering", "benefit_demo", "motivation", "workshop")
# What counts as real use of the CRM is the adoption domain's one rule
# (`crm_impl.adoption.vocabulary.USE_ENTITIES`); training reads use through adoption's queries.
PASS_SCORE = 60  # an assessment at or above this passes (shown beside the average)
