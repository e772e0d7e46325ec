"""`crm-impl` command line. The root app is built in `crm_impl.cli.app`; one module per domain
(`core`: init, demo, users; `pipeline`: pipeline reports; `rollout`: the plan report;
`imports`: import and export) adds its commands to it."""

from __future__ import annotations

import sys

from crm_impl.cli.app import build_app

app = build_app()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
