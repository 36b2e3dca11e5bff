"""When a return's six-month follow-up is due (the interval is the campaign's)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """Same day of the month, months later; the last day when that month is shorter."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def follow_up_due(submitted_on: date, interval_months: int) -> date:
    return add_months(submitted_on, interval_months)
