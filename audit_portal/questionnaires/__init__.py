"""Versioned questionnaire definitions: load, validate, compare and lock."""

from audit_portal.questionnaires.check import check_catalogue
from audit_portal.questionnaires.diff import Carry, Diff, carry_forward_plan, diff
from audit_portal.questionnaires.load import (
    Catalogue,
    Problem,
    content_hash,
    current_catalogue,
    load_catalogue,
)
from audit_portal.questionnaires.model import Definition, Item, Section

__all__ = [
    "Carry",
    "Catalogue",
    "Definition",
    "Diff",
    "Item",
    "Problem",
    "Section",
    "carry_forward_plan",
    "check_catalogue",
    "content_hash",
    "current_catalogue",
    "diff",
    "load_catalogue",
]
