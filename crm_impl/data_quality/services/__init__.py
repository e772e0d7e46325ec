"""The data-quality services (issue 11): every write of the domain, keyword-only, in the
caller's transaction (permission -> validation -> write -> audit; nothing committed here).

- snapshots: take_snapshot (one day's scores, frozen; a second call the same day writes nothing);
- settings: update_settings (required fields, N days for timeliness, burst limits, sectors).
"""

from crm_impl.data_quality.services.settings import update_settings
from crm_impl.data_quality.services.snapshots import SnapshotResult, take_snapshot

__all__ = ["SnapshotResult", "take_snapshot", "update_settings"]
