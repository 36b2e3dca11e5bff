"""Read a multipart/form-data upload as it arrives, with limits enforced byte by byte.

``request.form()`` is fine for ordinary forms, but evidence uploads need more control: each file
goes straight into a temporary file in a directory we choose (never into memory), bytes are
counted as they arrive so an oversized file or body is refused at the byte that crosses the
limit (not after it has all been received), and every way a body can be broken (cut off,
wrong boundary, garbage, bad part headers, the client going away) becomes one of two
exceptions with a message for people, leaving nothing on disk.

How a route uses it::

    try:
        upload = await parse_upload(request, settings.upload_directory)
    except UploadError as error:          # UploadTooLarge (413) or UploadMalformed (400)
        return render_error(request, error.message, status_code=error.status_code)
    try:
        for part in upload.files:
            detected = detect(part.path, part.filename)   # may raise FileRefused
            ...
    finally:
        upload.cleanup()

The parsing itself is python-multipart's streaming ``MultipartParser``, driven through its
callbacks (as Starlette's own form parser does).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request

from audit_portal.evidence.filenames import safe_display_name
from audit_portal.evidence.sizes import KB, MB, describe_size

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

DEFAULT_MAX_FILE_BYTES = 20 * MB
DEFAULT_MAX_REQUEST_BYTES = 100 * MB
DEFAULT_MAX_FILES = 10
DEFAULT_MAX_FIELDS = 100
DEFAULT_MAX_FIELD_BYTES = 64 * KB
_DIGITS = re.compile(r"[0-9]{1,20}")
UNREADABLE = "The upload could not be read. Try again."
INTERRUPTED = "The upload stopped before it finished. Try again."


class UploadError(Exception):
    """The upload was refused; `message` is for the person, `status_code` for the response."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UploadTooLarge(UploadError):
    """A file, a text field, the whole body, or the number of parts is over its limit."""

    status_code = 413


class UploadMalformed(UploadError):
    """The body is not complete, well-formed multipart/form-data."""

    status_code = 400


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_files: int = DEFAULT_MAX_FILES
    max_fields: int = DEFAULT_MAX_FIELDS
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES


@dataclass(frozen=True)
class UploadedPart:
    """One uploaded file, complete on disk at `path` (the caller's to move or delete).

    `filename` and `declared_type` are what the browser sent, untrusted: show
    `display_name`, and decide the type with ``filetypes.detect``.
    """

    field_name: str
    filename: str
    path: Path
    size: int
    declared_type: str

    @property
    def display_name(self) -> str:
        return safe_display_name(self.filename)


@dataclass
class ParsedUpload:
    """Text fields (every value, in order) and files. Call ``cleanup()`` in a ``finally``."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedPart] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The first value of a text field, or None when the form did not send it."""
        values = self.fields.get(name)
        return values[0] if values else None

    def cleanup(self) -> None:
        """Delete every temporary file (those already moved elsewhere are skipped)."""
        for part in self.files:
            part.path.unlink(missing_ok=True)

    def __enter__(self) -> ParsedUpload:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()


async def parse_upload(
    request: Request,
    directory: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_field_bytes: int = DEFAULT_MAX_FIELD_BYTES,
) -> ParsedUpload:
    """Parse the request body, writing files into `directory` (created 0o700 if missing).

    Raises UploadTooLarge or UploadMalformed, having deleted any file it wrote. The body must
    not have been read already (by ``request.form()``, say).
    """
    limits = UploadLimits(max_file_bytes, max_request_bytes, max_files, max_fields, max_field_bytes)
    return await parse_stream(request.headers, request.stream(), directory, limits)


async def parse_stream(
    headers: Headers,
    stream: AsyncGenerator[bytes, None],
    directory: Path,
    limits: UploadLimits,
) -> ParsedUpload:
    """``parse_upload`` for any headers and body stream (closed when parsing stops)."""
    boundary = _boundary(headers)
    declared_length = _content_length(headers)
    if declared_length is not None and declared_length > limits.max_request_bytes:
        raise UploadTooLarge(_request_too_large(limits))
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    collector = _Collector(directory, limits)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        received = 0
        async with aclosing(stream):
            async for chunk in stream:
                received += len(chunk)
                if received > limits.max_request_bytes:
                    raise UploadTooLarge(_request_too_large(limits))
                parser.write(chunk)
                if collector.has_pending_writes:
                    await run_in_threadpool(collector.write_pending)
        parser.finalize()
        if collector.has_pending_writes:
            await run_in_threadpool(collector.write_pending)
        if not collector.ended:
            raise UploadMalformed(INTERRUPTED)
        if declared_length is not None and received != declared_length:
            raise UploadMalformed(INTERRUPTED)
    except ClientDisconnect:
        collector.discard()
        raise UploadMalformed(INTERRUPTED) from None
    except FormParserError:
        collector.discard()
        raise UploadMalformed(UNREADABLE) from None
    except BaseException:
        collector.discard()
        raise
    return ParsedUpload(fields=collector.fields, files=collector.files)


def _boundary(headers: Headers) -> bytes:
    content_type, options = parse_options_header(headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise UploadMalformed("The upload could not be read: it was not sent from an upload form.")
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadMalformed(UNREADABLE)
    return boundary


def _content_length(headers: Headers) -> int | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw.strip()):
        raise UploadMalformed(UNREADABLE)
    return int(raw)


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: str = ""
    filename: str | None = None  # None for a text field
    declared_type: str = ""
    data: bytearray = field(default_factory=bytearray)
    size: int = 0
    path: Path | None = None
    file: BinaryIO | None = None


class _Collector:
    """python-multipart callbacks that count, bound and route each part's bytes.

    Callbacks run synchronously inside ``parser.write``: file bytes are queued there and
    written to disk by ``write_pending`` in a worker thread, so the event loop never waits on
    the disk. Every temporary file is remembered the moment it exists, for ``discard``.
    """

    def __init__(self, directory: Path, limits: UploadLimits) -> None:
        self.directory = directory
        self.limits = limits
        self.fields: dict[str, list[str]] = {}
        self.files: list[UploadedPart] = []
        self.ended = False
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._file_count = 0
        self._field_count = 0
        self._created: list[Path] = []
        self._open: list[BinaryIO] = []
        self._pending: list[tuple[BinaryIO, bytes]] = []
        self._to_close: list[BinaryIO] = []
        self._to_delete: list[Path] = []

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    @property
    def has_pending_writes(self) -> bool:
        return bool(self._pending or self._to_close or self._to_delete)

    def on_part_begin(self) -> None:
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        part = self._part
        disposition, options = parse_options_header(part.headers.get(b"content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise UploadMalformed(UNREADABLE)
        part.field_name = options[b"name"].decode("utf-8", "replace")
        part.declared_type = part.headers.get(b"content-type", b"").decode("latin-1").strip()
        if b"filename" not in options:
            self._field_count += 1
            if self._field_count > self.limits.max_fields:
                raise UploadTooLarge("The form has too many fields.")
            return
        if options[b"filename"]:  # a nameless part is counted at its end, if it has bytes
            self._count_file()
        # Browsers send the name as UTF-8 bytes; the parser hands them over undecoded.
        part.filename = options[b"filename"].decode("utf-8", "replace")
        handle, name = tempfile.mkstemp(prefix="upload-", dir=self.directory)
        part.path = Path(name)
        self._created.append(part.path)
        part.file = os.fdopen(handle, "wb")
        self._open.append(part.file)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        part.size += end - start
        if part.file is None:
            if part.size > self.limits.max_field_bytes:
                limit = describe_size(self.limits.max_field_bytes)
                raise UploadTooLarge(f"Text in the form must be shorter than {limit}.")
            part.data += data[start:end]
            return
        if part.size > self.limits.max_file_bytes:
            raise UploadTooLarge(
                f"The file ‘{safe_display_name(part.filename or '')}’ must be smaller than "
                f"{describe_size(self.limits.max_file_bytes)}."
            )
        self._pending.append((part.file, data[start:end]))

    def on_part_end(self) -> None:
        part = self._part
        if part.file is None:
            try:
                value = part.data.decode("utf-8")
            except UnicodeDecodeError:
                raise UploadMalformed(UNREADABLE) from None
            self.fields.setdefault(part.field_name, []).append(value)
            return
        assert part.path is not None and part.filename is not None
        self._to_close.append(part.file)
        if part.filename == "" and part.size == 0:
            # A file input left empty: browsers still send a nameless, empty part (a page with
            # a file box for each item sends one for every box), and it is no file.
            self._to_delete.append(part.path)
            return
        if part.filename == "":
            self._count_file()
        self.files.append(
            UploadedPart(
                field_name=part.field_name,
                filename=part.filename,
                path=part.path,
                size=part.size,
                declared_type=part.declared_type or "application/octet-stream",
            )
        )

    def _count_file(self) -> None:
        self._file_count += 1
        if self._file_count > self.limits.max_files:
            raise UploadTooLarge(f"Upload no more than {self.limits.max_files} files at once.")

    def on_end(self) -> None:
        self.ended = True

    def write_pending(self) -> None:
        """Write queued file bytes, close finished files, drop empty nameless ones.

        Runs in a worker thread, between two ``parser.write`` calls.
        """
        pending, self._pending = self._pending, []
        to_close, self._to_close = self._to_close, []
        to_delete, self._to_delete = self._to_delete, []
        for file, data in pending:
            file.write(data)
        for file in to_close:
            file.close()
            self._open.remove(file)
        for path in to_delete:
            path.unlink(missing_ok=True)
            self._created.remove(path)

    def discard(self) -> None:
        """Close and delete every temporary file written so far."""
        for file in self._open:
            file.close()
        for path in self._created:
            path.unlink(missing_ok=True)
        self._open.clear()
        self._pending.clear()
        self._to_close.clear()
        self._to_delete.clear()


def _request_too_large(limits: UploadLimits) -> str:
    return f"The upload must be smaller than {describe_size(limits.max_request_bytes)} in total."
