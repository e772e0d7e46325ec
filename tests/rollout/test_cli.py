"""`crm-impl report plan --json` on the demo company: phases with variance, scope creep, findings."""

import json
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "crm-impl")


def test_report_plan_json(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    subprocess.run(
        [CLI, "--database-url", url, "demo", "--accounts", "30", "--deals", "60"],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [CLI, "--database-url", url, "report", "plan", "--json"], check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    assert len(data["phases"]) == 7 and any(p["slipped"] and p["variance_days"] > 0 for p in data["phases"])
    assert 0 < data["scope_creep"]["effort_ratio"] < 1
    broken = [f["rule"] for f in data["role_findings"] if not f["ok"]]
    assert broken == ["programmers_not_client_contacts"]
