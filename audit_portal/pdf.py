"""What every PDF the portal writes shares: the A4 page, the styles, safe text and the footer.

The blank questionnaire, the organisation's summary and the scrutineer's pack all build on this,
so they look like one service, and text people typed is always escaped before reportlab's
paragraph mini-markup sees it (``<b>`` typed in a narrative prints as ``<b>``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate

_SAMPLE = getSampleStyleSheet()
BODY = ParagraphStyle(
    "body", parent=_SAMPLE["BodyText"], fontName="Helvetica", fontSize=10, leading=13
)
SMALL = ParagraphStyle(
    "small", parent=BODY, fontSize=8.5, leading=11, textColor=colors.HexColor("#484949")
)
PROMPT = ParagraphStyle("prompt", parent=BODY, fontName="Helvetica-Bold", fontSize=10.5, leading=14)
H1 = ParagraphStyle(
    "h1", parent=_SAMPLE["Heading1"], fontName="Helvetica-Bold", fontSize=20, leading=24
)
H2 = ParagraphStyle(
    "h2", parent=_SAMPLE["Heading2"], fontName="Helvetica-Bold", fontSize=14, leading=18
)
H3 = ParagraphStyle(
    "h3", parent=_SAMPLE["Heading3"], fontName="Helvetica-Bold", fontSize=11.5, leading=15
)
RAG_FILL = {"green": "#cce2d8", "amber": "#fcd6c3", "red": "#f4cdc6"}
GRID = colors.HexColor("#b1b4b6")
MARGIN = 18 * mm


def markup_escape(text: str) -> str:
    """``<``, ``>`` and ``&`` as entities; line breaks kept as line breaks."""
    return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text: escaped, with its line breaks kept, never read as markup."""
    return Paragraph(markup_escape(text), style)


def paragraphs(text: str, style: ParagraphStyle = BODY) -> list[Paragraph]:
    """Blank-line-separated paragraphs of plain text, each with its spaces tidied."""
    return [para(" ".join(part.split()), style) for part in text.split("\n\n") if part.strip()]


def a4_document(
    buffer: io.BytesIO, *, title: str, author: str, subject: str = ""
) -> SimpleDocTemplate:
    """The portal's page: A4 with margins that print well and room for a footer."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=20 * mm,
        title=title,
        author=author,
        subject=subject,
    )


def footer(text: str) -> Callable[[Any, Any], None]:
    """A page callback drawing ``text`` on the left and the page number on the right."""

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#484949"))
        canvas.drawString(MARGIN, 10 * mm, text[:150])
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw
