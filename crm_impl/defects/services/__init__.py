"""The defects services (issue 9): every write of the defects domain, keyword-only, in the
caller's transaction. Import this package and call `services.<name>`:

- lifecycle: TRANSITIONS (the matrix as data), transition, allowed_transitions, bulk_change,
  client_signoff;
- defects: report_defect, update_defect, add_comment, similar_defects, save_filter,
  delete_filter, saved_filters;
- releases: create_release, update_release, set_release_status, release_gate, record_test_run,
  defects_from_failed_cases, record_acceptance, business_processes.
"""

from crm_impl.defects.services.defects import (
    FILTER_KEYS,
    add_comment,
    clean_fields,
    delete_filter,
    report_defect,
    save_filter,
    saved_filters,
    similar_defects,
    update_defect,
)
from crm_impl.defects.services.lifecycle import (
    ENDED,
    TRANSITIONS,
    DefectFailed,
    Rule,
    allowed_transitions,
    bulk_change,
    client_signoff,
    transition,
)
from crm_impl.defects.services.releases import (
    GATED,
    SEVERE,
    GateReason,
    ReleaseBlocked,
    business_processes,
    create_release,
    defects_from_failed_cases,
    record_acceptance,
    record_test_run,
    release_gate,
    set_release_status,
    update_release,
)

__all__ = [
    "ENDED",
    "FILTER_KEYS",
    "GATED",
    "SEVERE",
    "TRANSITIONS",
    "DefectFailed",
    "GateReason",
    "ReleaseBlocked",
    "Rule",
    "add_comment",
    "allowed_transitions",
    "bulk_change",
    "business_processes",
    "clean_fields",
    "client_signoff",
    "create_release",
    "defects_from_failed_cases",
    "delete_filter",
    "record_acceptance",
    "record_test_run",
    "release_gate",
    "report_defect",
    "save_filter",
    "saved_filters",
    "set_release_status",
    "similar_defects",
    "transition",
    "update_defect",
    "update_release",
]
