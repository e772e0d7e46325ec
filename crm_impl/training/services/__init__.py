"""The training services (issue 10): every write of the training domain, keyword-only, in the
caller's transaction. Import this package and call `services.<name>`:

- sessions: create_session, update_session, invite, record_attendance, attendance_of;
- meetings: create_meeting, update_meeting, may_edit, attendee_ids.
"""

from crm_impl.training.services.meetings import attendee_ids, create_meeting, may_edit, update_meeting
from crm_impl.training.services.sessions import (
    FIELDS,
    attendance_of,
    create_session,
    invite,
    record_attendance,
    update_session,
)

__all__ = [
    "FIELDS",
    "attendance_of",
    "attendee_ids",
    "create_meeting",
    "create_session",
    "invite",
    "may_edit",
    "record_attendance",
    "update_meeting",
    "update_session",
]
