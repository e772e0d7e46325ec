"""Data quality (issue 11): a rules engine over accounts, contacts and deals, scores per dimension,
record, owner and department, and daily snapshots. See docs/data_quality.md."""
