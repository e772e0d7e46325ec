"""The adoption read frames: `usage` (the one event frame of in-app and imported use) and the
registers' queries."""
