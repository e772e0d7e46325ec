"""Adoption (issue 11): usage analytics (in-app use from the audit log plus imported usage logs),
the ADKAR readiness survey, the legacy tools register and the benefits register."""
