"""Every PDF writer lays out the longest text any field may hold, with or without spaces.

A 2,000-character action once made a summary table row taller than a page, and the PDF failed
with a server error. Long text must split across pages, and a long word must wrap.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from audit_portal.models import Action
from audit_portal.questionnaires.blank_pdf import blank_pdf
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.organisation_summary import build_summary, summary_pdf
from audit_portal.scoring import Score
from tests.factories import definition, item


def long_text(limit: int, spaced: bool) -> str:
    """The widest letters there are, so a field at its limit is as tall as it can get."""
    if not spaced:
        return ("W" * (limit - 3)) + "END"
    words = ("WMWMWMWMW " * (limit // 10 + 1))[: limit - 4]
    return words + " END"


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize("spaced", [True, False])
def test_summary_pdf_with_maximum_length_text_everywhere(spaced: bool) -> None:
    long_prompt = long_text(3000, spaced)
    data = definition(
        sections=[
            {
                "id": "s175.1",
                "title": long_text(500, spaced),
                "items": [item("s175.1.1", prompt=long_prompt)],
            }
        ]
    )
    d = Definition.model_validate(data)
    actions = [
        Action(
            id=n,
            return_id=1,
            item_id="s175.1.1",
            what=long_text(2000, spaced),
            owner=long_text(200, spaced),
            target_date=date(2026, 9, 1),
        )
        for n in range(1, 4)
    ]
    summary = build_summary(
        definition=d,
        score=Score({"s175.1.1": "red"}, {"s175.1": "red"}, "red", ("s175.1.1",)),
        answers={},
        actions=actions,
        organisation=long_text(200, spaced),
        partnership=long_text(200, spaced),
        campaign=long_text(200, spaced),
        status="Submitted",
        follow_up_due=date(2026, 9, 1),
        signed="Signed by " + long_text(200, spaced) + ", " + long_text(200, spaced),
    )
    pages = pdf_pages(summary_pdf(summary))
    assert " ".join(pages).count("END") >= 3, "the end of each long action is printed"
    assert len(pages) >= 3, "long text wraps and flows over pages, never off the edge"


@pytest.mark.parametrize("spaced", [True, False])
def test_blank_questionnaire_pdf_with_very_long_questions(spaced: bool) -> None:
    data = definition(
        introduction=long_text(8000, spaced),
        completion_guidance=long_text(8000, spaced),
        sections=[
            {
                "id": "s175.1",
                "title": long_text(500, spaced),
                "summary": long_text(3000, spaced),
                "items": [
                    item(
                        "s175.1.1",
                        prompt=long_text(3000, spaced),
                        guidance=long_text(5000, spaced),
                        evidence_examples=[long_text(2000, spaced)] * 3,
                    )
                ],
            }
        ],
    )
    pages = pdf_pages(blank_pdf(Definition.model_validate(data), long_text(200, spaced)))
    assert " ".join(pages).count("END") >= 5
    assert len(pages) >= 5, "long text wraps and flows over pages, never off the edge"
