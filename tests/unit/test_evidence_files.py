"""Evidence files: type detection from content, placeholders, safe names and local storage.

Every sample is a real file built in the test (see tests/evidence_samples.py); refusals are
checked by the exact sentence the uploader reads.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from audit_portal.evidence.containers import ZipLimits
from audit_portal.evidence.filenames import (
    content_disposition,
    download_name,
    safe_display_name,
)
from audit_portal.evidence.filetypes import Detected, FileRefused, detect
from audit_portal.evidence.placeholders import placeholder_reason
from audit_portal.evidence.storage import (
    InvalidKey,
    LocalStorage,
    Storage,
    StoredFile,
    file_sha256,
)
from tests import evidence_samples as samples

HINT = "Upload a PDF, Word, Excel, PowerPoint, OpenDocument text, PNG, JPEG or plain text file."
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def upload(tmp_path: Path) -> Iterator[object]:
    """Write bytes to a temporary file with a random-looking name, as the upload parser does."""
    counter = iter(range(1_000_000))

    def write(data: bytes) -> Path:
        path = tmp_path / f"upload-{next(counter)}"
        path.write_bytes(data)
        return path

    yield write


def refusal(path: Path, filename: str, **kwargs: object) -> str:
    with pytest.raises(FileRefused) as caught:
        detect(path, filename, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


# --- detection: accepted files -------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "kind", "mime", "label"),
    [
        ("register.pdf", samples.pdf_with_text(), "pdf", "application/pdf", "PDF document"),
        ("policy.docx", samples.docx("Our policy"), "docx", WORD, "Word document"),
        (
            "training.xlsx",
            samples.xlsx(),
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Excel spreadsheet",
        ),
        (
            "briefing.pptx",
            samples.pptx(),
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PowerPoint presentation",
        ),
        (
            "report.odt",
            samples.odt(),
            "odt",
            "application/vnd.oasis.opendocument.text",
            "OpenDocument text",
        ),
        ("poster.png", samples.png(), "png", "image/png", "PNG image"),
        ("photo.jpg", samples.jpeg(), "jpeg", "image/jpeg", "JPEG image"),
        ("photo.jpeg", samples.jpeg(), "jpeg", "image/jpeg", "JPEG image"),
        ("notes.txt", "Café rota – Monday\n".encode(), "text", "text/plain", "Plain text"),
        ("bom.txt", b"\xef\xbb\xbfWith a byte-order mark\n", "text", "text/plain", "Plain text"),
        ("figures.txt", b"a,b,c\n1,2,3\n4,5,6\n", "text", "text/plain", "Plain text"),
    ],
)
def test_accepted_files_are_recognised_from_their_bytes(
    upload, filename: str, data: bytes, kind: str, mime: str, label: str
) -> None:
    detected = detect(upload(data), filename)
    assert detected == Detected(
        kind=kind, mime=mime, extension=filename.rsplit(".", 1)[1], label=label
    )


def test_extension_case_does_not_matter_and_is_reported_in_lower_case(upload) -> None:
    assert detect(upload(samples.pdf_with_text()), "REPORT.PDF").extension == "pdf"


def test_word_online_documents_with_another_main_part_name_are_accepted(upload) -> None:
    data = samples.docx("Written in a browser", part="word/document2.xml")
    assert detect(upload(data), "online.docx").kind == "docx"


def test_an_empty_file_is_taken_at_its_word_and_left_to_the_placeholder_check(upload) -> None:
    path = upload(b"")
    detected = detect(path, "blank.pdf")
    assert detected.kind == "pdf"
    assert placeholder_reason(path, detected) == "The file is empty (0 bytes)"


# --- detection: refusals --------------------------------------------------------------------


def test_a_program_renamed_to_pdf_is_refused(upload) -> None:
    assert refusal(upload(samples.program_bytes()), "x.pdf") == (
        f"The file ‘x.pdf’ is not a PDF: it looks like a program. {HINT}"
    )


def test_a_png_named_as_a_pdf_is_refused_with_the_fix(upload) -> None:
    assert refusal(upload(samples.png()), "report.pdf") == (
        "The file ‘report.pdf’ is not a PDF: it looks like a PNG image. "
        "Change its name to end in .png, or upload a PDF."
    )


def test_a_word_document_named_as_a_spreadsheet_is_refused(upload) -> None:
    assert refusal(upload(samples.docx("Minutes")), "figures.xlsx") == (
        "The file ‘figures.xlsx’ is not an Excel spreadsheet: it looks like a Word document. "
        "Change its name to end in .docx, or upload an Excel spreadsheet."
    )


def test_html_named_as_text_is_refused(upload) -> None:
    page = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    assert refusal(upload(page), "notes.txt") == (
        f"The file ‘notes.txt’ is not a plain text file: it looks like a web page. {HINT}"
    )


def test_svg_is_refused_even_with_an_image_name(upload) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert refusal(upload(svg), "logo.png") == (
        f"The file ‘logo.png’ is not a PNG image: it looks like an SVG image. {HINT}"
    )


def test_a_shell_script_named_as_text_is_refused(upload) -> None:
    assert refusal(upload(b"#!/bin/sh\nrm -rf /\n"), "readme.txt") == (
        f"The file ‘readme.txt’ is not a plain text file: it looks like a program. {HINT}"
    )


def test_a_plain_zip_archive_is_refused(upload) -> None:
    data = samples.office_zip([("minutes.txt", "Meeting minutes")])
    assert refusal(upload(data), "evidence.zip") == (
        f"The file ‘evidence.zip’ cannot be uploaded: it looks like a zip archive. {HINT}"
    )
    assert "is not a Word document: it looks like a zip archive" in refusal(
        upload(data), "evidence.docx"
    )


@pytest.mark.parametrize("filename", ["macros.docm", "macros.docx"])
def test_a_macro_enabled_word_document_is_refused_whatever_its_name(upload, filename) -> None:
    data = samples.docx("Enable content", main_type=samples.WORD_MACRO_MAIN)
    assert refusal(upload(data), filename) == (
        f"The file ‘{filename}’ cannot be uploaded because it contains macros. "
        "Save it as a Word document without macros (.docx) and upload it again."
    )


def test_a_docx_smuggling_a_vba_project_is_refused(upload) -> None:
    data = samples.docx("Innocent", extra=[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")])
    assert "because it contains macros" in refusal(upload(data), "innocent.docx")


def test_an_odt_with_basic_macros_is_refused(upload) -> None:
    data = samples.odt(extra=[("Basic/Standard/Module1.xml", "<script/>")])
    assert refusal(upload(data), "report.odt") == (
        "The file ‘report.odt’ cannot be uploaded because it contains macros. Save it as an "
        "OpenDocument text document without macros (.odt) and upload it again."
    )


def test_an_opendocument_spreadsheet_is_not_opendocument_text(upload) -> None:
    data = samples.odt(mimetype="application/vnd.oasis.opendocument.spreadsheet")
    assert refusal(upload(data), "budget.odt") == (
        "The file ‘budget.odt’ is not an OpenDocument text document: "
        f"it looks like an OpenDocument spreadsheet. {HINT}"
    )


def test_a_zip_bomb_inside_a_word_document_is_refused_without_extracting(tmp_path) -> None:
    bomb = samples.zip_bomb_docx(tmp_path, megabytes=50)
    assert bomb.stat().st_size < 200_000  # 50 MB of zeros squeezed into a small file
    assert refusal(bomb, "policy.docx") == (
        "The file ‘policy.docx’ cannot be uploaded: part of it expands to more than 100 times "
        "its stored size, which is how harmful ‘zip bomb’ files are built."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.docx"]  # nothing extracted


def test_a_container_declaring_too_many_bytes_in_total_is_refused(upload) -> None:
    # Each part is small and compresses normally; only the total is over the bound.
    data = samples.docx(*[f"Paragraph {n} " * 50 for n in range(20)])
    limits = ZipLimits(max_total_bytes=2_000)
    assert refusal(upload(data), "long.docx", zip_limits=limits) == (
        "The file ‘long.docx’ cannot be uploaded: it would expand to more than 2,000 bytes when opened."
    )


def test_a_container_with_too_many_members_is_refused(upload) -> None:
    extra: list[tuple[str, bytes | str]] = [(f"word/media/{n}.txt", "") for n in range(5_001)]
    assert refusal(upload(samples.docx("Many parts", extra=extra)), "parts.docx") == (
        "The file ‘parts.docx’ cannot be uploaded: it contains more than 5,000 parts."
    )


def test_a_damaged_office_file_is_refused_as_damaged(upload) -> None:
    assert refusal(upload(b"PK\x03\x04 this is not really a zip file"), "minutes.docx") == (
        "The file ‘minutes.docx’ could not be opened as a Word document: it may be damaged. "
        "Save it again and upload the new copy."
    )


def test_an_office_file_whose_main_part_is_missing_is_damaged(upload) -> None:
    data = samples.office_zip(
        [("[Content_Types].xml", samples.content_types({"/word/document.xml": samples.WORD_MAIN}))]
    )
    assert "could not be opened as a Word document" in refusal(upload(data), "empty.docx")


def test_content_types_with_an_entity_bomb_is_refused_not_expanded(upload) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Types>&b;</Types>'
    )
    data = samples.office_zip([("[Content_Types].xml", laughs), ("word/document.xml", "<x/>")])
    assert "could not be opened as a Word document" in refusal(upload(data), "laughs.docx")


@pytest.mark.parametrize(
    "data",
    ["Café au lait".encode("latin-1"), "Safeguarding notes".encode("utf-16")],
    ids=["latin-1", "utf-16"],
)
def test_text_that_is_not_utf8_is_refused_with_how_to_fix_it(upload, data: bytes) -> None:
    assert refusal(upload(data * 20), "notes.txt") == (
        "The file ‘notes.txt’ is a text file that is not saved as UTF-8. "
        "Save it with UTF-8 encoding and upload it again."
    )


def test_invalid_utf8_far_from_the_start_is_still_found(upload) -> None:
    data = b"All staff trained.\n" * 100_000 + b"caf\xe9\n"  # past the first megabyte
    assert "not saved as UTF-8" in refusal(upload(data), "long.txt")


def test_accepted_content_under_an_unknown_extension_is_refused_with_the_fix(upload) -> None:
    assert refusal(upload(samples.png()), "scan") == (
        "The file ‘scan’ looks like a PNG image, but its name does not end in .png. "
        "Change its name to end in .png and upload it again."
    )


def test_an_empty_file_with_an_extension_we_do_not_accept_is_refused(upload) -> None:
    assert refusal(upload(b""), "setup.exe") == (
        f"The file ‘setup.exe’ is not a type we accept. {HINT}"
    )


def test_messages_show_a_safe_name_not_the_path_sent(upload) -> None:
    message = refusal(upload(samples.program_bytes()), "../../etc/passwd")
    assert message == f"The file ‘passwd’ cannot be uploaded: it looks like a program. {HINT}"


def test_a_windows_program_is_refused(upload) -> None:
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    assert "it looks like a program" in refusal(upload(program), "invoice.pdf")


# --- placeholders ---------------------------------------------------------------------------


def reason(upload, data: bytes, filename: str) -> str | None:
    path = upload(data)
    return placeholder_reason(path, detect(path, filename))


def test_documents_with_text_are_not_placeholders(upload) -> None:
    assert reason(upload, samples.pdf_with_text(), "a.pdf") is None
    assert reason(upload, samples.docx("Signed policy"), "a.docx") is None
    assert reason(upload, samples.odt("Signed policy"), "a.odt") is None
    assert reason(upload, b"One line of text\n", "a.txt") is None
    assert reason(upload, samples.png(), "a.png") is None
    assert reason(upload, samples.xlsx(), "a.xlsx") is None


def test_a_pdf_without_text_is_reported_as_a_possible_scan(upload) -> None:
    assert reason(upload, samples.pdf_without_text(), "scan.pdf") == (
        "The PDF has no text in it: it may be a scan or an empty page"
    )


def test_a_password_protected_pdf_is_reported(upload) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf_with_text())))
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert reason(upload, buffer.getvalue(), "locked.pdf") == (
        "The PDF is protected by a password, so it could not be read"
    )


def test_a_pdf_that_only_restricts_editing_is_read(upload) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf_with_text())))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert reason(upload, buffer.getvalue(), "restricted.pdf") is None


def test_empty_word_and_opendocument_bodies_are_reported(upload) -> None:
    assert reason(upload, samples.docx(), "empty.docx") == "The Word document has no text in it"
    assert reason(upload, samples.docx("   "), "spaces.docx") == (
        "The Word document has no text in it"
    )
    assert reason(upload, samples.odt(""), "empty.odt") == (
        "The OpenDocument text document has no text in it"
    )


def test_word_online_document_text_is_found_in_its_own_main_part(upload) -> None:
    data = samples.docx(part="word/document2.xml")
    assert reason(upload, data, "online.docx") == "The Word document has no text in it"
    data = samples.docx("Written online", part="word/document2.xml")
    assert reason(upload, data, "online.docx") is None


def test_opendocument_text_after_a_span_counts(upload) -> None:
    data = samples.odt(paragraphs="<text:p><text:span/> Text after an empty span</text:p>")
    assert reason(upload, data, "span.odt") is None


def test_whitespace_only_text_is_reported(upload) -> None:
    assert reason(upload, b"  \n\t\n   \n", "blank.txt") == (
        "The text file contains only spaces and blank lines"
    )


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF\n garbage \x00\xff", "broken.pdf"),
        (samples.docx(body="<w:document><unclosed>"), "broken.docx"),
        (samples.odt(paragraphs="<text:p>unclosed"), "broken.odt"),
    ],
    ids=["pdf", "docx", "odt"],
)
def test_damaged_files_give_a_reason_not_an_exception(upload, data: bytes, filename) -> None:
    path = upload(data)
    kind = filename.rsplit(".", 1)[1]
    detected = Detected(kind=kind, mime="", extension=kind, label="")
    assert placeholder_reason(path, detected) == "The file could not be read: it may be damaged"


def test_a_file_not_matching_what_was_detected_gives_a_reason(upload) -> None:
    """Called with the wrong Detected (a caller's bug), it still answers, never raises."""
    detected = Detected(kind="docx", mime=WORD, extension="docx", label="Word document")
    assert placeholder_reason(upload(samples.png()), detected) == (
        "The file could not be read: it may be damaged"
    )


# --- safe names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\amy\\Documents\\Section 11 return.docx", "Section 11 return.docx"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("report\x00.pdf", "report.pdf"),
        ("line\nbreak.pdf", "line break.pdf"),
        ("évaluation\u202efdp.exe", "évaluationfdp.exe"),  # right-to-left override dropped
        ("  spaced    out  .pdf ", "spaced out .pdf"),
        ("Évaluation – école.pdf", "Évaluation – école.pdf"),
        ("", "evidence"),
        ("..", "evidence"),
        ("/", "evidence"),
        ("\x01\x02\x03", "evidence"),
        (".htaccess", "htaccess"),
    ],
)
def test_safe_display_name(raw: str, expected: str) -> None:
    assert safe_display_name(raw) == expected


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = safe_display_name("a" * 300 + ".pdf")
    assert len(name) == 150 and name.endswith("aaa.pdf")


@given(st.text())
def test_safe_display_name_is_always_usable(raw: str) -> None:
    name = safe_display_name(raw)
    assert 0 < len(name) <= 150
    assert "/" not in name and "\\" not in name
    assert name.isprintable()
    assert name not in {".", ".."}
    assert safe_display_name(name) == name


@pytest.mark.parametrize(
    ("display", "extension", "expected"),
    [
        ("Training log", "pdf", "Training log.pdf"),
        ("Training log.PDF", "pdf", "Training log.PDF"),
        ("photo.jpeg", "jpeg", "photo.jpeg"),
        ("../secret", "txt", "secret.txt"),
        ("", "docx", "evidence.docx"),
        ("minutes.pdf", "docx", "minutes.pdf.docx"),
    ],
)
def test_download_name(display: str, extension: str, expected: str) -> None:
    assert download_name(display, extension) == expected


def test_download_name_stays_within_the_length_limit() -> None:
    name = download_name("b" * 300, "xlsx")
    assert len(name) == 150 and name.endswith("b.xlsx")


def test_content_disposition_for_an_ascii_name() -> None:
    assert content_disposition("report 2026.pdf") == (
        "attachment; filename=\"report 2026.pdf\"; filename*=UTF-8''report%202026.pdf"
    )


def test_content_disposition_for_accents_keeps_them_in_utf8_and_drops_them_in_fallback() -> None:
    assert content_disposition("Évaluation école.pdf") == (
        'attachment; filename="Evaluation ecole.pdf"; '
        "filename*=UTF-8''%C3%89valuation%20%C3%A9cole.pdf"
    )


def test_content_disposition_for_a_name_with_no_latin_letters() -> None:
    assert content_disposition("報告書.pdf").startswith('attachment; filename="evidence.pdf"; ')


def test_content_disposition_cannot_be_broken_out_of() -> None:
    value = content_disposition('x"; filename="evil.exe\r\nSet-Cookie: a=b.pdf')
    assert value == (
        'attachment; filename="x__ filename__evil.exe Set-Cookie_ a_b.pdf"; '
        "filename*=UTF-8''x%22%3B%20filename%3D%22evil.exe%20Set-Cookie%3A%20a%3Db.pdf"
    )


@given(st.text())
def test_content_disposition_is_safe_and_decodes_to_the_display_name(raw: str) -> None:
    value = content_disposition(raw)
    assert value.isascii() and "\r" not in value and "\n" not in value
    fallback, extended = value.removeprefix('attachment; filename="').split('"; filename*=')
    assert fallback and '"' not in fallback and "\\" not in fallback and "%" not in fallback
    # An independent RFC 2231/5987 decoder reads the UTF-8 name back exactly.
    message = Message()
    message["Content-Disposition"] = f"attachment; filename*={extended}"
    assert message.get_filename() == safe_display_name(raw)
    assert unquote(extended.removeprefix("UTF-8''")) == safe_display_name(raw)


# --- storage --------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "evidence-store")


def test_put_copies_the_file_under_a_random_key_with_its_hash_and_size(store, tmp_path) -> None:
    source = tmp_path / "Section 11 evidence.pdf"
    data = samples.pdf_with_text()
    source.write_bytes(data)
    stored = store.put(source)
    assert stored == StoredFile(
        key=stored.key, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )
    first, second, name = stored.key.split("/")
    assert len(name) == 64 and first == name[:2] and second == name[2:4]
    assert "evidence" not in stored.key and "Section" not in stored.key
    assert (store.root / stored.key).read_bytes() == data
    assert source.read_bytes() == data  # the upload itself is left for the caller
    with store.open(stored.key) as file:
        assert file.read() == data


def test_the_same_content_stored_twice_gets_two_keys_and_one_hash(store, tmp_path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"same")
    first, second = store.put(source), store.put(source)
    assert first.key != second.key
    assert first.sha256 == second.sha256 == file_sha256(source)


def test_stored_files_and_directories_are_private_whatever_the_umask(store, tmp_path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"private")
    previous = os.umask(0)
    try:
        stored = store.put(source)
    finally:
        os.umask(previous)
    path = store.root / stored.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (store.root, path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_put_leaves_no_temporary_files(store, tmp_path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"x" * 3_000_000)
    stored = store.put(source)
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert files == [store.root / stored.key]


def test_a_failed_put_leaves_nothing_behind(store, tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        store.put(tmp_path / "never-uploaded.pdf")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_exists_and_delete(store, tmp_path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"x")
    stored = store.put(source)
    assert store.exists(stored.key)
    store.delete(stored.key)
    assert not store.exists(stored.key)
    store.delete(stored.key)  # deleting twice is not an error
    with pytest.raises(FileNotFoundError):
        store.open(stored.key)


VALID_NAME = "ab" + "cd" + "0" * 60


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        f"ab/cd/../{VALID_NAME}",
        f"ab/cd/{VALID_NAME}/..",
        f"AB/CD/{VALID_NAME.upper()}",
        f"ab/ce/{VALID_NAME}",  # directories must match the name
        f"ab/cd/{VALID_NAME}.pdf",
        f"ab/cd/{VALID_NAME}\n",
        VALID_NAME,
        "",
    ],
)
def test_keys_not_in_the_storage_format_are_refused(store, tmp_path, key: str) -> None:
    for operation in (store.open, store.delete, store.exists):
        with pytest.raises(InvalidKey):
            operation(key)


def test_local_storage_satisfies_the_storage_protocol(tmp_path: Path) -> None:
    storage: Storage = LocalStorage(tmp_path)
    source = tmp_path / "a.txt"
    source.write_bytes(b"protocol")
    stored = storage.put(source)
    with storage.open(stored.key) as file:
        assert file.read() == b"protocol"


def test_sample_office_files_are_real_zip_containers() -> None:
    """Guard the fixtures themselves: a broken sample would make refusals pass vacuously."""
    for data in (samples.docx("x"), samples.xlsx(), samples.pptx(), samples.odt()):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
