"""A frozen submission's answers as typed rows for reports: written with the submission, and
backfilled by the migration for submissions made before it, identical either way."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, text
from sqlalchemy.engine.url import make_url
from sqlmodel import Session, col, select
from starlette.applications import Starlette

from audit_portal.db import migrate
from audit_portal.models import (
    Campaign,
    Organisation,
    Return,
    Submission,
    SubmittedAnswer,
)
from audit_portal.returns.typed_answers import answer_rows
from tests.builders import AMBER_ITEMS, submit_with_two_ambers
from tests.conftest import DEFAULT_POSTGRES_URL
from tests.personas import World

CONTENT = {
    "answers": {
        "x.1": {"value": 1, "not_applicable": False, "evidence": "Policy, 2025"},
        "x.2": {"value": None, "not_applicable": True, "na_reason": "No boarders"},
        "x.3": {"value": 3, "not_applicable": False, "evidence": "  "},
        "x.4": {"value": "Termly", "not_applicable": False},
    },
    "score": {"items": {"x.1": "red", "x.3": "green"}, "less_effective": ["x.1"]},
}


def test_rows_read_the_content_as_signed() -> None:
    rows = {r.item_id: r for r in answer_rows(CONTENT)}
    assert list(rows) == ["x.1", "x.2", "x.3", "x.4"]
    assert (rows["x.1"].rating, rows["x.1"].rag, rows["x.1"].less_effective) == (1, "red", True)
    assert rows["x.1"].evidence_described and not rows["x.3"].evidence_described
    assert rows["x.2"].not_applicable and rows["x.2"].rating is None and rows["x.2"].rag is None
    assert rows["x.4"].rating is None, "only whole-number ratings are ratings"
    assert answer_rows({}) == []


def test_submitting_writes_one_row_per_item_matching_the_frozen_content(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    return_id = submit_with_two_ambers(app, clean_db, world, date(2026, 3, 1))
    with Session(clean_db) as db:
        submission = db.exec(select(Submission).where(Submission.return_id == return_id)).one()
        rows = db.exec(
            select(SubmittedAnswer).where(SubmittedAnswer.submission_id == submission.id)
        ).all()
        by_rag = dict(
            db.exec(
                select(SubmittedAnswer.rag, func.count())
                .where(SubmittedAnswer.campaign_id == world.campaign_id)
                .where(SubmittedAnswer.submission_id == submission.id)
                .group_by(col(SubmittedAnswer.rag))
            ).all()
        )
    content = submission.content
    assert len(rows) == len(set(content["answers"]) | set(content["score"]["items"]))
    assert {r.item_id for r in rows if r.less_effective} == set(AMBER_ITEMS)
    assert all(r.organisation_id == world.org_a and r.return_id == return_id for r in rows)
    expected = Counter(content["score"]["items"].values())
    expected[None] += len(rows) - sum(expected.values())  # answered but not scored
    assert {k: v for k, v in by_rag.items() if v} == {k: v for k, v in expected.items() if v}


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind under test, for migrating step by step."""
    if os.environ.get("TEST_DATABASE", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    admin_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"audit_portal_scratch_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migration_backfills_submissions_made_before_it(scratch_url: str) -> None:
    migrate(scratch_url, "0007")
    engine = create_engine(scratch_url)
    try:
        with Session(engine) as db:
            org = Organisation(name="Old School", duty_type="section-175-school", kind="school")
            campaign = Campaign(
                title="Schools audit 2024",
                questionnaire_key="section-175-schools",
                questionnaire_version="2022.1",
                opens_on=date(2024, 1, 8),
                closes_on=date(2024, 3, 29),
            )
            db.add_all([org, campaign])
            db.flush()
            ret = Return(campaign_id=campaign.id, organisation_id=org.id, status="accepted")
            db.add(ret)
            db.flush()
            db.add(
                Submission(
                    return_id=ret.id,
                    revision=1,
                    declaration_name="Ada Head",
                    declaration_role="Headteacher",
                    declaration_date=date(2024, 3, 1),
                    questionnaire_key="section-175-schools",
                    questionnaire_version="2022.1",
                    questionnaire_hash="0" * 64,
                    content=CONTENT,
                )
            )
            db.commit()
            campaign_id = campaign.id
        migrate(scratch_url, "head")
        with Session(engine) as db:
            rows = db.exec(select(SubmittedAnswer).order_by(col(SubmittedAnswer.item_id))).all()
        assert [(r.item_id, r.rating, r.rag, r.less_effective, r.not_applicable) for r in rows] == [
            ("x.1", 1, "red", True, False),
            ("x.2", None, None, False, True),
            ("x.3", 3, "green", False, False),
            ("x.4", None, None, False, False),
        ]
        assert {r.campaign_id for r in rows} == {campaign_id}
    finally:
        engine.dispose()
