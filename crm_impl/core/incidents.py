"""Incidents: an unexpected error a user saw, logged with its traceback under a short random id.

The user sees a translated message with the id ("incident number: K7Q2-M9XD"); the
administrator finds the traceback in the log by that id (logger "crm_impl.incident").
"""

from __future__ import annotations

import logging
import secrets

logger = logging.getLogger("crm_impl.incident")

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


def new_id() -> str:
    """A short random id, e.g. "K7Q2-M9XD" (32^8 ≈ 10^12 values)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def report(exc: BaseException, *, where: str) -> str:
    """Log `exc` with its traceback under a new incident id and return the id."""
    incident = new_id()
    logger.error("incident %s in %s: %s", incident, where, type(exc).__name__, exc_info=exc)
    return incident
