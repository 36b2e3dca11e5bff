"""The GOV.UK date input (day, month and year boxes) as a WTForms field.

A native date picker shows the browser's own format (a British user typed 01092026 into an
American mm/dd/yyyy box and stored 9 January); three labelled boxes cannot be misread. The
boxes are posted as ``<name>-day``, ``<name>-month`` and ``<name>-year``; what was typed is
kept in ``parts`` to show again after an error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import Field
from wtforms.utils import unset_value

from audit_portal.parsing import DateProblem, parse_date_parts

PARTS = ("day", "month", "year")


class DatePartsField(Field):
    data: date | None

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        required: str | None = None,
        what: str = "the date",
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.required_message = required  # the GOV.UK message when nothing was entered
        self.what = what
        self.parts: dict[str, str] = dict.fromkeys(PARTS, "")

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        self.data = data if isinstance(data, date) else None
        if self.data is not None:
            self.parts = {
                "day": str(self.data.day),
                "month": str(self.data.month),
                "year": str(self.data.year),
            }
        if formdata is None:
            return
        self.parts = {p: str(formdata.get(f"{self.name}-{p}", "")).strip()[:10] for p in PARTS}
        try:
            self.data = parse_date_parts(*(self.parts[p] for p in PARTS), what=self.what)
        except DateProblem as problem:
            self.data = None
            self.process_errors.append(str(problem))
            return
        if self.data is None and self.required_message:
            self.process_errors.append(self.required_message)
