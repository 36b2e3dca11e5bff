"""Does an accepted file actually contain anything? A hint for the QA sub-group.

An organisation challenged to evidence a claim may upload an empty document, a blank page or a
scan with no text, by mistake or otherwise. We do not refuse these (a scan can be good
evidence) but tell the reviewer what we noticed, so they know to open the file. Files are
hostile input: anything we cannot read gives a reason, never an exception.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from audit_portal.evidence.containers import (
    ZIP_ERRORS,
    DamagedZip,
    UnsafeZip,
    ZipLimits,
    open_zip,
)
from audit_portal.evidence.filetypes import Detected, ooxml_main_part

MAX_PDF_PAGES = 50  # enough to tell a document from a scan without reading a whole book
TEXT_CHUNK = 1024 * 1024
UNREADABLE = "The file could not be read: it may be damaged"
_W_TEXT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"
_ODF_BODY = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}body"
_DOCUMENTS = {"docx", "odt"}
_NOUNS = {"docx": "Word document", "odt": "OpenDocument text document"}
_READ_ERRORS: tuple[type[Exception], ...] = (DamagedZip, UnsafeZip, PyPdfError, *ZIP_ERRORS)
log = logging.getLogger(__name__)


def placeholder_reason(
    path: Path, detected: Detected, *, zip_limits: ZipLimits | None = None
) -> str | None:
    """A short reason for QA when the file looks like a placeholder, or None.

    `detected` is what ``detect`` said about the same file. Images, spreadsheets and
    presentations are only checked for being empty.
    """
    try:
        if path.stat().st_size == 0:
            return "The file is empty (0 bytes)"
        if detected.kind == "pdf":
            return _pdf_reason(path)
        if detected.kind in _DOCUMENTS:
            return _document_reason(path, detected.kind, zip_limits or ZipLimits())
        if detected.kind == "text":
            return _text_reason(path)
    except _READ_ERRORS as error:
        log.info("evidence file could not be read: %s: %s", type(error).__name__, error)
        return UNREADABLE
    return None


def _pdf_reason(path: Path) -> str | None:
    """Stop at the first page with any text; pypdf may raise almost anything on bad input."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            return "The PDF is protected by a password, so it could not be read"
        pages = reader.pages
        count = len(pages)
        for index in range(min(count, MAX_PDF_PAGES)):
            if pages[index].extract_text().strip():
                return None
    except Exception as error:  # a damaged PDF can raise any exception type from the parser
        log.info("PDF could not be read: %s: %s", type(error).__name__, error)
        return UNREADABLE
    if count == 0:
        return "The PDF has no pages"
    if count > MAX_PDF_PAGES:
        return f"The PDF has no text in its first {MAX_PDF_PAGES} pages: it may be a scan"
    return "The PDF has no text in it: it may be a scan or an empty page"


def _document_reason(path: Path, kind: str, limits: ZipLimits) -> str | None:
    with open_zip(path, limits) as archive:
        member = ooxml_main_part(archive)[1] if kind == "docx" else "content.xml"
        try:
            with archive.open(member) as part:
                has_text = _docx_has_text(part) if kind == "docx" else _odt_has_text(part)
        except (KeyError, ParseError, DefusedXmlException):
            return UNREADABLE
    return None if has_text else f"The {_NOUNS[kind]} has no text in it"


def _docx_has_text(part: IO[bytes]) -> bool:
    """Any non-blank <w:t> run in the main part (body, tables and text boxes)."""
    for _, element in iterparse(part, events=("end",), forbid_dtd=True):
        if element.tag == _W_TEXT and (element.text or "").strip():
            return True
        element.clear()
    return False


def _odt_has_text(part: IO[bytes]) -> bool:
    """Any non-blank text inside <office:body> (paragraphs, headings, lists, tables).

    Text after a child element is that child's `tail`, which the parser may attach before or
    after it reports the child's end; so at each end we look at the element's text, its own
    tail and its children's tails, before clearing it to keep memory flat.
    """
    depth = 0
    for event, element in iterparse(part, events=("start", "end"), forbid_dtd=True):
        if element.tag == _ODF_BODY:
            depth += 1 if event == "start" else -1
        if event == "end":
            if depth and _has_text(element):
                return True
            element.clear()
    return False


def _has_text(element: Element) -> bool:
    texts = [element.text, element.tail, *(child.tail for child in element)]
    return any(text and text.strip() for text in texts)


def _text_reason(path: Path) -> str | None:
    with path.open("rb") as file:
        while chunk := file.read(TEXT_CHUNK):
            if chunk.decode("utf-8", "replace").strip():
                return None
    return "The text file contains only spaces and blank lines"
