"""An organisation's own summary of its return, for its governors or board (page and PDF).

``build_summary`` turns a definition, answers and actions into plain data; ``summary_pdf``
writes that data as a PDF. Neither touches the database or HTTP.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from audit_portal.followups.rules import ActionProgress
from audit_portal.models import Action, ActionStatus
from audit_portal.pdf import BODY, GRID, H1, H2, RAG_FILL, SMALL, a4_document, para
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.answers import AnswerData
from audit_portal.scoring import Score
from audit_portal.wording import long_date


@dataclass(frozen=True)
class ActionLine:
    item_id: str
    prompt: str
    rating: str
    what: str
    owner: str
    target_date: date
    progress: str = ""  # "Not started", "Complete", "Closed: no longer needed"...


@dataclass(frozen=True)
class OutcomeLine:
    """The QA sub-group's outcome for one challenged item, beside what the organisation said."""

    item_id: str
    prompt: str
    self_rating: str  # as submitted, e.g. "Fully in place"
    self_rag: str | None
    moderated_rating: str
    moderated_rag: str | None
    outcome: str  # "Partly substantiated"
    comment: str = ""
    action: str = ""  # the required action it added, if any


@dataclass(frozen=True)
class OrganisationSummary:
    organisation: str
    partnership: str
    campaign: str
    questionnaire: str
    status: str
    overall: str | None
    sections: tuple[tuple[str, str | None], ...]  # (title, RAG)
    less_effective: tuple[str, ...]  # "s175.1.2 Prompt..."
    actions: tuple[ActionLine, ...]
    follow_up_due: date | None
    signed: str  # "Signed by ... on ..." or "Not yet submitted"
    follow_up: str = ""  # the follow-up's state in words, e.g. "Overdue (10 days)"
    outcomes: tuple[OutcomeLine, ...] = ()  # evidence challenge outcomes, once reviewed


def build_summary(
    *,
    definition: Definition,
    score: Score,
    answers: Mapping[str, AnswerData],
    actions: Sequence[Action],
    organisation: str,
    partnership: str,
    campaign: str,
    status: str,
    follow_up_due: date | None,
    signed: str,
    follow_up: str = "",
    outcomes: Sequence[OutcomeLine] = (),
) -> OrganisationSummary:
    scale = definition.rating_scale
    lines = []
    for action in actions:
        item = definition.item(action.item_id)
        answer = answers.get(action.item_id)
        rating = answer.rating() if answer is not None else None
        point = scale.point(rating) if rating is not None else None
        lines.append(
            ActionLine(
                action.item_id,
                item.prompt if item else "",
                point.label if point else "",
                action.what,
                action.owner,
                action.target_date,
                _progress(action),
            )
        )
    return OrganisationSummary(
        organisation=organisation,
        partnership=partnership,
        campaign=campaign,
        questionnaire=f"{definition.title} (version {definition.version})",
        status=status,
        overall=score.overall,
        sections=tuple((s.title, score.sections.get(s.id)) for s in definition.sections),
        less_effective=tuple(
            f"{item.id} {item.prompt}"
            for item in map(definition.item, score.less_effective)
            if item is not None
        ),
        actions=tuple(lines),
        follow_up_due=follow_up_due,
        signed=signed,
        follow_up=follow_up,
        outcomes=tuple(outcomes),
    )


def _progress(action: Action) -> str:
    if action.status == ActionStatus.CLOSED:
        return f"Closed: {action.closed_reason}" if action.closed_reason else "Closed"
    try:
        return ActionProgress(action.progress).label
    except ValueError:
        return ""


def _rag_cell(rag: str | None) -> Paragraph:
    return Paragraph(escape(rag.capitalize() if rag else "Not rated"), BODY)


def summary_pdf(summary: OrganisationSummary) -> bytes:
    buffer = io.BytesIO()
    doc = a4_document(
        buffer,
        title=f"{summary.organisation}: safeguarding self-assessment summary",
        author=summary.partnership,
        subject="Safeguarding self-assessment summary",
    )
    p = lambda text, style=BODY: Paragraph(escape(text), style)  # noqa: E731
    story: list = [
        p(summary.partnership, SMALL),
        p(f"{summary.organisation}: safeguarding self-assessment summary", H1),
        p(f"{summary.campaign}. {summary.questionnaire}.", SMALL),
        p(f"Status: {summary.status}. {summary.signed}.", SMALL),
        Spacer(0, 4 * mm),
        p("Ratings", H2),
    ]
    rows = [[p("Standard"), p("Rating")]] + [
        [p(title), _rag_cell(rag)] for title, rag in summary.sections
    ]
    rows.append([p("Overall"), _rag_cell(summary.overall)])
    table = Table(rows, colWidths=[None, 30 * mm], repeatRows=1, splitInRow=1)
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ]
    )
    for n, (_, rag) in enumerate([*summary.sections, ("Overall", summary.overall)], start=1):
        if rag:
            style.add("BACKGROUND", (1, n), (1, n), colors.HexColor(RAG_FILL[rag]))
    table.setStyle(style)
    story.append(table)
    story.append(p("Actions", H2))
    if summary.actions:
        action_rows = [[p("Item"), p("Action"), p("Owner"), p("By"), p("Progress")]] + [
            [
                p(f"{a.item_id} ({a.rating})"),
                p(a.what),
                p(a.owner),
                p(long_date(a.target_date)),
                p(a.progress),
            ]
            for a in summary.actions
        ]
        actions = Table(
            action_rows,
            colWidths=[32 * mm, None, 30 * mm, 22 * mm, 25 * mm],
            repeatRows=1,
            splitInRow=1,
        )
        actions.setStyle(
            TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")])
        )
        story.append(actions)
    else:
        story.append(p("No actions: every applicable standard was rated as fully in place."))
    if summary.follow_up_due:
        story += [
            Spacer(0, 4 * mm),
            p(f"An update on these actions is due on {long_date(summary.follow_up_due)}."),
        ]
    if summary.follow_up:
        story.append(p(f"Six-month follow-up: {summary.follow_up}."))
    if summary.outcomes:
        story += _outcomes_story(summary.outcomes)
    doc.build(story)
    return buffer.getvalue()


def _outcomes_story(outcomes: Sequence[OutcomeLine]) -> list:
    """The evidence challenge's outcomes: a table whose long rows split across pages."""
    p = lambda text, style=BODY: Paragraph(escape(text), style)  # noqa: E731
    rows: list[list] = [
        [p("Item"), p("You rated it"), p("Moderated rating"), p("Outcome and comment")]
    ]
    for line in outcomes:
        result = [p(line.outcome)]
        if line.comment:
            result.append(para(line.comment))
        if line.action:
            result.append(para(f"Required action: {line.action}"))
        rows.append(
            [
                [p(line.item_id), p(line.prompt, SMALL)],
                p(line.self_rating),
                p(line.moderated_rating),
                result,
            ]
        )
    table = Table(rows, colWidths=[55 * mm, 28 * mm, 28 * mm, None], repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    return [
        Spacer(0, 4 * mm),
        p("Evidence challenge", H2),
        p(
            "The partnership's quality assurance group asked for the evidence for these items "
            "and recorded an outcome and a moderated rating for each. Your submitted return "
            "is unchanged."
        ),
        table,
    ]
