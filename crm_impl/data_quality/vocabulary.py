"""The data-quality vocabularies and defaults (keys; the catalogues translate them). A module of
its own so that the pure rules, metrics and charts use them without importing the tables."""

from __future__ import annotations

ENTITIES = ("account", "contact", "deal")
DIMENSIONS = ("completeness", "validity", "uniqueness", "timeliness", "consistency", "plausibility")
SEVERITIES = ("error", "warning", "info")
# The weight of each dimension in the overall score (docs/data_quality.md): what breaks reports
# and decisions most weighs most. Normalised over the dimensions that checked anything.
WEIGHTS: dict[str, float] = {
    "completeness": 0.20,
    "validity": 0.20,
    "uniqueness": 0.15,
    "timeliness": 0.10,
    "consistency": 0.20,
    "plausibility": 0.15,
}
# Fields a user may require per entity (settings) and the defaults.
REQUIRABLE: dict[str, tuple[str, ...]] = {
    "account": ("name", "nip", "regon", "iban", "postal_code", "sector", "city", "owner_id"),
    "contact": ("full_name", "email", "phone", "position", "account_id"),
    "deal": ("title", "value", "expected_close", "owner_id", "account_id", "contact_id"),
}
DEFAULT_REQUIRED: dict[str, tuple[str, ...]] = {
    "account": ("name", "nip", "sector", "city"),
    "contact": ("full_name", "email", "phone"),
    "deal": ("title", "value", "expected_close", "owner_id"),
}
DEFAULT_STALE_DAYS = 30  # timeliness: an open deal untouched longer than this
DEFAULT_BURST_COUNT = 20  # plausibility: this many records by one owner ...
DEFAULT_BURST_MINUTES = 10  # ... within this many minutes
# The known sectors (a setting): a sector outside the list is flagged with the nearest one.
DEFAULT_SECTORS: tuple[str, ...] = (
    "construction",
    "developer",
    "retail",
    "wholesale",
    "installation",
    "roofing",
    "public",
    "industry",
    "manufacturing",
    "technology",
    "software",
    "telecommunications",
    "medical",
    "finance",
    "marketing",
    "services",
    "entertainment",
    "employment",
    "logistics",
    "energy",
    "education",
)
