"""Hostile file names, malformed multipart bodies and path tricks in addresses.

``test_fuzz_every_route`` sends hostile text in every form field, query parameter and path
parameter; this module covers what it cannot: the file name inside a multipart upload, the
multipart framing itself, and traversal written into the address (encoded so no client tidies
it away). Nothing may answer 500, a refused upload leaves nothing behind, and an accepted one
is stored under a name of the portal's choosing, inside the upload directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, EvidenceFile, Organisation
from tests.challenge_builders import files_under, issue_over_http, submitted_and_sampled
from tests.personas import World, signed_in

TRAVERSAL_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "C:\\secret.txt",
    "....//....//x.txt",
    "%2e%2e%2fsecret.txt",
    "..",
    ".",
    "",
    "a\x00.txt",
    "evil\r\nContent-Type: text/html.txt",
    "CON.txt",
    ".htaccess",
    "x" * 500 + ".txt",
    "<img src=x onerror=alert(1)>.txt",
    "名前.txt",
]
file_names = st.one_of(
    st.sampled_from(TRAVERSAL_NAMES),
    st.builds(lambda a, b: f"{a}/{b}.txt", st.text(max_size=10), st.text(max_size=10)),
    st.text(max_size=60),
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def changes(engine: Engine) -> int:
    with session_scope(engine, write=False) as db:
        return db.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(~col(AuditEvent.action).startswith("security."))
        ).one()


def everything_under(root: Path) -> set[Path]:
    return set(files_under(root))


@pytest.fixture
def challenge_id(app: Starlette, clean_db: Engine, world: World) -> Iterator[int]:
    with clock.travel(date(2026, 4, 1)):
        made = submitted_and_sampled(app, clean_db, world)
        issue_over_http(app, clean_db, world, made.challenge_id, ["s175.1.1"], date(2026, 5, 15))
        yield made.challenge_id


def test_hostile_evidence_file_names_are_stored_under_names_of_our_own(
    app: Starlette, clean_db: Engine, world: World, settings: Settings, challenge_id: int
) -> None:
    evidence_root = settings.upload_dir / "evidence"
    outside = settings.upload_dir.parent

    @FUZZ
    @given(name=file_names, content=st.binary(min_size=0, max_size=64))
    def attempt(name: str, content: bytes) -> None:
        before_files = everything_under(outside)
        before = changes(clean_db)
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
            token = signed_in(client, clean_db, world.people["respondent_a"])
            response = client.post(
                f"/challenges/{challenge_id}/items/s175.1.1/files",
                data={
                    "csrf_token": token,
                    "in-force-day": "1",
                    "in-force-month": "9",
                    "in-force-year": "2025",
                },
                files={"file": (name, b"Our policy.\n" + content, "text/plain")},
            )
        sent = f"{name!r} {content[:20]!r}"
        assert response.status_code < 500, f"{sent}: {response.text[:300]}"
        new = everything_under(outside) - before_files
        if response.status_code >= 400:
            assert new == set(), f"{sent} was refused but left {new}"
            assert changes(clean_db) == before, f"{sent} was refused but changed data"
            return
        for path in new:
            assert path.resolve().is_relative_to(evidence_root.resolve()), path
            assert name not in str(path) or name in {"", ".", "..", "x"}, path
        with session_scope(clean_db, write=False) as db:
            shown = [f.display_name for f in db.exec(select(EvidenceFile))]
        for display in shown:
            assert not {"/", "\\", "\x00", "\r", "\n"} & set(display), display
            assert display not in {"", ".", ".."}, display

    with clock.travel(date(2026, 4, 1)):
        attempt()


UPLOAD_ROUTES = ("/organisations/import", "/campaigns/import")


@st.composite
def multipart_bodies(draw, token: str) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    """A multipart body that is broken somewhere: framing, headers, boundary or length."""
    boundary = draw(st.sampled_from(["b0und", "", "x" * 80, "a b", "--"]))
    declared = draw(st.sampled_from([boundary, "other", boundary + " ", ""]))
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n',
        draw(
            st.sampled_from(
                [
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="../x.csv"\r\n\r\nurn,name\r\n',
                    f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nno name\r\n",
                    f"--{boundary}\r\nno-colon-header\r\n\r\n",
                    f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n',
                    "",
                ]
            )
        ),
        draw(st.sampled_from([f"--{boundary}--\r\n", f"--{boundary}", "", "--"])),
    ]
    body = "".join(parts).encode("utf-8", "surrogatepass")
    body += draw(st.binary(max_size=40))
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return body, f"multipart/form-data; boundary={declared}"


@pytest.mark.parametrize("path", UPLOAD_ROUTES)
def test_malformed_multipart_is_refused_and_changes_nothing(
    path: str, app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        token = signed_in(client, clean_db, world.people["admin"])

        @FUZZ
        @given(case=multipart_bodies(token))
        def attempt(case: tuple[bytes, str]) -> None:
            body, content_type = case
            before = changes(clean_db)
            with session_scope(clean_db, write=False) as db:
                organisations = db.exec(select(func.count()).select_from(Organisation)).one()
            response = client.post(
                path, content=body, headers={"Content-Type": content_type, "X-CSRF-Token": token}
            )
            sent = f"{content_type!r} {body[:200]!r}"
            assert response.status_code < 500, f"{sent}: {response.text[:300]}"
            assert changes(clean_db) == before, f"{sent} changed data"
            with session_scope(clean_db, write=False) as db:
                assert db.exec(select(func.count()).select_from(Organisation)).one() == (
                    organisations
                )

        attempt()


TRAVERSAL_PATHS = [
    "/static/..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%5c..%5cpyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2fvar%2fsecret_key",
    "/questionnaires/..%2f..%2fpyproject.toml/2025.1",
    "/questionnaires/section-175-schools/..%2f..%2f..%2fpyproject.toml",
    "/questionnaires/%2e%2e/2025.1/blank.pdf",
    "/questionnaires/section-175-schools/2025.1/sections/..%2f..%2fsecret_key",
    "/returns/1/sections/..%2f..%2f..%2fetc%2fpasswd",
    "/challenges/1/items/..%2f..%2fsecret_key/files",
    "/evidence/..%2f..%2fsecret_key",
    "/invitation/..%2f..%2fsecret_key",
]


@pytest.mark.parametrize("path", TRAVERSAL_PATHS)
def test_traversal_in_an_address_finds_nothing(
    path: str, app: Starlette, clean_db: Engine, world: World, settings: Settings
) -> None:
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        for method in ("GET", "POST"):
            response = client.request(method, path, data={"csrf_token": token})
            assert response.status_code in {400, 403, 404, 405}, (method, response.status_code)
            assert settings.secret_key not in response.text
            assert "[build-system]" not in response.text and "root:x:" not in response.text


def test_a_multipart_body_cut_off_before_its_end_is_refused(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        whole = (
            f'--b0und\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b0und\r\nContent-Disposition: form-data; name="kind"\r\n\r\ngias\r\n'
            '--b0und\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            "URN,EstablishmentName\r\n100001,Alpha\r\n--b0und--\r\n"
        ).encode()
        headers = {"Content-Type": "multipart/form-data; boundary=b0und"}
        before = changes(clean_db)
        cut = client.post("/organisations/import", content=whole[:-30], headers=headers)
        assert cut.status_code == 400
        assert "The form was cut off before it arrived in full" in cut.text
        assert changes(clean_db) == before
        complete = client.post("/organisations/import", content=whole, headers=headers)
        assert complete.status_code != 400 or "cut off" not in complete.text
