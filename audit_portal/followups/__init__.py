"""Six-month follow-ups of a return's actions: due dates, states, reminders, rating movement.

Pure rules over plain data; the store and the routes call them. ``add_months`` and
``follow_up_due`` stay importable from here, where they lived before this became a package.
"""

from __future__ import annotations

from audit_portal.followups.dates import add_months, follow_up_due

__all__ = ["add_months", "follow_up_due"]
