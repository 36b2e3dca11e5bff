"""Small but real files for the evidence tests, built here so nothing binary is checked in.

Each builder returns bytes. Office files are zip containers with the minimum parts their
formats need; the PNG and JPEG are tiny valid images assembled by hand (no imaging library).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
POWERPOINT_MAIN = (
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
)
ODT_MIME = "application/vnd.oasis.opendocument.text"


def pdf_with_text(text: str = "Safeguarding training register 2026") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def pdf_without_text() -> bytes:
    """A valid PDF whose only page has a drawn rectangle and no text (like a blank scan)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.rect(72, 72, 200, 100, fill=1)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _content_types(overrides: dict[str, str]) -> str:
    parts = "".join(
        f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Types xmlns="{CONTENT_TYPES_NS}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{parts}</Types>"
    )


def _root_rels(target: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{RELS_NS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_DOC_REL}" Target="{target}"/>'
        "</Relationships>"
    )


def _zip(members: list[tuple[str, bytes | str]], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(members):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def word_document_xml(*paragraphs: str) -> str:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}<w:sectPr/></w:body></w:document>'
    )


def docx(
    *paragraphs: str,
    main_type: str = WORD_MAIN,
    part: str = "word/document.xml",
    body: str | None = None,
    extra: list[tuple[str, bytes | str]] | None = None,
) -> bytes:
    """A Word document; no paragraphs gives an empty body (a placeholder).

    `part` names the main part (Word Online writes word/document2.xml); `body` replaces its
    XML outright (for damaged or hostile documents).
    """
    return _zip(
        [
            ("[Content_Types].xml", _content_types({f"/{part}": main_type})),
            ("_rels/.rels", _root_rels(part)),
            (part, word_document_xml(*paragraphs) if body is None else body),
            *(extra or []),
        ]
    )


def office_zip(members: list[tuple[str, bytes | str]]) -> bytes:
    """Any zip, for containers that are damaged or not what they claim."""
    return _zip(members)


def content_types(overrides: dict[str, str]) -> str:
    return _content_types(overrides)


def xlsx() -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    return _zip(
        [
            (
                "[Content_Types].xml",
                _content_types(
                    {"/xl/workbook.xml": EXCEL_MAIN, "/xl/worksheets/sheet1.xml": sheet_type}
                ),
            ),
            ("_rels/.rels", _root_rels("xl/workbook.xml")),
            (
                "xl/workbook.xml",
                f'<workbook xmlns="{ns}" xmlns:r="{rel_ns}"><sheets>'
                '<sheet name="Training" sheetId="1" r:id="rId1"/></sheets></workbook>',
            ),
            (
                "xl/_rels/workbook.xml.rels",
                f'<Relationships xmlns="{RELS_NS}"><Relationship Id="rId1" '
                f'Type="{rel_ns}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
            ),
            (
                "xl/worksheets/sheet1.xml",
                f'<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
                "<is><t>Staff trained</t></is></c></row></sheetData></worksheet>",
            ),
        ]
    )


def pptx() -> bytes:
    ns = "http://schemas.openxmlformats.org/presentationml/2006/main"
    return _zip(
        [
            ("[Content_Types].xml", _content_types({"/ppt/presentation.xml": POWERPOINT_MAIN})),
            ("_rels/.rels", _root_rels("ppt/presentation.xml")),
            ("ppt/presentation.xml", f'<p:presentation xmlns:p="{ns}"/>'),
        ]
    )


def odt(
    text: str = "Designated safeguarding lead: annual report",
    *,
    paragraphs: str | None = None,
    mimetype: str = ODT_MIME,
    extra: list[tuple[str, bytes | str]] | None = None,
) -> bytes:
    """An OpenDocument text; `paragraphs` replaces the body's XML (e.g. spans and tails)."""
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    if paragraphs is None:
        paragraphs = f"<text:p>{text}</text:p>" if text else "<text:p/>"
    manifest_ns = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    return _zip(
        [
            ("mimetype", mimetype),
            (
                "META-INF/manifest.xml",
                f'<manifest:manifest xmlns:manifest="{manifest_ns}">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" '
                'manifest:media-type="text/xml"/></manifest:manifest>',
            ),
            (
                "content.xml",
                f'<office:document-content xmlns:office="{office}" xmlns:text="{text_ns}">'
                f"<office:body><office:text>{paragraphs}</office:text></office:body>"
                "</office:document-content>",
            ),
            *(extra or []),
        ],
        stored_first=True,
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2) -> bytes:
    """An 8-bit greyscale PNG, every row a filter byte then white pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A 1x1 greyscale baseline JPEG: one 8x8 block whose coefficients are all zero.

    Two one-symbol Huffman tables (DC category 0 and AC end-of-block, each the 1-bit code 0)
    make the entropy-coded data the bits 0 0 padded with ones: 0x3F.
    """
    quant = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    one_code = b"\x01" + b"\x00" * 15  # one code of length 1
    huffman_dc = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + one_code + b"\x00"
    huffman_ac = b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + one_code + b"\x00"
    scan = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + quant + frame + huffman_dc + huffman_ac + scan + b"\x3f\xff\xd9"


def program_bytes() -> bytes:
    """The first kilobyte of a real executable."""
    return Path("/bin/true").read_bytes()[:1024]


def zip_bomb_docx(directory: Path, megabytes: int = 50) -> Path:
    """A Word document with an extra member of `megabytes` of zeros, deflated to a sliver.

    Written member by member in `directory` so the test never holds the zeros in one string.
    """
    path = directory / "bomb.docx"
    chunk = b"\x00" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types({"/word/document.xml": WORD_MAIN}))
        archive.writestr("_rels/.rels", _root_rels("word/document.xml"))
        archive.writestr("word/document.xml", word_document_xml("Looks harmless"))
        with archive.open("word/media/padding.bin", "w", force_zip64=False) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return path
