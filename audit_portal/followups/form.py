"""Reading the follow-up form: each action's update from ``action-<id>-...`` fields. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from audit_portal.followups.records import UpdateData
from audit_portal.parsing import DateProblem, parse_date_parts, parse_int


def field_prefix(action_id: int) -> str:
    return f"action-{action_id}"


def _text(form: Mapping[str, object], key: str) -> str:
    value = form.get(key)
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else ""


def parse_update(form: Mapping[str, object], action_id: int) -> tuple[UpdateData, dict[str, str]]:
    """One action's update as typed, and GOV.UK messages for what cannot be read at all."""
    prefix = field_prefix(action_id)
    problems: dict[str, str] = {}
    rating_text = _text(form, f"{prefix}-revised-rating")
    rating = parse_int(rating_text, high=1000) if rating_text else None
    if rating_text and rating is None:
        problems["revised_rating"] = "Choose a rating from the list"
    parts = [_text(form, f"{prefix}-target-{p}")[:10] for p in ("day", "month", "year")]
    target = None
    try:
        target = parse_date_parts(*parts, what="the new target date")
    except DateProblem as problem:
        problems["new_target_date"] = str(problem)
    data = UpdateData(
        progress=_text(form, f"{prefix}-progress")[:20],
        narrative=_text(form, f"{prefix}-narrative"),
        revised_rating=rating,
        evidence=_text(form, f"{prefix}-evidence"),
        new_target_date=target,
    )
    if len(data.evidence) > 2000:
        problems["evidence"] = "The evidence description must be 2,000 characters or fewer"
    return data, problems


def typed_fields(form: Mapping[str, object], action_id: int) -> dict[str, str]:
    """What was typed for one action, to show again after an error: nothing is lost."""
    prefix = field_prefix(action_id)
    names = ("progress", "narrative", "revised-rating", "evidence")
    typed = {name.replace("-", "_"): _text(form, f"{prefix}-{name}") for name in names}
    for part in ("day", "month", "year"):
        typed[part] = _text(form, f"{prefix}-target-{part}")[:10]
    return typed
