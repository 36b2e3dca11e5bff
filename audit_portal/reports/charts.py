"""Charts drawn once, as reportlab Drawings, for the page (as inline SVG) and the PDF (as is).

Readable without colour: every bar carries its numbers as text, the RAG segments always run
in the legend's order (green, amber, red, not rated) and each row spells out its counts in
words, so a greyscale print or a reader who cannot tell red from green loses nothing. On the
page the SVG is one image with a title and a description for assistive technology; the page
should still put the figures in a table beside it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.colors import Color
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth

from audit_portal.reports.figures import Share
from audit_portal.reports.suppression import Cell

Anchor = Literal["start", "middle", "end"]

FONT, BOLD = "Helvetica", "Helvetica-Bold"
LABEL_SIZE, TEXT_SIZE, BAR_TEXT_SIZE = 10.0, 9.0, 8.0
BAR_HEIGHT, GAP = 14.0, 4.0
WRAP_AT = 0.85  # of the width
MOST_LABEL_LINES = 5  # a longer label is cut short: the table below the chart has it whole
BLACK = colors.HexColor("#0b0c0c")
GREY_TEXT = colors.HexColor("#484949")
TRACK = colors.HexColor("#f3f2f1")
# Amber and grey are too light to stand out from a white page by 3:1 (WCAG 1.4.11): every
# segment and swatch is outlined in GOV.UK's dark grey, which does.
OUTLINE = colors.HexColor("#505a5f")
BLUE = colors.HexColor("#1d70b8")

# Red is hatched: in greyscale the dark green and the red are otherwise much the same grey.
HATCHED = colors.HexColor("#d4351c")
HATCH_INK = colors.HexColor("#942514")

# (label, fill, text colour on the fill), in the order the segments are drawn
RAG_SEGMENTS: tuple[tuple[str, Color, Color], ...] = (
    ("Green", colors.HexColor("#00703c"), colors.white),
    ("Amber", colors.HexColor("#f47738"), BLACK),
    ("Red", HATCHED, colors.white),
    ("Not rated", colors.HexColor("#b1b4b6"), BLACK),
)

# reportlab names its bold font "Helvetica-Bold"; a browser needs a family and a weight.
SVG_FONTS = {
    FONT: {"family": "Helvetica, Arial, sans-serif"},
    BOLD: {"family": "Helvetica, Arial, sans-serif", "weight": "bold"},
}

Count = int | Cell
RagRow = tuple[str, Count, Count, Count, Count]  # label, green, amber, red, not rated
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Chart:
    """One chart: the Drawing for a PDF story, and what the page needs to show it."""

    drawing: Drawing
    title: str
    description: str
    id_prefix: str

    @property
    def svg(self) -> str:
        return accessible_svg(self.drawing, self.title, self.description, self.id_prefix)


def accessible_svg(drawing: Drawing, title: str, description: str, id_prefix: str) -> str:
    """The drawing as an ``<svg>`` element to inline in HTML: role="img", labelled by its own
    title and description, every id prefixed so that several charts can share a page, and no
    XML declaration or DOCTYPE. Text is escaped by the XML serialiser, never by hand.
    """
    if not _ID.match(id_prefix):
        raise ValueError("an id prefix must start with a letter and use letters, digits, - or _")
    if not title.strip():
        raise ValueError("a chart needs a title: it is the image's accessible name")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    canvas = renderSVG.SVGCanvas(
        (drawing.width, drawing.height),
        useClip=True,  # no clipPath element, so no shared "#clip" id
        fontHacks={name: dict(style) for name, style in SVG_FONTS.items()},
        svgAttrs={"role": "img", "aria-labelledby": f"{title_id} {desc_id}", "class": "app-chart"},
    )
    # The stubs say a PDF Canvas; renderSVG.draw takes its own SVGCanvas.
    renderSVG.draw(drawing, canvas)  # type: ignore[arg-type]
    svg = canvas.svg
    for element in svg.getElementsByTagName("*"):
        if element.hasAttribute("id"):
            element.setAttribute("id", f"{id_prefix}-{element.getAttribute('id')}")
    for tag, text, node_id in (("title", title, title_id), ("desc", description, desc_id)):
        node = svg.getElementsByTagName(tag)[0]
        node.setAttribute("id", node_id)
        node.firstChild.data = text
    return str(svg.toxml())


@dataclass
class _Layout:
    """Shapes placed from the top down (``top`` is the cursor); the Drawing's height, and so
    each shape's distance from the bottom, is only known once everything is placed."""

    width: float
    top: float = 0.0
    shapes: list[Rect | String | Line] = field(default_factory=list)

    def text(
        self,
        x: float,
        text: str,
        size: float,
        *,
        baseline: float | None = None,  # below the cursor; default: one font size
        font: str = FONT,
        colour: Color = BLACK,
        anchor: Anchor = "start",
    ) -> None:
        y = -(self.top + (size if baseline is None else baseline))
        self.shapes.append(
            String(x, y, text, fontName=font, fontSize=size, fillColor=colour, textAnchor=anchor)
        )

    def rect(
        self,
        x: float,
        width: float,
        height: float,
        *,
        fill: Color,
        stroke: Color | None = None,
        stroke_width: float = 0.75,
    ) -> None:
        y = -(self.top + height)
        shape = Rect(x, y, width, height)
        shape.fillColor, shape.strokeColor, shape.strokeWidth = fill, stroke, stroke_width
        self.shapes.append(shape)
        if fill == HATCHED:
            self._hatch(x, width, height)

    def _hatch(self, x: float, width: float, height: float) -> None:
        """Diagonal lines across a box, so that it differs from its neighbours without colour."""
        offset = -height
        while offset < width:
            # the line (x + offset + t, top + height - t) for t in [0, height], kept in the box
            start, end = max(0.0, -offset), min(height, width - offset)
            if start < end:
                x1, x2 = x + offset + start, x + offset + end
                y1, y2 = -(self.top + height - start), -(self.top + height - end)
                self.shapes.append(Line(x1, y1, x2, y2, strokeColor=HATCH_INK, strokeWidth=1.2))
            offset += 4

    def wrapped(
        self,
        text: str,
        size: float,
        *,
        font: str = BOLD,
        colour: Color = BLACK,
        most_lines: int | None = None,
    ) -> None:
        """Lines of text across the chart, wrapped with room to spare for a browser whose
        fallback font is wider than Helvetica; beyond ``most_lines`` cut short with an ellipsis
        (a very long question would otherwise make a chart taller than a PDF page)."""
        room = self.width * WRAP_AT
        lines = simpleSplit(text, font, size, room) or [""]
        if most_lines is not None and len(lines) > most_lines:
            last = _cut_short(lines[most_lines - 1], font, size, room)
            lines = [*lines[: most_lines - 1], last]
        for line in lines:
            self.text(0, line, size, font=font, colour=colour)
            self.top += size * 1.25

    def drawing(self) -> Drawing:
        height = math.ceil(self.top)  # the SVG's viewBox and flip use whole units
        d = Drawing(self.width, height)
        for shape in self.shapes:
            if isinstance(shape, Line):
                shape.y1 += height
                shape.y2 += height
            else:
                shape.y += height
            d.add(shape)
        return d


def rag_distribution_chart(
    rows: Sequence[RagRow], *, title: str, description: str, id_prefix: str, width: float = 480
) -> Chart:
    """Stacked bars of green, amber, red and not rated counts, one bar per row (standard).

    A value may be a suppressed ``Cell``: that row's counts are printed ("fewer than 5") but its
    bar is not drawn, since bar lengths would show what the words hide.
    """
    layout = _Layout(width)
    _legend(layout)
    scale = max((sum(_value(v) for v in row[1:]) for row in rows if not _hidden(row)), default=0)
    for row in rows:
        label, *values = row
        layout.wrapped(label, LABEL_SIZE, most_lines=MOST_LABEL_LINES)
        layout.top += 1
        if not _hidden(row) and scale:
            _stacked_bar(layout, [_value(v) for v in values], width / scale)
            layout.top += BAR_HEIGHT + GAP
        words = ", ".join(
            f"{name if n == 0 else name.lower()} {_text(v)}"
            for n, ((name, _, _), v) in enumerate(zip(RAG_SEGMENTS, values, strict=True))
        )
        if _hidden(row):
            words += " (no bar: some numbers are too small to show)"
        layout.wrapped(words, TEXT_SIZE, font=FONT, colour=GREY_TEXT)
        layout.top += 2 * GAP
    return Chart(layout.drawing(), title, description, id_prefix)


def share_bar_chart(
    rows: Sequence[tuple[str, Share | str]],
    *,
    title: str,
    description: str,
    id_prefix: str,
    width: float = 480,
) -> Chart:
    """One bar per row on a 0 to 100% track, each labelled "80% (8 of 10)".

    A row may give text instead of a Share (e.g. "fewer than 5"): the text is shown, no bar.
    """
    text_room = 110.0
    track = width - text_room
    layout = _Layout(width)
    for label, share in rows:
        layout.wrapped(label, LABEL_SIZE, most_lines=MOST_LABEL_LINES)
        layout.top += 1
        fraction = share.fraction if isinstance(share, Share) else None
        if fraction is not None:  # no track at all when there is nothing to show a share of
            layout.rect(0, track, BAR_HEIGHT, fill=TRACK, stroke=OUTLINE)
        if fraction:
            layout.rect(0, float(track * fraction), BAR_HEIGHT, fill=BLUE)
        text = share.text if isinstance(share, Share) else share
        layout.text(track + 6, text, TEXT_SIZE, baseline=_middle(TEXT_SIZE))
        layout.top += BAR_HEIGHT + 2 * GAP
    return Chart(layout.drawing(), title, description, id_prefix)


def _cut_short(line: str, font: str, size: float, room: float) -> str:
    """The line with an ellipsis at its end, words dropped until both fit in ``room``."""
    while " " in line and stringWidth(line + "…", font, size) > room:
        line = line.rsplit(" ", 1)[0]
    return line + "…"


def _legend(layout: _Layout) -> None:
    """Swatches and names in the order of the segments, on as many lines as the width needs."""
    x = 0.0
    for name, fill, _ in RAG_SEGMENTS:
        entry = 14 + stringWidth(name, FONT, TEXT_SIZE)
        if x and x + entry > layout.width * WRAP_AT:
            x, layout.top = 0.0, layout.top + 10 + GAP
        layout.rect(x, 10, 10, fill=fill, stroke=OUTLINE)
        layout.text(x + 14, name, TEXT_SIZE, baseline=5 + 0.35 * TEXT_SIZE)
        x += entry + 16
    layout.top += 10 + 2 * GAP


def _stacked_bar(layout: _Layout, values: list[int], per_unit: float) -> None:
    x = 0.0
    for value, (_, fill, ink) in zip(values, RAG_SEGMENTS, strict=True):
        w = value * per_unit
        if not w:
            continue
        layout.rect(x, w, BAR_HEIGHT, fill=fill, stroke=OUTLINE, stroke_width=1)
        label = str(value)
        if stringWidth(label, BOLD, BAR_TEXT_SIZE) + 4 <= w:
            layout.text(
                x + w / 2,
                label,
                BAR_TEXT_SIZE,
                baseline=_middle(BAR_TEXT_SIZE),
                font=BOLD,
                colour=ink,
                anchor="middle",
            )
        x += w


def _middle(size: float) -> float:
    """The baseline that centres text of this size on a bar (capitals are ~0.7 of the size)."""
    return BAR_HEIGHT / 2 + 0.35 * size


def _hidden(row: RagRow) -> bool:
    return any(isinstance(v, Cell) and v.suppressed for v in row[1:])


def _value(v: Count) -> int:
    if isinstance(v, Cell):
        return v.value or 0
    return v


def _text(v: Count) -> str:
    return v.text if isinstance(v, Cell) else str(v)
