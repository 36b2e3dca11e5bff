"""How the portal writes dates and times for people: the GOV.UK style, whatever the locale.

One place, so emails, pages, PDFs and reminders all say "1 September 2026" and "2:05pm".
"""

from __future__ import annotations

from datetime import date, datetime

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: date) -> str:
    """'1 September 2026': no leading zero, English month names on any machine."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def clock_time(moment: datetime) -> str:
    """'2:05pm', with midday and midnight in words (GOV.UK style)."""
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    return f"{moment.hour % 12 or 12}:{moment.minute:02d}{'am' if moment.hour < 12 else 'pm'}"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """'1 return', '3 returns': messages read as English whatever the count."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"
