"""The scrutineer's pack: a campaign report as a PDF, made from the same ``CampaignReport``.

Every figure is printed from the report object's own text (``Share.text``, ``Cell.text``,
``SuppressedTable.text``), never worked out again here, so the pack and the page cannot
disagree and small numbers are hidden identically. Charts are the page's reportlab Drawings,
drawn as vectors. Text from people (organisation and campaign names, districts, who drew a
sample) is escaped before reportlab's paragraph markup sees it, and every page's footer names
the questionnaire key, version and content hash.

Plain data in, bytes out: no database, no HTTP. It is laid out once: the contents' page numbers
are written last (``_PackCanvas``), and every table's rows are measured once. A pack of a
national campaign (25,000 organisations, 100 items, about 70 pages) takes about as long as the
same pages written straight in reportlab (``bench/pack.py``): half a second of one core.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from audit_portal.pdf import BODY, GRID, H1, H2, H3, MARGIN, SMALL, para
from audit_portal.reports.campaign_report import FILTER_LABELS, CampaignReport
from audit_portal.reports.charts import Chart
from audit_portal.reports.dip_sample_report import ChallengeTable

CELL = ParagraphStyle("pack-cell", parent=SMALL, textColor=BODY.textColor)
NUMBER = ParagraphStyle("pack-number", parent=CELL, alignment=TA_RIGHT)
HEAD = ParagraphStyle("pack-head", parent=CELL, fontName="Helvetica-Bold")
HEAD_NUMBER = ParagraphStyle("pack-head-number", parent=HEAD, alignment=TA_RIGHT)
TOC_LEVELS = (
    ParagraphStyle("pack-toc", parent=BODY, spaceBefore=0, spaceAfter=0),
    ParagraphStyle("pack-toc-2", parent=BODY, spaceBefore=0, spaceAfter=0, leftIndent=12),
)
FOOTER_GREY = "#484949"
BOTTOM_MARGIN = 22 * mm
CHART_ROOM = 0.9  # of the frame's height: a chart or table row taller is drawn in parts
FRAME_WIDTH = A4[0] - 2 * MARGIN
PADDING = 4.0  # each side of a table cell
FRAME_HEIGHT = A4[1] - MARGIN - BOTTOM_MARGIN
PAGE_NUMBER_ROOM = 15 * mm  # the contents' column of page numbers


@dataclass(frozen=True)
class PackFacts:
    """What the pack says that the report object does not: who it is for and when it was made."""

    partnership: str
    generated_on: date


def scrutineer_pack(report: CampaignReport, facts: PackFacts) -> bytes:
    """The pack as PDF bytes, in one build. The contents come before the pages they list, so
    each of their page numbers is a PDF form drawn there by name and written once the build has
    placed every heading (reportlab's own contents would build the document three times)."""
    buffer = io.BytesIO()
    story = _story(report, facts)
    document = _PackDocument(buffer, report, facts)
    numbers = partial(_page_numbers, [key for _, _, key in story.entries], document.pages)
    document.build(story.parts, canvasmaker=partial(_PackCanvas, page_numbers=numbers))
    return buffer.getvalue()


def footer_text(report: CampaignReport) -> tuple[str, str]:
    """The two footer lines: the questionnaire and campaign, then the content hash."""
    return (
        f"{report.questionnaire_key} version {report.questionnaire_version} - {report.title}"[:110],
        f"Content hash {report.content_hash}",
    )


# --- the document ----------------------------------------------------------------------------


class _Heading(Paragraph):
    """A heading that goes in the contents and the PDF's outline."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str) -> None:
        super().__init__(escape(text), style)
        self.toc_text, self.toc_level, self.toc_key = text, level, key


class _PackDocument(BaseDocTemplate):
    def __init__(self, buffer: io.BytesIO, report: CampaignReport, facts: PackFacts) -> None:
        self.pages: dict[str, int] = {}  # heading key -> page, filled in as they are placed
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=BOTTOM_MARGIN,
            title=f"Scrutineer's pack: {report.title}",
            author=facts.partnership,
            subject="Safeguarding audit campaign report",
        )
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        lines = footer_text(report)
        self.addPageTemplates([PageTemplate("page", frames=[frame], onPage=_footer(lines))])

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _Heading):
            self.canv.bookmarkPage(flowable.toc_key)
            self.canv.addOutlineEntry(flowable.toc_text, flowable.toc_key, level=flowable.toc_level)
            self.pages[flowable.toc_key] = self.page


class _PackCanvas(Canvas):
    """The pack's canvas: just before the file is written, it writes the contents' page numbers,
    one form for each heading (``_PageNumber`` draws them by name on the contents page)."""

    def __init__(
        self, *args: Any, page_numbers: Callable[[], Mapping[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._page_numbers = page_numbers

    def save(self) -> None:
        for key, number in self._page_numbers().items():
            room, below = math.ceil(PAGE_NUMBER_ROOM), math.ceil(NUMBER.leading)
            self.beginForm(_form_name(key), lowerx=-room, lowery=-below)
            self.setFont(NUMBER.fontName, NUMBER.fontSize)
            self.setFillColor(NUMBER.textColor)
            self.drawRightString(0, 0, number)
            self.endForm()
        super().save()


class _PageNumber(Flowable):
    """A heading's page in the contents, on the right of its cell: a form named after the
    heading, drawn before the page is known and written by ``_PackCanvas`` at the end."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, NUMBER.leading

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.translate(self.width, NUMBER.leading - NUMBER.fontSize)
        self.canv.doForm(_form_name(self.key))
        self.canv.restoreState()


def _form_name(key: str) -> str:
    return f"page-of-{key}"


def _page_numbers(keys: Sequence[str], pages: Mapping[str, int]) -> dict[str, str]:
    return {key: str(pages.get(key, "")) for key in keys}


def _footer(lines: tuple[str, str]) -> Callable[[Any, Any], None]:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(FOOTER_GREY)
        canvas.drawString(MARGIN, 13 * mm, lines[0])
        canvas.drawString(MARGIN, 9 * mm, lines[1])
        canvas.drawRightString(A4[0] - MARGIN, 13 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


# --- the story -------------------------------------------------------------------------------


class _Story:
    """The flowables, with numbered headings for the contents."""

    def __init__(self) -> None:
        self.parts: list[Flowable] = []
        self.entries: list[tuple[int, str, str]] = []  # level, text, key
        self._keys = 0

    def heading(self, text: str, level: int = 0) -> None:
        self._keys += 1
        self.entries.append((level, text, f"part-{self._keys}"))
        style = H2 if level == 0 else H3
        if level == 0:
            self.parts.append(CondPageBreak(60 * mm))
        self.parts.append(_Heading(text, style, level, f"part-{self._keys}"))

    def add(self, *flowables: Flowable | list[Flowable]) -> None:
        for part in flowables:
            self.parts.extend(part if isinstance(part, list) else [part])

    def text(self, text: str, style: ParagraphStyle = BODY) -> None:
        self.parts.append(para(text, style))


def _story(report: CampaignReport, facts: PackFacts) -> _Story:
    story = _Story()
    _cover(story, report, facts)
    contents = len(story.parts) - 1  # the place held for the contents
    _key_figures(story, report)
    _response(story, report)
    if not report.empty:
        _ratings(story, report)
        _standards(story, report)
        _ranked(story, report)
    _year_on_year(story, report)
    _follow_ups(story, report)
    _dip_samples(story, report)
    if report.footnotes:
        story.heading("Small numbers")
        for note in report.footnotes:
            story.text(note, SMALL)
    _methodology(story, report)
    story.parts[contents : contents + 1] = [_contents(story.entries), PageBreak()]
    return story


def _filters_text(report: CampaignReport) -> str:
    applied = [
        f"{label}: {getattr(report.filters, name)}"
        for name, label in FILTER_LABELS.items()
        if getattr(report.filters, name)
    ]
    if not applied:
        return "Showing every invited organisation."
    return f"Showing organisations with {', '.join(applied)}."


def _cover(story: _Story, report: CampaignReport, facts: PackFacts) -> None:
    story.text(facts.partnership, SMALL)
    story.add(Spacer(0, 30 * mm))
    story.text("Scrutineer's pack", H3)
    story.text(report.title, H1)
    story.text(
        f"Questionnaire {report.questionnaire_key} version {report.questionnaire_version}. "
        f"Open {_long(report.opens_on)} to {_long(report.closes_on)}."
    )
    story.text(_filters_text(report))
    story.text(
        "Figures from submitted returns only: each organisation's latest submitted or accepted "
        "return counts once. Drafts never count. Every percentage gives the numbers it is made "
        "from."
    )
    story.text(f"Prepared on {_long(facts.generated_on)}.", SMALL)
    story.add(PageBreak(), para("Contents", H2), Spacer(0, 0))


def _contents(entries: Sequence[tuple[int, str, str]]) -> Table:
    """Every heading and its page."""
    rows = [
        [para(text, TOC_LEVELS[min(level, 1)]), _PageNumber(key)] for level, text, key in entries
    ]
    table = Table(rows, colWidths=[None, PAGE_NUMBER_ROOM], splitInRow=1)
    table.setStyle(
        TableStyle(
            [("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]
        )
    )
    return table


def _key_figures(story: _Story, report: CampaignReport) -> None:
    r = report.response
    story.heading("Key figures")
    story.text(_filters_text(report))
    rows = [
        ("Invited", str(r.overall.invited)),
        ("Started", r.overall.started.text),
        ("Submitted (returned)", r.overall.submitted.text),
        ("Accepted", r.overall.accepted.text),
        (
            "Against the previous campaign",
            r.comparison + (f" ({r.previous_title})" if r.previous_title else ""),
        ),
    ]
    if not report.empty:
        overall = report.rag_overall
        rows += [(f"All answers rated {c.lower()}", overall[c].text) for c in overall]
    if report.follow_ups.total:
        rows.append(("Follow-ups completed (accepted)", report.follow_ups.completed.text))
    ds = report.dip_samples
    if not ds.empty:
        rows.append(("Items challenged in dip samples", str(ds.challenged)))
        rows.append(("Of those, reviewed by quality assurance", str(ds.reviewed)))
    story.add(_label_table(rows))
    if report.empty:
        story.text(
            "No returns have been submitted yet, so there are no ratings to report. Figures "
            "appear as soon as the first return is submitted."
        )


def _response(story: _Story, report: CampaignReport) -> None:
    r = report.response
    story.heading("Response")
    for name, table in r.by.items():
        if not table.rows:
            continue
        header = [name.capitalize(), "Invited", *table.columns]
        body = [
            [group, str((table.row_totals or {})[group])]
            + [table.text(group, stage, "row") for stage in table.columns]
            for group in table.rows
        ]
        story.add(_caption(f"Response by {name}"), _grid(header, body, first=40 * mm))
    if r.not_returning:
        story.heading(f"Invited but not returning: {len(r.not_returning)}", 1)
        for _, name, stage in r.not_returning:
            story.text(f"{name}: {stage.lower()}", SMALL)


def _ratings(story: _Story, report: CampaignReport) -> None:
    story.heading("Ratings by standard")
    story.text(
        "Counts of answers (one for each organisation and item). Not applicable answers are "
        "counted separately and left out of the totals rated."
    )
    ids = [section_id for section_id, _ in report.standards]
    story.add(*_charts(lambda only: report.rag_chart("rag", only), ids))
    rag = report.rag
    header = ["Standard", *rag.columns, "Rated", "Not applicable"]
    body = [
        [title]
        + [rag.text(section_id, c, "row") for c in rag.columns]
        + [
            str((rag.row_totals or {})[section_id]),
            str(report.rag_not_applicable.get(section_id, 0)),
        ]
        for section_id, title in report.standards
    ]
    if rag.column_totals:
        body.append(
            ["All standards"]
            + [report.rag_overall[c].text for c in rag.columns]
            + [
                str(sum(rag.column_totals.values())),
                str(sum(report.rag_not_applicable.values())),
            ]
        )
    story.add(_caption("Ratings by standard"), _grid(header, body, first=55 * mm))


def _standards(story: _Story, report: CampaignReport) -> None:
    story.heading("Each standard and its items")
    story.text(
        "The share of organisations at each rating, of those that rated the item. "
        "Organisations that answered “not applicable” are left out of the denominator; their "
        "number is given in its own column."
    )
    header = ["Item", *(label for _, label in report.scale)]
    header += ["Rated effective", "Rated", "Not applicable"]
    for number, (section_id, title) in enumerate(report.standards, start=1):
        rows = [r for r in report.item_rows if r.section_id == section_id]
        if not rows:
            continue
        story.heading(f"Standard {number}: {title}", 1)
        ids = [r.item_id for r in rows]
        story.add(
            *_charts(
                lambda only: report.effective_chart("effective", only),
                ids,
            )
        )
        body: list[list[Any]] = [
            [[para(row.item_id, HEAD), para(row.prompt, CELL)]]
            + [report.share_at(row.item_id, value) for value, _ in report.scale]
            + [row.effective.text, str(row.rated), str(row.not_applicable)]
            for row in rows
        ]
        story.add(_caption(f"Ratings of each item: {title}"), _grid(header, body, first=60 * mm))


def _ranked(story: _Story, report: CampaignReport) -> None:
    for heading, rows, what in (
        ("Common weaknesses", report.weaknesses, "Rated less than effective"),
        ("Strengths", report.strengths, "Rated effective"),
    ):
        story.heading(heading)
        if not rows:
            story.text(f"No item was {what.lower()} by any organisation.")
            continue
        body: list[list[Any]] = [
            [str(r.rank), [para(r.item.item_id, HEAD), para(r.item.prompt, CELL)], r.share.text]
            for r in rows
        ]
        story.add(
            _caption(f"{heading}: items by the share {what.lower()}"),
            _grid(["Rank", "Item", what], body, widths=[14 * mm, None, 40 * mm], text_columns=(1,)),
        )


def _year_on_year(story: _Story, report: CampaignReport) -> None:
    story.heading("Year on year")
    y = report.year_on_year
    if y is None:
        story.text("There is no earlier campaign of this questionnaire to compare with.")
        return
    if y.problem:
        story.text(f"Against {y.previous_title}: {y.problem}")
        return
    story.text(
        f"The change in the share rated effective since {y.previous_title} (version "
        f"{y.previous_version}), in percentage points, for every item asked in both."
        + (
            " The rating scale changed between the versions: read the changes with care."
            if y.scale_changed
            else ""
        )
    )
    body: list[list[Any]] = [
        [
            [
                para(
                    c.item_id + (f" (reworded; was {c.previous_item_id})" if c.reworded else ""),
                    HEAD,
                ),
                para(c.prompt, CELL),
            ],
            c.current.text,
            c.previous.text,
            c.change,
        ]
        for c in y.compared
    ]
    story.add(
        _caption(f"Rated effective, this campaign against {y.previous_title}"),
        _grid(
            ["Item", "Now", "Before", "Change"],
            body,
            widths=[None, 32 * mm, 32 * mm, 38 * mm],
            text_columns=(0, 3),
        ),
    )
    for heading, listed in (("New items", y.new), ("Removed items", y.removed)):
        if listed:
            story.heading(heading, 1)
            for item_id, prompt in listed:
                story.text(f"{item_id}: {prompt}", SMALL)
    for heading, moved, verb in (
        ("Split items", y.split, "split from"),
        ("Merged items", y.merged, "merged from"),
    ):
        if moved:
            story.heading(heading, 1)
            for item_id, prompt, sources in moved:
                story.text(f"{item_id}: {prompt} ({verb} {', '.join(sources)})", SMALL)


def _follow_ups(story: _Story, report: CampaignReport) -> None:
    story.heading("Six-month follow-ups")
    f = report.follow_ups
    if not f.total:
        story.text("No follow-ups yet.")
        return
    story.text(f"Completed (accepted): {f.completed.text}.")
    for table, caption in (
        (f.statuses, "Follow-ups by status"),
        (f.movement, "How ratings moved, from the return to the latest follow-up (actions)"),
    ):
        header = [*table.columns, "Total"]
        body = [
            [table.text("All", c) for c in table.columns] + [str((table.row_totals or {})["All"])]
        ]
        story.add(_caption(caption), _grid(header, body, text_columns=()))


def _dip_samples(story: _Story, report: CampaignReport) -> None:
    story.heading("Dip samples and evidence challenges")
    ds = report.dip_samples
    if ds.empty:
        story.text("No evidence challenges have been issued yet.")
        return
    story.text(
        f"{ds.challenged} item{'s' if ds.challenged != 1 else ''} challenged at "
        f"{ds.organisations} organisation{'s' if ds.organisations != 1 else ''}: "
        f"{ds.reviewed} reviewed by quality assurance, {ds.awaiting_review} awaiting review. "
        "Shares are of the items reviewed."
    )
    if not ds.reviewed:
        return
    for table in ds.outcomes:
        story.add(_caption(table.caption), _challenge_grid(table, with_mean=False))
    story.heading("Self-rating against moderated rating", 1)
    story.text(
        "For each reviewed item, whether quality assurance's moderated rating is lower than, "
        "the same as or higher than the organisation's own rating, and the average difference "
        "in steps of the rating scale."
        + (
            f" {ds.not_compared} reviewed item{'s' if ds.not_compared != 1 else ''} could not "
            "be compared (not rated by the organisation)."
            if ds.not_compared
            else ""
        )
    )
    for table in ds.gaps:
        if table.rows:
            story.add(_caption(table.caption), _challenge_grid(table, with_mean=True))


def _challenge_grid(table: ChallengeTable, *, with_mean: bool) -> Flowable:
    header = [table.group_heading, *table.columns, table.total_heading]
    header += ["Average difference"] if with_mean else []
    body: list[list[Any]] = []
    for key in table.rows:
        row: list[Any] = [table.labels[key]]
        row += [table.text(key, c) for c in table.columns]
        row.append(str((table.table.row_totals or {})[key]))
        body.append(row + ([table.means[key]] if with_mean else []))
    if len(table.rows) > 1:
        row = ["All", *(table.overall_text(c) for c in table.columns), str(table.total)]
        body.append(row + ([table.overall_mean] if with_mean else []))
    text = (0, len(header) - 1) if with_mean else (0,)
    return _grid(header, body, first=45 * mm, text_columns=text)


def _methodology(story: _Story, report: CampaignReport) -> None:
    story.add(PageBreak())
    story.heading("Methodology")
    rows = [
        (
            "Questionnaire",
            f"{report.questionnaire_key} version {report.questionnaire_version}",
        ),
        ("Content hash", report.content_hash),
        (
            "Campaign dates",
            f"{_long(report.opens_on)} to {_long(report.closes_on)}",
        ),
        ("Invited", report.invitation),
        ("Figures shown", _filters_text(report)),
        (
            "What counts",
            "Each organisation's latest submitted or accepted return counts once; drafts never "
            "count. Not applicable answers are left out of every denominator.",
        ),
        ("Small numbers", report.suppression_rule),
    ]
    if not report.samples:
        rows.append(("Dip samples", "None drawn yet"))
    story.add(_label_table(rows))
    for number, sample in enumerate(report.samples, start=1):
        story.heading(f"Dip sample {number}", 1)
        story.text(
            f"Drawn on {_long(sample.chosen_on)}"
            + (f" by {sample.chosen_by}" if sample.chosen_by else "")
            + f"; {sample.in_sample} return{'s' if sample.in_sample != 1 else ''} in the sample."
        )
        story.add(_label_table(sample.parameters))


# --- building blocks -------------------------------------------------------------------------


def _charts(draw: Callable[[list[str]], Chart], ids: Sequence[str]) -> list[Flowable]:
    """The chart of ``ids``, in as many parts as it takes for each to fit on a page."""
    if not ids:
        return []
    drawing: Drawing = draw(list(ids)).drawing
    if drawing.height <= FRAME_HEIGHT * CHART_ROOM or len(ids) == 1:
        return [Spacer(0, 2 * mm), drawing, Spacer(0, 3 * mm)]
    half = len(ids) // 2
    return _charts(draw, ids[:half]) + _charts(draw, ids[half:])


def _unsplit_rows(
    data: list[list[Any]], widths: Sequence[float | None], style: TableStyle
) -> Table:
    """A table that breaks between rows, so a row is read whole; only when a row is taller
    than a page (a very long question) may rows split across pages.

    The rows are measured here, styled and at the pack's full width, and the table is given
    those widths and heights, so laying it out does not measure every cell again.
    """
    table = Table(data, colWidths=widths, repeatRows=1, style=style)
    table.wrap(FRAME_WIDTH, FRAME_HEIGHT)
    heights = list(getattr(table, "_rowHeights", None) or [])  # set by wrap
    if not heights or max(heights) > FRAME_HEIGHT * CHART_ROOM:
        return Table(data, colWidths=widths, repeatRows=1, splitInRow=1, style=style)
    measured = getattr(table, "_colWidths", None) or widths  # None columns resolved by wrap
    return Table(data, colWidths=measured, rowHeights=heights, repeatRows=1, style=style)


def _long(day: date) -> str:
    """5 January 2026, as the pages write dates."""
    return f"{day.day} {day:%B %Y}"


def _caption(text: str) -> list[Flowable]:
    """A table's caption, never alone at the foot of a page."""
    return [CondPageBreak(35 * mm), para(text, H3)]


def _label_table(rows: Iterable[tuple[str, str]]) -> Table:
    data = [[para(label, HEAD), para(value, CELL)] for label, value in rows]
    style: list[Any] = [
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    return _unsplit_rows(data, [50 * mm, None], TableStyle(style))


def _grid(
    header: Sequence[str],
    body: Sequence[Sequence[Any]],
    *,
    first: float | None = None,
    widths: Sequence[float | None] | None = None,
    text_columns: Collection[int] = (0,),
) -> Flowable:
    """A table of figures: ``text_columns`` on the left, every other column a number (on the
    right). A short table is kept on one page.

    A figure that fits its column is drawn as a plain string (reportlab never reads a plain
    cell as markup), which lays out many times faster than a paragraph; a longer one wraps.
    """
    given = list(widths) if widths else [first, *([None] * (len(header) - 1))]
    free = FRAME_WIDTH - sum(w for w in given if w is not None)
    share = free / max(1, sum(w is None for w in given))
    resolved = [share if w is None else w for w in given]

    def cell(value: Any, n: int) -> Any:
        if not isinstance(value, str):
            return value
        if n in text_columns:
            return para(value, CELL)
        fits = stringWidth(value, CELL.fontName, CELL.fontSize) <= resolved[n] - 2 * PADDING
        return value if fits else para(value, NUMBER)

    data: list[list[Any]] = [
        [para(h, HEAD if n in text_columns else HEAD_NUMBER) for n, h in enumerate(header)]
    ]
    data += [[cell(v, n) for n, v in enumerate(row)] for row in body]
    style: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), "#f3f2f1"),
        ("FONTNAME", (0, 1), (-1, -1), CELL.fontName),
        ("FONTSIZE", (0, 1), (-1, -1), CELL.fontSize),
        ("TEXTCOLOR", (0, 1), (-1, -1), CELL.textColor),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
    ]
    style += [("ALIGN", (n, 1), (n, -1), "RIGHT") for n in range(len(header))]
    style += [("ALIGN", (n, 1), (n, -1), "LEFT") for n in text_columns]
    table = _unsplit_rows(data, list(resolved), TableStyle(style))
    return KeepTogether([Spacer(0, 1 * mm), table]) if len(data) <= 4 else table
