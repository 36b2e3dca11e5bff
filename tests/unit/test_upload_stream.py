"""Streaming multipart uploads: real HTTP requests through a tiny Starlette app over ASGI.

The app answers as an evidence route would: 413 or 400 with the parser's message, or the
parsed fields and files. After every request the upload directory is checked: a refused or
broken upload must leave nothing on disk.
"""

from __future__ import annotations

import hashlib
import itertools
import socket
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Scope

from audit_portal.evidence.upload import (
    INTERRUPTED,
    UNREADABLE,
    ParsedUpload,
    UploadError,
    UploadLimits,
    UploadMalformed,
    UploadTooLarge,
    parse_stream,
    parse_upload,
)

pytestmark = pytest.mark.anyio
BOUNDARY = "----evidence-boundary-7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
    )


def file_part(name: str, filename: str, data: bytes, content_type: str = "application/pdf"):
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


class Outcomes:
    """What the endpoint saw, for assertions beyond the HTTP response."""

    def __init__(self) -> None:
        self.items: list[ParsedUpload | UploadError | BaseException] = []
        self.done = threading.Event()

    @property
    def last(self) -> ParsedUpload | UploadError | BaseException:
        return self.items[-1]


def make_app(directory: Path, outcomes: Outcomes, **limits: int) -> Starlette:
    async def upload(request: Request) -> Response:
        try:
            parsed = await parse_upload(request, directory, **limits)
        except UploadError as error:
            outcomes.items.append(error)
            return PlainTextResponse(error.message, status_code=error.status_code)
        except BaseException as error:
            outcomes.items.append(error)
            raise
        finally:
            outcomes.done.set()
        outcomes.items.append(parsed)
        with parsed:
            return JSONResponse(
                {
                    "fields": parsed.fields,
                    "files": [
                        {
                            "field": part.field_name,
                            "filename": part.filename,
                            "display_name": part.display_name,
                            "size": part.size,
                            "declared_type": part.declared_type,
                            "sha256": hashlib.sha256(part.path.read_bytes()).hexdigest(),
                            "in_directory": part.path.parent == directory,
                        }
                        for part in parsed.files
                    ],
                }
            )

    return Starlette(routes=[Route("/upload", upload, methods=["POST"])])


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def outcomes() -> Outcomes:
    return Outcomes()


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal")


async def post(app: Starlette, content: object, **headers: str) -> httpx.Response:
    async with client_for(app) as client:
        return await client.post(
            "/upload",
            content=content,  # type: ignore[arg-type]
            headers={"content-type": CONTENT_TYPE, **headers},
        )


def left_on_disk(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


class CountingBody:
    """A request body sent chunk by chunk, remembering how many chunks were pulled."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- normal uploads -------------------------------------------------------------------------


async def test_two_files_and_fields_arrive_intact(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    pdf = b"%PDF-1.4 pretend" * 5_000
    notes = "Signed minutes – 3 March".encode()
    async with client_for(app) as client:
        response = await client.post(
            "/upload",
            data={"csrf_token": "t0k3n", "item": ["s11.1.1", "s11.2.3"], "note": "Café"},
            files=[
                ("evidence", ("Training register.pdf", pdf, "application/pdf")),
                ("evidence", ("Résumé des notes.txt", notes, "text/plain")),
            ],
        )
    assert response.status_code == 200
    result = response.json()
    assert result["fields"] == {
        "csrf_token": ["t0k3n"],
        "item": ["s11.1.1", "s11.2.3"],
        "note": ["Café"],
    }
    assert result["files"] == [
        {
            "field": "evidence",
            "filename": "Training register.pdf",
            "display_name": "Training register.pdf",
            "size": len(pdf),
            "declared_type": "application/pdf",
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "in_directory": True,
        },
        {
            "field": "evidence",
            "filename": "Résumé des notes.txt",
            "display_name": "Résumé des notes.txt",
            "size": len(notes),
            "declared_type": "text/plain",
            "sha256": hashlib.sha256(notes).hexdigest(),
            "in_directory": True,
        },
    ]
    parsed = outcomes.last
    assert isinstance(parsed, ParsedUpload) and parsed.value("note") == "Café"
    assert left_on_disk(directory) == []  # cleaned up by the endpoint's `with`


async def test_a_path_in_the_filename_is_kept_as_sent_but_displayed_safely(
    directory, outcomes
) -> None:
    app = make_app(directory, outcomes)
    response = await post(app, body(file_part("evidence", "../../etc/passwd", b"root:x:0:0")))
    assert response.status_code == 200
    (sent,) = response.json()["files"]
    assert sent["filename"] == "../../etc/passwd"
    assert sent["display_name"] == "passwd"
    assert sent["in_directory"] is True


async def test_an_empty_file_input_is_not_a_file(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    content = body(
        field("note", "no file"), file_part("evidence", "", b"", "application/octet-stream")
    )
    response = await post(app, content)
    assert response.status_code == 200
    assert response.json() == {"fields": {"note": ["no file"]}, "files": []}
    assert left_on_disk(directory) == []


async def test_a_file_of_exactly_the_limit_is_accepted(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_file_bytes=1_000)
    response = await post(app, body(file_part("evidence", "a.pdf", b"x" * 1_000)))
    assert response.status_code == 200
    assert response.json()["files"][0]["size"] == 1_000


async def test_an_empty_form_is_accepted(directory, outcomes) -> None:
    response = await post(make_app(directory, outcomes), f"--{BOUNDARY}--\r\n".encode())
    assert response.status_code == 200
    assert response.json() == {"fields": {}, "files": []}


# --- too large: 413 -------------------------------------------------------------------------


async def test_a_file_one_byte_over_the_limit_is_refused_and_removed(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_file_bytes=1_000)
    response = await post(app, body(file_part("evidence", "big.pdf", b"x" * 1_001)))
    assert response.status_code == 413
    assert response.text == "The file ‘big.pdf’ must be smaller than 1,000 bytes."
    assert left_on_disk(directory) == []


async def test_the_default_file_limit_is_20_mb(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    data = b"x" * (20 * 1024 * 1024 + 1)
    response = await post(app, body(file_part("evidence", "huge.pdf", data)))
    assert response.status_code == 413
    assert response.text == "The file ‘huge.pdf’ must be smaller than 20 MB."
    assert left_on_disk(directory) == []


async def test_reading_stops_at_the_byte_that_crosses_the_file_limit(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_file_bytes=10 * 1024)
    sent = CountingBody(chunked(body(file_part("evidence", "big.pdf", b"x" * 1024 * 1024)), 1024))
    response = await post(app, sent)
    assert response.status_code == 413
    assert sent.sent <= 12  # ten 1 KB chunks of file, one of headers, one over: not 1,000+
    assert left_on_disk(directory) == []


async def test_a_body_over_the_request_limit_is_refused_as_it_arrives(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_file_bytes=4_000, max_request_bytes=10_000)
    parts = [file_part("evidence", f"{n}.pdf", b"x" * 3_000) for n in range(5)]
    sent = CountingBody(chunked(body(*parts), 500))
    response = await post(app, sent)
    assert response.status_code == 413
    assert response.text == "The upload must be smaller than 10,000 bytes in total."
    assert sent.sent == 21  # 10,000 bytes is 20 chunks; the 21st crosses the limit
    assert left_on_disk(directory) == []


async def test_a_declared_content_length_over_the_limit_is_refused_before_reading(
    directory, outcomes
) -> None:
    app = make_app(directory, outcomes)
    sent = CountingBody([b"x" * 1024] * 10)
    response = await post(app, sent, **{"content-length": str(100 * 1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.text == "The upload must be smaller than 100 MB in total."
    assert sent.sent == 0
    assert not directory.exists()  # not even the directory was created


async def test_too_many_files_are_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_files=2)
    parts = [file_part("evidence", f"{n}.pdf", b"%PDF") for n in range(3)]
    response = await post(app, body(*parts))
    assert response.status_code == 413
    assert response.text == "Upload no more than 2 files at once."
    assert left_on_disk(directory) == []


async def test_empty_file_boxes_do_not_count_against_the_file_limit(directory, outcomes) -> None:
    """A page with a file box for each item sends every box; only chosen files count."""
    app = make_app(directory, outcomes, max_files=2)
    empty = [file_part(f"box-{n}", "", b"", "application/octet-stream") for n in range(5)]
    response = await post(app, body(*empty, file_part("box-5", "a.pdf", b"%PDF")))
    assert response.status_code == 200
    assert [f["field"] for f in response.json()["files"]] == ["box-5"]
    assert left_on_disk(directory) == []


async def test_nameless_files_with_bytes_count_against_the_file_limit(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_files=2)
    parts = [file_part("evidence", "", b"%PDF", "application/pdf") for _ in range(3)]
    response = await post(app, body(*parts))
    assert response.status_code == 413
    assert response.text == "Upload no more than 2 files at once."
    assert left_on_disk(directory) == []


async def test_too_many_fields_are_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes, max_fields=3)
    response = await post(app, body(*[field(f"f{n}", "x") for n in range(4)]))
    assert response.status_code == 413
    assert response.text == "The form has too many fields."


async def test_a_text_field_over_64_kb_is_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    response = await post(app, body(field("note", "x" * (64 * 1024 + 1))))
    assert response.status_code == 413
    assert response.text == "Text in the form must be shorter than 64 KB."


# --- malformed: 400 -------------------------------------------------------------------------


async def test_a_body_without_its_closing_boundary_is_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    content = field("note", "x") + file_part("evidence", "a.pdf", b"%PDF" * 1000)
    response = await post(app, content)
    assert response.status_code == 400
    assert response.text == INTERRUPTED
    assert left_on_disk(directory) == []


async def test_a_body_cut_off_in_the_middle_of_a_file_is_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    complete = body(file_part("evidence", "a.pdf", b"%PDF" * 10_000))
    response = await post(app, complete[: len(complete) // 2])
    assert response.status_code == 400
    assert response.text == INTERRUPTED
    assert left_on_disk(directory) == []


async def test_a_sender_that_stops_half_way_is_refused(directory, outcomes) -> None:
    """A streamed (chunked) body whose sender simply stops: no length to compare against."""
    app = make_app(directory, outcomes)
    chunks = chunked(body(file_part("evidence", "a.pdf", b"%PDF" * 10_000)), 4096)
    sent = CountingBody(chunks[: len(chunks) // 2])
    response = await post(app, sent)
    assert response.status_code == 400
    assert response.text == INTERRUPTED
    assert left_on_disk(directory) == []


async def test_a_body_shorter_than_its_content_length_is_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    complete = body(file_part("evidence", "a.pdf", b"%PDF" * 10_000))
    sent = CountingBody(chunked(complete, 4096)[:3])
    response = await post(app, sent, **{"content-length": str(len(complete))})
    assert response.status_code == 400
    assert left_on_disk(directory) == []


async def test_a_client_that_disconnects_leaves_nothing(directory, outcomes) -> None:
    """The ASGI server reports a dropped connection as http.disconnect."""
    app = make_app(directory, outcomes)
    complete = body(file_part("evidence", "a.pdf", b"%PDF" * 10_000))
    messages: list[Message] = [
        {"type": "http.request", "body": complete[:5_000], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", CONTENT_TYPE.encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("portal", 80),
    }
    await app(scope, receive, send)
    assert isinstance(outcomes.last, UploadMalformed)
    assert outcomes.last.message == INTERRUPTED
    assert sent[0]["status"] == 400
    assert left_on_disk(directory) == []


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a multipart body at all",
        b"\x00\xff" * 500,
        f"--{BOUNDARY}\r\n\r\nno headers\r\n--{BOUNDARY}--\r\n".encode(),
    ],
    ids=["text", "binary", "part-without-headers"],
)
async def test_garbage_is_refused(directory, outcomes, content: bytes) -> None:
    response = await post(make_app(directory, outcomes), content)
    assert response.status_code == 400
    assert response.text in {UNREADABLE, INTERRUPTED}
    assert left_on_disk(directory) == []


async def test_a_body_with_a_different_boundary_is_refused(directory, outcomes) -> None:
    content = body(file_part("evidence", "a.pdf", b"%PDF")).replace(
        BOUNDARY.encode(), b"another-boundary"
    )
    response = await post(make_app(directory, outcomes), content)
    assert response.status_code == 400
    assert response.text == UNREADABLE
    assert left_on_disk(directory) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "application/x-www-form-urlencoded",
        "application/json",
        "text/plain",
    ],
)
async def test_a_missing_boundary_or_other_content_type_is_refused(
    directory, outcomes, content_type: str
) -> None:
    app = make_app(directory, outcomes)
    async with client_for(app) as client:
        response = await client.post(
            "/upload", content=body(field("a", "b")), headers={"content-type": content_type}
        )
    assert response.status_code == 400
    assert response.text.startswith("The upload could not be read")


async def test_a_request_without_a_content_type_is_refused(directory, outcomes) -> None:
    app = make_app(directory, outcomes)
    async with client_for(app) as client:
        response = await client.post("/upload", content=b"data")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Type: application/pdf",  # no Content-Disposition
        'Content-Disposition: form-data; filename="a.pdf"',  # no name
        'Content-Disposition: attachment; name="evidence"; filename="a.pdf"',
        'Content-Disposition form-data; name="evidence"',  # no colon
        "X-Long: " + "x" * 10_000,  # a header line longer than the parser allows
    ],
    ids=["no-disposition", "no-name", "not-form-data", "no-colon", "too-long"],
)
async def test_malformed_part_headers_are_refused(directory, outcomes, headers: str) -> None:
    content = (
        field("note", "first")
        + f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode()
        + b"%PDF-1.4"
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = await post(make_app(directory, outcomes), content)
    assert response.status_code == 400
    assert response.text == UNREADABLE
    assert left_on_disk(directory) == []


async def test_a_malformed_part_after_a_complete_file_removes_that_file_too(
    directory, outcomes
) -> None:
    content = (
        file_part("evidence", "good.pdf", b"%PDF" * 1000)
        + f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = await post(make_app(directory, outcomes), content)
    assert response.status_code == 400
    assert left_on_disk(directory) == []


async def test_text_that_is_not_utf8_is_refused(directory, outcomes) -> None:
    content = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n'.encode()
        + "Café".encode("latin-1")
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = await post(make_app(directory, outcomes), content)
    assert response.status_code == 400


@pytest.mark.parametrize("length", [b"12abc", b"-5", b"\xb2"], ids=["letters", "negative", "²"])
async def test_a_nonsense_content_length_is_refused(directory, outcomes, length: bytes) -> None:
    """'²' counts as a digit to str.isdigit() but is not a number int() accepts."""
    app = make_app(directory, outcomes)
    async with client_for(app) as client:
        response = await client.post(
            "/upload",
            content=body(field("a", "b")),
            headers={b"content-type": CONTENT_TYPE.encode(), b"content-length": length},
        )
    assert response.status_code == 400


# --- a real server and a real socket --------------------------------------------------------


@pytest.fixture
def live_upload_server(directory: Path, outcomes: Outcomes) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(directory, outcomes)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_a_browser_closing_mid_upload_leaves_nothing(
    live_upload_server: int, directory: Path, outcomes: Outcomes
) -> None:
    """Half a body over TCP, then the connection closes: as when a tab is closed mid-upload."""
    complete = body(file_part("evidence", "a.pdf", b"%PDF" * 50_000))
    head = (
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CONTENT_TYPE}\r\n"
        f"Content-Length: {len(complete)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", live_upload_server)) as connection:
        connection.sendall(head + complete[: len(complete) // 2])
        deadline = time.monotonic() + 5
        while not any(p.name.startswith("upload-") for p in directory.glob("*")):
            assert time.monotonic() < deadline, "the server never started writing the file"
            time.sleep(0.01)
    assert outcomes.done.wait(timeout=10)
    assert isinstance(outcomes.last, UploadMalformed)
    assert outcomes.last.message == INTERRUPTED
    assert left_on_disk(directory) == []


# --- properties of the parser itself --------------------------------------------------------


SAMPLE_BODY = body(
    field("csrf_token", "abc"),
    file_part("evidence", "one.pdf", b"%PDF-1.4\r\n--not-a-boundary\r\n" * 40),
    field("note", "Line one\r\nLine two"),
    file_part("evidence", "two.txt", b"\r\n\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n"),
)
HEADERS = Headers({"content-type": CONTENT_TYPE})


async def _stream(chunks: list[bytes]) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


def _parse(chunks: list[bytes], directory: Path, limits: UploadLimits) -> ParsedUpload:
    async def run() -> ParsedUpload:
        return await parse_stream(HEADERS, _stream(chunks), directory, limits)

    return anyio.run(run)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=len(SAMPLE_BODY) - 1), max_size=12))
def test_where_the_body_is_split_into_chunks_never_changes_the_result(cuts: list[int]) -> None:
    points = [0, *sorted(set(cuts)), len(SAMPLE_BODY)]
    chunks = [SAMPLE_BODY[a:b] for a, b in itertools.pairwise(points)]
    with tempfile.TemporaryDirectory() as scratch:
        parsed = _parse(chunks, Path(scratch), UploadLimits())
        with parsed:
            contents = [part.path.read_bytes() for part in parsed.files]
        assert parsed.fields == {"csrf_token": ["abc"], "note": ["Line one\r\nLine two"]}
        assert [p.filename for p in parsed.files] == ["one.pdf", "two.txt"]
        assert contents == [
            b"%PDF-1.4\r\n--not-a-boundary\r\n" * 40,
            b"\r\n\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n",
        ]
        assert list(Path(scratch).iterdir()) == []


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=len(SAMPLE_BODY) - len(b"-\r\n")))
def test_every_truncation_is_refused_and_leaves_nothing(length: int) -> None:
    """Any prefix that stops before the closing boundary is complete is refused (the CRLF
    after the closing "--" is optional, so only those two bytes may be missing)."""
    with tempfile.TemporaryDirectory() as scratch:
        with pytest.raises(UploadMalformed):
            _parse([SAMPLE_BODY[:length]], Path(scratch), UploadLimits())
        assert list(Path(scratch).iterdir()) == []


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2_000), st.booleans())
def test_any_bytes_give_a_result_or_an_upload_error_never_a_crash(
    data: bytes, start_with_boundary: bool
) -> None:
    content = (f"--{BOUNDARY}\r\n".encode() if start_with_boundary else b"") + data
    with tempfile.TemporaryDirectory() as scratch:
        try:
            _parse([content], Path(scratch), UploadLimits(max_file_bytes=500, max_fields=5))
        except UploadError:
            assert list(Path(scratch).iterdir()) == []
        else:  # only an empty or complete body parses: nothing else to check
            pass


def test_upload_errors_carry_their_status() -> None:
    assert UploadTooLarge("x").status_code == 413
    assert UploadMalformed("x").status_code == 400
    assert issubclass(UploadTooLarge, UploadError) and issubclass(UploadMalformed, UploadError)
