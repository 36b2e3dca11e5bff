"""Evidence uploads and downloads over HTTP: real files in and byte-identical out; each kind of
bad upload gets a clear 4xx and leaves nothing on disk (checked in the directories) or in the
database; only the owning organisation, QA and administrators download (the scrutineer by
setting)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.challenges.files import evidence_storage, incoming_directory, storage_key
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.evidence.sizes import MB
from audit_portal.models import (
    AuditEvent,
    ChallengedItem,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
)
from audit_portal.web.app import create_app
from tests.builders import visible_text
from tests.challenge_builders import (
    Challenge,
    files_under,
    issue_over_http,
    submitted_and_sampled,
)
from tests.evidence_samples import pdf_with_text, png
from tests.personas import World, signed_in

TODAY = date(2026, 4, 1)
DUE = date(2026, 5, 15)
ITEMS = ["s175.1.1", "s175.1.2"]
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def on_the_first_of_april() -> Iterator[None]:
    with clock.travel(TODAY):
        yield


@pytest.fixture
def issued(app: Starlette, clean_db: Engine, world: World) -> Challenge:
    made = submitted_and_sampled(app, clean_db, world)
    with clock.travel(TODAY):
        issue_over_http(app, clean_db, world, made.challenge_id, ITEMS, DUE)
    return made


@pytest.fixture
def respondent(app: Starlette, clean_db: Engine, world: World) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, clean_db, world.people["respondent_a"])


def upload(
    client: TestClient,
    token: str,
    challenge_id: int,
    name: str,
    content: bytes,
    item: str = "s175.1.1",
    in_force: tuple[str, str, str] = ("1", "9", "2025"),
    content_type: str = "application/octet-stream",
):  # type: ignore[no-untyped-def]
    day, month, year = in_force
    return client.post(
        f"/challenges/{challenge_id}/items/{item}/files",
        data={
            "csrf_token": token,
            "in-force-day": day,
            "in-force-month": month,
            "in-force-year": year,
        },
        files={"file": (name, content, content_type)},
    )


def stored(settings: Settings) -> list[Path]:
    return files_under(settings.upload_dir / "evidence")


def assert_nothing_left(settings: Settings, engine: Engine, before: list[Path]) -> None:
    assert stored(settings) == before, "no new stored file"
    assert files_under(incoming_directory(settings)) == [], "no temporary file"
    with session_scope(engine, write=False) as db:
        assert db.exec(select(EvidenceFile)).all() == []
        assert db.exec(select(EvidencePiece)).all() == []
        assert (
            db.exec(select(AuditEvent).where(AuditEvent.action == "evidence.uploaded")).all() == []
        )


def test_real_files_go_in_and_come_back_byte_identical(
    app: Starlette,
    clean_db: Engine,
    world: World,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    cid = issued.challenge_id
    files = {
        "Training register.pdf": pdf_with_text(),
        "Poster.png": png(),
        "notes.txt": b"Designated safeguarding lead: Ms Khan\n",
    }
    for name, content in files.items():
        response = upload(client, token, cid, name, content)
        assert response.status_code == 303, visible_text(response.text)[:500]
    page = client.get(f"/challenges/{cid}")
    text = visible_text(page.text)
    for name in files:
        assert name in text
    assert "PDF document" in text and "PNG image" in text and "Plain text" in text
    assert "1 September 2025" in text
    with session_scope(clean_db, write=False) as db:
        pieces = {
            f.display_name: p.id
            for p, f in db.exec(
                select(EvidencePiece, EvidenceFile).join(
                    EvidenceFile,
                    EvidenceFile.id == EvidencePiece.evidence_file_id,  # type: ignore[arg-type]
                )
            )
        }
        kinds = {f.display_name: (f.kind, f.content_type) for f in db.exec(select(EvidenceFile))}
    assert kinds["Poster.png"] == ("png", "image/png")
    assert kinds["Training register.pdf"] == ("pdf", "application/pdf")
    for name, content in files.items():
        got = client.get(f"/evidence/{pieces[name]}")
        assert got.status_code == 200
        assert got.content == content
        assert got.headers["content-disposition"].startswith("attachment; filename=")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["cache-control"] == "no-store"
    with TestClient(app, follow_redirects=False) as qa:
        signed_in(qa, clean_db, world.people["qa"])
        qa_page = qa.get(f"/challenges/{cid}")
        assert f'href="/evidence/{pieces["Poster.png"]}"' in qa_page.text
        assert "Upload file" not in qa_page.text, "QA read the page, they do not change it"
        assert qa.get(f"/evidence/{pieces['Poster.png']}").content == files["Poster.png"]
    with session_scope(clean_db, write=False) as db:
        actions = [
            e.action for e in db.exec(select(AuditEvent)) if e.action.startswith("evidence.")
        ]
    assert actions.count("evidence.uploaded") == 3
    assert actions.count("evidence.downloaded") == 4


def test_the_same_content_twice_is_stored_once_and_removal_deletes_it(
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    cid = issued.challenge_id
    before = stored(settings)
    content = pdf_with_text("Child protection policy, approved 2025")
    assert upload(client, token, cid, "policy.pdf", content).status_code == 303
    assert (
        upload(client, token, cid, "policy copy.pdf", content, item="s175.1.2").status_code == 303
    )
    again = upload(client, token, cid, "policy.pdf", content)
    assert again.status_code == 409
    assert "already evidence for this item" in visible_text(again.text)
    assert len(stored(settings)) == len(before) + 1
    with session_scope(clean_db, write=False) as db:
        assert len(db.exec(select(EvidenceFile)).all()) == 1
        pieces = db.exec(select(EvidencePiece)).all()
        assert len(pieces) == 2
    for piece in pieces:
        removed = client.post(
            f"/challenges/{cid}/pieces/{piece.id}/remove", data={"csrf_token": token}
        )
        assert removed.status_code == 303
    assert stored(settings) == before
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(EvidenceFile)).all() == []
        removals = db.exec(select(AuditEvent).where(AuditEvent.action == "evidence.removed")).all()
        assert len(removals) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("policy.pdf", ELF, "is not a PDF: it looks like a program"),
        ("policy.docx", pdf_with_text(), "is not a Word document: it looks like a PDF"),
        ("script.html", b"<html><script>alert(1)</script></html>", "cannot be uploaded"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_and_leaves_nothing(
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
    name: str,
    content: bytes,
    message: str,
) -> None:
    client, token = respondent
    before = stored(settings)
    refused = upload(client, token, issued.challenge_id, name, content)
    assert refused.status_code == 400
    assert message in visible_text(refused.text)
    assert_nothing_left(settings, clean_db, before)


def test_an_upload_over_the_limit_gets_413_and_leaves_nothing(
    clean_db: Engine, world: World, settings: Settings, issued: Challenge
) -> None:
    small = create_app(replace(settings, evidence_max_file_mb=1), engine=clean_db)
    before = stored(settings)
    with TestClient(small, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        big = b"a" * (MB + 10)
        refused = upload(client, token, issued.challenge_id, "big.txt", big)
        assert refused.status_code == 413
        assert "must be smaller than 1 MB" in visible_text(refused.text)
    assert_nothing_left(settings, clean_db, before)


def test_a_genuinely_large_upload_streamed_without_a_length_gets_413(
    app: Starlette, clean_db: Engine, world: World, settings: Settings, issued: Challenge
) -> None:
    before = stored(settings)
    boundary = "evidenceboundary"
    token_holder: dict[str, str] = {}

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token_holder['token']}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        chunk = b"x" * MB
        for _ in range(21):
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    with TestClient(app, follow_redirects=False) as client:
        token_holder["token"] = signed_in(client, clean_db, world.people["respondent_a"])
        refused = client.post(
            f"/challenges/{issued.challenge_id}/items/s175.1.1/files",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert refused.status_code == 413
    assert "must be smaller than 20 MB" in visible_text(refused.text)
    assert_nothing_left(settings, clean_db, before)


def test_cut_off_empty_and_malformed_bodies_get_400_and_leave_nothing(
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    before = stored(settings)
    url = f"/challenges/{issued.challenge_id}/items/s175.1.1/files"
    boundary = "cutboundary"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="policy.txt"\r\nContent-Type: text/plain\r\n\r\nhalf a polic'
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    cut = client.post(url, content=start, headers=headers)
    assert cut.status_code == 400
    assert "The upload stopped before it finished" in visible_text(cut.text)
    empty = client.post(url, content=b"", headers={**headers, "X-CSRF-Token": token})
    assert empty.status_code == 400
    garbage = client.post(url, content=b"\x00\xffnot multipart at all", headers=headers)
    assert garbage.status_code == 400
    no_file = client.post(url, data={"csrf_token": token})
    assert no_file.status_code == 400 and "Choose a file to upload" in visible_text(no_file.text)
    assert_nothing_left(settings, clean_db, before)


def test_a_path_like_filename_is_stored_safely(
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    response = upload(client, token, issued.challenge_id, "../../etc/passwd.txt", b"root:x:0:0\n")
    assert response.status_code == 303
    with session_scope(clean_db, write=False) as db:
        file = db.exec(select(EvidenceFile)).one()
        piece = db.exec(select(EvidencePiece)).one()
    assert file.display_name == "passwd.txt"
    path = evidence_storage(settings).root / storage_key(file.storage_key)  # type: ignore[attr-defined]
    assert path.read_bytes() == b"root:x:0:0\n"
    assert "etc" not in str(path.relative_to(settings.upload_dir))
    download = client.get(f"/evidence/{piece.id}")
    assert 'filename="passwd.txt"' in download.headers["content-disposition"]


def test_uploads_refused_for_items_not_challenged_after_submission_and_after_the_due_date(
    app: Starlette,
    clean_db: Engine,
    world: World,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    cid = issued.challenge_id
    before = stored(settings)
    assert upload(client, token, cid, "a.txt", b"a\n", item="s175.2.1").status_code == 404
    assert upload(client, token, cid, "a.txt", b"a\n", item="../x").status_code == 404
    future = upload(client, token, cid, "a.txt", b"a\n", in_force=("1", "1", "2027"))
    assert future.status_code == 400 and "today or in the past" in visible_text(future.text)
    with clock.travel(date(2026, 5, 16)):
        token = signed_in(client, clean_db, world.people["respondent_a"])  # a new day's session
        late = upload(client, token, cid, "a.txt", b"a\n")
        assert late.status_code == 409
        assert "The evidence was due on 15 May 2026" in visible_text(late.text)
        assert_nothing_left(settings, clean_db, before)
        with TestClient(app, follow_redirects=False) as qa:
            qa_token = signed_in(qa, clean_db, world.people["qa"])
            extended = qa.post(
                f"/challenges/{cid}/due-date",
                data={"csrf_token": qa_token, "due-day": "1", "due-month": "6", "due-year": "2026"},
            )
            assert extended.status_code == 303
        assert upload(client, token, cid, "a.txt", b"a\n").status_code == 303
        client.post(
            f"/challenges/{cid}",
            data={
                "csrf_token": token,
                "item-s175-1-2-explanation": "See the log",
                "item-s175-1-2-version": "0",
            },
        )
        assert (
            client.post(f"/challenges/{cid}/submit", data={"csrf_token": token}).status_code == 303
        )
        after = upload(client, token, cid, "b.txt", b"b\n")
        assert after.status_code == 409
        assert "can no longer be changed" in visible_text(after.text)
    with session_scope(clean_db, write=False) as db:
        assert [f.display_name for f in db.exec(select(EvidenceFile))] == ["a.txt"]


def test_another_organisation_and_the_scrutineer_cannot_download(
    app: Starlette,
    clean_db: Engine,
    world: World,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    cid = issued.challenge_id
    assert upload(client, token, cid, "policy.txt", b"Our policy\n").status_code == 303
    with session_scope(clean_db, write=False) as db:
        piece = db.exec(select(EvidencePiece)).one()
    with TestClient(app, follow_redirects=False) as other:
        other_token = signed_in(other, clean_db, world.people["respondent_b"])
        assert other.get(f"/evidence/{piece.id}").status_code == 404
        assert other.get(f"/challenges/{cid}").status_code == 404
        sneaky = upload(other, other_token, cid, "x.txt", b"x\n")
        assert sneaky.status_code == 404
        removing = other.post(
            f"/challenges/{cid}/pieces/{piece.id}/remove", data={"csrf_token": other_token}
        )
        assert removing.status_code == 404
    with TestClient(app, follow_redirects=False) as scrutineer:
        signed_in(scrutineer, clean_db, world.people["scrutineer"])
        assert scrutineer.get(f"/evidence/{piece.id}").status_code == 404
    allowing = create_app(replace(settings, evidence_scrutineer_download=True), engine=clean_db)
    with TestClient(allowing, follow_redirects=False) as scrutineer:
        signed_in(scrutineer, clean_db, world.people["scrutineer"])
        got = scrutineer.get(f"/evidence/{piece.id}")
        assert got.status_code == 200 and got.content == b"Our policy\n"
    with session_scope(clean_db, write=False) as db:
        assert len(db.exec(select(EvidencePiece)).all()) == 1


def test_an_upload_without_a_valid_token_stores_nothing(
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    client, token = respondent
    before = stored(settings)
    forged = upload(client, "forged", issued.challenge_id, "policy.txt", b"policy\n")
    assert forged.status_code == 403
    assert "Your form could not be sent" in visible_text(forged.text)
    by_header = client.post(
        f"/challenges/{issued.challenge_id}/items/s175.1.1/files",
        files={"file": ("policy.txt", b"policy\n", "text/plain")},
        headers={"X-CSRF-Token": "forged"},
    )
    assert by_header.status_code == 403
    assert_nothing_left(settings, clean_db, before)
    good = client.post(
        f"/challenges/{issued.challenge_id}/items/s175.1.1/files",
        files={"file": ("policy.txt", b"policy\n", "text/plain")},
        headers={"X-CSRF-Token": token},
    )
    assert good.status_code == 303


def page_versions(client: TestClient, cid: int) -> dict[str, str]:
    """The hidden versions the challenge page's one form carries, by field name."""
    page = client.get(f"/challenges/{cid}").text
    return dict(re.findall(r'name="(item-[a-z0-9-]+-version)" value="(\d*)"', page))


def test_every_button_of_the_page_saves_the_explanations_typed(
    app: Starlette,
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    """Typed but not yet saved, an explanation survives an upload, a removal and the submit:
    the page is one form, and each of its buttons saves what it carries first."""
    client, token = respondent
    cid = issued.challenge_id
    uploaded = client.post(
        f"/challenges/{cid}/items/s175.1.1/files",
        data={
            "csrf_token": token,
            **page_versions(client, cid),
            "item-s175-1-1-explanation": "Our training log",
            "item-s175-1-2-explanation": "See the register",
            "item-s175-1-1-in-force-day": "1",
            "item-s175-1-1-in-force-month": "9",
            "item-s175-1-1-in-force-year": "2025",
        },
        files={
            "item-s175-1-1-file": ("log.txt", b"Training log\n", "text/plain"),
            "item-s175-1-2-file": ("", b"", "application/octet-stream"),  # a box left empty
        },
    )
    assert uploaded.status_code == 303, visible_text(uploaded.text)[:500]

    def explanations() -> dict[str, str]:
        with session_scope(clean_db, write=False) as db:
            rows = db.exec(select(ChallengedItem).where(ChallengedItem.challenge_id == cid))
            return {c.item_id: c.explanation for c in rows}

    assert explanations() == {"s175.1.1": "Our training log", "s175.1.2": "See the register"}
    with session_scope(clean_db, write=False) as db:
        (piece,) = db.exec(select(EvidencePiece)).all()
        assert piece.in_force_on == date(2025, 9, 1)
    text = visible_text(client.get(f"/challenges/{cid}").text)
    assert "‘log.txt’ added as evidence. Your explanations are saved too." in text
    assert "log.txt" in text and "1 September 2025" in text

    removed = client.post(
        f"/challenges/{cid}/pieces/{piece.id}/remove",
        data={
            "csrf_token": token,
            **page_versions(client, cid),
            "item-s175-1-1-explanation": "Our training log, kept on paper",
            "item-s175-1-2-explanation": "See the register",
        },
    )
    assert removed.status_code == 303
    assert explanations()["s175.1.1"] == "Our training log, kept on paper"

    submitted = client.post(
        f"/challenges/{cid}/submit",
        data={
            "csrf_token": token,
            **page_versions(client, cid),
            "item-s175-1-1-explanation": "Our training log, kept on paper",
            "item-s175-1-2-explanation": "See the register and the minutes",
        },
    )
    assert submitted.status_code == 303, visible_text(submitted.text)[:500]
    assert explanations()["s175.1.2"] == "See the register and the minutes"
    with session_scope(clean_db, write=False) as db:
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None and challenge.submitted_at is not None


def test_an_upload_carrying_a_bad_explanation_stores_nothing(
    app: Starlette,
    clean_db: Engine,
    settings: Settings,
    issued: Challenge,
    respondent: tuple[TestClient, str],
) -> None:
    """The explanations an upload carries are checked like any save: an over-long one, or one
    with a version that is not a number, is refused with the page, and no file is stored."""
    client, token = respondent
    cid = issued.challenge_id
    before = stored(settings)
    for explanation, version in (("x" * 5001, "0"), ("fine", "-1e99"), ("fine", "9" * 40)):
        refused = client.post(
            f"/challenges/{cid}/items/s175.1.1/files",
            data={
                "csrf_token": token,
                "item-s175-1-1-explanation": explanation,
                "item-s175-1-1-version": version,
            },
            files={"item-s175-1-1-file": ("log.txt", b"Training log\n", "text/plain")},
        )
        assert refused.status_code in {400, 409}, (version, refused.status_code)
        assert "There is a problem" in visible_text(refused.text) or (
            "not saved" in visible_text(refused.text)
        )
    assert_nothing_left(settings, clean_db, before)
    with session_scope(clean_db, write=False) as db:
        rows = db.exec(select(ChallengedItem).where(ChallengedItem.challenge_id == cid))
        assert {c.explanation for c in rows} == {""}


def test_files_chosen_for_other_questions_are_named_as_not_uploaded(
    clean_db: Engine, issued: Challenge, respondent: tuple[TestClient, str]
) -> None:
    """Each question's files go with its own Upload button; the page comes back with every file
    box empty. A file chosen for another question is not lost without a word."""
    client, token = respondent
    cid = issued.challenge_id
    uploaded = client.post(
        f"/challenges/{cid}/items/s175.1.1/files",
        data={"csrf_token": token, **page_versions(client, cid)},
        files={
            "item-s175-1-1-file": ("log.txt", b"Training log\n", "text/plain"),
            "item-s175-1-2-file": ("register.txt", b"Register\n", "text/plain"),
        },
    )
    assert uploaded.status_code == 303, visible_text(uploaded.text)[:500]
    text = visible_text(client.get(f"/challenges/{cid}").text)
    assert (
        "‘log.txt’ added as evidence. ‘register.txt’ was chosen for another question and has"
        " not been uploaded: choose it again there and select its Upload file button."
    ) in text
    with session_scope(clean_db, write=False) as db:
        (piece,) = db.exec(select(EvidencePiece)).all()  # only the question whose button it was
        challenged = db.get(ChallengedItem, piece.challenged_item_id)
        assert challenged is not None and challenged.item_id == "s175.1.1"


def test_submitting_with_a_file_chosen_but_not_uploaded_says_so_first(
    clean_db: Engine, issued: Challenge, respondent: tuple[TestClient, str]
) -> None:
    """The submit button sends the page without its files (a file box sends only its name):
    evidence is not submitted without the file the person chose until they say so."""
    client, token = respondent
    cid = issued.challenge_id
    form = {
        "csrf_token": token,
        **page_versions(client, cid),
        "item-s175-1-1-explanation": "Our training log",
        "item-s175-1-2-explanation": "See the register",
    }
    refused = client.post(
        f"/challenges/{cid}/submit", data={**form, "item-s175-1-2-file": "register.pdf"}
    )
    assert refused.status_code == 400
    page = visible_text(refused.text)
    expected = (
        "‘register.pdf’ was chosen but not uploaded. To include it, choose it again and select"
        " Upload file; to leave it out, submit again"
    )
    assert "There is a problem" in page and page.count(expected) == 2  # summary and the box
    assert 'id="item-s175-1-2-file-error"' in refused.text
    assert 'aria-describedby="item-s175-1-2-file-hint item-s175-1-2-file-error"' in refused.text
    with session_scope(clean_db, write=False) as db:
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None and challenge.submitted_at is None
        explained = db.exec(select(ChallengedItem).where(ChallengedItem.challenge_id == cid))
        assert {c.item_id: c.explanation for c in explained}["s175.1.2"] == "See the register"

    hostile = client.post(
        f"/challenges/{cid}/submit",
        data={**form, "item-s175-1-2-file": '<b hx-get="x">bold<b>' + "a" * 5000},
    )
    assert hostile.status_code == 400
    assert "<b hx-get" not in hostile.text, "a name typed into the request is shown as text"
    assert '‘<b hx-get="x">bold<b>aaa' in visible_text(hostile.text)
    assert "a" * 200 not in hostile.text, "a long name is cut short"

    again = client.post(
        f"/challenges/{cid}/submit",
        data={**form, **page_versions(client, cid), "item-s175-1-2-file": ""},
    )
    assert again.status_code == 303, visible_text(again.text)[:500]
    with session_scope(clean_db, write=False) as db:
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None and challenge.submitted_at is not None
