"""A published version is immutable once a campaign has used it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from audit_portal.audit import AuditContext
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent
from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.locks import VersionRefused, lock_version, verify_version
from tests.factories import definition, write_definition

CTX = AuditContext(None, "test")


def test_first_use_stores_the_hash_and_later_uses_accept_the_same_file(
    clean_db: Engine, tmp_path: Path
) -> None:
    write_definition(tmp_path, definition())
    catalogue = load_catalogue(tmp_path)
    with session_scope(clean_db, write=True) as session:
        d = lock_version(
            session, catalogue, "section-175-schools", "2025.1", "Schools audit 2025", CTX
        )
        assert d.version == "2025.1"
    with session_scope(clean_db, write=True) as session:
        lock_version(session, catalogue, "section-175-schools", "2025.1", "Second campaign", CTX)
        assert verify_version(session, catalogue, "section-175-schools", "2025.1").title
    with session_scope(clean_db, write=False) as session:
        [event] = session.exec(select(AuditEvent)).all()
        assert (
            event.action == "questionnaire.lock" and event.object_id == "section-175-schools/2025.1"
        )


def test_layout_and_comments_may_change_but_content_may_not(
    clean_db: Engine, tmp_path: Path
) -> None:
    path = write_definition(tmp_path, definition())
    with session_scope(clean_db, write=True) as session:
        lock_version(
            session, load_catalogue(tmp_path), "section-175-schools", "2025.1", "Audit", CTX
        )
    path.write_text("# reviewed again\n" + path.read_text())
    with session_scope(clean_db, write=False) as session:
        verify_version(session, load_catalogue(tmp_path), "section-175-schools", "2025.1")
    path.write_text(path.read_text().replace("Prompt for s175.1.1", "A quietly changed prompt"))
    with session_scope(clean_db, write=False) as session, pytest.raises(VersionRefused) as refused:
        verify_version(session, load_catalogue(tmp_path), "section-175-schools", "2025.1")
    message = str(refused.value)
    assert message.startswith("The file for section-175-schools 2025.1 has changed since it was")
    assert "(Audit)" in message
    assert "publish the changes as a new version (for example 2025.2)" in message


def test_a_draft_cannot_be_used_by_a_live_campaign(clean_db: Engine, tmp_path: Path) -> None:
    write_definition(tmp_path, definition(status="draft"))
    with (
        session_scope(clean_db, write=True) as session,
        pytest.raises(VersionRefused, match="is a draft"),
    ):
        lock_version(
            session, load_catalogue(tmp_path), "section-175-schools", "2025.1", "Audit", CTX
        )


def test_an_unknown_version_is_refused(clean_db: Engine, tmp_path: Path) -> None:
    with (
        session_scope(clean_db, write=True) as session,
        pytest.raises(VersionRefused, match="not found"),
    ):
        lock_version(session, load_catalogue(tmp_path), "section-11", "2030.1", "Audit", CTX)
