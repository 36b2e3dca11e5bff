"""User text in reportlab Paragraphs, always as text and never as markup.

A Paragraph reads a small HTML-like markup (``<b>``, ``<font>``, ``<a href>``, ``&amp;``...). An
organisation's name, an action or a prompt containing ``<`` or ``&`` would be read as markup:
at best a reportlab error, at worst a link or a font the writer never meant. Every piece of text
from a person goes through ``para``.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from audit_portal.questionnaires.pdf import BODY


def markup_escape(text: str) -> str:
    """``<``, ``>`` and ``&`` as entities; line breaks kept as line breaks."""
    return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(markup_escape(text), style)
