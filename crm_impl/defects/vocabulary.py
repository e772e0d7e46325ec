"""The defect domain's fixed vocabularies (keys; the catalogues translate them). A module of its
own so that the pure metrics and charts can use them without importing the tables."""

from __future__ import annotations

SEVERITIES = ("blocker", "critical", "major", "minor", "trivial")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
REPRODUCIBILITY = ("always", "sometimes", "once")
ENVIRONMENTS = ("test_data", "real_data")  # slide 9: the client tester checks on real data
STATUSES = (
    "new",
    "confirmed",
    "assigned",
    "in_progress",
    "fixed",
    "in_retest",
    "verified",
    "closed",
    "reopened",
    "rejected",
    "duplicate",
    "wont_fix",
)
# still to be dealt with: a fixed defect is open until a retest verified it
OPEN_STATUSES = ("new", "confirmed", "assigned", "in_progress", "fixed", "in_retest", "reopened")
RESOLVED_WITHOUT_FIX = ("rejected", "duplicate", "wont_fix")  # need a resolution comment
RELEASE_STATUSES = ("planned", "in_test", "ready", "released")  # ready: ready for go-live
SIDES = ("vendor", "client")
ACCEPTANCE_DECISIONS = ("accepted", "accepted_with_remarks", "rejected")
