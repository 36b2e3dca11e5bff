"""A print-ready blank questionnaire, so an organisation can prepare its answers offline."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from audit_portal.questionnaires.model import Definition, Item, RatingScale

STYLES = getSampleStyleSheet()
BODY = ParagraphStyle(
    "body", parent=STYLES["BodyText"], fontName="Helvetica", fontSize=10, leading=13
)
SMALL = ParagraphStyle(
    "small", parent=BODY, fontSize=8.5, leading=11, textColor=colors.HexColor("#484949")
)
PROMPT = ParagraphStyle("prompt", parent=BODY, fontName="Helvetica-Bold", fontSize=10.5, leading=14)
H1 = ParagraphStyle(
    "h1", parent=STYLES["Heading1"], fontName="Helvetica-Bold", fontSize=20, leading=24
)
H2 = ParagraphStyle(
    "h2", parent=STYLES["Heading2"], fontName="Helvetica-Bold", fontSize=14, leading=18
)
RAG_FILL = {"green": "#cce2d8", "amber": "#fcd6c3", "red": "#f4cdc6"}
GRID = colors.HexColor("#b1b4b6")


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _paragraphs(text: str) -> list[Paragraph]:
    return [_p(" ".join(part.split())) for part in text.split("\n\n") if part.strip()]


def a4_document(
    buffer: io.BytesIO, *, title: str, author: str, subject: str = ""
) -> SimpleDocTemplate:
    """The portal's page: A4 with margins that print well and room for a footer."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=author,
        subject=subject,
    )


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
        story += [CondPageBreak(60 * mm), _p(f"Standard {number}: {section.title}", H2)]
        if section.summary:
            story.append(_p(section.summary))
        story.append(Spacer(0, 3 * mm))
        story += [_item_block(item, definition.rating_scale) for item in section.items]

    def footer(canvas, doc_) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#484949"))
        canvas.drawString(
            18 * mm, 10 * mm, f"{definition.key} version {definition.version} - {partnership}"
        )
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _cover(d: Definition, partnership: str) -> list:
    story: list = [
        _p(partnership, SMALL),
        _p(d.title, H1),
        _p(f"Version {d.version} ({d.status}). Follows: {'; '.join(d.follows)}.", SMALL),
        Spacer(0, 4 * mm),
        *_paragraphs(d.introduction),
        _p("How to complete this self-assessment", H2),
        *_paragraphs(d.completion_guidance),
        _p("The rating scale", H2),
    ]
    rows = [[_p("Rating", PROMPT), _p("RAG", PROMPT), _p("What it means", PROMPT)]]
    for point in d.rating_scale.points:
        meaning = point.description + (
            " An action and a six-month update are needed." if point.less_effective else ""
        )
        rows.append([_p(point.label), _p(point.rag.capitalize()), _p(meaning)])
    table = Table(rows, colWidths=[40 * mm, 20 * mm, None], repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for i, point in enumerate(d.rating_scale.points, start=1):
        style.append(("BACKGROUND", (1, i), (1, i), colors.HexColor(RAG_FILL[point.rag])))
    table.setStyle(TableStyle(style))
    story.append(table)
    return story


def _item_block(item: Item, scale: RatingScale) -> KeepTogether:
    parts: list = [_p(f"{item.id}  {item.prompt}", PROMPT), _p(item.guidance, SMALL)]
    if item.evidence_examples:
        parts.append(_p("Examples of evidence: " + "; ".join(item.evidence_examples), SMALL))
    if item.applies_to is not None:
        parts.append(_p("Applies only to: " + _conditions(item), SMALL))
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
        x, row = stringWidth(self.lead, *self.FONT) + (2 * mm if self.lead else 0), []
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
    cells += [[_p(line) if line else Spacer(0, 7 * mm)] for line in lines]
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
