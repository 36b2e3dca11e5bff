"""The pack benchmark's baseline: a PDF of the scrutineer's pack's shape, made by reportlab alone.

``outline(report)`` reads a campaign report once, before anything is timed, and keeps only plain
text and numbers in the order the pack prints them: the cover, a contents line per heading, the
key figures, each response table, one line per organisation not returning, the RAG chart and
table, each standard's chart and item table, the weaknesses and strengths, the sections this
campaign leaves empty, the small-number notes and the methodology. ``raw_pdf(outline)`` then
lays that out the way anyone would write it straight in reportlab: Platypus paragraphs, tables
with a repeated header row, one Drawing of bars per chart, a footer, one build. No code of the
portal runs inside ``raw_pdf``, so its time is what reportlab itself needs for a document of
the pack's tables, rows and pages; the benchmark prints both documents' page counts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from audit_portal.reports.campaign_report import CampaignReport

# --- what the document holds: plain data ---------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 0  # 0 starts a part (and may start a page), 1 is within a part


@dataclass(frozen=True)
class Text:
    text: str
    small: bool = False


@dataclass(frozen=True)
class Labels:
    """A two-column table: label, value."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Grid:
    """A table of figures under a caption. ``item_rows``: the first cell is an item, its id in
    bold above its prompt; otherwise it is one line of text."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    item_rows: bool = False


@dataclass(frozen=True)
class Bars:
    """A chart, one bar per row: a label, the bar's segments (counts, or one share from 0 to 1)
    and the words printed beside or under it."""

    rows: tuple[tuple[str, tuple[float, ...], str], ...]
    stacked: bool


@dataclass(frozen=True)
class NewPage:
    pass


Block = Heading | Text | Labels | Grid | Bars | NewPage


@dataclass(frozen=True)
class Outline:
    title: str
    footer: tuple[str, str]
    cover: tuple[str, ...]
    blocks: tuple[Block, ...]

    @property
    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]

    def count(self, kind: type) -> int:
        return sum(isinstance(b, kind) for b in self.blocks)

    @property
    def table_rows(self) -> int:
        return sum(len(b.rows) for b in self.blocks if isinstance(b, Grid | Labels))


# --- reading the report (not timed) --------------------------------------------------------------


def outline(report: CampaignReport, partnership: str) -> Outline:
    """The pack's content as plain data, in the pack's order."""
    r = report.response
    blocks: list[Block] = [Heading("Key figures"), Text("Showing every invited organisation.")]
    figures = [
        ("Invited", str(r.overall.invited)),
        ("Started", r.overall.started.text),
        ("Submitted (returned)", r.overall.submitted.text),
        ("Accepted", r.overall.accepted.text),
        ("Against the previous campaign", r.comparison),
    ]
    figures += [(f"All answers rated {c.lower()}", s.text) for c, s in report.rag_overall.items()]
    blocks += [Labels(tuple(figures)), Heading("Response")]
    for name, table in r.by.items():
        if table.rows:
            rows = [
                (
                    group,
                    str((table.row_totals or {})[group]),
                    *(table.text(group, stage, "row") for stage in table.columns),
                )
                for group in table.rows
            ]
            header = (name.capitalize(), "Invited", *table.columns)
            blocks.append(Grid(f"Response by {name}", header, tuple(rows)))
    if r.not_returning:
        blocks.append(Heading(f"Invited but not returning: {len(r.not_returning)}", 1))
        blocks += [
            Text(f"{name}: {stage.lower()}", small=True) for _, name, stage in r.not_returning
        ]
    blocks += _ratings(report) + _items(report) + _ranked(report)
    for heading, words in (
        ("Year on year", "There is no earlier campaign of this questionnaire to compare with."),
        ("Six-month follow-ups", "No follow-ups yet."),
        ("Dip samples and evidence challenges", "No evidence challenges have been issued yet."),
    ):
        blocks += [Heading(heading), Text(words)]
    if report.footnotes:
        blocks += [Heading("Small numbers"), *(Text(n, small=True) for n in report.footnotes)]
    blocks += [NewPage(), Heading("Methodology")]
    blocks.append(
        Labels(
            (
                ("Questionnaire", f"{report.questionnaire_key} {report.questionnaire_version}"),
                ("Content hash", report.content_hash),
                ("Campaign dates", f"{report.opens_on} to {report.closes_on}"),
                ("Invited", report.invitation),
                ("Figures shown", "Showing every invited organisation."),
                ("What counts", "Each organisation's latest submitted or accepted return."),
                ("Small numbers", report.suppression_rule),
                ("Dip samples", "None drawn yet"),
            )
        )
    )
    cover = (
        partnership,
        "Scrutineer's pack",
        report.title,
        f"Questionnaire {report.questionnaire_key} version {report.questionnaire_version}.",
        "Showing every invited organisation.",
        "Figures from submitted returns only: each organisation's latest submitted or accepted "
        "return counts once. Drafts never count.",
    )
    footer = (
        f"{report.questionnaire_key} version {report.questionnaire_version} - {report.title}",
        f"Content hash {report.content_hash}",
    )
    return Outline(f"Scrutineer's pack: {report.title}", footer, cover, tuple(blocks))


def _ratings(report: CampaignReport) -> list[Block]:
    rag = report.rag
    bars = tuple(
        (
            title,
            tuple(float(rag.cell(section_id, c).value or 0) for c in rag.columns),
            ", ".join(f"{c.lower()} {rag.cell(section_id, c).text}" for c in rag.columns),
        )
        for section_id, title in report.standards
    )
    rows = tuple(
        (
            title,
            *(rag.text(section_id, c, "row") for c in rag.columns),
            str((rag.row_totals or {})[section_id]),
            str(report.rag_not_applicable.get(section_id, 0)),
        )
        for section_id, title in report.standards
    )
    header = ("Standard", *rag.columns, "Rated", "Not applicable")
    return [
        Heading("Ratings by standard"),
        Text("Counts of answers (one for each organisation and item)."),
        Bars(bars, stacked=True),
        Grid("Ratings by standard", header, rows),
    ]


def _items(report: CampaignReport) -> list[Block]:
    blocks: list[Block] = [
        Heading("Each standard and its items"),
        Text("The share of organisations at each rating, of those that rated the item."),
    ]
    header = ("Item", *(label for _, label in report.scale))
    header += ("Rated effective", "Rated", "Not applicable")
    for number, (section_id, title) in enumerate(report.standards, start=1):
        rows = [r for r in report.item_rows if r.section_id == section_id]
        if not rows:
            continue
        bars = tuple(
            (
                f"{r.item_id} {r.prompt}",
                (float(r.effective.share.fraction or 0),) if r.effective.shown else (),
                r.effective.text,
            )
            for r in rows
        )
        body = tuple(
            (
                r.item_id,
                r.prompt,
                *(report.share_at(r.item_id, value) for value, _ in report.scale),
                r.effective.text,
                str(r.rated),
                str(r.not_applicable),
            )
            for r in rows
        )
        blocks += [
            Heading(f"Standard {number}: {title}", 1),
            Bars(bars, stacked=False),
            Grid(f"Ratings of each item: {title}", ("Item id", *header), body, item_rows=True),
        ]
    return blocks


def _ranked(report: CampaignReport) -> list[Block]:
    blocks: list[Block] = []
    for heading, ranked, what in (
        ("Common weaknesses", report.weaknesses, "Rated less than effective"),
        ("Strengths", report.strengths, "Rated effective"),
    ):
        rows = tuple((r.item.item_id, r.item.prompt, str(r.rank), r.share.text) for r in ranked)
        blocks += [Heading(heading), Grid(heading, ("Item id", "Item", "Rank", what), rows, True)]
    return blocks


# --- the build (timed) -------------------------------------------------------------------------

_SAMPLE = getSampleStyleSheet()
BODY = ParagraphStyle("raw-body", parent=_SAMPLE["BodyText"], fontSize=10, leading=13)
SMALL = ParagraphStyle("raw-small", parent=BODY, fontSize=8.5, leading=11)
BOLD_SMALL = ParagraphStyle("raw-bold-small", parent=SMALL, fontName="Helvetica-Bold")
NUMBER = ParagraphStyle("raw-number", parent=SMALL, alignment=TA_RIGHT)
H1 = ParagraphStyle("raw-h1", parent=_SAMPLE["Heading1"], fontSize=20, leading=24)
H2 = ParagraphStyle("raw-h2", parent=_SAMPLE["Heading2"], fontSize=14, leading=18)
H3 = ParagraphStyle("raw-h3", parent=_SAMPLE["Heading3"], fontSize=11.5, leading=15)
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
CHART_WIDTH = 480.0
CHART_ROOM = 0.8 * (A4[1] - MARGIN - 22 * mm)  # the tallest drawing kept in one piece
BAR, GAP = 14.0, 4.0
PADDING = 4.0  # each side of a table cell
TRACK = colors.HexColor("#f3f2f1")
SEGMENTS = (colors.HexColor("#00703c"), colors.HexColor("#f47738"), colors.HexColor("#d4351c"))
GRID_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f2f1")),
        ("FONTSIZE", (0, 1), (-1, -1), 8.5),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
    ]
)


def raw_pdf(outline: Outline) -> bytes:
    """The outline as PDF bytes: one build, reportlab only."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=22 * mm,
        title=outline.title,
    )
    story: list[Flowable] = [_p(outline.cover[0], SMALL), Spacer(0, 30 * mm)]
    story += [_p(outline.cover[1], H3), _p(outline.cover[2], H1)]
    story += [_p(line) for line in outline.cover[3:]] + [PageBreak(), _p("Contents", H2)]
    entries = [
        [_p(("    " if h.level else "") + h.text), _p(str(n + 3))]
        for n, h in enumerate(outline.headings)
    ]
    contents = Table(entries, colWidths=[WIDTH - 15 * mm, 15 * mm])
    contents.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey)]))
    story += [contents, PageBreak()]
    for block in outline.blocks:
        story += _flowables(block)
    document.build(story, onFirstPage=_footer(outline), onLaterPages=_footer(outline))
    return buffer.getvalue()


def _flowables(block: Block) -> list[Flowable]:
    if isinstance(block, Heading):
        if block.level:
            return [_p(block.text, H3)]
        return [CondPageBreak(60 * mm), _p(block.text, H2)]
    if isinstance(block, Text):
        return [_p(block.text, SMALL if block.small else BODY)]
    if isinstance(block, Labels):
        rows = [[_p(label, BOLD_SMALL), _p(value, SMALL)] for label, value in block.rows]
        table = Table(rows, colWidths=[50 * mm, WIDTH - 50 * mm])
        table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.grey)]))
        return [table]
    if isinstance(block, Grid):
        return [CondPageBreak(35 * mm), _p(block.caption, H3), _grid(block)]
    if isinstance(block, Bars):
        return [Spacer(0, 2 * mm), *_charts(block), Spacer(0, 3 * mm)]
    return [PageBreak()]


def _grid(grid: Grid) -> Table:
    """Text on the left, figures on the right: a figure too wide for its column wraps."""
    header = grid.header[1:] if grid.item_rows else grid.header
    first = 60 * mm
    rest = (WIDTH - first) / max(1, len(header) - 1)
    room = rest - 2 * PADDING

    def figure(value: str) -> Any:
        fits = stringWidth(value, SMALL.fontName, SMALL.fontSize) <= room
        return value if fits else _p(value, NUMBER)

    data: list[list[Any]] = [[_p(h, BOLD_SMALL) for h in header]]
    for row in grid.rows:
        if grid.item_rows:
            cell: Any = [_p(row[0], BOLD_SMALL), _p(row[1], SMALL)]
            data.append([cell, *(figure(v) for v in row[2:])])
        else:
            data.append([_p(row[0], SMALL), *(figure(v) for v in row[1:])])
    table = Table(data, colWidths=[first] + [rest] * (len(header) - 1), repeatRows=1)
    table.setStyle(GRID_STYLE)
    return table


def _charts(bars: Bars) -> list[Drawing]:
    """One drawing per run of bars short enough to fit on a page."""
    drawings: list[Drawing] = []
    shapes: list[Rect | String] = []
    top = 0.0
    scale = max((sum(v) for _, v, _ in bars.rows), default=0.0) if bars.stacked else 1.0
    for label, values, words in bars.rows:
        lines = simpleSplit(label, "Helvetica-Bold", 10, CHART_WIDTH * 0.85)
        needed = 12.5 * len(lines) + BAR + 3 * GAP + (12 if bars.stacked else 0)
        if top + needed > CHART_ROOM and shapes:
            drawings.append(_drawing(shapes, top))
            shapes, top = [], 0.0
        for line in lines:
            top += 12.5
            shapes.append(String(0, -top, line, fontName="Helvetica-Bold", fontSize=10))
        top += BAR + 1
        if bars.stacked:
            x = 0.0
            for value, fill in zip(values, SEGMENTS, strict=False):
                width = CHART_WIDTH * value / scale if scale else 0.0
                shapes.append(_rect(x, -top, width, fill))
                shapes.append(String(x + width / 2, -top + 4, f"{value:.0f}", textAnchor="middle"))
                x += width
            top += 12
            shapes.append(String(0, -top, words, fontSize=9, fillColor=colors.grey))
        else:
            track = CHART_WIDTH - 110
            shapes.append(_rect(0, -top, track, TRACK))
            if values:
                shapes.append(_rect(0, -top, track * values[0], colors.blue))
            shapes.append(String(track + 6, -top + 4, words, fontSize=9))
        top += 2 * GAP
    if shapes:
        drawings.append(_drawing(shapes, top))
    return drawings


def _rect(x: float, y: float, width: float, fill: colors.Color) -> Rect:
    rect = Rect(x, y, width, BAR)
    rect.fillColor, rect.strokeColor = fill, colors.white
    return rect


def _drawing(shapes: Sequence[Rect | String], height: float) -> Drawing:
    drawing = Drawing(CHART_WIDTH, height)
    for shape in shapes:
        shape.y += height
        drawing.add(shape)
    return drawing


def _footer(outline: Outline) -> Callable[[Any, Any], None]:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(MARGIN, 13 * mm, outline.footer[0][:110])
        canvas.drawString(MARGIN, 9 * mm, outline.footer[1])
        canvas.drawRightString(A4[0] - MARGIN, 13 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)
