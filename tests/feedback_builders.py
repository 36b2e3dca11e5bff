"""Peers for feedback-letter tests: other organisations with submitted returns in the world's
campaign, written straight to the database with their typed answer rows (the real writer), and
the facts a test needs to work the comparison out for itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from audit_portal.db import session_scope
from audit_portal.models import Organisation, Return, Submission, saved_id
from audit_portal.returns.typed_answers import write_answer_rows
from tests.builders import SCHOOLS
from tests.personas import World

SECTION = "s175.1"
WEAK_ITEM = "s175.1.1"


@dataclass(frozen=True)
class Peers:
    """What the peers of one kind said about standard s175.1: answers rated, and effective."""

    organisations: int
    rated: int
    effective: int


def add_peers(
    engine: Engine, world: World, count: int, *, weak: int = 0, kind: str = "school"
) -> Peers:
    """``count`` organisations of ``kind``, each with a submitted return answering every rating
    item of the school questionnaire: 'Partly in place' (amber) on s175.1.1 for the first
    ``weak`` of them, 'Fully in place' everywhere else."""
    assert SCHOOLS is not None
    items = [i for i in SCHOOLS.items() if i.kind == "rating"]
    in_section = {i.id for s in SCHOOLS.sections if s.id == SECTION for i in s.items}
    rated = effective = 0
    with session_scope(engine, write=True) as db:
        for n in range(count):
            org = Organisation(
                name=f"Peer {kind} {n + 1}",
                duty_type="section-175-school",
                kind=kind,
                phase="primary",
                district="East",
            )
            db.add(org)
            db.flush()
            ret = Return(
                campaign_id=world.campaign_id, organisation_id=saved_id(org), status="submitted"
            )
            db.add(ret)
            db.flush()
            values = {i.id: 2 if n < weak and i.id == WEAK_ITEM else 3 for i in items}
            submission = Submission(
                return_id=saved_id(ret),
                revision=1,
                declaration_name=f"Head {n + 1}",
                declaration_role="Headteacher",
                declaration_date=date(2026, 3, 2),
                questionnaire_key="section-175-schools",
                questionnaire_version="2025.1",
                questionnaire_hash="0" * 64,
                content={
                    "answers": {
                        k: {"value": v, "not_applicable": False} for k, v in values.items()
                    },
                    "score": {
                        "items": {k: "amber" if v == 2 else "green" for k, v in values.items()},
                        "less_effective": [k for k, v in values.items() if v == 2],
                    },
                },
            )
            db.add(submission)
            db.flush()
            write_answer_rows(db, ret, submission)
            rated += sum(1 for k in values if k in in_section)
            effective += sum(1 for k, v in values.items() if k in in_section and v == 3)
    return Peers(count, rated, effective)
