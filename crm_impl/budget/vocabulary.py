"""The budget domain's fixed vocabularies (keys; the catalogues translate them). A module of its
own so that the pure metrics and charts can use them without importing the tables."""

from __future__ import annotations

CATEGORIES = (
    "analysis",
    "programming",
    "testing",
    "deployment",
    "modifications",
    "maintenance",
    "training",
    "licences",
    "consulting",
    "other",
)
# Slide 10: "a budget that covers every stage: analysis, programming, testing, deployment,
# modifications, maintenance" — a project without a budget line in one of these is a finding.
SEED_STAGES = ("analysis", "programming", "testing", "deployment", "modifications", "maintenance")
LINE_STATUSES = ("open", "closed")
# The training share's default benchmark band and where it comes from (a project setting).
DEFAULT_TRAINING_LOW = 0.15
DEFAULT_TRAINING_HIGH = 0.20
DEFAULT_TRAINING_SOURCE = (
    "crm-impl's default: slide 10 of the lecture asks for a proper share for thorough training "
    "but names no figure; 15–20 % of the total budget is a planning rule of thumb, not a measured "
    "statistic. Replace it with your own source (a vendor's offer, a past rollout)."
)
