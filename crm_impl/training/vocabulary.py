"""The training domain's fixed vocabularies (keys; the catalogues translate them). A module of its
own so that the pure metrics and charts can use them without importing the tables."""

from __future__ import annotations

SESSION_STATUSES = ("planned", "held", "cancelled")
MEETING_KINDS = ("steering", "benefit_demo", "motivation", "workshop")
# What counts as real use of the CRM: a write on the pipeline's own entities (a stage change is a
# `deal` entry with action `move`, an activity an `activity` entry). A sign-in is not use.
USE_ENTITIES = ("deal", "activity", "account", "contact", "deal_products")
PASS_SCORE = 60  # an assessment at or above this passes (shown beside the average)
