"""The small GOV.UK form pieces a return's pages repeat for every question, built in Python.

A 100-question return shows a textarea, an error line, a "Still needed" slot and a date input
dozens of times a page; as Jinja macros each call cost more than the markup it made (a third of
a section page's time). As template globals they keep the macros' names and arguments, so a
template calls ``textarea(...)`` exactly as before. Every value is escaped; an undefined value
from a template (a missing key) reads as empty.
"""

from __future__ import annotations

from markupsafe import Markup, escape

DATE_HINT = "For example, 27 3 2027"
_PARTS = (("day", 2, "Day"), ("month", 2, "Month"), ("year", 4, "Year"))


def _text(value: object) -> Markup:
    return escape(value) if value else Markup("")


def error_message(message: object = None, prefix: str = "Error") -> Markup:
    if not message:
        return Markup("")
    return Markup(
        '<p class="govuk-error-message"><span class="govuk-visually-hidden">{}:</span> {}</p>'
    ).format(prefix, message)


def still_needed(message: object = None, slot: object = None, oob: bool = False) -> Markup:
    """A hint of what an answered question still needs; with ``slot`` it sits in a box that is
    always there, so an autosave can fill or empty it out of band (hx-swap-oob)."""
    hint = (
        Markup('<p class="app-still-needed"><strong>Still needed:</strong> {}</p>').format(message)
        if message
        else Markup("")
    )
    if not slot:
        return hint
    swap = Markup(' hx-swap-oob="true"') if oob else Markup("")
    return Markup('<div class="app-still-needed-slot" id="{}"{}>{}</div>').format(slot, swap, hint)


def textarea(
    id: str,
    name: str,
    label: str,
    value: object,
    error: object = None,
    need: object = None,
    rows: int = 3,
    hint: object = None,
    disabled: bool = False,
    maxlength: int | None = None,
    autofocus: bool = False,
    need_slot: object = None,
) -> Markup:
    attributes = Markup("")
    if hint:
        attributes += Markup(' aria-describedby="{}-hint"').format(id)
    if maxlength:
        attributes += Markup(' maxlength="{}"').format(maxlength)
    if disabled:
        attributes += Markup(" disabled")
    if autofocus:
        attributes += Markup(" autofocus")
    return Markup(
        '<div class="govuk-form-group{group_error}">'
        '<label class="govuk-label" for="{id}">{label}</label>{hint}{error}{need}'
        '<textarea class="govuk-textarea{input_error}" id="{id}" name="{name}" rows="{rows}"'
        "{attributes}>{value}</textarea></div>"
    ).format(
        group_error=Markup(" govuk-form-group--error") if error else Markup(""),
        id=id,
        label=label,
        hint=Markup('<div class="govuk-hint" id="{}-hint">{}</div>').format(id, hint)
        if hint
        else Markup(""),
        error=error_message(error),
        need=still_needed(need, need_slot),
        input_error=Markup(" govuk-textarea--error") if error else Markup(""),
        name=name,
        rows=rows,
        attributes=attributes,
        value=_text(value),
    )


def date_parts(
    id: str,
    name: str,
    legend: str,
    day: object,
    month: object,
    year: object,
    error: object = None,
    hint: str = DATE_HINT,
    disabled: bool = False,
) -> Markup:
    """The GOV.UK date input: day, month and year boxes in one fieldset."""
    input_error = Markup(" govuk-input--error") if error else Markup("")
    off = Markup(" disabled") if disabled else Markup("")
    boxes = Markup("").join(
        Markup(
            '<div class="govuk-date-input__item"><div class="govuk-form-group">'
            '<label class="govuk-label govuk-date-input__label" for="{box}">{label}</label>'
            '<input class="govuk-input govuk-date-input__input govuk-input--width-{width}{error}"'
            ' id="{box}" name="{name}-{part}" type="text" inputmode="numeric" value="{value}"{off}>'
            "</div></div>"
        ).format(
            box=id if part == "day" else f"{id}-{part}",
            label=label,
            width=width,
            error=input_error,
            name=name,
            part=part,
            value=_text(value),
            off=off,
        )
        for (part, width, label), value in zip(_PARTS, (day, month, year), strict=True)
    )
    return Markup(
        '<div class="govuk-form-group{group_error}">'
        '<fieldset class="govuk-fieldset" role="group" aria-describedby="{id}-hint">'
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{legend}</legend>'
        '<div class="govuk-hint" id="{id}-hint">{hint}</div>{error}'
        '<div class="govuk-date-input">{boxes}</div></fieldset></div>'
    ).format(
        group_error=Markup(" govuk-form-group--error") if error else Markup(""),
        id=id,
        legend=legend,
        hint=hint,
        error=error_message(error),
        boxes=boxes,
    )
