"""The fixed vocabularies of the adoption registers (keys; the catalogues translate them). A module
of its own so the pure metrics and charts use them without importing the tables."""

from __future__ import annotations

# Prosci's order: the first element at or below BARRIER_SCORE is the barrier point
ADKAR_ELEMENTS = ("awareness", "desire", "knowledge", "ability", "reinforcement")
ADKAR_SCORES = (1, 5)
BARRIER_SCORE = 3
LEGACY_KINDS = ("spreadsheet", "paper", "program")
BENEFIT_UNITS = ("hours", "minutes", "days", "pln", "percent", "count")
BENEFIT_DIRECTIONS = ("decrease", "increase")  # a gain is the value going down, or up
