"""Training sessions, attendance, coverage and effect; meetings (issue 10)."""
