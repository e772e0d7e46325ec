"""Budget: budget lines, cost postings, earned value and its monthly snapshots (issue 10)."""
