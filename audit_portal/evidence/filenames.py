"""Filenames from uploaders, made safe to show, to store as text and to send back in a header.

A browser sends whatever name the file had on the sender's computer, and a hostile client sends
anything at all: paths (``../../etc/passwd``, ``C:\\Users\\...``), control characters, Unicode
direction overrides that make ``report‮fdp.exe`` display as ``reportexe.pdf``, or nothing.
The stored file never uses this name (storage keys are random); it is kept only to show people
and to suggest a name when the file is downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_LENGTH = 150
FALLBACK_NAME = "evidence"
_MAX_EXTENSION = 10  # longer "extensions" are just part of the name
# Control, format (bidirectional overrides, zero-width), line and paragraph separators, and
# unassigned/private/surrogate code points: nothing a person needs in a filename.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
_SPACES = re.compile(r"\s+")
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9 ._()\-]")
_RFC5987_SAFE = "!#$&+.^_`|~-"


def safe_display_name(raw: str) -> str:
    """The last path component of `raw`, without control characters, at most 150 characters.

    Never empty: a name with nothing usable left becomes "evidence".
    """
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if c.isspace() else "" if _dropped(c) else c for c in name)
    name = _SPACES.sub(" ", name).strip(" .")
    if not name:
        return FALLBACK_NAME
    return _shorten(name, MAX_NAME_LENGTH)


def download_name(display: str, extension: str) -> str:
    """A safe name for downloading, ending in `.extension` (the detected file's extension)."""
    name = safe_display_name(display)
    ending = f".{extension.lower()}"
    if name.lower().endswith(ending) and len(name) > len(ending):
        return name
    return _shorten(name, MAX_NAME_LENGTH - len(ending)) + ending


def content_disposition(name: str) -> str:
    """A Content-Disposition value that makes the browser download the file as `name`.

    Following RFC 6266: an ASCII-only ``filename`` for old clients, and ``filename*`` with the
    name in UTF-8, percent-encoded, which current browsers prefer. Every character that could
    end the quoted string or the header is encoded or replaced, so any Unicode name is safe.
    """
    name = safe_display_name(name)
    return (
        f'attachment; filename="{_ascii_fallback(name)}"; '
        f"filename*=UTF-8''{quote(name, safe=_RFC5987_SAFE)}"
    )


def _dropped(character: str) -> bool:
    return unicodedata.category(character) in _DROPPED_CATEGORIES


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= _MAX_EXTENSION and extension.isalnum():
        return stem, f".{extension}"
    return name, ""


def _shorten(name: str, limit: int) -> str:
    """At most `limit` characters, cutting the stem so the extension survives."""
    if len(name) <= limit:
        return name
    stem, extension = _split_extension(name)
    if len(extension) >= limit:
        return name[:limit]
    return stem[: limit - len(extension)].rstrip(" .") + extension


def _ascii_fallback(name: str) -> str:
    """Accents dropped (é -> e), anything else outside a small safe set replaced by '_'."""
    stem, extension = _split_extension(name)
    ascii_stem = _to_ascii(stem).strip(" .")
    ascii_extension = _to_ascii(extension)
    if not ascii_stem.strip("_"):
        ascii_stem = FALLBACK_NAME
    if not ascii_extension.strip("._"):
        ascii_extension = ""
    return ascii_stem + ascii_extension


def _to_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ASCII_SAFE.sub("_", decomposed)
