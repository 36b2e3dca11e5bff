"""From what a respondent typed for one item to a storable answer, or precise errors.

Two levels, on purpose: a save (autosave or 'Save and continue') accepts an incomplete but
well-formed answer, so nothing typed is ever lost; completeness (a narrative where the rating
needs one, a reason for 'not applicable', an action) is checked before submission, in
``readiness``. Pure functions over plain data: no database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from audit_portal.parsing import parse_int
from audit_portal.questionnaires.model import Definition, Item

NARRATIVE_MAX = 5000
EVIDENCE_MAX = 2000
REASON_MAX = 2000
TEXT_MAX = 5000
NOT_APPLICABLE = "na"


@dataclass(frozen=True)
class AnswerData:
    """An answer as stored: value is a string, number, ISO date, list of options, or None."""

    value: object = None
    not_applicable: bool = False
    na_reason: str = ""
    narrative: str = ""
    evidence: str = ""

    @property
    def is_empty(self) -> bool:
        return self.value in (None, "", []) and not self.not_applicable

    def rating(self) -> int | None:
        return self.value if isinstance(self.value, int) and not self.not_applicable else None


@dataclass
class ParsedAnswer:
    answer: AnswerData | None
    errors: dict[str, str] = field(default_factory=dict)  # field (value, narrative...) -> message


class UnknownItem(LookupError):
    """The item id is not in this questionnaire version, or does not apply: a 4xx, not a save."""


def field_prefix(item_id: str) -> str:
    return "item-" + item_id.replace(".", "-")


def parse_item(definition: Definition, item: Item, form: Mapping[str, object]) -> ParsedAnswer:
    """Read one item's fields (``item-<id>-value`` etc.) from a submitted form."""
    prefix = field_prefix(item.id)
    errors: dict[str, str] = {}
    texts = {
        "narrative": (_text(form, f"{prefix}-narrative"), NARRATIVE_MAX, "The narrative"),
        "evidence": (_text(form, f"{prefix}-evidence"), EVIDENCE_MAX, "The evidence description"),
        "na_reason": (_text(form, f"{prefix}-na-reason"), REASON_MAX, "The reason"),
    }
    for name, (typed, limit, label) in texts.items():
        if len(typed) > limit:
            errors[name] = f"{label} must be {limit:,} characters or fewer"
    value, not_applicable, problem = _value(definition, item, form, prefix)
    if problem:
        errors["value"] = problem
    if errors:
        return ParsedAnswer(None, errors)
    return ParsedAnswer(
        AnswerData(
            value=value,
            not_applicable=not_applicable,
            na_reason=texts["na_reason"][0] if not_applicable else "",
            narrative=texts["narrative"][0],
            evidence=texts["evidence"][0],
        )
    )


def _text(form: Mapping[str, object], key: str) -> str:
    value = form.get(key)
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else ""


def _list(form: Mapping[str, object], key: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(key) if getlist else ([form[key]] if key in form else [])
    return [v for v in values if isinstance(v, str) and v]


def _value(
    definition: Definition, item: Item, form: Mapping[str, object], prefix: str
) -> tuple[object, bool, str | None]:
    """(value, not applicable, error message)."""
    raw = _text(form, f"{prefix}-value")
    kind = item.kind
    if kind == "rating":
        return _rating(definition, raw)
    if kind == "yes_no":
        return (
            (raw or None, False, None)
            if raw in {"", "yes", "no"}
            else (None, False, "Choose yes or no")
        )
    if kind == "number":
        return _number(item, raw)
    if kind == "date":
        return _date(form, prefix)
    if kind == "single_choice":
        allowed = {o.value for o in item.options or []}
        return (
            (raw or None, False, None)
            if raw in allowed | {""}
            else (None, False, "Choose one of the options")
        )
    if kind == "multiple_choice":
        chosen = _list(form, f"{prefix}-value")
        allowed = {o.value for o in item.options or []}
        if set(chosen) - allowed:
            return None, False, "Choose from the options shown"
        return [o.value for o in item.options or [] if o.value in chosen], False, None
    limit = item.max_length or TEXT_MAX
    if len(raw) > limit:
        return None, False, f"Your answer must be {limit:,} characters or fewer"
    return raw or None, False, None


def _rating(definition: Definition, raw: str) -> tuple[object, bool, str | None]:
    scale = definition.rating_scale
    if raw == "":
        return None, False, None
    if raw == NOT_APPLICABLE:
        if scale.not_applicable is None:
            return None, False, "This question cannot be marked not applicable"
        return None, True, None
    number = parse_int(raw, high=1000)
    if number is not None and scale.point(number) is not None:
        return number, False, None
    return None, False, "Choose one of the ratings shown"


def _number(item: Item, raw: str) -> tuple[object, bool, str | None]:
    if raw == "":
        return None, False, None
    try:
        number = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None, False, "Enter a number, like 12 or 85.5"
    if not number.is_finite():
        return None, False, "Enter a number, like 12 or 85.5"
    if item.min is not None and number < Decimal(str(item.min)):
        return None, False, f"Enter a number of {item.min:g} or more"
    if item.max is not None and number > Decimal(str(item.max)):
        return None, False, f"Enter a number of {item.max:g} or less"
    value = int(number) if number == number.to_integral_value() else float(number)
    return value, False, None


def _date(form: Mapping[str, object], prefix: str) -> tuple[object, bool, str | None]:
    parts = [_text(form, f"{prefix}-value-{p}") for p in ("day", "month", "year")]
    if not any(parts):
        return None, False, None
    numbers = [parse_int(p, high=9999) for p in parts]
    if any(n is None for n in numbers):
        return None, False, "Enter the date as numbers, for example 27 3 2026"
    day, month, year = (n or 0 for n in numbers)
    try:
        chosen = date(year, month, day)
    except ValueError:
        return None, False, "Enter a real date, for example 27 3 2026"
    if not 1900 <= year <= 2100:
        return None, False, "Enter a year between 1900 and 2100"
    return chosen.isoformat(), False, None


def find_item(definition: Definition, item_id: str, profile: object) -> Item:
    """The item a save is for, refusing ids this version lacks or that do not apply."""
    from audit_portal.scoring import applies

    item = definition.item(item_id)
    if item is None:
        raise UnknownItem(f"{item_id} is not a question in {definition.key} {definition.version}")
    if not applies(item, profile):  # type: ignore[arg-type]
        raise UnknownItem(f"{item_id} does not apply to your organisation")
    return item


TYPED_FIELD_LABELS = {
    "value": "your answer",
    "narrative": "what you do, and how you know it works",
    "evidence": "evidence you hold",
    "na-reason": "why it does not apply",
}


def typed_answers(form: Mapping[str, object]) -> list[tuple[str, str]]:
    """What a person typed into a return's fields, as (label, text) pairs to show back as text.

    Used when a form cannot be accepted (an expired page): nothing typed is lost, and nothing
    is sent again on the person's behalf.
    """
    rows = []
    items = getattr(form, "multi_items", None)
    pairs = items() if items else list(form.items())
    for key, value in pairs:
        if not isinstance(key, str) or not key.startswith("item-") or not isinstance(value, str):
            continue
        if not value.strip():
            continue
        for suffix, label in TYPED_FIELD_LABELS.items():
            if key.endswith(f"-{suffix}"):
                item_id = key[len("item-") : -len(suffix) - 1].replace("-", ".")
                rows.append((f"Question {item_id}: {label}", value[:TEXT_MAX]))
                break
    return rows


ACTION_WHAT_MAX = 2000
ACTION_OWNER_MAX = 200


@dataclass(frozen=True)
class ActionDraft:
    """An improvement action as typed: what will be done, who owns it, by when."""

    what: str
    owner: str
    target_date: date | None
    typed: Mapping[str, str] = field(default_factory=dict)  # to show again after an error


def parse_action(
    form: Mapping[str, object], item_id: str, today: date, prefix: str = ""
) -> tuple[ActionDraft, dict[str, str]]:
    """An action from ``item-<id>-action-what|owner|target-day|month|year`` (or, on a form
    with one action, ``<prefix>-what`` and so on), and GOV.UK messages by field (``what``,
    ``owner``, ``target``) for anything that cannot be added."""
    from audit_portal.parsing import DateProblem, parse_date_parts

    prefix = prefix or f"{field_prefix(item_id)}-action"
    names = ("what", "owner", "target-day", "target-month", "target-year")
    typed = {name: _text(form, f"{prefix}-{name}") for name in names}
    problems: dict[str, str] = {}
    if not typed["what"]:
        problems["what"] = "Enter what will be done"
    elif len(typed["what"]) > ACTION_WHAT_MAX:
        problems["what"] = f"What will be done must be {ACTION_WHAT_MAX:,} characters or fewer"
    if not typed["owner"]:
        problems["owner"] = "Enter who owns the action"
    elif len(typed["owner"]) > ACTION_OWNER_MAX:
        problems["owner"] = f"Who owns the action must be {ACTION_OWNER_MAX} characters or fewer"
    target = None
    try:
        target = parse_date_parts(
            typed["target-day"], typed["target-month"], typed["target-year"], what="the target date"
        )
        if target is None:
            problems["target"] = "Enter the target date"
        elif target < today:
            problems["target"] = "The target date must be today or in the future"
    except DateProblem as problem:
        problems["target"] = str(problem)
    return ActionDraft(typed["what"], typed["owner"], target, typed), problems
