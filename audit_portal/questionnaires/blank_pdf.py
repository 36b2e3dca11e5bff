"""A print-ready blank questionnaire, so an organisation can prepare its answers offline."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from audit_portal.pdf import (
    GRID,
    H1,
    H2,
    PROMPT,
    RAG_FILL,
    SMALL,
    a4_document,
    footer,
    para,
    paragraphs,
)
from audit_portal.questionnaires.model import Definition, Item, RatingScale


def blank_pdf(definition: Definition, partnership: str) -> bytes:
    buffer = io.BytesIO()
    doc = a4_document(
        buffer,
        title=f"{definition.title} ({definition.version})",
        author=partnership,
        subject="Blank safeguarding self-assessment",
    )
    story = [*_cover(definition, partnership), PageBreak()]
    for number, section in enumerate(definition.sections, start=1):
        story += [CondPageBreak(60 * mm), para(f"Standard {number}: {section.title}", H2)]
        if section.summary:
            story.append(para(section.summary))
        story.append(Spacer(0, 3 * mm))
        story += [_item_block(item, definition.rating_scale) for item in section.items]

    page_footer = footer(f"{definition.key} version {definition.version} - {partnership}")
    doc.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()


def _cover(d: Definition, partnership: str) -> list:
    story: list = [
        para(partnership, SMALL),
        para(d.title, H1),
        para(f"Version {d.version} ({d.status}). Follows: {'; '.join(d.follows)}.", SMALL),
        Spacer(0, 4 * mm),
        *paragraphs(d.introduction),
        para("How to complete this self-assessment", H2),
        *paragraphs(d.completion_guidance),
        para("The rating scale", H2),
    ]
    rows = [[para("Rating", PROMPT), para("RAG", PROMPT), para("What it means", PROMPT)]]
    for point in d.rating_scale.points:
        meaning = point.description + (
            " An action and a six-month update are needed." if point.less_effective else ""
        )
        rows.append([para(point.label), para(point.rag.capitalize()), para(meaning)])
    table = Table(rows, colWidths=[40 * mm, 20 * mm, None], repeatRows=1)
    style = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    for i, point in enumerate(d.rating_scale.points, start=1):
        style.add("BACKGROUND", (1, i), (1, i), colors.HexColor(RAG_FILL[point.rag]))
    table.setStyle(style)
    story.append(table)
    return story


def _item_block(item: Item, scale: RatingScale) -> KeepTogether:
    parts: list = [para(f"{item.id}  {item.prompt}", PROMPT), para(item.guidance, SMALL)]
    if item.evidence_examples:
        parts.append(para("Examples of evidence: " + "; ".join(item.evidence_examples), SMALL))
    if item.applies_to is not None:
        parts.append(para("Applies only to: " + _conditions(item), SMALL))
    parts.append(Spacer(0, 2 * mm))
    parts.append(_answer_area(item, scale))
    parts.append(Spacer(0, 5 * mm))
    return KeepTogether(parts)


def _conditions(item: Item) -> str:
    assert item.applies_to is not None
    return "; ".join(
        f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in item.applies_to.as_dict().items()
    )


class TickBoxes(Flowable):
    """Empty squares to tick, each with its label, wrapping onto as many lines as needed.

    Drawn as vector squares: a font glyph would depend on the reader's fonts.
    """

    SIZE, GAP, LINE, FONT = 3.4 * mm, 6 * mm, 6 * mm, ("Helvetica", 10)

    def __init__(self, labels: list[str], lead: str = "") -> None:
        super().__init__()
        self.labels, self.lead = labels, lead
        self._rows: list[list[tuple[float, str]]] = []

    def wrap(self, available_width: float, _height: float) -> tuple[float, float]:
        x = stringWidth(self.lead, *self.FONT) + (2 * mm if self.lead else 0)
        row: list[tuple[float, str]] = []
        self._rows = [row]
        for label in self.labels:
            width = self.SIZE + 1.5 * mm + stringWidth(label, *self.FONT)
            if row and x + width > available_width:
                row = []
                self._rows.append(row)
                x = 0
            row.append((x, label))
            x += width + self.GAP
        self.width = available_width
        return available_width, self.LINE * len(self._rows)

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(*self.FONT)
        top = self.LINE * len(self._rows)
        if self.lead:
            canvas.drawString(0, top - self.LINE + 1.5 * mm, self.lead)
        for n, row in enumerate(self._rows):
            y = top - self.LINE * (n + 1) + 1.2 * mm
            for x, label in row:
                canvas.rect(x, y, self.SIZE, self.SIZE, stroke=1, fill=0)
                canvas.drawString(x + self.SIZE + 1.5 * mm, y + 0.4 * mm, label)


def _answer_area(item: Item, scale: RatingScale) -> Table:
    boxes: TickBoxes | None = None
    lines: list[str] = []
    if item.kind == "rating":
        choices = [p.label for p in scale.points]
        if scale.not_applicable:
            choices.append(scale.not_applicable.label + " (say why)")
        boxes = TickBoxes(choices)
        lines = ["What you do, and how you know it works:", "", ""]
    elif item.kind == "yes_no":
        boxes = TickBoxes(["Yes", "No"])
    elif item.kind in {"single_choice", "multiple_choice"}:
        hint = "Tick one:" if item.kind == "single_choice" else "Tick all that apply:"
        boxes = TickBoxes([o.label for o in item.options or []], lead=hint)
    elif item.kind == "date":
        lines = ["Date (day / month / year):      /      /"]
    elif item.kind == "number":
        lines = [f"Number{f' ({item.unit})' if item.unit else ''}:"]
    else:
        lines = ["", "", ""]
    cells: list[list[Flowable]] = [[boxes]] if boxes is not None else []
    cells += [[para(line) if line else Spacer(0, 7 * mm)] for line in lines]
    table = Table(cells, colWidths=[None])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.75, GRID),
                ("LINEBELOW", (0, 1), (-1, -2), 0.25, GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table
