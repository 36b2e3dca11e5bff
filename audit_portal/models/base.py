"""Shared column helpers for the tables."""

from __future__ import annotations

from datetime import datetime

from audit_portal import clock


def utcnow() -> datetime:
    """The portal's clock (``audit_portal.clock``), so tests can move time."""
    return clock.now()
