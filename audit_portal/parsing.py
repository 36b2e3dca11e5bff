"""Reading numbers and dates that people (or attackers) type: ASCII digits within range only.

``str.isdigit()`` says yes to "²" and "١٢", which ``int()`` then refuses or silently accepts, and
``int()`` of thousands of digits raises; a number beyond 64 bits passes Python but not the
database. Every integer the portal reads from a form, a query string or a path goes through
``parse_int`` (route paths use the ``id`` converter below), so none of that reaches a query.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1  # the largest id either database holds (ids are INTEGER on PostgreSQL)
MAX_PAGE = 100_000  # a page number in a list
MAX_VERSION = 2**31 - 1  # an answer's version (INTEGER)
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_int(text: object, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """The integer ``text`` spells in ASCII digits (spaces around allowed), if in [low, high]."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if not _DIGITS.fullmatch(stripped):
        return None
    number = int(stripped)
    return number if low <= number <= high else None


def parse_id(text: object) -> int | None:
    """A database id: 1 to 2**31 - 1."""
    return parse_int(text, low=1)


class DateProblem(ValueError):
    """The parts do not make a date; the message is the GOV.UK one for the field."""


def parse_date_parts(day: str, month: str, year: str, *, what: str = "the date") -> date | None:
    """A date from the GOV.UK date input's three fields; None when all are empty.

    Raises DateProblem with the GOV.UK message ("… must include a month", "… must be a real
    date") so the form can show it by the field and keep what was typed.
    """
    parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    if not any(parts.values()):
        return None
    missing = [name for name, value in parts.items() if not value]
    if missing:
        raise DateProblem(f"{what.capitalize()} must include a {' and '.join(missing)}")
    day_number = parse_int(parts["day"], low=1, high=31)
    month_number = parse_int(parts["month"], low=1, high=12)
    year_number = parse_int(parts["year"], low=1, high=9999)
    if day_number is None or month_number is None or year_number is None:
        raise DateProblem(f"{what.capitalize()} must be a real date")
    if year_number < 1000:
        raise DateProblem("Year must include 4 numbers")
    try:
        return date(year_number, month_number, day_number)
    except ValueError:
        raise DateProblem(f"{what.capitalize()} must be a real date") from None


class IdConvertor(Convertor[int]):
    """``{name:id}`` in a route path: ASCII digits only, and an id no row can have is 0.

    Longer numbers do not match the route at all (404); a number beyond what the database can
    hold becomes 0, which names nothing, so the page answers 404 instead of the database
    failing on an out-of-range parameter.
    """

    regex = "[0-9]{1,10}"

    def convert(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())
