"""What an uploaded file really is, decided from its bytes, and whether we accept it.

The filename and the browser's declared content type are claims made by the uploader; the
bytes are the evidence. libmagic (through python-magic) names the broad type from the first
bytes; Office and OpenDocument files are zip containers, so we then open the container safely
(see containers.py) and read the part that says which kind of document it is. Last, the
filename's extension must agree with what the bytes are, so a file downloaded later opens in
the program its name promises, and a program cannot hide behind a ``.pdf`` name.

Accepted: PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), OpenDocument text (.odt), PNG,
JPEG and UTF-8 plain text. Everything else, including macro-enabled Office files, HTML, SVG,
bare zip archives and programs, is refused with a message the uploader can act on.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import magic
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from audit_portal.evidence.containers import (
    DamagedZip,
    UnsafeZip,
    ZipLimits,
    open_zip,
    read_member,
)
from audit_portal.evidence.filenames import safe_display_name

HEAD_BYTES = 64 * 1024  # enough for libmagic to recognise every type we accept
TEXT_CHUNK = 1024 * 1024
UPLOAD_HINT = (
    "Upload a PDF, Word, Excel, PowerPoint, OpenDocument text, PNG, JPEG or plain text file."
)


@dataclass(frozen=True)
class Kind:
    name: str
    mime: str
    extensions: tuple[str, ...]
    label: str  # for lists of evidence: "PDF document"
    noun: str  # for sentences: "a PDF"


KINDS = {
    kind.name: kind
    for kind in (
        Kind("pdf", "application/pdf", ("pdf",), "PDF document", "a PDF"),
        Kind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("docx",),
            "Word document",
            "a Word document",
        ),
        Kind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ("xlsx",),
            "Excel spreadsheet",
            "an Excel spreadsheet",
        ),
        Kind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ("pptx",),
            "PowerPoint presentation",
            "a PowerPoint presentation",
        ),
        Kind(
            "odt",
            "application/vnd.oasis.opendocument.text",
            ("odt",),
            "OpenDocument text",
            "an OpenDocument text document",
        ),
        Kind("png", "image/png", ("png",), "PNG image", "a PNG image"),
        Kind("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG image", "a JPEG image"),
        Kind("text", "text/plain", ("txt",), "Plain text", "a plain text file"),
    )
}
KIND_BY_EXTENSION = {ext: kind for kind in KINDS.values() for ext in kind.extensions}

# libmagic's answer for the kinds it can name by itself.
_DIRECT = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg"}
_TEXT = {"text/plain", "text/csv"}
_ZIP_MIMES = {"application/zip", "application/x-zip-compressed"} | {
    kind.mime for kind in KINDS.values() if kind.name in {"docx", "xlsx", "pptx", "odt"}
}

# What a refused file looks like, to finish the sentence "it looks like ...".
PROGRAM = "a program"
_REFUSED_MIMES = {
    "application/x-executable": PROGRAM,
    "application/x-sharedlib": PROGRAM,
    "application/x-pie-executable": PROGRAM,
    "application/x-dosexec": PROGRAM,
    "application/x-msdownload": PROGRAM,
    "application/vnd.microsoft.portable-executable": PROGRAM,
    "application/x-mach-binary": PROGRAM,
    "application/x-elf": PROGRAM,
    "application/java-archive": PROGRAM,
    "application/x-java-applet": PROGRAM,
    "text/x-shellscript": PROGRAM,
    "text/x-msdos-batch": PROGRAM,
    "application/javascript": PROGRAM,
    "text/javascript": PROGRAM,
    "text/html": "a web page",
    "image/svg+xml": "an SVG image",
    "text/xml": "an XML file",
    "application/xml": "an XML file",
    "text/rtf": "a rich text (RTF) document",
    "application/rtf": "a rich text (RTF) document",
    "application/x-ole-storage": "an older or password-protected Office file",
    "application/CDFV2": "an older or password-protected Office file",
    "application/cdfv2": "an older or password-protected Office file",
    "application/encrypted": "an older or password-protected Office file",
    "application/msword": "an older Word document (.doc)",
    "application/vnd.ms-excel": "an older Excel spreadsheet (.xls)",
    "application/vnd.ms-powerpoint": "an older PowerPoint presentation (.ppt)",
    "application/gzip": "a compressed archive",
    "application/x-gzip": "a compressed archive",
    "application/x-rar": "a compressed archive",
    "application/vnd.rar": "a compressed archive",
    "application/x-7z-compressed": "a compressed archive",
    "application/x-tar": "a compressed archive",
    "application/x-bzip2": "a compressed archive",
    "application/x-xz": "a compressed archive",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
    "image/heic": "a HEIC image",
    "image/tiff": "a TIFF image",
    "image/bmp": "a BMP image",
}
_UNKNOWN = "data in a format we do not recognise"

# The part of an Office file that names the document's main part.
CONTENT_TYPES = "[Content_Types].xml"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
# Macro-enabled twins of the kinds we accept: refused with advice to save without macros.
_OOXML_MACROS = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": "docx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsx",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "pptx",
}
_OOXML_REFUSED = {
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "a Word template with macros",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
        "a Word template"
    ),
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "an Excel template with macros",
    "application/vnd.ms-excel.sheet.binary.macroEnabled.main": "an Excel binary spreadsheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
        "an Excel template"
    ),
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": (
        "a PowerPoint slide show with macros"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": (
        "a PowerPoint slide show"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": (
        "a PowerPoint template"
    ),
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml": (
        "a PowerPoint template with macros"
    ),
}
_MAIN_TYPES = _OOXML_MAIN.keys() | _OOXML_MACROS.keys() | _OOXML_REFUSED.keys()
_VBA_PROJECT = "application/vnd.ms-office.vbaProject"
ODF_MIMETYPE = "mimetype"
_ODF_PREFIX = "application/vnd.oasis.opendocument."
_ODF_OTHER = {
    "spreadsheet": "an OpenDocument spreadsheet",
    "presentation": "an OpenDocument presentation",
    "graphics": "an OpenDocument drawing",
}
_SMALL_PART = 1024 * 1024  # [Content_Types].xml and mimetype are a few hundred bytes


class FileRefused(ValueError):
    """The file cannot be accepted; str(error) is a sentence to show the person who sent it."""


@dataclass(frozen=True)
class Detected:
    """An accepted file: its kind (a key of KINDS), the MIME type to serve it with, its
    extension as uploaded (lower case, agreeing with the kind) and a label for people."""

    kind: str
    mime: str
    extension: str
    label: str


class _Refusal(Exception):
    """Internal: the content is not something we accept; `what` finishes 'it looks like'."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _Macros(Exception):
    """Internal: an otherwise acceptable document carries macros (code that runs on opening)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = KINDS[kind]


def detect(path: Path, filename: str, *, zip_limits: ZipLimits | None = None) -> Detected:
    """Decide what the file at `path` (uploaded as `filename`) is, or raise FileRefused.

    A zero-byte file has no content to judge: it is accepted as the kind its extension names
    (it can do no harm), and ``placeholder_reason`` reports it as empty.
    """
    name = safe_display_name(filename)
    extension = extension_of(name)
    claimed = KIND_BY_EXTENSION.get(extension)
    if path.stat().st_size == 0:
        if claimed is None:
            raise FileRefused(f"The file ‘{name}’ is not a type we accept. {UPLOAD_HINT}")
        return _detected(claimed, extension)
    try:
        kind = _content_kind(path, zip_limits or ZipLimits())
    except _Refusal as refusal:
        raise FileRefused(_refused(name, claimed, refusal.what)) from None
    except _Macros as macros:
        raise FileRefused(
            f"The file ‘{name}’ cannot be uploaded because it contains macros. Save it as "
            f"{macros.kind.noun} without macros (.{macros.kind.extensions[0]}) "
            "and upload it again."
        ) from None
    except UnsafeZip as unsafe:
        raise FileRefused(f"The file ‘{name}’ cannot be uploaded: {unsafe}.") from None
    except DamagedZip:
        noun = claimed.noun if claimed else "a document"
        raise FileRefused(
            f"The file ‘{name}’ could not be opened as {noun}: it may be damaged. "
            "Save it again and upload the new copy."
        ) from None
    if claimed is not kind:
        raise FileRefused(_mismatch(name, claimed, kind))
    if kind.name == "text":
        _check_text(path, name)
    return _detected(kind, extension)


def extension_of(filename: str) -> str:
    """The lower-case extension without its dot, or "" when the name has none."""
    suffix = PurePosixPath(filename).suffix
    return suffix[1:].lower() if len(suffix) > 1 else ""


def _detected(kind: Kind, extension: str) -> Detected:
    return Detected(kind=kind.name, mime=kind.mime, extension=extension, label=kind.label)


def _content_kind(path: Path, limits: ZipLimits) -> Kind:
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    try:
        mime = magic.from_buffer(head, mime=True)
    except magic.MagicException:
        raise _Refusal(_UNKNOWN) from None
    if mime in _DIRECT:
        return KINDS[_DIRECT[mime]]
    if mime in _TEXT:
        return KINDS["text"]
    if mime in _ZIP_MIMES or head.startswith(b"PK\x03\x04"):
        return KINDS[_container_kind(path, limits)]
    raise _Refusal(_describe(mime))


def _describe(mime: str) -> str:
    if mime in _REFUSED_MIMES:
        return _REFUSED_MIMES[mime]
    if mime.startswith("image/"):
        return "an image in a format we do not accept"
    if mime.startswith("text/x-"):
        return "program code"
    return _UNKNOWN


def _container_kind(path: Path, limits: ZipLimits) -> str:
    with open_zip(path, limits) as archive:
        names = set(archive.namelist())
        if ODF_MIMETYPE in names:
            return _odf_kind(archive, names)
        if CONTENT_TYPES in names:
            return _ooxml_kind(archive, names)
    raise _Refusal("a zip archive")


def _odf_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    declared = read_member(archive, ODF_MIMETYPE, _SMALL_PART).decode("ascii", "replace").strip()
    if declared != KINDS["odt"].mime:
        if declared.startswith(_ODF_PREFIX):
            subtype = declared.removeprefix(_ODF_PREFIX).split("-")[0]
            raise _Refusal(_ODF_OTHER.get(subtype, "an OpenDocument file of another kind"))
        raise DamagedZip(f"unexpected mimetype {declared!r}")
    if "content.xml" not in names:
        raise DamagedZip("no content.xml")
    if any(n.startswith(("Basic/", "Scripts/")) for n in names):
        raise _Macros("odt")
    return "odt"


def _ooxml_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    content_type, _ = ooxml_main_part(archive)
    if content_type in _OOXML_MACROS:
        raise _Macros(_OOXML_MACROS[content_type])
    if content_type in _OOXML_REFUSED:
        raise _Refusal(_OOXML_REFUSED[content_type])
    kind = _OOXML_MAIN[content_type]
    if _VBA_PROJECT in _all_content_types(archive) or any(
        n.lower().endswith("vbaproject.bin") for n in names
    ):
        raise _Macros(kind)
    return kind


def ooxml_main_part(archive: zipfile.ZipFile) -> tuple[str, str]:
    """The content type and member name of an Office file's main part, from [Content_Types].xml.

    The main part is usually word/document.xml, xl/workbook.xml or ppt/presentation.xml, but
    the format does not fix the name (Word Online writes word/document2.xml), so we read it.
    Raises DamagedZip unless exactly one main part is declared and present.
    """
    overrides, _ = _content_types(read_member(archive, CONTENT_TYPES, _SMALL_PART))
    mains = [
        (content_type, part)
        for part, content_type in overrides.items()
        if content_type in _MAIN_TYPES
    ]
    if len(mains) != 1:
        raise DamagedZip(f"{len(mains)} main document parts")
    content_type, part = mains[0]
    member = part.lstrip("/")
    if member not in archive.namelist():
        raise DamagedZip(f"main part {part} is missing")
    return content_type, member


def _all_content_types(archive: zipfile.ZipFile) -> set[str]:
    overrides, defaults = _content_types(read_member(archive, CONTENT_TYPES, _SMALL_PART))
    return set(overrides.values()) | set(defaults.values())


def _content_types(xml: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """PartName -> ContentType overrides and Extension -> ContentType defaults."""
    try:
        root = fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as error:
        raise DamagedZip(f"{CONTENT_TYPES}: {error}") from error
    overrides = {
        e.get("PartName", ""): e.get("ContentType", "") for e in root.iter(f"{_CT_NS}Override")
    }
    defaults = {
        e.get("Extension", ""): e.get("ContentType", "") for e in root.iter(f"{_CT_NS}Default")
    }
    return overrides, defaults


def _check_text(path: Path, name: str) -> None:
    """Plain text must be UTF-8 (a byte-order mark is allowed) without NUL bytes.

    NUL bytes in something that looks like text almost always mean UTF-16 without a
    byte-order mark (Windows' "Unicode"), so both get the same advice.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    try:
        with path.open("rb") as file:
            while chunk := file.read(TEXT_CHUNK):
                if b"\x00" in chunk:
                    raise UnicodeError("NUL byte")
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeError:
        raise FileRefused(
            f"The file ‘{name}’ is a text file that is not saved as UTF-8. "
            "Save it with UTF-8 encoding and upload it again."
        ) from None


def _refused(name: str, claimed: Kind | None, what: str) -> str:
    if claimed is None:
        return f"The file ‘{name}’ cannot be uploaded: it looks like {what}. {UPLOAD_HINT}"
    return f"The file ‘{name}’ is not {claimed.noun}: it looks like {what}. {UPLOAD_HINT}"


def _mismatch(name: str, claimed: Kind | None, actual: Kind) -> str:
    ending = f".{actual.extensions[0]}"
    if claimed is None:
        return (
            f"The file ‘{name}’ looks like {actual.noun}, but its name does not end in "
            f"{ending}. Change its name to end in {ending} and upload it again."
        )
    return (
        f"The file ‘{name}’ is not {claimed.noun}: it looks like {actual.noun}. "
        f"Change its name to end in {ending}, or upload {claimed.noun}."
    )
