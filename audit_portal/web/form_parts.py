"""The small GOV.UK form pieces a return's pages repeat for every question, built in Python.

A 100-question return shows a textarea, an error line, a "Still needed" slot and a date input
dozens of times a page; as Jinja macros each call cost more than the markup it made. As
template globals they keep the macros' names and arguments, so a template calls
``textarea(...)`` exactly as before. Every value goes through ``escape`` (markup stays as text);
an undefined value from a template (a missing key) reads as empty. Plain f-strings, not
``Markup.format``: that parses its format string in Python on every call, which undid the gain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from audit_portal.questionnaires.model import RatingScale

DATE_HINT = "For example, 27 3 2027"
_PARTS = (("day", 2, "Day"), ("month", 2, "Month"), ("year", 4, "Year"))
_NOTHING = Markup("")


def _built(html: str) -> Markup:
    """Markup put together in this module, where every value in it went through ``escape``."""
    return Markup(html)  # noqa: S704


def _text(value: object) -> Markup:
    return escape(value) if value else _NOTHING


def error_message(message: object = None, prefix: str = "Error") -> Markup:
    if not message:
        return _NOTHING
    return _built(
        f'<p class="govuk-error-message"><span class="govuk-visually-hidden">{escape(prefix)}:'
        f"</span> {escape(message)}</p>"
    )


def still_needed(message: object = None, slot: object = None, oob: bool = False) -> Markup:
    """A hint of what an answered question still needs; with ``slot`` it sits in a box that is
    always there, so an autosave can fill or empty it out of band (hx-swap-oob)."""
    hint = (
        f'<p class="app-still-needed"><strong>Still needed:</strong> {escape(message)}</p>'
        if message
        else ""
    )
    if not slot:
        return _built(hint)
    swap = ' hx-swap-oob="true"' if oob else ""
    return _built(f'<div class="app-still-needed-slot" id="{escape(slot)}"{swap}>{hint}</div>')


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
    box = escape(id)
    attributes = f' aria-describedby="{box}-hint"' if hint else ""
    if maxlength:
        attributes += f' maxlength="{escape(maxlength)}"'
    if disabled:
        attributes += " disabled"
    if autofocus:
        attributes += " autofocus"
    hint_html = f'<div class="govuk-hint" id="{box}-hint">{escape(hint)}</div>' if hint else ""
    return _built(
        f'<div class="govuk-form-group{" govuk-form-group--error" if error else ""}">'
        f'<label class="govuk-label" for="{box}">{escape(label)}</label>'
        f"{hint_html}{error_message(error)}{still_needed(need, need_slot)}"
        f'<textarea class="govuk-textarea{" govuk-textarea--error" if error else ""}" id="{box}"'
        f' name="{escape(name)}" rows="{escape(rows)}"{attributes}>{_text(value)}</textarea></div>'
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
    box, field = escape(id), escape(name)
    input_error = " govuk-input--error" if error else ""
    off = " disabled" if disabled else ""
    boxes = "".join(
        '<div class="govuk-date-input__item"><div class="govuk-form-group">'
        f'<label class="govuk-label govuk-date-input__label" for="{own}">{label}</label>'
        f'<input class="govuk-input govuk-date-input__input govuk-input--width-{width}'
        f'{input_error}" id="{own}" name="{field}-{part}" type="text" inputmode="numeric"'
        f' value="{_text(value)}"{off}></div></div>'
        for (part, width, label), value in zip(_PARTS, (day, month, year), strict=True)
        for own in (box if part == "day" else f"{box}-{part}",)
    )
    return _built(
        f'<div class="govuk-form-group{" govuk-form-group--error" if error else ""}">'
        f'<fieldset class="govuk-fieldset" role="group" aria-describedby="{box}-hint">'
        f'<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{escape(legend)}'
        f'</legend><div class="govuk-hint" id="{box}-hint">{escape(hint)}</div>'
        f'{error_message(error)}<div class="govuk-date-input">{boxes}</div></fieldset></div>'
    )


def rating_radios(fid: str, scale: RatingScale, value: object, disabled: bool = False) -> Markup:
    """A rating item's radios: one per point of the scale, with its description as the hint,
    then "or" and the scale's not-applicable choice, if it has one. Points that are less than
    effective are marked for the page's script, which then shows the item's actions."""
    fid, chosen, off = escape(fid), str(value), " disabled" if disabled else ""
    radios = []
    for number, point in enumerate(scale.points, start=1):
        own = f"{fid}-value" if number == 1 else f"{fid}-value-{number}"
        hint = f"{fid}-value-{number}-hint"
        marks = " checked" if chosen == str(point.value) else ""
        marks += " data-less-effective" if point.less_effective else ""
        radios.append(
            f'<div class="govuk-radios__item"><input class="govuk-radios__input" id="{own}"'
            f' name="{fid}-value" type="radio" value="{point.value}" aria-describedby="{hint}"'
            f'{marks}{off}><label class="govuk-label govuk-radios__label" for="{own}">'
            f'{escape(point.label)}</label><div class="govuk-hint govuk-radios__hint" id="{hint}">'
            f"{escape(point.description)}</div></div>"
        )
    if scale.not_applicable:
        marks = " checked" if chosen == "na" else ""
        radios.append(
            '<div class="govuk-radios__divider">or</div><div class="govuk-radios__item">'
            f'<input class="govuk-radios__input" id="{fid}-value-na" name="{fid}-value"'
            f' type="radio" value="na" data-not-applicable{marks}{off}><label class="govuk-label'
            f' govuk-radios__label" for="{fid}-value-na">{escape(scale.not_applicable.label)}'
            "</label></div>"
        )
    return _built(f'<div class="govuk-radios" data-module="govuk-radios">{"".join(radios)}</div>')
